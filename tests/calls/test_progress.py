"""Progress figures for call lists, against values worked out by hand on a small list."""
import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.calls import progress, service
from crm.calls.models import CallAttempt, CallListKind, EntryStatus, Outcome
from crm.database import utcnow

TODAY = date.today()
S, O = EntryStatus, Outcome


def _attempt(db, entry, user, outcome, minutes_ago=60):
    db.session.add(CallAttempt(entry_id=entry.id, list_id=entry.list_id, contact_id=entry.contact_id,
                               user_id=user.id, outcome=outcome, at=utcnow() - timedelta(minutes=minutes_ago)))


@pytest.fixture
def world(make, db):
    """A DOCAS-leaver list over branches AAA and BBB (nine members), a joiner list in AAA, and a branch CCC.

    entry  status       reached  latest outcome   attempts  due by
    A1     done         yes      retained         2         -9 days
    A2     done         yes      left employer    1         -5
    A3     gave up      no       no answer        3         -9
    A4     pending      no       no answer        1         -2   overdue
    A5     pending      yes      call back        1         +10
    A6     pending      no       -                0         none
    B1     done         yes      retained         1         -9
    B2     in progress  no       -                0         -1   overdue
    B3     done         no       wrong number     1         +2
    """
    a, b, c = make.branch(code="AAA"), make.branch(code="BBB"), make.branch(code="CCC")
    u1 = make.user(Role.CALLER, branches=[a], name="Alex Caller")
    u2 = make.user(Role.CALLER, branches=[a, b], name="Bo Caller")
    leavers = make.call_list([a, b], kind=CallListKind.DOCAS_LEAVER, callers=[u1, u2], name="Leavers AAA+BBB")

    def entry(branch, status, reached, outcome, attempts, due_in, **contact_kw):
        contact = make.contact(branch, **contact_kw)
        due = TODAY + timedelta(days=due_in) if due_in is not None else None
        return make.call_entry(leavers, contact, status=status, reached=reached, last_outcome=outcome,
                               attempts=attempts, due_by=due)

    e = {
        "A1": entry(a, S.DONE, True, O.RETAINED, 2, -9),
        "A2": entry(a, S.DONE, True, O.LEFT_EMPLOYER, 1, -5),
        "A3": entry(a, S.GAVE_UP, False, O.NO_ANSWER, 3, -9),
        "A4": entry(a, S.PENDING, False, O.NO_ANSWER, 1, -2, first_name="Olive", last_name="Quenby"),
        "A5": entry(a, S.PENDING, True, O.CALL_BACK, 1, 10),
        "A6": entry(a, S.PENDING, False, None, 0, None),
        "B1": entry(b, S.DONE, True, O.RETAINED, 1, -9),
        "B2": entry(b, S.IN_PROGRESS, False, None, 0, -1, first_name="Bea", last_name="Varley"),
        "B3": entry(b, S.DONE, False, O.WRONG_NUMBER, 1, 2),
    }
    for name, outcome in [("A1", O.NO_ANSWER), ("A1", O.RETAINED), ("A2", O.LEFT_EMPLOYER),
                          ("A3", O.NO_ANSWER), ("A3", O.NO_ANSWER), ("A3", O.NO_ANSWER)]:
        _attempt(db, e[name], u1, outcome)
    for name, outcome in [("A4", O.NO_ANSWER), ("A5", O.CALL_BACK), ("B1", O.RETAINED), ("B3", O.WRONG_NUMBER)]:
        _attempt(db, e[name], u2, outcome)
    # Another list and another branch: never part of the leaver list's figures.
    joiners = make.call_list([a], kind=CallListKind.NEW_JOINER)
    make.call_entry(joiners, make.contact(a), status=S.DONE, reached=True, last_outcome=O.ANSWERED, attempts=1)
    make.call_entry(joiners, make.contact(a), status=S.PENDING)
    elsewhere = make.call_list([c], kind=CallListKind.DOCAS_LEAVER)
    make.call_entry(elsewhere, make.contact(c), status=S.DONE, reached=True, last_outcome=O.RETAINED, attempts=1)
    organiser, officer_a = make.user(Role.ORGANISER), make.user(Role.BRANCH_OFFICER, branches=[a])
    db.session.commit()
    return {"a": a, "b": b, "c": c, "u1": u1, "u2": u2, "leavers": leavers, "joiners": joiners,
            "elsewhere": elsewhere, "entries": e, "organiser": organiser, "officer_a": officer_a}


def _numbers(f):
    return (f.total, f.done, f.gave_up, f.completed, f.remaining, f.reached, f.overdue, f.retained, f.called)


def test_list_figures_match_hand_counts(world):
    figures = progress.figures_by_list(world["organiser"], [world["leavers"].id])[world["leavers"].id]
    #                    total done gave_up completed remaining reached overdue retained called
    assert _numbers(figures) == (9, 4, 1, 5, 4, 4, 2, 2, 7)
    assert (figures.completion_pct, figures.retention_pct, figures.reach_rate) == (55.6, 22.2, 57.1)


def test_list_figures_agree_with_the_service_progress(world):
    for user in (world["organiser"], world["officer_a"]):
        mine = progress.figures_by_list(user, [world["leavers"].id])[world["leavers"].id]
        theirs = service.progress(world["leavers"], user)
        assert (mine.total, mine.done, mine.gave_up, mine.reached, mine.remaining, mine.overdue, mine.retained) == (
            theirs.total, theirs.done, theirs.gave_up, theirs.reached, theirs.remaining, theirs.overdue, theirs.retained)


def test_figures_by_branch_split_the_list(world):
    rows = progress.figures_by_branch(world["leavers"], world["organiser"])
    assert [r.branch.code for r in rows] == ["AAA", "BBB"]
    assert _numbers(rows[0].figures) == (6, 2, 1, 3, 3, 3, 1, 1, 5)
    assert _numbers(rows[1].figures) == (3, 2, 0, 2, 1, 1, 1, 1, 2)
    assert (rows[0].figures.completion_pct, rows[0].figures.retention_pct) == (50.0, 16.7)
    assert (rows[1].figures.completion_pct, rows[1].figures.retention_pct) == (66.7, 33.3)
    assert _numbers(progress.total_of(rows)) == (9, 4, 1, 5, 4, 4, 2, 2, 7)


def test_branch_officer_sees_only_their_branchs_share_of_a_shared_list(world):
    officer = world["officer_a"]
    rows = progress.figures_by_branch(world["leavers"], officer)
    assert [r.branch.code for r in rows] == ["AAA"]
    assert _numbers(progress.figures_by_list(officer, [world["leavers"].id])[world["leavers"].id]) == (
        6, 2, 1, 3, 3, 3, 1, 1, 5)
    callers = {c.name: (c.attempts, c.reached, c.retained, c.members) for c in progress.figures_by_caller(world["leavers"], officer)}
    assert callers == {"Alex Caller": (6, 2, 1, 3), "Bo Caller": (2, 1, 0, 2)}  # Bo's BBB calls are not counted
    assert [e.name for e in progress.overdue_entries(world["leavers"], officer)] == ["Olive Quenby"]


def test_figures_by_caller_count_attempts_and_reached(world):
    callers = progress.figures_by_caller(world["leavers"], world["organiser"])
    assert [(c.name, c.attempts, c.reached, c.retained, c.members) for c in callers] == [
        ("Alex Caller", 6, 2, 1, 3), ("Bo Caller", 4, 2, 1, 4)]
    assert callers[0].reach_rate == 33.3 and callers[1].reach_rate == 50.0


def test_status_and_outcome_counts(world):
    assert progress.status_counts(world["leavers"], world["organiser"]) == {
        S.PENDING: 3, S.IN_PROGRESS: 1, S.DONE: 4, S.GAVE_UP: 1}
    rows = {r.outcome: (r.entries, r.attempts) for r in progress.outcome_rows(world["leavers"], world["organiser"])}
    assert rows == {O.RETAINED: (2, 2), O.LEFT_EMPLOYER: (1, 1), O.NO_ANSWER: (2, 5), O.CALL_BACK: (1, 1),
                    O.WRONG_NUMBER: (1, 1), None: (2, 0)}


def test_overdue_entries_most_overdue_first(world):
    overdue = progress.overdue_entries(world["leavers"], world["organiser"])
    assert [(e.name, e.branch_code, e.due_by) for e in overdue] == [
        ("Olive Quenby", "AAA", TODAY - timedelta(days=2)), ("Bea Varley", "BBB", TODAY - timedelta(days=1))]


def test_overview_gives_joiner_and_leaver_completion_per_branch(world):
    rows = {r.branch.code: r for r in progress.overview_by_branch(world["organiser"])}
    assert list(rows) == ["AAA", "BBB", "CCC"]
    assert (rows["AAA"].joiners.total, rows["AAA"].joiners.completion_pct) == (2, 50.0)
    assert (rows["AAA"].leavers.total, rows["AAA"].leavers.completion_pct, rows["AAA"].leavers.retention_pct) == (6, 50.0, 16.7)
    assert (rows["BBB"].joiners.total, rows["BBB"].leavers.completion_pct) == (0, 66.7)
    assert (rows["CCC"].leavers.total, rows["CCC"].leavers.retention_pct) == (1, 100.0)
    assert [r.branch.code for r in progress.overview_by_branch(world["officer_a"])] == ["AAA"]


def test_overview_page_shows_each_branch_against_the_target(world, client, login_as):
    login_as(world["officer_a"])
    page = client.get("/calls/progress")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "AAA" in html and "BBB" not in html and "CCC" not in html
    assert "50.0%" in html and "16.7%" in html


def _csv(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_progress_csv_has_branch_and_caller_figures_and_no_member_data(world, client, login_as, db):
    login_as(world["organiser"])
    response = client.get(f"/calls/lists/{world['leavers'].id}/progress.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == progress.CSV_HEADERS
    table = [dict(zip(rows[0], row)) for row in rows[1:]]
    by_branch = {r["Branch code"]: r for r in table if r["Breakdown"] == "Branch"}
    assert {k: by_branch["AAA"][k] for k in ("On the list", "Done", "Not reached after last attempt", "Completed",
                                              "Completion %", "Target %", "Remaining", "Overdue", "Reached",
                                              "Retained", "Retention %")} == {
        "On the list": "6", "Done": "2", "Not reached after last attempt": "1", "Completed": "3",
        "Completion %": "50.0", "Target %": "100", "Remaining": "3", "Overdue": "1", "Reached": "3",
        "Retained": "1", "Retention %": "16.7"}
    assert by_branch["BBB"]["Completion %"] == "66.7"
    total = next(r for r in table if r["Breakdown"] == "All your branches")
    assert (total["On the list"], total["Completed"], total["Retention %"]) == ("9", "5", "22.2")
    callers = {r["Caller"]: (r["Calls made"], r["Calls that reached the member"], r["Retained"])
               for r in table if r["Breakdown"] == "Caller"}
    assert callers == {"Alex Caller": ("6", "2", "1"), "Bo Caller": ("4", "2", "1")}
    text = response.get_data(as_text=True)
    for entry in world["entries"].values():  # no member personal data
        assert entry.contact.last_name not in text and entry.contact.mobile not in text
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "call_list.export")).scalar_one()
    assert event.user_id == world["organiser"].id and event.object_id == world["leavers"].id


def test_progress_csv_cells_cannot_run_as_formulas(world, client, login_as, db):
    world["u1"].name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    login_as(world["organiser"])
    rows = _csv(client.get(f"/calls/lists/{world['leavers'].id}/progress.csv"))
    names = [row[3] for row in rows[1:] if row[0] == "Caller"]
    assert "'=HYPERLINK(\"http://evil\")" in names


def test_branch_officer_csv_has_only_their_branches(world, client, login_as):
    login_as(world["officer_a"])
    rows = _csv(client.get(f"/calls/lists/{world['leavers'].id}/progress.csv"))
    assert [row[1] for row in rows[1:] if row[0] == "Branch"] == ["AAA"]
    assert "BBB" not in "".join(",".join(r) for r in rows)


def test_dashboard_shows_the_figures_outcomes_callers_and_overdue_members(world, client, login_as):
    login_as(world["organiser"])
    page = client.get(f"/calls/lists/{world['leavers'].id}/manage")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "55.6%" in html and "22.2%" in html and "57.1%" in html  # completion, retention, reach rate
    assert "By branch" in html and "66.7%" in html
    assert "Alex Caller" in html and "Bo Caller" in html
    assert "Left the employer" in html and "Not called yet" in html
    a4 = world["entries"]["A4"]
    assert f'href="/contacts/{a4.contact_id}">Olive Quenby</a>' in html
    assert "Bea Varley" in html


def test_dashboard_for_a_branch_officer_hides_the_other_branchs_members(world, client, login_as):
    login_as(world["officer_a"])
    html = client.get(f"/calls/lists/{world['leavers'].id}/manage").get_data(as_text=True)
    assert "Olive Quenby" in html and "Bea Varley" not in html
    assert "By branch" not in html and "figures for your branches only" in html
    assert "50.0%" in html


def test_lists_page_shows_each_list_with_its_figures(world, client, login_as):
    login_as(world["organiser"])
    html = client.get("/calls/lists/").get_data(as_text=True)
    assert "Leavers AAA+BBB" in html and "New list" in html
    assert "55.6%" in html and "22.2%" in html
    login_as(world["officer_a"])
    html = client.get("/calls/lists/").get_data(as_text=True)
    assert "Leavers AAA+BBB" in html and "50.0%" in html and "55.6%" not in html
    assert f"/calls/lists/{world['elsewhere'].id}/manage" not in html
