"""Who may do what on the contacts pages: another branch's contact is a 404 exactly like a missing one,
campaign leads read but never change or export, callers see nothing."""
import re

import pytest

from crm.auth.roles import Role

MISSING = 987654


@pytest.fixture
def setting(make, db):
    home, away = make.branch(code="HOME"), make.branch(code="AWAY")
    contact = make.contact(away, last_name="Faraway")
    role = make.activist_role(contact)
    own = make.contact(home, last_name="Homely")
    own_role = make.activist_role(own)
    users = {
        "officer": make.user(Role.BRANCH_OFFICER, branches=[home]),
        "lead": make.user(Role.CAMPAIGN_LEAD),
        "caller": make.user(Role.CALLER, branches=[home]),
        "organiser": make.user(Role.ORGANISER),
    }
    db.session.commit()
    return {"contact": contact, "role": role, "own": own, "own_role": own_role, **users}


def _routes(contact_id, role_id):
    return [
        ("GET", f"/contacts/{contact_id}"),
        ("GET", f"/contacts/{contact_id}/edit"),
        ("POST", f"/contacts/{contact_id}/edit"),
        ("GET", f"/contacts/{contact_id}/roles"),
        ("POST", f"/contacts/{contact_id}/roles"),
        ("POST", f"/contacts/{contact_id}/roles/{role_id}/end"),
        ("GET", f"/contacts/{contact_id}/consent"),
        ("POST", f"/contacts/{contact_id}/consent"),
    ]


def _page(response) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def test_another_branchs_contact_is_404_like_a_missing_one_on_every_route(client, setting, login_as):
    login_as(setting["officer"])
    for (method, url), (_, missing_url) in zip(_routes(setting["contact"].id, setting["role"].id),
                                               _routes(MISSING, MISSING)):
        response = client.open(url, method=method, data={"first_name": "X", "kind": "steward", "started_on": "2025-01-01"})
        assert response.status_code == 404, f"{method} {url}"
        assert _page(response) == _page(client.open(missing_url, method=method)), f"{method} {url}"


def test_a_role_of_another_branchs_contact_is_404_through_ones_own_contact(client, setting, login_as):
    login_as(setting["officer"])
    url = f"/contacts/{setting['own'].id}/roles/{setting['role'].id}/end"
    assert client.post(url, data={f"end-{setting['role'].id}-ended_on": "2025-06-01"}).status_code == 404


def test_campaign_lead_reads_but_cannot_change_tag_or_export(client, setting, login_as):
    login_as(setting["lead"])
    contact = setting["contact"]
    assert client.get(f"/contacts/{contact.id}").status_code == 200
    assert "Edit details" not in client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert client.get("/contacts/quality").status_code == 200
    for method, url in _routes(contact.id, setting["role"].id)[1:]:
        assert client.open(url, method=method).status_code == 404, f"{method} {url}"
    assert client.post("/contacts/bulk-tag", data={"tag": "x", "action": "add", "confirm": "yes"}).status_code == 404
    assert client.post("/contacts/export", data={"format": "csv"}).status_code == 404


def test_caller_sees_none_of_the_contacts_pages(client, setting, login_as):
    login_as(setting["caller"])
    own = setting["own"]
    for method, url in [*_routes(own.id, setting["own_role"].id), ("GET", "/contacts/quality"),
                        ("GET", "/contacts/quality/gaps?gap=mobile"), ("POST", "/contacts/bulk-tag"),
                        ("POST", "/contacts/export")]:
        assert client.open(url, method=method).status_code == 404, f"{method} {url}"


def test_officer_and_organiser_can_open_every_page_of_a_contact_they_cover(client, setting, login_as):
    for who, contact in (("officer", setting["own"]), ("organiser", setting["contact"])):
        login_as(setting[who])
        for path in ("", "/edit", "/roles", "/consent"):
            assert client.get(f"/contacts/{contact.id}{path}").status_code == 200, f"{who} {path}"


def test_signed_out_visitors_are_sent_to_sign_in(client, setting):
    response = client.get(f"/contacts/{setting['own'].id}/edit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
