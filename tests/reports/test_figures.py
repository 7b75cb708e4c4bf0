"""Every dashboard figure against values worked out by hand on the constructed region (conftest.py)."""
from __future__ import annotations

import pytest

from crm.reports import activists, service, summaries
from crm.reports.service import ReportFilter
from crm.vocabulary import ActivistRoleKind as R

from .conftest import BASE, TODAY


@pytest.fixture
def counted(region, db):
    summaries.refresh(full=True)
    db.session.commit()
    return region


def _scope(user, **kw):
    return service.scope_for(user, ReportFilter(date_from=BASE, date_to=TODAY, **kw))


def _by_label(rows):
    return {r.label.split(" (")[0] if "(" in r.label else r.label: r for r in rows}


def test_membership_growth_per_branch_service_group_and_total(counted):
    m = service.membership(_scope(counted.admin), counted.targets)
    rows = {r.key: r for r in m.by_branch}
    hla, hlb, edu = rows[counted.hla.id], rows[counted.hlb.id], rows[counted.edb.id]
    # HLA: 10 members now; 3 joiners and 1 leaver in the period → started with 8; +2 is 25%.
    assert (hla.members, hla.joiners, hla.leavers, hla.net, hla.members_at_start, hla.growth_pct) == (10, 3, 1, 2, 8, 25.0)
    assert (hlb.members, hlb.joiners, hlb.leavers, hlb.members_at_start, hlb.growth_pct) == (5, 1, 0, 4, 25.0)
    # The dry run's joiner and the joiner from before the period are not counted.
    assert (edu.members, edu.joiners, edu.growth_pct, edu.on_target) == (4, 0, 0.0, False)
    assert hla.on_target is True and hla.target_pct == 1.0
    t = m.total
    assert (t.members, t.joiners, t.leavers, t.net, t.members_at_start, t.growth_pct) == (19, 4, 1, 3, 16, 18.8)
    groups = {g.label: g for g in m.by_service_group}
    assert (groups["Health"].members, groups["Health"].net, groups["Health"].growth_pct) == (15, 3, 25.0)
    assert groups["Education"].growth_pct == 0.0


def test_adult_social_care_growth_counts_care_provider_employers_only(counted):
    care = service.membership(_scope(counted.admin), counted.targets).social_care
    # Two members at Kind Care, one of them joined in the period: from 1 to 2 is +100% against +5%.
    assert (care.members, care.joiners, care.leavers, care.growth_pct, care.target_pct, care.on_target) == \
        (2, 1, 0, 100.0, 5.0, True)


def test_density_uses_workplaces_with_known_headcount(counted):
    rows = service.membership(_scope(counted.admin), counted.targets).density
    assert [(r.workplace, r.members, r.headcount, r.density_pct) for r in rows] == [("Royal Ward", 8, 40, 20.0)]


def test_call_completion_overdue_retention_and_reach(counted):
    calls = service.calls(_scope(counted.admin), counted.targets)
    rows = {r.key: r for r in calls.by_branch}
    j, lv = rows[counted.hla.id].joiners, rows[counted.hla.id].leavers
    # Joiners in HLA: done, gave up, pending overdue → 2 of 3 completed.
    assert (j.total, j.completed, j.completion_pct, j.overdue) == (3, 2, 66.7, 1)
    assert (lv.total, lv.completed, lv.completion_pct, lv.retained, lv.retention_pct) == (2, 1, 50.0, 1, 50.0)
    assert rows[counted.hlb.id].joiners.total == 1 and rows[counted.hlb.id].joiners.completion_pct == 0.0
    total = calls.total.joiners + calls.total.leavers
    assert (calls.total.joiners.total, calls.total.joiners.completion_pct) == (4, 50.0)
    # Called at least once: two joiners and two leavers; reached: one of each.
    assert (total.called, total.reached, total.reach_pct) == (4, 2, 50.0)
    assert calls.joiner_target == 100.0


def test_calls_per_caller(counted):
    [alex] = service.calls(_scope(counted.admin), counted.targets).by_caller
    assert (alex.name, alex.attempts, alex.reached, alex.retained, alex.reach_pct) == ("Alex Caller", 6, 2, 1, 33.3)
    # With a workplace chosen the calls are counted live (the summaries hold no workplace for calls).
    scope = _scope(counted.admin, employer_id=counted.trust.id, workplace_id=counted.ward.id)
    [alex] = service.calls(scope, counted.targets).by_caller
    assert (alex.attempts, alex.reached) == (5, 2)  # the leaver called was at Royal Ward too
    ward = {r.key: r for r in service.calls(scope, counted.targets).by_branch}[counted.hla.id]
    assert (ward.joiners.total, ward.joiners.completed, ward.leavers.total) == (3, 2, 1)


def test_activists_now_against_baseline_with_targets(counted):
    a = activists.activists(_scope(counted.admin), counted.targets)
    roles = {r.role: r for r in a.by_role}
    steward = roles[R.STEWARD]
    # Four stewards on the baseline day (one has since stood down), two new: 4 → 5 is +25% against +5%.
    assert (steward.baseline, steward.now, steward.change, steward.change_pct, steward.target_pct,
            steward.on_target) == (4, 5, 1, 25.0, 5.0, True)
    hs = roles[R.HEALTH_AND_SAFETY]
    assert (hs.baseline, hs.now, hs.change_pct, hs.on_target) == (0, 1, None, True)
    assert (roles[R.LEARNING].baseline, roles[R.LEARNING].now, roles[R.LEARNING].change_pct) == (1, 2, 100.0)
    # A role that ended on the baseline day was not held that day.
    assert (roles[R.EQUALITY].baseline, roles[R.EQUALITY].now, roles[R.EQUALITY].target_pct) == (0, 0, None)
    assert (a.schools.baseline, a.schools.now, a.schools.change_pct, a.schools.target_pct, a.schools.on_target) == \
        (1, 2, 100.0, 10.0, True)


def test_reps_per_100_members_by_workplace_gaps_first(counted):
    rows = activists.activists(_scope(counted.admin), counted.targets).reps_by_workplace
    assert [(r.workplace, r.members, r.reps, r.per_100) for r in rows] == [
        ("Clinic", 3, 0, 0.0), ("Care Home", 2, 0, 0.0), ("Primary", 4, 2, 50.0), ("Royal Ward", 8, 5, 62.5)]


def test_diversity_suppresses_counts_under_five(counted):
    a = activists.activists(_scope(counted.admin), counted.targets)
    rows = {r.label: r for r in a.diversity}
    women = rows["Women"]
    assert (women.members_shown, women.members_pct, women.reps_shown, women.reps_pct) == (8, 42.1, 6, 75.0)
    black = rows["Black members"]
    assert (black.members, black.reps) == (2, 1)  # held, but never shown:
    assert (black.members_shown, black.members_pct, black.reps_shown, black.reps_pct) == (None, None, None, None)
    assert rows["Disabled members"].members_shown is None
    assert (a.members_total, a.reps_total) == (19, 8)


def test_diversity_for_one_branch_suppresses_what_becomes_small(counted):
    a = activists.activists(_scope(counted.admin, branch_id=counted.edb.id), counted.targets)
    women = {r.label: r for r in a.diversity}["Women"]
    assert (women.members, women.members_shown, women.members_pct) == (2, None, None)
    assert a.reps_total_shown is None  # two reps in the branch


def test_participation_unique_participants_rate_and_fragmented_share(counted):
    p = service.participation(_scope(counted.admin), counted.targets)
    # Writers in the period: h0 (2 letters), h1, h2 (2 campaigns), k0, e1 (own email); drafts and older letters left out.
    assert (p.participants, p.letters, p.members, p.rate_pct) == (5, 7, 19, 26.3)
    # Workplaces under 5 members: Clinic (k0) and Primary (e1).
    assert (p.fragmented_participants, p.fragmented_pct) == (2, 40.0)
    assert (p.calls, p.replies) == (6, 1)
    branches = {r.key: (r.participants, r.letters, r.members, r.rate_pct) for r in p.by_branch}
    assert branches == {counted.hla.id: (3, 5, 10, 30.0), counted.hlb.id: (1, 1, 5, 20.0),
                        counted.edb.id: (1, 1, 4, 25.0)}
    groups = {g.label: (g.participants, g.rate_pct) for g in p.by_service_group}
    assert groups == {"Health": (4, 26.7), "Education": (1, 25.0)}
    assert sum(w.letters for w in p.weekly) == 7
    assert {r.label: r.participants for r in p.by_employer} == {"City Hospitals NHS Trust": 4, "Primary Academy Trust": 1}


def test_participation_for_one_campaign(counted):
    p = service.participation(_scope(counted.admin, campaign_id=counted.x.id), counted.targets)
    assert (p.participants, p.letters) == (4, 5)


def test_participation_for_a_workplace_and_a_date_range(counted):
    p = service.participation(_scope(counted.admin, employer_id=counted.trust.id, workplace_id=counted.ward.id),
                              counted.targets)
    assert (p.participants, p.letters, p.members) == (3, 5, 8)
    from datetime import timedelta

    recent = service.scope_for(counted.admin, ReportFilter(TODAY - timedelta(days=7), TODAY))
    assert service.participation(recent, counted.targets).participants == 4  # e1 wrote 40 days ago


def test_ballot_ready_share_per_branch(counted):
    rows, total = service.quality(_scope(counted.admin))
    assert {r.key: (r.members, r.ballot_ready, r.ballot_ready_pct) for r in rows} == {
        counted.hla.id: (10, 8, 80.0), counted.hlb.id: (5, 2, 40.0), counted.edb.id: (4, 4, 100.0)}
    assert (total.members, total.ballot_ready, total.ballot_ready_pct) == (19, 14, 73.7)


def test_service_group_filter_limits_every_panel(counted):
    scope = _scope(counted.admin, service_group_id=counted.edu.id)
    assert service.membership(scope, counted.targets).total.members == 4
    assert service.participation(scope, counted.targets).participants == 1
    assert [r.key for r in service.quality(scope)[0]] == [counted.edb.id]
    assert service.calls(scope, counted.targets).total.joiners.total == 0


def test_branch_officer_figures_cover_only_their_branches(counted):
    scope = service.scope_for(counted.officer, ReportFilter(BASE, TODAY))
    assert scope.branch_ids == [counted.hla.id]
    m = service.membership(scope, counted.targets)
    assert [r.key for r in m.by_branch] == [counted.hla.id] and m.total.members == 10
    assert service.participation(scope, counted.targets).participants == 3
    assert activists.activists(scope, counted.targets).schools.now == 0
    # Asking for another branch in the filter gives nothing rather than that branch's figures.
    flt, _, errors = service.parse_filter(counted.officer, {"branch": str(counted.hlb.id)}, counted.targets)
    assert flt.branch_id is None and "branch" in errors
    sneaky = service.scope_for(counted.officer, ReportFilter(BASE, TODAY, branch_id=counted.hlb.id))
    assert sneaky.branch_ids == [] and service.membership(sneaky, counted.targets).total.members == 0


def test_people_behind_a_figure_match_its_count(counted, db):
    scope = _scope(counted.admin)
    ids = lambda figure, **kw: {c.id for c in db.session.execute(  # noqa: E731
        service.people_stmt(counted.admin, scope, figure, **kw)).scalars()}
    assert ids("joiners") == {c.id for c in counted.h[0:3] + [counted.k[3]]}
    assert ids("leavers") == {counted.lapsed.id}
    assert len(ids("participants")) == 5
    assert len(ids("members")) == 19 and len(ids("not_ballot_ready")) == 5
    assert len(ids("reps", role=R.STEWARD)) == 5
    assert ids("overdue_calls") == {counted.h[2].id}
    officer_scope = service.scope_for(counted.officer, ReportFilter(BASE, TODAY))
    officer_ids = {c.id for c in db.session.execute(
        service.people_stmt(counted.officer, officer_scope, "participants")).scalars()}
    assert officer_ids == {c.id for c in counted.h[0:3]}


def test_parse_filter_explains_bad_input(counted):
    flt, _, errors = service.parse_filter(counted.admin, {"from": "yesterday", "to": "2020-01-01",
                                                          "employer": "abc"}, counted.targets)
    assert "from" in errors and "employer" in errors
    assert flt.date_from == BASE
