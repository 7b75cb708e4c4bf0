"""People through the API: paging, filters, branch scoping and the person_signup_helper round trip."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.contacts.models import Consent, Contact, contact_tag
from crm.vocabulary import Channel, ConsentStatus, ContactStatus


def test_people_are_paged_the_osdi_way(api_as, make, db):
    branch = make.branch()
    for _ in range(7):
        make.contact(branch)
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))

    first = api.get("/api/people?per_page=3").get_json()
    assert (first["page"], first["per_page"], first["total_pages"], first["total_records"]) == (1, 3, 3, 7)
    assert len(first["_embedded"]["osdi:people"]) == 3
    assert len(first["_links"]["osdi:people"]) == 3
    assert "prev" not in first["_links"]
    assert first["_links"]["next"]["href"].endswith("/api/people?page=2&per_page=3")

    seen = []
    url = first["_links"]["self"]["href"]
    while url:
        body = api.get(url).get_json()
        seen += [p["identifiers"][0] for p in body["_embedded"]["osdi:people"]]
        url = body["_links"].get("next", {}).get("href")
    assert len(seen) == len(set(seen)) == 7

    beyond = api.get("/api/people?page=9&per_page=3").get_json()
    assert beyond["_embedded"]["osdi:people"] == [] and beyond["total_pages"] == 3


def test_bad_paging_is_a_422_naming_the_parameter(api_as, make, db):
    api = api_as(make.user(Role.ADMIN))
    for query, field in (("page=0", "page"), ("per_page=101", "per_page"), ("page=abc", "page"), ("per_page=-1", "per_page")):
        response = api.get(f"/api/people?{query}")
        assert response.status_code == 422, query
        assert response.get_json()["errors"][0]["field"] == field


def test_a_person_carries_identifiers_membership_number_and_consent_status(api_as, make, db):
    branch = make.branch(code="NW01")
    contact = make.contact(branch, membership_number="00123456", first_name="Priya", last_name="Shah",
                           email="priya@example.org")
    make.consent(contact, Channel.EMAIL, ConsentStatus.GRANTED)
    make.consent(contact, Channel.SMS, ConsentStatus.WITHDRAWN)
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    person = api.get(f"/api/people/{contact.id}").get_json()
    assert person["identifiers"] == [f"branchline:{contact.id}", "membership_number:00123456"]
    assert person["given_name"] == "Priya" and person["family_name"] == "Shah"
    assert person["email_addresses"] == [{"address": "priya@example.org", "primary": True, "status": "subscribed"}]
    assert person["phone_numbers"][0]["status"] == "unsubscribed"
    assert person["branch"] == {"code": "NW01", "name": branch.name}
    assert person["_links"]["self"]["href"].endswith(f"/api/people/{contact.id}")
    assert "sogs" not in person and "self_organised_groups" not in person
    viewed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contact.view"))
    assert viewed.object_id == contact.id


def test_filters_on_modified_date_and_email_address(api_as, make, db):
    branch = make.branch()
    old = make.contact(branch, email="Old.Member@example.org")
    new = make.contact(branch, email="new@example.org")
    old.updated_at = datetime(2024, 1, 1, tzinfo=timezone.utc)
    new.updated_at = datetime(2025, 6, 1, tzinfo=timezone.utc)
    db.session.commit()
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))

    def ids(flt):
        response = api.get("/api/people", query_string={"filter": flt})
        assert response.status_code == 200, response.get_json()
        return [p["identifiers"][0] for p in response.get_json()["_embedded"]["osdi:people"]]

    assert ids("modified_date gt '2025-01-01'") == [f"branchline:{new.id}"]
    assert ids("modified_date lt '2025-01-01T00:00:00Z'") == [f"branchline:{old.id}"]
    assert ids("email_address eq 'old.member@example.org'") == [f"branchline:{old.id}"]
    assert ids("email_address eq 'old.member@example.org' and modified_date gt '2025-01-01'") == []
    assert ids("email_address eq 'o''brien@example.org'") == []
    export = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api.export").order_by(AuditEvent.id.desc()))
    assert "resource=people" in export.detail and "example.org" not in export.detail
    assert export.detail.endswith("filter=email_address eq")
    ids("family_name eq Bloggs")  # a bare value is never logged either
    export = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api.export").order_by(AuditEvent.id.desc()))
    assert "Bloggs" not in export.detail and "family_name eq" in export.detail


def test_bad_filters_are_422_never_500(api_as, make, db):
    api = api_as(make.user(Role.ADMIN))
    for flt in ("modified_date gt 'yesterday'", "shoe_size eq '9'", "email_address gt 'a'", "modified_date",
                "modified_date xx '2025-01-01'", "modified_date gt '2025-01-01' or 1 eq 1", "email_address eq 'a\x00'",
                "modified_date gt '9999-12-31T23:59:59-23:00'", "phone_number eq 'not a phone'", "'"):
        response = api.get("/api/people", query_string={"filter": flt})
        assert response.status_code == 422, flt
        error = response.get_json()["errors"][0]
        assert error["field"] == "filter" and error["reason"]


def test_another_branchs_person_is_the_same_404_as_a_missing_one(api_as, make, db):
    home, other = make.branch(), make.branch()
    mine = make.contact(home)
    theirs = make.contact(other, email="theirs@example.org")
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[home]))
    listed = api.get("/api/people").get_json()
    assert [p["identifiers"][0] for p in listed["_embedded"]["osdi:people"]] == [f"branchline:{mine.id}"]
    assert api.get("/api/people", query_string={"filter": "email_address eq 'theirs@example.org'"}).get_json()[
        "total_records"] == 0
    hidden = api.get(f"/api/people/{theirs.id}")
    missing = api.get("/api/people/987654")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "authz.denied")).object_id == theirs.id


def test_a_caller_token_cannot_read_people(api_as, make, db):
    branch = make.branch()
    contact = make.contact(branch)
    api = api_as(make.user(Role.CALLER, branches=[branch]))
    assert api.get("/api/people").status_code == 404
    assert api.get(f"/api/people/{contact.id}").status_code == 404


SIGNUP = {
    "person": {
        "given_name": "jo", "family_name": "BLOGGS",
        "email_addresses": [{"address": "Jo.Bloggs@Example.ORG", "status": "subscribed"}],
        "phone_numbers": [{"number": "07400 123456"}],
        "postal_addresses": [{"postal_code": "l87ss"}],
    },
    "consent_wording_version": "2025-01",
    "add_tags": ["Website sign-up"],
}


def test_person_signup_helper_round_trip(api_as, make, db):
    branch = make.branch(code="NW01")
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]), name="Branch website")
    response = api.post("/api/people/person_signup_helper", json=SIGNUP)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert response.headers["Location"] == created["_links"]["self"]["href"]

    person = api.get(created["_links"]["self"]["href"]).get_json()
    assert person["given_name"] == "Jo" and person["family_name"] == "Bloggs"
    assert person["email_addresses"][0] == {"address": "Jo.Bloggs@example.org", "primary": True, "status": "subscribed"}
    assert person["phone_numbers"][0]["number"] == "+447400123456"
    assert person["phone_numbers"][0]["status"] is None  # no SMS consent was given, so none is assumed
    assert person["postal_addresses"][0]["postal_code"] == "L8 7SS"
    assert person["membership_status"] == "supporter" and person["branch"]["code"] == "NW01"

    contact = db.session.get(Contact, int(person["identifiers"][0].split(":")[1]))
    consents = {c.channel: c for c in db.session.scalars(select(Consent).where(Consent.contact_id == contact.id))}
    assert set(consents) == {Channel.EMAIL}
    assert consents[Channel.EMAIL].wording_version == "2025-01"
    assert consents[Channel.EMAIL].source == "api: Branch website"
    tag_id = api.get("/api/tags", query_string={"filter": "name eq 'website sign-up'"}).get_json()[
        "_embedded"]["osdi:tags"][0]["identifiers"][0].split(":")[1]
    taggings = api.get(f"/api/tags/{tag_id}/taggings").get_json()
    assert taggings["_embedded"]["osdi:taggings"][0]["_links"]["osdi:person"]["href"] == person["_links"]["self"]["href"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api.person_signup")).object_id == contact.id


def test_signup_matches_an_existing_member_and_fills_only_blanks(api_as, make, db):
    branch = make.branch()
    member = make.contact(branch, email="jo.bloggs@example.org", first_name="Joanna", last_name="Bloggs", mobile=None,
                          postcode="L1 8JQ")
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    body = {"person": {**SIGNUP["person"], "email_addresses": [{"address": "jo.bloggs@example.org"}]}}
    response = api.post("/api/people/person_signup_helper", json=body)
    assert response.status_code == 200
    db.session.expire_all()
    member = db.session.get(Contact, member.id)
    assert (member.first_name, member.postcode, member.mobile) == ("Joanna", "L1 8JQ", "+447400123456")
    assert member.status is ContactStatus.MEMBER
    assert db.session.scalar(select(Consent).where(Consent.contact_id == member.id)) is None
    assert db.session.scalar(select(contact_tag.c.contact_id)) is None


def test_signup_never_matches_into_another_branch(api_as, make, db):
    home, other = make.branch(), make.branch()
    theirs = make.contact(other, email="jo.bloggs@example.org")
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[home]))
    body = {"person": {**SIGNUP["person"], "email_addresses": [{"address": "jo.bloggs@example.org"}]}}
    response = api.post("/api/people/person_signup_helper", json=body)
    assert response.status_code == 201
    new_id = int(response.get_json()["identifiers"][0].split(":")[1])
    assert new_id != theirs.id and db.session.get(Contact, new_id).branch_id == home.id


def test_an_opt_out_is_recorded_without_a_wording_version(api_as, make, db):
    branch = make.branch()
    member = make.contact(branch, email="jo@example.org")
    make.consent(member, Channel.EMAIL, ConsentStatus.GRANTED)
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    body = {"person": {"family_name": "X", "email_addresses": [{"address": "jo@example.org", "status": "unsubscribed"}]}}
    assert api.post("/api/people/person_signup_helper", json=body).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Consent).where(Consent.contact_id == member.id)).status is ConsentStatus.WITHDRAWN


def test_signup_validation_errors_name_the_field(api_as, make, db):
    branch = make.branch()
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    cases = [
        ({}, "person"),
        ({"person": {"family_name": "X", "email_addresses": [{"address": "not-an-email"}]}},
         "person.email_addresses[0].address"),
        ({"person": {"family_name": "X", "phone_numbers": [{"number": "0151 123 4567"}]}},
         "person.phone_numbers[0].number"),
        ({"person": {"family_name": "X", "email_addresses": [{"address": "a@example.org", "status": "subscribed"}]}},
         "consent_wording_version"),
        ({"person": {"family_name": "X", "email_addresses": [{"address": "a@example.org", "status": "yes"}]}},
         "person.email_addresses[0].status"),
        ({"person": {"family_name": "X"}}, "person.email_addresses"),
        ({"person": {"family_name": 5, "email_addresses": [{"address": "a@example.org"}]}}, "person.family_name"),
        ({"person": {"family_name": "X\x00", "email_addresses": [{"address": "a@example.org"}]}}, "person.family_name"),
        ({"person": {"family_name": "\ud800", "email_addresses": [{"address": "a@example.org"}]}}, "person.family_name"),
        ({"person": {"family_name": "X", "postal_addresses": [{"postal_code": "NOWHERE"}],
                     "email_addresses": [{"address": "a@example.org"}]}}, "person.postal_addresses[0].postal_code"),
        ({"person": {"family_name": "X", "email_addresses": [{"address": "a@example.org"}]}, "add_tags": "x"},
         "add_tags"),
        ({"person": {"family_name": "X", "email_addresses": [{"address": "a@example.org"}]}, "branch": "NOPE"},
         "branch"),
    ]
    for body, field in cases:
        response = api.post("/api/people/person_signup_helper", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.get_json()["errors"][0]["field"] == field, body
    not_json = api.post("/api/people/person_signup_helper", data="{oops", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.get_json()["errors"][0]["field"] == "body"
    assert db.session.scalar(select(Contact)) is None


def test_region_wide_signup_needs_a_branch_code(api_as, make, db):
    make.branch(code="NW01")
    api = api_as(make.user(Role.ORGANISER))
    body = {"person": {"family_name": "X", "email_addresses": [{"address": "a@example.org"}]}}
    assert api.post("/api/people/person_signup_helper", json=body).get_json()["errors"][0]["field"] == "branch"
    made = api.post("/api/people/person_signup_helper", json={**body, "branch": "nw01"})
    assert made.status_code == 201 and made.get_json()["branch"]["code"] == "NW01"


def test_modified_since_sync_sees_a_signup(api_as, make, db):
    branch = make.branch()
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    since = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="seconds")
    api.post("/api/people/person_signup_helper",
             json={"person": {"family_name": "New", "email_addresses": [{"address": "new@example.org"}]}})
    found = api.get("/api/people", query_string={"filter": f"modified_date gt '{since}'"}).get_json()
    assert found["total_records"] == 1
