"""The quarterly R&R report: a branch's figures for a past quarter, notes, printable HTML, XLSX, roll-up."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.calls.models import CallListKind, EntryStatus, Outcome
from crm.imports.models import ChangeKind, ImportStatus
from crm.reports import rr, summaries
from crm.reports import targets as targets_service
from crm.reports.rr import Quarter
from crm.vocabulary import ActivistRoleKind as R
from crm.vocabulary import ContactStatus

Q = Quarter(2025, 2)  # April to June 2025


def _at(y, m, d):
    return datetime(y, m, d, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def quarter_region(make, db, tmp_path):
    """Branch PQR: 6 members now (3 ballot-ready). In 2025 Q2: 2 joiners and 1 leaver (import of 10 May);
    another joiner on 1 August. Joiner calls: 1 of 2 done; leaver calls: 1 of 1, retained. Two calls made.
    Stewards: 1 on 31 March, 2 on 30 June. Letters on 1 June from 2 members. Branch ZZZ: 2 members."""
    pqr, zzz = make.branch(code="PQR", name="Port Quay"), make.branch(code="ZZZ", name="Zed Valley")
    emp = make.employer("Port Council", branches=[pqr])
    site = make.workplace(emp, "Town Hall")
    m = [make.contact(pqr, employer=emp, workplace=site, job_title="Clerk") for _ in range(3)]
    m += [make.contact(pqr) for _ in range(3)]
    gone = make.contact(pqr, status=ContactStatus.LAPSED)
    [make.contact(zzz) for _ in range(2)]
    path = str(tmp_path / "e.csv")
    run = make.import_run(None, path, status=ImportStatus.COMPLETED, finished_at=_at(2025, 5, 10))
    make.import_change(run, m[0], ChangeKind.JOINER)
    make.import_change(run, m[1], ChangeKind.JOINER)
    make.import_change(run, gone, ChangeKind.LEAVER)
    later = make.import_run(None, path, status=ImportStatus.COMPLETED, finished_at=_at(2025, 8, 1))
    make.import_change(later, m[2], ChangeKind.JOINER)
    caller = make.user(Role.CALLER, branches=[pqr])
    joiners = make.call_list([pqr], kind=CallListKind.NEW_JOINER)
    leavers = make.call_list([pqr], kind=CallListKind.DOCAS_LEAVER)
    done = make.call_entry(joiners, m[0], status=EntryStatus.DONE, reached=True, attempts=1,
                           last_outcome=Outcome.ANSWERED, added_at=_at(2025, 5, 11), due_by=date(2025, 5, 18))
    make.call_entry(joiners, m[1], added_at=_at(2025, 5, 11), due_by=date(2025, 5, 18))
    kept = make.call_entry(leavers, gone, status=EntryStatus.DONE, reached=True, attempts=1,
                           last_outcome=Outcome.RETAINED, added_at=_at(2025, 5, 11), due_by=date(2025, 5, 18))
    make.call_attempt(done, caller, Outcome.ANSWERED, _at(2025, 5, 12))
    make.call_attempt(kept, caller, Outcome.RETAINED, _at(2025, 5, 12))
    make.activist_role(m[3], R.STEWARD, started_on=date(2025, 1, 1))
    make.activist_role(m[4], R.STEWARD, started_on=date(2025, 5, 1))
    campaign = make.campaign(pqr)
    make.sent_letter(campaign, m[0], _at(2025, 6, 1))
    make.sent_letter(campaign, m[3], _at(2025, 6, 1))
    officer = make.user(Role.BRANCH_OFFICER, branches=[pqr])
    lead = make.user(Role.CAMPAIGN_LEAD)
    admin = make.user(Role.ADMIN)
    summaries.refresh(full=True)
    db.session.commit()
    return SimpleNamespace(pqr=pqr, zzz=zzz, officer=officer, lead=lead, admin=admin)


def test_branch_quarter_figures(quarter_region):
    targets = targets_service.targets_for(Q.year)
    r = rr.branch_report(quarter_region.admin, quarter_region.pqr, Q, targets)
    # 6 now; net since 1 April is +2 (two joiners, a leaver, and August's joiner) → 4 at the start; +1 is 25%.
    g = r.growth
    assert (g.members, g.joiners, g.leavers, g.net, g.members_at_start, g.growth_pct) == (6, 2, 1, 1, 4, 25.0)
    assert (r.joiner_calls.total, r.joiner_calls.completed, r.joiner_calls.overdue) == (2, 1, 1)
    assert (r.leaver_calls.total, r.leaver_calls.completed, r.leaver_calls.retained) == (1, 1, 1)
    assert r.calls_made == 2
    steward = r.role(R.STEWARD)
    assert (steward.baseline, steward.now, steward.change) == (1, 2, 1)
    assert (r.participants, r.letters, r.participation_pct) == (2, 2, 33.3)
    assert (r.members, r.ballot_ready, r.ballot_ready_pct) == (6, 3, 50.0)
    row = dict(zip([name for name, _ in rr.COLUMNS], rr.table_row(r)))
    assert row["New-joiner completion %"] == 50.0 and row["Retention %"] == 100.0
    assert row["Steward (rep): change"] == 1


def test_quarters_parse_and_label():
    assert rr.parse_quarter("2025-q2") == (Q, None)
    assert Q.start == date(2025, 4, 1) and Q.end == date(2025, 6, 30) and Q.label == "2025 Q2 (Apr–Jun)"
    assert Quarter(2025, 4).end == date(2025, 12, 31) and Quarter(2025, 1).previous() == Quarter(2024, 4)
    quarter, error = rr.parse_quarter("last quarter")
    assert error and quarter == rr.quarter_of(date.today())


def test_officer_adds_action_plan_notes_shown_on_the_printable_page(quarter_region, client, login_as, db):
    login_as(quarter_region.officer)
    url = f"/reports/rr/{quarter_region.pqr.id}"
    response = client.post(f"{url}/notes?quarter=2025-Q2", data={"text": "Recruit at the depot open day."})
    assert response.status_code == 302
    html = client.get(f"{url}?quarter=2025-Q2").get_data(as_text=True)
    assert "Recruit at the depot open day." in html and "2025 Q2 (Apr–Jun)" in html
    assert "Port Quay (PQR)" in html and ">25.0<" in html
    too_long = client.post(f"{url}/notes?quarter=2025-Q2", data={"text": "x" * 6000})
    assert too_long.status_code == 422 and "Keep the notes under 5,000 characters." in too_long.get_data(as_text=True)


def test_other_branches_reports_are_not_found_for_officers(quarter_region, client, login_as):
    login_as(quarter_region.officer)
    other = quarter_region.zzz.id
    assert client.get(f"/reports/rr/{other}").status_code == 404
    assert client.get(f"/reports/rr/{other}/xlsx").status_code == 404
    assert client.post(f"/reports/rr/{other}/notes", data={"text": "x"}).status_code == 404
    rollup = client.get("/reports/rr?quarter=2025-Q2").get_data(as_text=True)
    assert "Port Quay (PQR)" in rollup and "Zed Valley" not in rollup


def test_campaign_leads_see_every_branch_but_cannot_write_notes(quarter_region, client, login_as):
    login_as(quarter_region.lead)
    rollup = client.get("/reports/rr?quarter=2025-Q2").get_data(as_text=True)
    assert "Port Quay (PQR)" in rollup and "Zed Valley (ZZZ)" in rollup
    assert client.post(f"/reports/rr/{quarter_region.pqr.id}/notes?quarter=2025-Q2",
                       data={"text": "x"}).status_code == 404


def test_branch_xlsx_has_the_page_figures_and_is_audited(quarter_region, client, login_as, db):
    login_as(quarter_region.officer)
    response = client.get(f"/reports/rr/{quarter_region.pqr.id}/xlsx?quarter=2025-Q2")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert values["Joiners"] == 2 and values["Growth %"] == 25.0 and values["Retention %"] == 100.0
    assert values["Participation %"] == 33.3 and values["Ballot-ready %"] == 50.0
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "report.export")).scalar_one()


def test_rollup_xlsx_matches_the_rollup_table(quarter_region, client, login_as):
    login_as(quarter_region.admin)
    response = client.get("/reports/rr/rollup.xlsx?quarter=2025-Q2")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    header = rows[1]
    by_code = {row[0]: dict(zip(header, row)) for row in rows[2:]}
    assert by_code["PQR"]["Joiners"] == 2 and by_code["PQR"]["Net change"] == 1
    assert by_code["ZZZ"]["Members now"] == 2
    total = rows[-1]
    assert total[1] == "All branches" and dict(zip(header, total))["Members now"] == 8
