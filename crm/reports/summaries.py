"""The summary tables the dashboard reads, and how they are kept current.

Kept current by a job (jobs/reports.py), not on the writes:
- the writes come from four areas, and imports insert by COPY / executemany (crm.database.bulk_insert),
  which ORM events never see — hooks on the writes would miss most joiners and leavers;
- one refresh recounts a whole slice in a few grouped INSERT … SELECTs, far cheaper than a summary
  UPDATE per letter or call on hot write paths (a campaign's public page takes bursts of letters);
- the dashboard says how old its figures are ("as of 14:05") and asks for a refresh when they are
  more than a few minutes old; a finished import asks for one at once (see `install_hooks`).

Incremental refresh: every source row is dated when it is written (a letter's sent_at, a call's at,
a reply's received_at, an import run's finished_at), so rows written since the last refresh all fall
on or after the day of (last refresh − a safety margin for transactions still open then). The refresh
deletes those days' summary rows and recounts them from the sources: the result is exactly what a full
recount gives for those days, and earlier days are untouched. Attribution to a contact's employer and
workplace is taken when counted, so a member who moves site keeps older days under the old one until
the nightly full recount (the first refresh of each day) reconciles everything, erasures included.
The member snapshot (members and ballot-ready per branch × employer × workplace) is recounted whole
on every refresh: it is one GROUP BY over contacts.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import ColumnElement, Date, and_, case, cast, delete, func, insert, literal, or_, select

from ..calls.models import REACHED_OUTCOMES, CallAttempt, CallEntry, CallList, CallListKind, EntryStatus, Outcome
from ..campaigns.models import Letter, LetterState
from ..contacts.models import ActivistRole, Contact, ContactSelfOrganisedGroup
from ..region.models import Employer
from ..database import utcnow
from ..extensions import db
from ..imports.models import ChangeKind, ImportChange, ImportRun, ImportStatus
from ..messaging.models import InboundKind, InboundMessage
from ..vocabulary import ContactStatus
from .models import (
    ActivistCell,
    ActivityDay,
    CallDay,
    CallerDay,
    GroupCell,
    MemberCell,
    ParticipantCell,
    ParticipantDay,
    PeriodCell,
    RoleHolder,
    SummaryState,
    WeekCell,
)

SENT_STATES = (LetterState.QUEUED, LetterState.OWN_EMAIL)
# Rows are dated in the transaction that writes them; one still open when a refresh starts commits
# later with an earlier time. Recounting from this long before the last refresh catches it.
MARGIN = timedelta(minutes=15)
STALE_AFTER = timedelta(minutes=5)
FULL_RECOUNT_EVERY = timedelta(hours=24)
# Custom dashboard periods: how many are kept current, and for how long after someone last asked.
CUSTOM_KEEP = 8
CUSTOM_KEEP_FOR = timedelta(days=14)

KINDS = ("call", "reply", "joiner", "leaver")  # letters are counted per contact in ParticipantDay


def _is_pg() -> bool:
    return db.session.connection().dialect.name == "postgresql"


def day_of(column) -> ColumnElement:
    """The UTC calendar day of a timestamp column, as a DATE, on either engine."""
    if _is_pg():
        return cast(func.timezone("UTC", column), Date)
    return func.date(column, type_=Date)


def week_of(column) -> ColumnElement:
    """The Monday (UTC) of a timestamp column's week."""
    if _is_pg():
        return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)
    return func.date(column, "-6 days", "weekday 1", type_=Date)


def _start_of(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)


# ------------------------------------------------------------------ the sources, as grouped selects


def _since(column, start: datetime | None) -> list:
    return [] if start is None else [column >= start]


def _participant_select(start: datetime | None):
    employer = func.coalesce(Letter.employer_id, Contact.employer_id)
    day, week = day_of(Letter.sent_at), week_of(Letter.sent_at)
    return (select(day, week, Letter.campaign_id, Letter.contact_id, Letter.branch_id, employer,
                   Contact.workplace_id, func.count())
            .select_from(Letter).join(Contact, Contact.id == Letter.contact_id)
            .where(Letter.state.in_(SENT_STATES), Letter.sent_at.is_not(None), Letter.branch_id.is_not(None),
                   *_since(Letter.sent_at, start))
            .group_by(day, week, Letter.campaign_id, Letter.contact_id, Letter.branch_id, employer,
                      Contact.workplace_id))


def _call_select(start: datetime | None):
    day = day_of(CallAttempt.at)
    return (select(day, literal("call"), literal(None), CallEntry.branch_id, Contact.employer_id,
                   Contact.workplace_id, func.count())
            .select_from(CallAttempt).join(CallEntry, CallEntry.id == CallAttempt.entry_id)
            .outerjoin(Contact, Contact.id == CallAttempt.contact_id)
            .where(*_since(CallAttempt.at, start))
            .group_by(day, CallEntry.branch_id, Contact.employer_id, Contact.workplace_id))


def _reply_select(start: datetime | None):
    day = day_of(InboundMessage.received_at)
    return (select(day, literal("reply"), literal(None), InboundMessage.branch_id, Contact.employer_id,
                   Contact.workplace_id, func.count())
            .select_from(InboundMessage).outerjoin(Contact, Contact.id == InboundMessage.contact_id)
            .where(InboundMessage.branch_id.is_not(None), InboundMessage.kind == InboundKind.REPLY,
                   *_since(InboundMessage.received_at, start))
            .group_by(day, InboundMessage.branch_id, Contact.employer_id, Contact.workplace_id))


def _change_select(kind: ChangeKind, start: datetime | None):
    when = func.coalesce(ImportRun.finished_at, ImportRun.created_at)
    day = day_of(when)
    return (select(day, literal(kind.value), literal(None), ImportChange.branch_id, Contact.employer_id,
                   Contact.workplace_id, func.count())
            .select_from(ImportChange).join(ImportRun, ImportRun.id == ImportChange.run_id)
            .outerjoin(Contact, Contact.id == ImportChange.contact_id)
            .where(ImportChange.kind == kind, ImportRun.status == ImportStatus.COMPLETED,
                   ImportRun.dry_run.is_(False), *_since(when, start))
            .group_by(day, ImportChange.branch_id, Contact.employer_id, Contact.workplace_id))


CALL_KINDS = (CallListKind.NEW_JOINER, CallListKind.DOCAS_LEAVER)


def _caller_select(start: datetime | None):
    a = CallAttempt
    day = day_of(a.at)
    reached = REACHED_OUTCOMES | {Outcome.CALL_BACK}
    return (select(day, a.user_id, CallEntry.branch_id, func.count(),
                   func.sum(case((a.outcome.in_(reached), 1), else_=0)),
                   func.sum(case((a.outcome == Outcome.RETAINED, 1), else_=0)))
            .select_from(a).join(CallEntry, CallEntry.id == a.entry_id).join(CallList, CallList.id == a.list_id)
            .where(CallList.kind.in_(CALL_KINDS), *_since(a.at, start))
            .group_by(day, a.user_id, CallEntry.branch_id))


def _call_day_select(days: list[date] | None):
    e = CallEntry
    day = day_of(e.added_at)
    closed = e.status.in_([EntryStatus.DONE, EntryStatus.GAVE_UP])
    where = [CallList.kind.in_(CALL_KINDS)]
    if days is not None:
        where += [e.added_at >= _start_of(min(days)), day.in_(days)]
    return (select(day, CallList.kind, e.branch_id, e.due_by, func.count(),
                   func.sum(case((e.status == EntryStatus.DONE, 1), else_=0)),
                   func.sum(case((e.status == EntryStatus.GAVE_UP, 1), else_=0)),
                   func.sum(case((e.reached.is_(True), 1), else_=0)),
                   func.sum(case((e.last_outcome == Outcome.RETAINED, 1), else_=0)),
                   func.sum(case((e.attempts > 0, 1), else_=0)),
                   func.sum(case((closed, 0), else_=1)))
            .select_from(e).join(CallList, CallList.id == e.list_id).where(*where)
            .group_by(day, CallList.kind, e.branch_id, e.due_by))


_CALL_DAY_COLUMNS = ["day", "kind", "branch_id", "due_by", "total", "done", "gave_up", "reached", "retained", "called",
                     "still_open"]


def _recount_call_days(start: datetime | None) -> None:
    """Entries change after they are added (each call), so the days recounted are those the entries
    added or called since `start` were added on."""
    if start is None:
        db.session.execute(delete(CallDay))
        db.session.execute(insert(CallDay).from_select(_CALL_DAY_COLUMNS, _call_day_select(None)))
        return
    e = CallEntry
    touched = [d for (d,) in db.session.execute(
        select(day_of(e.added_at)).where(or_(
            e.added_at >= start, e.id.in_(select(CallAttempt.entry_id).where(CallAttempt.at >= start)))).distinct())]
    if not touched:
        return
    db.session.execute(delete(CallDay).where(CallDay.day.in_(touched)))
    db.session.execute(insert(CallDay).from_select(_CALL_DAY_COLUMNS, _call_day_select(touched)))


_ACTIVITY_COLUMNS = ["day", "kind", "campaign_id", "branch_id", "employer_id", "workplace_id", "n"]
_PARTICIPANT_COLUMNS = ["day", "week", "campaign_id", "contact_id", "branch_id", "employer_id", "workplace_id",
                        "actions"]


def _recount_from(first_day: date | None) -> None:
    """Replace every summary row on or after first_day (all of them when None) by a fresh count."""
    start = _start_of(first_day)
    if first_day is None:
        db.session.execute(delete(ActivityDay))
        db.session.execute(delete(ParticipantDay))
        db.session.execute(delete(CallerDay))
    else:
        db.session.execute(delete(ActivityDay).where(ActivityDay.day >= first_day))
        db.session.execute(delete(ParticipantDay).where(ParticipantDay.day >= first_day))
        db.session.execute(delete(CallerDay).where(CallerDay.day >= first_day))
    for stmt in (_call_select(start), _reply_select(start),
                 _change_select(ChangeKind.JOINER, start), _change_select(ChangeKind.LEAVER, start)):
        db.session.execute(insert(ActivityDay).from_select(_ACTIVITY_COLUMNS, stmt))
    db.session.execute(insert(ParticipantDay).from_select(_PARTICIPANT_COLUMNS, _participant_select(start)))
    db.session.execute(insert(CallerDay).from_select(
        ["day", "user_id", "branch_id", "attempts", "reached", "retained"], _caller_select(start)))
    _recount_call_days(start)


# ------------------------------------------------------------------ participant cells (distinct counts)
# Unique participants do not add up over days or campaigns, only over places (a contact is in one
# place). So the periods the dashboard and the R&R report open by default are counted whole: the
# programme year to date and the recent quarters, plus every week (for the weekly series).


def periods(today: date | None = None) -> list[tuple[date, date]]:
    """The periods counted whole: the programme year to date, this quarter and the four before it,
    and the custom periods asked for recently (see `count_period`)."""
    standard = standard_periods(today)
    return standard + [p for p in custom_periods(today) if p not in standard]


def custom_periods(today: date | None = None) -> list[tuple[date, date]]:
    """The custom periods still kept: asked for within CUSTOM_KEEP_FOR, the CUSTOM_KEEP most recent."""
    current = db.session.get(SummaryState, 1)
    now = datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc) if today else utcnow()
    kept = []
    for start, end, asked in (current.custom_periods or []) if current else []:
        if now - datetime.fromisoformat(asked) <= CUSTOM_KEEP_FOR:
            kept.append((date.fromisoformat(start), date.fromisoformat(end)))
    return kept[:CUSTOM_KEEP]


def standard_periods(today: date | None = None) -> list[tuple[date, date]]:
    """The programme year to date, and this quarter and the four before it."""
    from .rr import quarter_of
    from .targets import programme_year, targets_for

    today = today or date.today()
    out = [(targets_for(programme_year(today)).baseline_on, today)]
    quarter = quarter_of(today)
    for _ in range(5):
        out.append((quarter.start, quarter.end))
        quarter = quarter.previous()
    return out


_CELL_COLUMNS = ["start_on", "end_on", "campaign_id", "branch_id", "employer_id", "workplace_id", "participants",
                 "letters"]


def _recount_period(start: date, end: date) -> None:
    p = ParticipantDay
    c = ParticipantCell
    db.session.execute(delete(c).where(c.start_on == start, c.end_on == end))
    a, pc = ActivityDay, PeriodCell
    db.session.execute(delete(pc).where(pc.start_on == start, pc.end_on == end))
    db.session.execute(insert(pc).from_select(
        ["start_on", "end_on", "kind", "branch_id", "employer_id", "workplace_id", "n"],
        select(literal(start, Date), literal(end, Date), a.kind, a.branch_id, a.employer_id, a.workplace_id,
               func.sum(a.n)).where(a.day >= start, a.day <= end)
        .group_by(a.kind, a.branch_id, a.employer_id, a.workplace_id)))
    _recount_period_calls(start, end)
    where = [p.day >= start, p.day <= end]
    people = func.count(p.contact_id.distinct())
    for campaign in (p.campaign_id, literal(0)):
        group = [p.branch_id, p.employer_id, p.workplace_id] + ([p.campaign_id] if campaign is p.campaign_id else [])
        db.session.execute(insert(c).from_select(_CELL_COLUMNS, select(
            literal(start, Date), literal(end, Date), campaign, p.branch_id, p.employer_id, p.workplace_id, people,
            func.sum(p.actions)).where(*where).group_by(*group)))


CALL_FIGURES = ("total", "done", "gave_up", "reached", "retained", "called", "overdue")
CALLER_FIGURES = ("attempts", "reached", "retained")


def _recount_period_calls(start: date, end: date, today: date | None = None) -> None:
    """The period's call-list figures per branch and per caller; overdue is as of today."""
    c, u, pc = CallDay, CallerDay, PeriodCell
    today = today or date.today()
    columns = ["start_on", "end_on", "kind", "branch_id", "user_id", "n"]
    for kind in CALL_KINDS:
        for figure in CALL_FIGURES:
            value = (func.sum(case((c.due_by < today, c.still_open), else_=0)) if figure == "overdue"
                     else func.sum(getattr(c, figure)))
            db.session.execute(insert(pc).from_select(columns, select(
                literal(start, Date), literal(end, Date), literal(f"{kind.value}:{figure}"), c.branch_id,
                literal(None, db.Integer), value)
                .where(c.day >= start, c.day <= end, c.kind == kind.value).group_by(c.branch_id)))
    for figure in CALLER_FIGURES:
        db.session.execute(insert(pc).from_select(columns, select(
            literal(start, Date), literal(end, Date), literal(f"caller:{figure}"), u.branch_id, u.user_id,
            func.sum(getattr(u, figure))).where(u.day >= start, u.day <= end).group_by(u.branch_id, u.user_id)))


def _recount_weeks(first_week: date | None) -> None:
    p, w = ParticipantDay, WeekCell
    if first_week is None:
        db.session.execute(delete(w))
    else:
        db.session.execute(delete(w).where(w.week >= first_week))
    where = [] if first_week is None else [p.week >= first_week]
    people = func.count(p.contact_id.distinct())
    columns = ["week", "campaign_id", "branch_id", "employer_id", "participants", "letters"]
    db.session.execute(insert(w).from_select(columns, select(
        p.week, p.campaign_id, p.branch_id, p.employer_id, people, func.sum(p.actions))
        .where(*where).group_by(p.week, p.campaign_id, p.branch_id, p.employer_id)))
    db.session.execute(insert(w).from_select(columns, select(
        p.week, literal(0), p.branch_id, p.employer_id, people, func.sum(p.actions))
        .where(*where).group_by(p.week, p.branch_id, p.employer_id)))


def _drop_period(start: date, end: date) -> None:
    db.session.execute(delete(ParticipantCell).where(ParticipantCell.start_on == start, ParticipantCell.end_on == end))
    db.session.execute(delete(PeriodCell).where(PeriodCell.start_on == start, PeriodCell.end_on == end))


def _recount_cells(full: bool, first_day: date | None, today: date | None = None) -> None:
    wanted = periods(today)
    state().counted_periods = [[start.isoformat(), end.isoformat()] for start, end in wanted]
    if full:
        db.session.execute(delete(ParticipantCell))
        db.session.execute(delete(PeriodCell))
        todo = wanted
    else:
        # Past quarters only change at the nightly full recount; periods reaching the recounted days now.
        kept = {tuple(r) for r in db.session.execute(
            select(ParticipantCell.start_on, ParticipantCell.end_on).distinct())}
        for start, end in kept - set(wanted):
            _drop_period(start, end)
        todo = [(start, end) for start, end in wanted if (start, end) not in kept or end >= first_day]
    for start, end in todo:
        _recount_period(start, end)
    _recount_weeks(None if full else first_day - timedelta(days=first_day.weekday()))


def _recount_members() -> None:
    ready = func.sum(case((and_(Contact.employer_id.is_not(None), Contact.workplace_id.is_not(None),
                                Contact.job_title.is_not(None), Contact.job_title != ""), 1), else_=0))
    db.session.execute(delete(MemberCell))
    stmt = (select(Contact.branch_id, Contact.employer_id, Contact.workplace_id, func.count(), ready)
            .where(Contact.status == ContactStatus.MEMBER)
            .group_by(Contact.branch_id, Contact.employer_id, Contact.workplace_id))
    db.session.execute(insert(MemberCell).from_select(
        ["branch_id", "employer_id", "workplace_id", "members", "ballot_ready"], stmt))
    r = ActivistRole
    db.session.execute(delete(RoleHolder))
    db.session.execute(insert(RoleHolder).from_select(
        ["contact_id", "role", "branch_id", "employer_id", "workplace_id", "employer_kind", "is_member", "started_on",
         "ended_on"],
        select(r.contact_id, r.role, r.branch_id, Contact.employer_id, Contact.workplace_id, Employer.kind,
               Contact.status == ContactStatus.MEMBER, r.started_on, r.ended_on)
        .select_from(r).join(Contact, Contact.id == r.contact_id).outerjoin(Employer, Employer.id == Contact.employer_id)))
    g = ContactSelfOrganisedGroup
    db.session.execute(delete(GroupCell))
    groups = (select(Contact.branch_id, Contact.employer_id, Contact.workplace_id, g.group, func.count())
              .select_from(g).join(Contact, Contact.id == g.contact_id).where(Contact.status == ContactStatus.MEMBER)
              .group_by(Contact.branch_id, Contact.employer_id, Contact.workplace_id, g.group))
    db.session.execute(insert(GroupCell).from_select(
        ["branch_id", "employer_id", "workplace_id", "group", "members"], groups))


def activist_days(today: date | None = None) -> list[date]:
    """The days the activist panel compares: the year's baseline date, today, and the last day of each
    custom period kept."""
    from .targets import programme_year, targets_for

    today = today or date.today()
    return sorted({targets_for(programme_year(today)).baseline_on, today}
                  | {min(end, today) for _, end in custom_periods(today)})


def active_on(day: date, r=RoleHolder) -> ColumnElement:
    """A role held on `day`: started on or before it, not yet ended (a role ending that day is not held)."""
    return and_(r.started_on <= day, or_(r.ended_on.is_(None), r.ended_on > day))


def _recount_activists(days: list[date]) -> None:
    """Activist cells for these days from the role-holder snapshot (a few hundred thousand rows at most)."""
    r, s, a = RoleHolder, ContactSelfOrganisedGroup, ActivistCell
    db.session.execute(delete(a))
    columns = ["day", "kind", "key", "branch_id", "employer_kind", "workplace_id", "n"]
    holders = func.count(r.contact_id.distinct())
    none_int, none_str = literal(None, db.Integer), literal(None, db.String)
    for day in days:
        on = literal(day, Date)
        db.session.execute(insert(a).from_select(columns, select(
            on, literal("role"), r.role, r.branch_id, r.employer_kind, none_int, holders)
            .where(active_on(day)).group_by(r.role, r.branch_id, r.employer_kind)))
        # A contact has one workplace, so grouping by it never splits anyone within a branch.
        db.session.execute(insert(a).from_select(columns, select(
            on, literal("rep"), none_str, r.branch_id, none_str, r.workplace_id, holders)
            .where(active_on(day), r.is_member.is_(True)).group_by(r.branch_id, r.workplace_id)))
        db.session.execute(insert(a).from_select(columns, select(
            on, literal("group"), s.group, r.branch_id, none_str, none_int, holders)
            .select_from(r).join(s, s.contact_id == r.contact_id)
            .where(active_on(day), r.is_member.is_(True)).group_by(s.group, r.branch_id)))
        db.session.add(ActivistCell(day=day, kind="day", n=0))
    db.session.flush()


def counted_activist_day(day: date) -> bool:
    """True when the activist cells hold this day (so a missing cell means zero)."""
    a = ActivistCell
    return db.session.execute(select(a.id).where(a.day == day, a.kind == "day").limit(1)).first() is not None


def state() -> SummaryState:
    """The one SummaryState row (created on first use)."""
    row = db.session.get(SummaryState, 1)
    if row is None:
        row = SummaryState(id=1)
        db.session.add(row)
        db.session.flush()
    return row


def refresh(full: bool | None = None, now: datetime | None = None) -> SummaryState:
    """Bring the summary tables up to date: recount the days written since the last refresh (or
    everything when `full`, when never done, or once a day). Flushes; the caller commits."""
    started = time.perf_counter()
    now = now or utcnow()
    current = state()
    if full is None:
        full = (current.watermark is None or current.full_recount_at is None
                or now - current.full_recount_at >= FULL_RECOUNT_EVERY)
    if full:
        _recount_from(None)
        _recount_cells(True, None)
        current.full_recount_at = now
        # Fresh planner statistics for the rebuilt tables (SQLite otherwise guesses its plans).
        from ..database import analyze

        _recount_members()
        _recount_activists(activist_days())
        analyze(*(m.__table__ for m in (ActivityDay, ParticipantDay, MemberCell, GroupCell, CallDay, CallerDay,
                                        ParticipantCell, WeekCell, PeriodCell, RoleHolder, ActivistCell)))
    else:
        first_day = (current.watermark - MARGIN).date()
        _recount_from(first_day)
        _recount_cells(False, first_day)
        _recount_members()
        _recount_activists(activist_days())
    current.watermark = now
    current.refreshed_at = now
    current.last_duration_ms = round(1000 * (time.perf_counter() - started))
    db.session.flush()
    return current


def count_period(start: date, end: date, now: datetime | None = None) -> None:
    """Count a period someone chose on the dashboard, and keep it current (like the standard periods)
    while it is asked for; the least recently asked are dropped beyond CUSTOM_KEEP. Flushes."""
    now = now or utcnow()
    current = state()
    if current.refreshed_at is None:
        refresh(full=True, now=now)
    asked = [p for p in (current.custom_periods or []) if (p[0], p[1]) != (start.isoformat(), end.isoformat())]
    current.custom_periods = [[start.isoformat(), end.isoformat(), now.isoformat()], *asked][:CUSTOM_KEEP]
    wanted = periods()
    counted = {(date.fromisoformat(a), date.fromisoformat(b)) for a, b in current.counted_periods or []}
    for period in counted - set(wanted):
        _drop_period(*period)
    if (start, end) not in counted:
        _recount_period(start, end)
    # Only what is counted: a standard period that moved on a day since the last refresh waits for it.
    current.counted_periods = [[a.isoformat(), b.isoformat()] for a, b in wanted if (a, b) in counted | {(start, end)}]
    _recount_activists(activist_days())
    db.session.flush()


def ask_for_period(start: date, end: date) -> float | None:
    """Ask a worker to count a custom period (one job however many pages ask). Returns how many seconds
    the job has been waiting for a worker (0 once one has started it), or None when Redis is out of
    reach or the job failed: the caller then counts in the request."""
    import logging

    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    from ..queue import get_queue, get_redis

    job_id = f"{JOB_ID}-period-{start.isoformat()}-{end.isoformat()}"
    try:
        try:
            job = Job.fetch(job_id, connection=get_redis(), serializer=get_queue().serializer)
            status = job.get_status()
        except NoSuchJobError:
            job, status = None, None
        if job is None or status in (JobStatus.FINISHED, JobStatus.CANCELED, JobStatus.STOPPED):
            # Finished but the period is not counted: dropped since, or counted in a rolled-back transaction.
            get_queue().enqueue(PERIOD_JOB, start.isoformat(), end.isoformat(), job_id=job_id,
                                result_ttl=0, failure_ttl=3600)
            return 0.0
        if status is JobStatus.FAILED:
            return None
        if status is JobStatus.STARTED or job.enqueued_at is None:
            return 0.0
        enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=timezone.utc)
        return max(0.0, (utcnow() - enqueued).total_seconds())
    except RedisError as exc:
        logging.getLogger(__name__).warning("could not ask for a period count: %s", exc)
        return None


def counted_whole(start: date, end: date) -> bool:
    """True when the period's cells were counted at the last refresh (so an absent cell means zero)."""
    current = db.session.get(SummaryState, 1)
    return bool(current and current.counted_periods and [start.isoformat(), end.isoformat()] in current.counted_periods)


def is_stale(now: datetime | None = None) -> bool:
    """True when the figures are older than a few minutes (or were never counted)."""
    current = db.session.get(SummaryState, 1)
    return current is None or current.refreshed_at is None or (now or utcnow()) - current.refreshed_at > STALE_AFTER


def never_counted() -> bool:
    current = db.session.get(SummaryState, 1)
    return current is None or current.refreshed_at is None


JOB = "jobs.reports.refresh_summaries"
PERIOD_JOB = "jobs.reports.count_period"
JOB_ID = "branchline-reports-refresh"


def request_refresh() -> None:
    """Ask a worker to refresh the summaries once the current transaction commits."""
    from ..queue import enqueue_after_commit

    enqueue_after_commit(JOB, job_id=JOB_ID)


def schedule_refresh(delay_seconds: int | None = None) -> None:
    """Keep one timed refresh scheduled (its own fixed job id, so every worker shares it and a
    refresh asked for by an import or a page never replaces it)."""
    from flask import current_app

    from ..queue import get_queue

    delay = delay_seconds if delay_seconds is not None else current_app.config["REPORTS_REFRESH_SECONDS"]
    get_queue().enqueue_in(timedelta(seconds=delay), "jobs.reports.refresh_summaries_on_timer",
                           job_id=JOB_ID + "-timer")


def ask_for_refresh() -> bool:
    """Ask a worker for a refresh now, at most once every two minutes however many pages ask; False
    when Redis cannot be reached (the page then shows the figures it has, with their time)."""
    import logging

    from redis.exceptions import RedisError

    from ..queue import get_queue, get_redis

    try:
        if get_redis().set(JOB_ID + ":asked", "1", nx=True, ex=120):
            get_queue().enqueue(JOB, job_id=JOB_ID)
        return True
    except RedisError as exc:
        logging.getLogger(__name__).warning("could not ask for a reports refresh: %s", exc)
        return False


def install_hooks() -> None:
    """Ask for a refresh whenever an import run is committed as completed (an ORM event in this
    module, so the imports area stays untouched)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if getattr(install_hooks, "done", False):
        return
    install_hooks.done = True

    @event.listens_for(Session, "after_flush")
    def _import_finished(session, flush_context):
        for obj in session.dirty:
            if isinstance(obj, ImportRun) and obj.status is ImportStatus.COMPLETED and not obj.dry_run:
                from flask import has_app_context

                if has_app_context() and _redis_configured():
                    request_refresh()
                return


def _redis_configured() -> bool:
    from flask import current_app

    return bool(current_app.config.get("REDIS_URL"))


def first_day_counted() -> date | None:
    """The earliest day in the activity summary (for the dashboard's date hints)."""
    return db.session.execute(select(func.min(ActivityDay.day))).scalar_one_or_none()


def recount_matches() -> bool:
    """True when the summary tables equal a full recount from the sources (used by tests and the bench)."""
    before = _snapshot()
    savepoint = db.session.begin_nested()
    _recount_from(None)
    _recount_cells(True, None)
    _recount_members()
    _recount_activists(activist_days())
    after = _snapshot()
    savepoint.rollback()
    return before == after


def _rows(stmt) -> list[tuple]:
    # None sorts beside numbers only through repr.
    return sorted((tuple(r) for r in db.session.execute(stmt)), key=repr)


def _snapshot() -> tuple:
    a, p, m = ActivityDay, ParticipantDay, MemberCell
    activity = _rows(select(a.day, a.kind, a.campaign_id, a.branch_id, a.employer_id, a.workplace_id, func.sum(a.n))
                     .group_by(a.day, a.kind, a.campaign_id, a.branch_id, a.employer_id, a.workplace_id))
    participants = _rows(select(p.day, p.week, p.campaign_id, p.contact_id, p.branch_id, p.employer_id,
                                p.workplace_id, func.sum(p.actions))
                         .group_by(p.day, p.week, p.campaign_id, p.contact_id, p.branch_id, p.employer_id,
                                   p.workplace_id))
    members = _rows(select(m.branch_id, m.employer_id, m.workplace_id, m.members, m.ballot_ready))
    g, c, u = GroupCell, CallDay, CallerDay
    groups = _rows(select(g.branch_id, g.employer_id, g.workplace_id, g.group, g.members))
    call_days = _rows(select(c.day, c.kind, c.branch_id, c.due_by, func.sum(c.total), func.sum(c.done),
                             func.sum(c.gave_up), func.sum(c.reached), func.sum(c.retained), func.sum(c.called),
                             func.sum(c.still_open)).group_by(c.day, c.kind, c.branch_id, c.due_by))
    callers = _rows(select(u.day, u.user_id, u.branch_id, func.sum(u.attempts), func.sum(u.reached),
                           func.sum(u.retained)).group_by(u.day, u.user_id, u.branch_id))
    pc, wc = ParticipantCell, WeekCell
    cells = _rows(select(pc.start_on, pc.end_on, pc.campaign_id, pc.branch_id, pc.employer_id, pc.workplace_id,
                         pc.participants, pc.letters))
    weeks = _rows(select(wc.week, wc.campaign_id, wc.branch_id, wc.employer_id, wc.participants, wc.letters))
    ph, rh = PeriodCell, RoleHolder
    period_cells = _rows(select(ph.start_on, ph.end_on, ph.kind, ph.branch_id, ph.employer_id, ph.workplace_id,
                                ph.user_id, ph.n))
    holders = _rows(select(rh.contact_id, rh.role, rh.branch_id, rh.employer_id, rh.workplace_id, rh.employer_kind,
                           rh.is_member, rh.started_on, rh.ended_on))
    ac = ActivistCell
    activists = _rows(select(ac.day, ac.kind, ac.key, ac.branch_id, ac.employer_kind, ac.workplace_id, ac.n))
    return activity, participants, members, groups, call_days, callers, cells, weeks, period_cells, holders, activists
