"""Managing call lists: creating and editing, callers, filling from a contacts search, and who may do it."""
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.calls import scripts
from crm.calls.models import CallEntry, CallList, CallListKind, DoneRule, EntryStatus
from crm.contacts.service import FILTER_KEYS
from crm.vocabulary import ContactStatus, SelfOrganisedGroup


def _list_form(branch_ids, **changes):
    data = {
        "name": "Pay ballot: Royal Hospital", "kind": "campaign", "branches": [str(i) for i in branch_ids],
        "script": "Hi {{ first_name }}, it's {{ caller_first_name }} from {{ branch }}.",
        "questions-0-text": "Would you like to become a rep?", "questions-0-type": "yes_no",
        "questions-1-text": "How will you vote?", "questions-1-type": "choice",
        "questions-1-choices": "Yes, No, Not sure",
        "questions-2-text": "", "questions-2-type": "yes_no",
        "cooldown_hours": "20", "max_attempts": "3", "due_days": "7", "done_rule": "reached",
        "is_active": "y", "action": "save",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _audit(db, action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


@pytest.fixture
def region(make, db):
    home, away, third = make.branch(code="HOME"), make.branch(code="AWAY"), make.branch(code="THRD")
    people = {
        "officer": make.user(Role.BRANCH_OFFICER, branches=[home], name="Olga Officer"),
        "organiser": make.user(Role.ORGANISER, name="Orla Organiser"),
        "caller": make.user(Role.CALLER, branches=[home], name="Cal Home"),
        "caller2": make.user(Role.CALLER, branches=[home], name="Cara Home"),
        "away_caller": make.user(Role.CALLER, branches=[away], name="Aled Away"),
        "away_officer": make.user(Role.BRANCH_OFFICER, branches=[away], name="Ava Away"),
        "lead": make.user(Role.CAMPAIGN_LEAD, name="Lee Lead"),
    }
    home_list = make.call_list([home], name="Home joiners", callers=[people["caller"]])
    away_list = make.call_list([away], name="Away joiners")
    db.session.commit()
    return {"home": home, "away": away, "third": third, "home_list": home_list, "away_list": away_list, **people}


# ------------------------------------------------------------------------------------ create and edit

def test_officer_creates_a_list_in_their_branch_and_it_is_audited(region, client, login_as, db):
    login_as(region["officer"])
    response = client.post("/calls/lists/new", data=_list_form([region["home"].id]))
    assert response.status_code == 302
    lst = db.session.execute(select(CallList).where(CallList.name == "Pay ballot: Royal Hospital")).scalar_one()
    assert response.headers["Location"].endswith(f"/calls/lists/{lst.id}/manage")
    assert (lst.kind, [b.code for b in lst.branches], lst.cooldown_hours, lst.max_attempts, lst.due_days,
            lst.done_rule, lst.is_active, lst.auto_fill, lst.created_by_id) == (
        CallListKind.CAMPAIGN, ["HOME"], 20, 3, 7, DoneRule.REACHED, True, False, region["officer"].id)
    assert lst.questions == [
        {"key": "would_you_like_to_become_a_rep", "text": "Would you like to become a rep?", "type": "yes_no"},
        {"key": "how_will_you_vote", "text": "How will you vote?", "type": "choice", "choices": ["Yes", "No", "Not sure"]},
    ]
    [event] = _audit(db, "call_list.create")
    assert event.user_id == region["officer"].id and event.object_id == lst.id and "branches=HOME" in event.detail


def test_new_list_asks_the_kind_first(region, client, login_as):
    login_as(region["officer"])
    html = client.get("/calls/lists/new").get_data(as_text=True)
    assert "What kind of list is it?" in html and 'value="docas_leaver"' in html
    assert client.get("/calls/lists/new?kind=").status_code == 422


@pytest.mark.parametrize("kind, script_start, question", [
    ("new_joiner", "Hi **{{ first_name }}**", "Would you like to become a rep?"),
    ("docas_leaver", "Hi **{{ first_name }}**", "Why did the deduction stop?"),
])
def test_new_joiner_and_leaver_lists_start_from_the_standard_script(region, client, login_as, kind, script_start, question):
    login_as(region["officer"])
    page = client.get(f"/calls/lists/new?kind={kind}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    standard = scripts.NEW_JOINER_SCRIPT if kind == "new_joiner" else scripts.DOCAS_LEAVER_SCRIPT
    assert standard.splitlines()[2].replace("'", "&#39;") in html
    assert question in html
    if kind == "docas_leaver":
        assert 'value="Changed job, Changed employer, Payroll error, Retired, Other"' in html
    assert "{{ first_name }}" in html and "the member&#39;s first name" in html  # merge fields are listed


@pytest.mark.parametrize("changes, message", [
    ({"branches": None}, "Choose at least one branch."),
    ({"script": "Hi {{ first_nme }}"}, "{{ first_nme }}, which is not a merge field"),
    ({"script": "Hi {{ first_name "}, "merge-field mistake"),
    ({"script": ""}, "Enter the script callers will read."),
    ({"max_attempts": "0"}, "Enter the maximum attempts as a whole number from 1 to 20"),
    ({"max_attempts": ""}, "Enter the maximum attempts, like 3."),
    ({"cooldown_hours": "soon"}, "Enter the hours between attempts as a whole number from 0 to 720"),
    ({"due_days": "-1"}, "Enter the days as a whole number from 1 to 365"),
    ({"name": "  "}, "Enter a name for the list."),
    ({"questions-1-choices": "Yes"}, "Enter at least two choices, separated by commas."),
    ({"kind": "campaign", "auto_fill": "y"}, "Only new joiner and DOCAS leaver lists can be filled from imports."),
])
def test_invalid_new_list_is_refused_and_nothing_saved(region, client, login_as, db, changes, message):
    login_as(region["officer"])
    before = _count(db, CallList)
    response = client.post("/calls/lists/new", data=_list_form([region["home"].id], **changes))
    html = response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')
    assert response.status_code == 422
    assert "There is a problem" in html and message in html
    assert _count(db, CallList) == before and not _audit(db, "call_list.create")


def test_officer_can_pick_only_their_branches(region, client, login_as, db):
    login_as(region["officer"])
    html = client.get("/calls/lists/new?kind=custom").get_data(as_text=True)
    assert "HOME – " in html and "AWAY – " not in html and "THRD – " not in html
    response = client.post("/calls/lists/new", data=_list_form([region["home"].id, region["away"].id]))
    assert response.status_code == 422
    assert _count(db, CallList) == 2


def test_organiser_can_make_a_list_over_several_branches(region, client, login_as, db):
    login_as(region["organiser"])
    response = client.post("/calls/lists/new", data=_list_form([region["home"].id, region["away"].id]))
    assert response.status_code == 302
    lst = db.session.execute(select(CallList).where(CallList.name == "Pay ballot: Royal Hospital")).scalar_one()
    assert [b.code for b in lst.branches] == ["AWAY", "HOME"]


def test_edit_saves_changes_and_audits_the_changed_fields(region, client, login_as, db):
    lst = region["home_list"]
    lst.questions = [{"key": "rep", "text": "Would you be a rep?", "type": "yes_no"}]
    db.session.commit()
    login_as(region["officer"])
    page = client.get(f"/calls/lists/{lst.id}/edit")
    assert page.status_code == 200 and 'value="rep"' in page.get_data(as_text=True)
    data = _list_form([region["home"].id], name="Home joiners 2025", kind="new_joiner", max_attempts="5", **{
        "questions-0-key": "rep", "questions-0-text": "Would you like to be a rep?",
        "questions-1-key": "", "questions-1-text": "Which shift do you work?", "questions-1-type": "text",
        "questions-1-choices": ""})
    data["script"] = lst.script
    response = client.post(f"/calls/lists/{lst.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(lst)
    assert (lst.name, lst.max_attempts) == ("Home joiners 2025", 5)
    # An edited question keeps its key, so answers already recorded under it still belong to it.
    assert lst.questions == [{"key": "rep", "text": "Would you like to be a rep?", "type": "yes_no"},
                             {"key": "which_shift_do_you_work", "text": "Which shift do you work?", "type": "text"}]
    [event] = _audit(db, "call_list.update")
    assert event.detail == "fields=name,questions,max_attempts,due_days"


def test_invalid_edit_is_refused_and_the_list_is_unchanged(region, client, login_as, db):
    lst = region["home_list"]
    login_as(region["officer"])
    response = client.post(f"/calls/lists/{lst.id}/edit",
                           data=_list_form([region["home"].id], name="Renamed", max_attempts="0"))
    assert response.status_code == 422
    db.session.refresh(lst)
    assert (lst.name, lst.max_attempts) == ("Home joiners", 3)
    assert not _audit(db, "call_list.update")


def test_edit_by_an_officer_keeps_branches_they_do_not_cover(region, client, login_as, db, make):
    shared = make.call_list([region["home"], region["away"]], name="Shared")
    db.session.commit()
    login_as(region["officer"])
    html = client.get(f"/calls/lists/{shared.id}/edit").get_data(as_text=True)
    assert "AWAY – " not in html and "which you don’t cover" in html
    response = client.post(f"/calls/lists/{shared.id}/edit", data=_list_form([region["home"].id], name="Shared 2"))
    assert response.status_code == 302
    db.session.refresh(shared)
    assert [b.code for b in shared.branches] == ["AWAY", "HOME"]


def test_a_branch_with_members_on_the_list_cannot_be_taken_off(region, client, login_as, db, make):
    shared = make.call_list([region["home"], region["away"]], name="Shared")
    make.call_entry(shared, make.contact(region["away"]))
    db.session.commit()
    login_as(region["organiser"])
    response = client.post(f"/calls/lists/{shared.id}/edit", data=_list_form([region["home"].id]))
    assert response.status_code == 422
    assert "AWAY still has members on this list" in response.get_data(as_text=True).replace("&#39;", "'")
    db.session.refresh(shared)
    assert [b.code for b in shared.branches] == ["AWAY", "HOME"]


def test_preview_renders_the_script_for_a_sample_member_and_saves_nothing(region, client, login_as, db):
    login_as(region["officer"])
    response = client.post("/calls/lists/new", data=_list_form(
        [region["home"].id], script="Hi **{{ first_name }}** at {{ workplace }}, I'm {{ caller_first_name }}.",
        action="preview"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hi <strong>Sam</strong> at Sample Hospital, I&#39;m Olga." in html or \
           "Hi <strong>Sam</strong> at Sample Hospital, I'm Olga." in html
    assert _count(db, CallList) == 2


def test_preview_shows_raw_html_in_a_script_as_text(region, client, login_as):
    login_as(region["officer"])
    html = client.post("/calls/lists/new", data=_list_form(
        [region["home"].id], script="<script>alert(1)</script> Hi", action="preview")).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html


# ------------------------------------------------------------------------------------ callers

def test_officer_is_offered_only_callers_of_their_branches(region, client, login_as):
    login_as(region["officer"])
    html = client.get(f"/calls/lists/{region['home_list'].id}/callers").get_data(as_text=True)
    assert "Cal Home" in html and "Cara Home" in html and "Olga Officer" in html
    assert "Aled Away" not in html and "Ava Away" not in html and "Lee Lead" not in html and "Orla Organiser" not in html


def test_assigning_and_unassigning_callers_is_saved_and_audited(region, client, login_as, db):
    lst = region["home_list"]
    login_as(region["officer"])
    response = client.post(f"/calls/lists/{lst.id}/callers", data={"callers": [str(region["caller2"].id)]})
    assert response.status_code == 302
    db.session.refresh(lst)
    assert [u.name for u in lst.callers] == ["Cara Home"]
    [event] = _audit(db, "call_list.callers")
    assert event.detail == f"added={region['caller2'].id} removed={region['caller'].id}"


def test_a_caller_of_another_branch_cannot_be_assigned(region, client, login_as, db):
    lst = region["home_list"]
    login_as(region["officer"])
    response = client.post(f"/calls/lists/{lst.id}/callers", data={"callers": [str(region["away_caller"].id)]})
    assert response.status_code == 422
    db.session.refresh(lst)
    assert [u.name for u in lst.callers] == ["Cal Home"]
    assert not _audit(db, "call_list.callers")


def test_officer_saving_callers_keeps_those_assigned_for_other_branches(region, client, login_as, db, make):
    shared = make.call_list([region["home"], region["away"]], name="Shared", callers=[region["away_caller"]])
    db.session.commit()
    login_as(region["officer"])
    html = client.get(f"/calls/lists/{shared.id}/callers").get_data(as_text=True)
    assert "Also assigned" in html and "Aled Away" in html and f'value="{region["away_caller"].id}"' not in html
    client.post(f"/calls/lists/{shared.id}/callers", data={"callers": [str(region["caller"].id)]})
    db.session.refresh(shared)
    assert [u.name for u in shared.callers] == ["Aled Away", "Cal Home"]


# ------------------------------------------------------------------------------------ add from contacts

def _search(client, **data) -> str:
    """Search the contacts page as the signed-in user; returns the saved search's key."""
    response = client.post("/contacts/", data={**dict.fromkeys(FILTER_KEYS, ""), **data})
    assert response.status_code == 302
    return parse_qs(urlparse(response.headers["Location"]).query)["f"][0]


def _entries(db, lst) -> list[int]:
    return sorted(db.session.execute(select(CallEntry.contact_id).where(CallEntry.list_id == lst.id)).scalars())


def test_add_from_contacts_confirms_the_count_then_adds_each_member_once(region, client, login_as, db, make):
    home, lst = region["home"], region["home_list"]
    members = [make.contact(home) for _ in range(3)]
    make.contact(home, status=ContactStatus.LAPSED)
    make.contact(region["away"])
    make.call_entry(lst, members[0])
    db.session.commit()
    login_as(region["officer"])
    key = _search(client, status="member")

    choose = client.get(f"/calls/lists/{lst.id}/add-from-contacts")
    assert choose.status_code == 200 and "Status: Member" in choose.get_data(as_text=True)
    check = client.post(f"/calls/lists/{lst.id}/add-from-contacts", data={"f": key})
    html = check.get_data(as_text=True)
    assert check.status_code == 200 and "Add 2 members to" in html
    assert _entries(db, lst) == [members[0].id]  # nothing happens before the confirmation

    done = client.post(f"/calls/lists/{lst.id}/add-from-contacts", data={"f": key, "confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/calls/lists/{lst.id}/manage")
    assert _entries(db, lst) == sorted(m.id for m in members)
    again = client.post(f"/calls/lists/{lst.id}/add-from-contacts", data={"f": key, "confirm": "yes"})
    assert again.status_code == 302 and _entries(db, lst) == sorted(m.id for m in members)
    entry = db.session.execute(select(CallEntry).where(CallEntry.contact_id == members[1].id)).scalar_one()
    assert (entry.status, entry.branch_id, entry.source) == (EntryStatus.PENDING, home.id, "contact filter")
    events = _audit(db, "call_list.add_contacts")
    assert [e.detail for e in events] == ["added=2 filter=status=member", "added=0 filter=status=member"]


def test_add_from_contacts_adds_only_members_of_the_lists_branches(region, client, login_as, db, make):
    home_member, away_member = make.contact(region["home"]), make.contact(region["away"])
    third_member = make.contact(region["third"])
    shared = make.call_list([region["home"], region["away"]], name="Shared")
    db.session.commit()
    login_as(region["organiser"])
    key = _search(client)  # everyone the organiser can see, in every branch
    html = client.post(f"/calls/lists/{shared.id}/add-from-contacts", data={"f": key}).get_data(as_text=True)
    assert "Add 2 members to" in html
    client.post(f"/calls/lists/{shared.id}/add-from-contacts", data={"f": key, "confirm": "yes"})
    assert _entries(db, shared) == sorted([home_member.id, away_member.id])
    assert third_member.id not in _entries(db, shared)


def test_officer_adding_to_a_shared_list_adds_only_their_branchs_members(region, client, login_as, db, make):
    home_member = make.contact(region["home"])
    make.contact(region["away"])
    shared = make.call_list([region["home"], region["away"]], name="Shared")
    db.session.commit()
    login_as(region["officer"])
    key = _search(client)
    client.post(f"/calls/lists/{shared.id}/add-from-contacts", data={"f": key, "confirm": "yes"})
    assert _entries(db, shared) == [home_member.id]


def test_add_from_a_search_by_self_organised_group_is_refused(region, client, login_as, db, make):
    make.contact(region["home"])
    db.session.commit()
    login_as(region["officer"])
    key = _search(client, sog=next(iter(SelfOrganisedGroup)).value)
    response = client.post(f"/calls/lists/{region['home_list'].id}/add-from-contacts", data={"f": key, "confirm": "yes"})
    assert response.status_code == 422 and "special-category" in response.get_data(as_text=True)
    assert _entries(db, region["home_list"]) == []


def test_add_from_an_expired_search_says_so(region, client, login_as, db):
    login_as(region["officer"])
    response = client.post(f"/calls/lists/{region['home_list'].id}/add-from-contacts",
                           data={"f": "gone", "confirm": "yes"})
    assert response.status_code == 422 and "That search has expired" in response.get_data(as_text=True)


def test_add_from_contacts_without_a_search_points_to_the_contacts_page(region, client, login_as):
    login_as(region["officer"])
    html = client.get(f"/calls/lists/{region['home_list'].id}/add-from-contacts").get_data(as_text=True)
    assert "haven’t searched the contacts" in html and 'href="/contacts/"' in html


# ------------------------------------------------------------------------------------ who may manage

def _routes(list_id):
    return [("get", f"/calls/lists/{list_id}/edit"), ("post", f"/calls/lists/{list_id}/edit"),
            ("get", f"/calls/lists/{list_id}/callers"), ("post", f"/calls/lists/{list_id}/callers"),
            ("get", f"/calls/lists/{list_id}/add-from-contacts"), ("post", f"/calls/lists/{list_id}/add-from-contacts"),
            ("get", f"/calls/lists/{list_id}/manage"), ("get", f"/calls/lists/{list_id}/progress.csv")]


def test_another_branchs_list_is_404_on_every_route_like_a_missing_one(region, client, login_as, db):
    login_as(region["officer"])
    away = region["away_list"]
    for method, url in _routes(away.id) + _routes(999999):
        response = getattr(client, method)(url, data=_list_form([region["home"].id]) if "edit" in url else
                                           {"callers": [str(region["caller"].id)], "f": "x", "confirm": "yes"})
        assert response.status_code == 404, (method, url)
    db.session.refresh(away)
    assert (away.name, away.callers) == ("Away joiners", [])
    assert not _audit(db, "call_list.update") and not _audit(db, "call_list.callers")


def test_manage_lists_shows_only_the_officers_branches_lists(region, client, login_as):
    login_as(region["officer"])
    html = client.get("/calls/lists/").get_data(as_text=True)
    assert "Home joiners" in html and "Away joiners" not in html


def test_organiser_sees_and_manages_every_list(region, client, login_as):
    login_as(region["organiser"])
    html = client.get("/calls/lists/").get_data(as_text=True)
    assert "Home joiners" in html and "Away joiners" in html
    for lst in (region["home_list"], region["away_list"]):
        for method, url in _routes(lst.id):
            if method == "get":
                assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.CALLER, Role.CAMPAIGN_LEAD])
def test_people_who_do_not_manage_calls_get_404_on_management_routes(region, client, login_as, role, make, db):
    user = region["caller"] if role is Role.CALLER else region["lead"]
    login_as(user)
    lst = region["home_list"]  # region["caller"] is assigned to it
    for method, url in _routes(lst.id) + [("get", "/calls/lists/"), ("get", "/calls/lists/new"),
                                          ("post", "/calls/lists/new"), ("get", "/calls/progress")]:
        response = getattr(client, method)(url, data=_list_form([region["home"].id]))
        assert response.status_code == 404, (method, url)
    assert _count(db, CallList) == 2


def test_signed_out_visitors_are_sent_to_sign_in(region, client):
    response = client.get("/calls/lists/")
    assert response.status_code == 302 and "login" in response.headers["Location"]
