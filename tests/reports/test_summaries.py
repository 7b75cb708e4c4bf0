"""The summary tables agree with a full recount, after a full refresh and after incremental ones."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from crm.calls.models import Outcome
from crm.campaigns.models import TargetKind
from crm.database import utcnow
from crm.imports.models import ChangeKind, ImportStatus
from crm.reports import activists, service, summaries
from crm.reports import targets as targets_service
from crm.reports.models import ActivityDay, MemberCell, ParticipantDay
from crm.reports.service import ReportFilter

from .conftest import BASE, TODAY


def _totals(user, targets):
    scope = service.scope_for(user, ReportFilter(BASE, TODAY))
    m = service.membership(scope, targets)
    p = service.participation(scope, targets)
    return m.total.members, m.total.joiners, m.total.leavers, p.participants, p.letters, p.calls, p.replies


def test_full_refresh_equals_a_recount(region, db):
    summaries.refresh(full=True)
    assert summaries.recount_matches()
    assert db.session.query(ActivityDay).count() > 0 and db.session.query(ParticipantDay).count() > 0
    assert db.session.query(MemberCell).count() > 0


def test_incremental_refresh_picks_up_new_writes_and_matches_a_full_recount(region, db, make, tmp_path):
    summaries.refresh(full=True)
    db.session.commit()
    before = _totals(region.admin, region.targets)
    assert before == (19, 4, 1, 5, 7, 6, 1)

    # New writes after the refresh: a letter from someone new, a second call, a reply, an import's joiner.
    now = utcnow()
    make.sent_letter(region.y, region.e[2], now, TargetKind.MP)
    make.sent_letter(region.x, region.h[0], now, TargetKind.MP, target_key="mp:again")
    entry = make.call_entry(region.joiners, region.h[5])
    make.call_attempt(entry, region.caller, Outcome.ANSWERED, now)
    make.inbound_message(region.e[2], received_at=now)
    newcomer = make.contact(region.edb, employer=region.school, workplace=region.primary, job_title="TA")
    run = make.import_run(None, str(tmp_path / "x.csv"), status=ImportStatus.COMPLETED, finished_at=now)
    make.import_change(run, newcomer, ChangeKind.JOINER)
    db.session.commit()
    assert not summaries.recount_matches()  # stale until refreshed

    summaries.refresh(full=False)
    db.session.commit()
    assert summaries.recount_matches()
    assert _totals(region.admin, region.targets) == (20, 5, 1, 6, 9, 7, 2)


def test_incremental_refresh_leaves_earlier_days_alone(region, db):
    summaries.refresh(full=True)
    earlier = db.session.query(ActivityDay).filter(ActivityDay.day < TODAY - timedelta(days=1)).count()
    current = summaries.refresh(full=False)
    assert current.full_recount_at is not None and current.last_duration_ms is not None
    assert db.session.query(ActivityDay).filter(ActivityDay.day < TODAY - timedelta(days=1)).count() == earlier
    assert summaries.recount_matches()


def test_refresh_decides_full_recount_when_never_done_or_a_day_old(region, db):
    first = summaries.refresh()
    assert first.full_recount_at == first.refreshed_at
    later = first.refreshed_at + timedelta(hours=1)
    second = summaries.refresh(now=later)
    assert second.full_recount_at == first.full_recount_at  # incremental
    third = summaries.refresh(now=later + timedelta(days=1))
    assert third.full_recount_at == later + timedelta(days=1)


def test_staleness(region, db):
    assert summaries.never_counted() and summaries.is_stale()
    summaries.refresh()
    assert not summaries.is_stale()
    assert summaries.is_stale(now=utcnow() + timedelta(minutes=10))


def test_refresh_job_counts_through_a_real_worker(region, db, app):
    from crm.queue import get_queue
    from crm.worker import run_worker

    get_queue().enqueue(summaries.JOB)
    run_worker(app, ["default"], burst=True)
    db.session.expire_all()
    assert not summaries.never_counted()
    assert summaries.recount_matches()


def test_whole_period_cells_give_the_same_figures_as_counting_the_days(region, db):
    summaries.refresh(full=True)
    scopes = [service.scope_for(region.admin, ReportFilter(BASE, TODAY, **kw))
              for kw in ({}, {"campaign_id": region.x.id}, {"service_group_id": region.health.id},
                         {"employer_id": region.trust.id})]
    assert all(service._has_cells(s) for s in scopes)
    with_cells = [service.participation(s, region.targets) for s in scopes]
    summaries.state().counted_periods = []  # as for a period not counted whole
    scopes = [service.scope_for(region.admin, ReportFilter(s.date_from, s.date_to, employer_id=s.employer_id,
                                                           campaign_id=s.campaign_id)) for s in scopes]
    scopes[2].branch_ids = [region.hla.id, region.hlb.id]
    assert not any(service._has_cells(s) for s in scopes)
    counted = [service.participation(s, region.targets) for s in scopes]
    for fast, slow in zip(with_cells, counted):
        assert (fast.participants, fast.letters, fast.fragmented_participants) == \
            (slow.participants, slow.letters, slow.fragmented_participants)
        assert [(r.key, r.participants, r.letters) for r in fast.by_branch] == \
            [(r.key, r.participants, r.letters) for r in slow.by_branch]
        assert [(r.label, r.participants) for r in fast.by_employer] == [(r.label, r.participants) for r in slow.by_employer]
    assert sum(r.letters for r in with_cells[0].weekly) == 7


def test_periods_are_the_year_to_date_and_recent_quarters(region):
    found = summaries.periods(TODAY)
    assert found[0] == (BASE, TODAY) and len(found) == 6
    assert found[1][0] <= TODAY <= found[1][1]


def test_a_stale_dashboard_asks_a_worker_once(region, db, client, login_as):
    from crm.queue import get_queue

    summaries.refresh(now=utcnow() - timedelta(minutes=30))
    db.session.commit()
    login_as(region.lead)
    assert client.get("/reports/").status_code == 200
    assert client.get("/reports/").status_code == 200
    assert get_queue().job_ids == [summaries.JOB_ID]


def test_a_finished_import_asks_for_a_refresh(region, db, make, tmp_path):
    from crm.imports.models import ImportStatus
    from crm.queue import get_queue

    run = make.import_run(None, str(tmp_path / "y.csv"), status=ImportStatus.RUNNING)
    db.session.commit()
    run.status = ImportStatus.COMPLETED
    db.session.commit()
    assert summaries.JOB_ID in get_queue().job_ids


def test_period_cells_and_role_snapshot_match_the_daily_rows_and_live_roles(region, db):
    summaries.refresh(full=True)
    scope = service.scope_for(region.admin, ReportFilter(BASE, TODAY))
    assert service._period_counted(scope)
    fast_m = service.membership(scope, region.targets)
    fast_totals = service.activity_totals(scope)
    fast_calls = service.calls(scope, region.targets)
    summaries.state().counted_periods = []
    scope = service.scope_for(region.admin, ReportFilter(BASE, TODAY))
    slow_m = service.membership(scope, region.targets)
    assert [(r.key, r.joiners, r.leavers, r.net_since_start) for r in fast_m.by_branch] == \
        [(r.key, r.joiners, r.leavers, r.net_since_start) for r in slow_m.by_branch]
    assert (fast_m.social_care.joiners, fast_m.social_care.growth_pct) == (slow_m.social_care.joiners,
                                                                           slow_m.social_care.growth_pct)
    assert fast_totals == service.activity_totals(scope) == {"calls": 6, "replies": 1}
    slow_calls = service.calls(scope, region.targets)
    assert [(r.key, r.joiners, r.leavers) for r in fast_calls.by_branch] == \
        [(r.key, r.joiners, r.leavers) for r in slow_calls.by_branch]
    assert fast_calls.by_caller == slow_calls.by_caller


def test_the_timed_refresh_keeps_one_job_scheduled_and_reschedules_itself(app, db):
    from rq.registry import ScheduledJobRegistry

    from crm.queue import get_queue
    from crm.reports import summaries
    from jobs.reports import refresh_summaries_on_timer

    summaries.schedule_refresh()
    summaries.schedule_refresh()
    registry = ScheduledJobRegistry(queue=get_queue())
    assert registry.get_job_ids() == [summaries.JOB_ID + "-timer"]
    registry.remove(summaries.JOB_ID + "-timer", delete_job=True)
    refresh_summaries_on_timer()
    assert registry.get_job_ids() == [summaries.JOB_ID + "-timer"]
    assert summaries.state().refreshed_at is not None


def _activist_figures(a):
    return ([(r.role, r.baseline, r.now) for r in a.by_role], (a.schools.baseline, a.schools.now),
            [(r.workplace_id, r.members, r.reps) for r in a.reps_by_workplace],
            [(r.label, r.members, r.reps) for r in a.diversity], a.members_total, a.reps_total)


@pytest.mark.parametrize("branch", [None, "hla", "hlb"])
def test_activist_cells_give_the_same_figures_as_counting_the_role_holders(region, db, make, branch):
    from crm.reports.models import ActivistCell
    from crm.vocabulary import ActivistRoleKind

    # A steward of Health A who is also a steward in Health B counts once in each branch, both ways.
    make.activist_role(region.h[4], ActivistRoleKind.STEWARD, branch_id=region.hlb.id,
                       started_on=BASE - timedelta(days=3))
    summaries.refresh(full=True)
    flt = ReportFilter(BASE, TODAY, branch_id=getattr(region, branch).id if branch else None)
    assert summaries.counted_activist_day(BASE) and summaries.counted_activist_day(TODAY)
    from_cells = activists.activists(service.scope_for(region.admin, flt), region.targets)
    db.session.execute(delete(ActivistCell))
    assert not summaries.counted_activist_day(TODAY)
    live = activists.activists(service.scope_for(region.admin, flt), region.targets)
    assert _activist_figures(from_cells) == _activist_figures(live)
    if branch is None:
        steward = next(r for r in live.by_role if r.role is ActivistRoleKind.STEWARD)
        assert (steward.baseline, steward.now) == (5, 6)


def test_activist_cells_follow_a_new_baseline_date(region, db):
    summaries.refresh(full=True)
    moved = BASE - timedelta(days=7)
    targets_service.save_targets(TODAY.year, moved, {}, region.admin)
    assert not summaries.counted_activist_day(moved)
    summaries.refresh(full=False)
    assert summaries.counted_activist_day(moved) and not summaries.counted_activist_day(BASE)
    assert summaries.recount_matches()


def _participation_figures(p):
    return (p.participants, p.letters, p.fragmented_participants, p.calls, p.replies,
            [(r.key, r.participants, r.letters) for r in p.by_branch], [(r.label, r.participants) for r in p.by_employer])


def test_a_custom_period_is_counted_by_a_worker_while_the_page_says_so(region, db, client, login_as, app):
    from crm.queue import get_queue
    from crm.worker import run_worker

    summaries.refresh(full=True)
    db.session.commit()
    start, end = BASE + timedelta(days=20), TODAY - timedelta(days=2)
    login_as(region.lead)
    url = f"/reports/?from={start.isoformat()}&to={end.isoformat()}"
    waiting = client.get(url)
    page = waiting.get_data(as_text=True)
    assert waiting.status_code == 202 and "Counting the figures for" in page and 'http-equiv="refresh"' in page
    assert "Membership</h2>" not in page
    assert client.get(url).status_code == 202  # asking again queues nothing more
    jobs = [get_queue().fetch_job(j) for j in get_queue().job_ids]
    assert [(j.func_name, j.args) for j in jobs] == [(summaries.PERIOD_JOB, [start.isoformat(), end.isoformat()])]
    run_worker(app, ["default"], burst=True)
    db.session.expire_all()
    shown = client.get(url)
    assert shown.status_code == 200 and "Membership</h2>" in shown.get_data(as_text=True)
    # The period's cells give what counting its days gives.
    scope = service.scope_for(region.admin, ReportFilter(start, end))
    assert service._has_cells(scope)
    fast = service.participation(scope, region.targets)
    summaries.state().counted_periods = []
    slow = service.participation(service.scope_for(region.admin, ReportFilter(start, end)), region.targets)
    assert _participation_figures(fast) == _participation_figures(slow) and fast.letters > 0


def test_with_no_worker_to_ask_the_page_counts_the_period_itself(region, db, client, login_as, app, monkeypatch):
    summaries.refresh(full=True)
    db.session.commit()
    login_as(region.lead)
    url = f"/reports/?from={(BASE + timedelta(days=1)).isoformat()}&to={TODAY.isoformat()}"
    monkeypatch.setitem(app.config, "REPORTS_PERIOD_WAIT_SECONDS", 0)  # the job waited too long: nobody took it
    assert client.get(url).status_code == 200
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    assert client.get(f"/reports/?from={(BASE + timedelta(days=2)).isoformat()}").status_code == 200
    assert summaries.counted_whole(BASE + timedelta(days=2), TODAY)


def test_custom_periods_are_kept_current_while_used_then_dropped(region, db, make):
    summaries.refresh(full=True)
    ending_today = (BASE + timedelta(days=5), TODAY)
    summaries.count_period(*ending_today)
    assert summaries.counted_whole(*ending_today) and summaries.counted_activist_day(TODAY)
    before = service.participation(service.scope_for(region.admin, ReportFilter(*ending_today)), region.targets)
    # A letter written since: the next refresh recounts the period as it does the standard ones.
    make.sent_letter(region.x, make.contact(region.hla), utcnow())
    summaries.refresh(full=False)
    assert summaries.recount_matches()
    after = service.participation(service.scope_for(region.admin, ReportFilter(*ending_today)), region.targets)
    assert after.participants == before.participants + 1
    # At most CUSTOM_KEEP are kept, the most recently asked; one not asked for two weeks is dropped.
    for days in range(summaries.CUSTOM_KEEP):
        summaries.count_period(BASE + timedelta(days=10 + days), TODAY - timedelta(days=1))
    assert not summaries.counted_whole(*ending_today)
    assert len(summaries.custom_periods()) == summaries.CUSTOM_KEEP
    later = utcnow() + summaries.CUSTOM_KEEP_FOR + timedelta(days=1)
    summaries.refresh(full=True, now=later)
    assert summaries.custom_periods(later.date()) == []


def test_counting_a_custom_period_never_claims_a_standard_period_it_did_not_count(region, db):
    summaries.refresh(full=True)
    current = summaries.state()
    # As on the first morning of a new day before the refresh: yesterday's year to date is counted, today's not.
    current.counted_periods = [[BASE.isoformat(), (TODAY - timedelta(days=1)).isoformat()]]
    summaries.count_period(BASE + timedelta(days=3), TODAY - timedelta(days=4))
    assert summaries.counted_whole(BASE + timedelta(days=3), TODAY - timedelta(days=4))
    assert not summaries.counted_whole(BASE, TODAY)
