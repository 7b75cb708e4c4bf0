"""External dialers: claim the next member and record the call's outcome through the API, under the claim rules."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.calls.models import CallAttempt, CallEntry, CallListKind, EntryStatus
from crm.contacts.models import Contact
from crm.database import utcnow
from crm.vocabulary import PaymentMethod


def _setup(make, db, kind=CallListKind.NEW_JOINER):
    branch = make.branch()
    caller = make.user(Role.CALLER, branches=[branch])
    call_list = make.call_list([branch], kind=kind, callers=[caller],
                               questions=[{"key": "rep", "text": "Would you like to become a rep?", "type": "yes_no"}])
    contact = make.contact(branch, first_name="Sam")
    entry = make.call_entry(call_list, contact)
    db.session.commit()
    return branch, caller, call_list, contact, entry


def test_dialer_claims_the_next_member_and_records_the_outcome(api_as, make, db):
    branch, caller, call_list, contact, entry = _setup(make, db)
    api = api_as(caller)
    lists = api.get("/api/lists").get_json()
    assert [item["name"] for item in lists["_embedded"]["osdi:lists"]] == [call_list.name]
    assert lists["_embedded"]["osdi:lists"][0]["questions"][0]["key"] == "rep"

    claimed = api.post(f"/api/lists/{call_list.id}/claim").get_json()
    assert claimed["claimed"] is True
    item = claimed["_embedded"]["osdi:item"]
    assert item["status"] == "in_progress" and item["lease_expires_date"]
    assert claimed["_embedded"]["osdi:person"]["given_name"] == "Sam"
    assert claimed["_embedded"]["osdi:person"]["phone_numbers"][0]["number"] == contact.mobile

    response = api.post(item["_links"]["branchline:outcomes"]["href"],
                        json={"outcome": "answered", "answers": {"rep": "yes"}, "note": "Keen to help"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "done" and body["last_outcome"] == "answered" and body["reached"] is True
    assert body["outcome"]["answers"] == {"rep": "yes"}
    attempt = db.session.scalar(select(CallAttempt))
    assert (attempt.user_id, attempt.note) == (caller.id, "Keen to help")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.outcome")).user_id == caller.id

    again = api.post(f"/api/lists/{call_list.id}/claim").get_json()
    assert again == {**again, "claimed": False, "reason": "Everyone on this list has been called. Thank you!"}
    # The caller no longer holds the entry, so it is as hidden as on the call screens.
    assert api.post(item["_links"]["branchline:outcomes"]["href"], json={"outcome": "answered"}).status_code == 404


def test_two_dialers_never_get_the_same_member(api_as, make, db):
    branch, caller, call_list, contact, entry = _setup(make, db)
    second = make.user(Role.CALLER, branches=[branch])
    call_list.callers.append(second)
    db.session.commit()
    first_api, second_api = api_as(caller), api_as(second)
    assert first_api.post(f"/api/lists/{call_list.id}/claim").get_json()["claimed"] is True
    other = second_api.post(f"/api/lists/{call_list.id}/claim").get_json()
    assert other["claimed"] is False and "being called by others" in other["detail"]
    assert second_api.get(f"/api/lists/{call_list.id}/items/{entry.id}").status_code == 404


def test_call_back_needs_a_future_time_and_leaver_outcomes_only_on_leaver_lists(api_as, make, db):
    branch, caller, call_list, contact, entry = _setup(make, db)
    api = api_as(caller)
    api.post(f"/api/lists/{call_list.id}/claim")
    url = f"/api/lists/{call_list.id}/items/{entry.id}/outcomes"
    for body, field in (({"outcome": "call_back"}, "callback_date"),
                        ({"outcome": "call_back", "callback_date": "2020-01-01T10:00:00Z"}, "callback_date"),
                        ({"outcome": "call_back", "callback_date": "soon"}, "callback_date"),
                        ({"outcome": "retained"}, "outcome"),
                        ({"outcome": "answered", "answers": {"shoe": "9"}}, "answers.shoe"),
                        ({"outcome": "answered", "answers": {"rep": "maybe"}}, "answers.rep"),
                        ({"outcome": "answered", "note": 7}, "note"),
                        ({}, "outcome")):
        response = api.post(url, json=body)
        assert response.status_code == 422, body
        assert response.get_json()["errors"][0]["field"] == field, body
    when = (utcnow() + timedelta(days=1)).isoformat()
    response = api.post(url, json={"outcome": "call_back", "callback_date": when})
    assert response.status_code == 201
    assert response.get_json()["status"] == "pending" and response.get_json()["callback_date"]


def test_retained_on_a_leaver_list_moves_the_member_to_direct_debit(api_as, make, db):
    branch, caller, call_list, contact, entry = _setup(make, db, kind=CallListKind.DOCAS_LEAVER)
    api = api_as(caller)
    api.post(f"/api/lists/{call_list.id}/claim")
    response = api.post(f"/api/lists/{call_list.id}/items/{entry.id}/outcomes", json={"outcome": "retained"})
    assert response.status_code == 201
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).payment_method is PaymentMethod.DIRECT_DEBIT


def test_release_gives_the_member_back(api_as, make, db):
    branch, caller, call_list, contact, entry = _setup(make, db)
    api = api_as(caller)
    api.post(f"/api/lists/{call_list.id}/claim")
    response = api.post(f"/api/lists/{call_list.id}/items/{entry.id}/release")
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(CallEntry, entry.id).status is EntryStatus.PENDING


def test_unassigned_caller_and_other_branch_lists_are_404(api_as, make, db):
    branch, caller, call_list, contact, entry = _setup(make, db)
    stranger = make.user(Role.CALLER, branches=[branch])
    other_officer = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    db.session.commit()
    for user in (stranger, other_officer):
        api = api_as(user)
        for url in (f"/api/lists/{call_list.id}", f"/api/lists/{call_list.id}/items"):
            assert api.get(url).get_data() == api.get("/api/lists/987654").get_data()
        assert api.post(f"/api/lists/{call_list.id}/claim").status_code == 404


def test_an_officer_sees_the_lists_items(api_as, make, db):
    branch, caller, call_list, contact, entry = _setup(make, db)
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    items = api.get(f"/api/lists/{call_list.id}/items").get_json()
    assert items["total_records"] == 1
    assert items["_embedded"]["osdi:items"][0]["_links"]["osdi:person"]["href"].endswith(f"/api/people/{contact.id}")
