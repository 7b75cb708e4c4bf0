"""Every contacts-list filter, through the page (POST → saved filter → GET), within branch scope."""
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest

from crm.auth.roles import Role
from crm.contacts.models import ContactSelfOrganisedGroup
from crm.vocabulary import ActivistRoleKind, Channel, ConsentStatus, SelfOrganisedGroup

from .helpers import listed_names, search


@pytest.fixture
def branch_world(make, db, login_as):
    """One officer's branch with contacts that differ in one way each, and a hidden other branch."""
    home, away = make.branch(code="HOME"), make.branch(code="AWAY")
    trust = make.employer(name="Mersey Trust", branches=[home])
    council = make.employer(name="Wirral Council", branches=[home])
    ward = make.workplace(trust, name="Ward Block")
    clinic = make.workplace(trust, name="Clinic")
    town_hall = make.workplace(council, name="Town Hall")
    c = {
        "ready": make.contact(home, last_name="Ready", employer=trust, workplace=ward, job_title="Nurse"),
        "clinic": make.contact(home, last_name="Clinic", employer=trust, workplace=clinic, job_title=""),
        "council": make.contact(home, last_name="Council", employer=council, workplace=town_hall, job_title="Clerk",
                                mobile=None),
        "bare": make.contact(home, last_name="Bare", email=None),
    }
    away_contact = make.contact(away, last_name="Faraway", employer=trust, workplace=ward, job_title="Nurse")
    steward = make.activist_role(c["ready"], ActivistRoleKind.STEWARD)
    make.activist_role(c["clinic"], ActivistRoleKind.STEWARD, ended_on=date(2025, 5, 1))
    make.activist_role(c["council"], ActivistRoleKind.HEALTH_AND_SAFETY)
    make.activist_role(away_contact, ActivistRoleKind.STEWARD)
    strike = make.tag("Strike ballot")
    other_tag = make.tag("Holiday pay")
    c["clinic"].tags.append(strike)
    c["bare"].tags.append(other_tag)
    away_contact.tags.append(strike)
    db.session.add(ContactSelfOrganisedGroup(contact=c["council"], group=SelfOrganisedGroup.WOMEN))
    make.consent(c["ready"], Channel.SMS, ConsentStatus.GRANTED)
    make.consent(c["clinic"], Channel.SMS, ConsentStatus.WITHDRAWN)
    make.consent(c["council"], Channel.EMAIL, ConsentStatus.GRANTED)
    make.consent(c["bare"], Channel.EMAIL, ConsentStatus.WITHDRAWN)
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    login_as(officer)
    db.session.commit()
    return {"home": home, "trust": trust, "council": council, "ward": ward, "clinic": clinic,
            "strike": strike, "steward": steward, "contacts": c}


def _names(client, **data):
    response = search(client, **data)
    assert response.status_code == 200
    return sorted(listed_names(response.get_data(as_text=True)))


def test_filter_by_employer(client, branch_world):
    assert _names(client, employer=str(branch_world["trust"].id)) == ["Clinic", "Ready"]
    assert _names(client, employer=str(branch_world["council"].id)) == ["Council"]


def test_filter_by_workplace_of_the_chosen_employer(client, branch_world):
    w = branch_world
    assert _names(client, employer=str(w["trust"].id), workplace=str(w["ward"].id)) == ["Ready"]


def test_workplace_choices_appear_once_an_employer_is_chosen(client, branch_world):
    page = search(client, employer=str(branch_world["trust"].id)).get_data(as_text=True)
    assert "Ward Block" in page and "Clinic</option>" in page and "Town Hall" not in page


def test_a_workplace_of_another_employer_is_dropped_not_matched_to_nobody(client, branch_world):
    w = branch_world
    assert _names(client, employer=str(w["council"].id), workplace=str(w["ward"].id)) == ["Council"]


def test_filter_by_current_activist_role_ignores_ended_roles(client, branch_world):
    assert _names(client, role="steward") == ["Ready"]
    assert _names(client, role="health_safety") == ["Council"]


def test_filter_by_tag(client, branch_world):
    assert _names(client, tag=str(branch_world["strike"].id)) == ["Clinic"]


def test_filter_by_self_organised_group(client, branch_world):
    assert _names(client, sog="women") == ["Council"]


@pytest.mark.parametrize("consent, expected", [
    ("sms:granted", ["Ready"]),
    ("sms:withdrawn", ["Clinic"]),
    ("sms:none", ["Bare", "Council"]),
    ("sms:not_granted", ["Bare", "Clinic", "Council"]),
    ("email:granted", ["Council"]),
    ("email:withdrawn", ["Bare"]),
    ("email:not_granted", ["Bare", "Clinic", "Ready"]),
])
def test_filter_by_consent(client, branch_world, consent, expected):
    assert _names(client, consent=consent) == expected


def test_filter_by_ballot_readiness(client, branch_world):
    assert _names(client, ballot="yes") == ["Council", "Ready"]
    assert _names(client, ballot="no") == ["Bare", "Clinic"]


@pytest.mark.parametrize("gap, expected", [
    ("mobile", ["Council"]), ("email", ["Bare"]), ("employer", ["Bare"]),
    ("workplace", ["Bare"]), ("job_title", ["Bare", "Clinic"]),
])
def test_filter_by_missing_field(client, branch_world, gap, expected):
    assert _names(client, missing=gap) == expected


def test_filters_combine(client, branch_world):
    w = branch_world
    assert _names(client, employer=str(w["trust"].id), consent="sms:withdrawn", tag=str(w["strike"].id)) == ["Clinic"]
    assert _names(client, employer=str(w["trust"].id), role="health_safety") == []


def test_employers_of_other_branches_are_not_choices(client, make, db, branch_world):
    elsewhere = make.employer(name="Elsewhere Care", branches=[make.branch()])
    db.session.commit()
    response = client.post("/contacts/", data={"employer": str(elsewhere.id)})
    assert response.status_code == 422
    assert "Elsewhere Care" not in response.get_data(as_text=True)


def test_employer_of_the_branchs_members_is_a_choice_even_without_a_branch_link(client, make, db, branch_world):
    imported = make.employer(name="Imported Employer")  # created by an import: no branch link
    make.contact(branch_world["home"], last_name="Imported", employer=imported)
    db.session.commit()
    assert _names(client, employer=str(imported.id)) == ["Imported"]


def test_no_filter_value_appears_in_the_url(client, branch_world):
    response = client.post("/contacts/", data={"q": "Ready", "tag": str(branch_world["strike"].id),
                                               "consent": "sms:withdrawn", "sog": "women"})
    location = response.headers["Location"]
    assert "Ready" not in location and "sms" not in location and "women" not in location
    assert list(parse_qs(urlparse(location).query)) == ["f"]


def test_an_expired_saved_search_says_so(client, branch_world):
    page = client.get("/contacts/?f=not-a-saved-key").get_data(as_text=True)
    assert "That search has expired" in page


def test_the_page_counts_the_matches_once(client, branch_world, db):
    from sqlalchemy import event

    statements = []

    def count(conn, cursor, statement, *args):
        if "count(" in statement.lower():
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        search(client, employer=str(branch_world["trust"].id), tag=str(branch_world["strike"].id))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
