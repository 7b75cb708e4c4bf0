"""Reports: the year's targets, branch action-plan notes, and the summary tables the dashboard reads."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime
from ..extensions import db


class ReportTargets(TimestampMixin, db.Model):
    """One work-programme year's targets and the baseline date activist changes are measured from."""

    __tablename__ = "report_targets"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)  # 2026 = the 2026/27 work programme
    baseline_on: Mapped[date] = mapped_column(Date)
    growth_pct: Mapped[float] = mapped_column(Float, default=1.0)
    joiner_calls_pct: Mapped[float] = mapped_column(Float, default=100.0)
    leaver_calls_pct: Mapped[float] = mapped_column(Float, default=100.0)
    activist_growth_pct: Mapped[float] = mapped_column(Float, default=5.0)
    schools_activist_growth_pct: Mapped[float] = mapped_column(Float, default=10.0)
    social_care_growth_pct: Mapped[float] = mapped_column(Float, default=5.0)
    # A workplace with fewer members than this counts as "fragmented" for campaign participation.
    fragmented_below: Mapped[int] = mapped_column(Integer, default=10)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class ActionPlanNote(TimestampMixin, db.Model):
    """A branch officer's action-plan notes for one branch's quarterly R&R report."""

    __tablename__ = "report_action_plan_note"
    __table_args__ = (UniqueConstraint("branch_id", "year", "quarter"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)  # 1–4, calendar quarters
    text: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    updated_by = relationship("User")


# ------------------------------------------------------------------ summary tables
# Rebuilt from the source tables by jobs/reports.py (see crm/reports/summaries.py for why a job).


class MemberCell(db.Model):
    """Members now per branch × employer × workplace, with the ballot-ready count (a snapshot)."""

    __tablename__ = "report_member_cell"
    __table_args__ = (Index("ix_report_member_cell_branch", "branch_id", "employer_id", "workplace_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[int | None] = mapped_column(Integer)
    workplace_id: Mapped[int | None] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer, default=0)
    ballot_ready: Mapped[int] = mapped_column(Integer, default=0)


class ActivityDay(db.Model):
    """Additive counts per day, kind (call, reply, joiner, leaver) and place."""

    __tablename__ = "report_activity_day"
    __table_args__ = (
        # Covering: the dashboard's sums over a period read the index alone.
        Index("ix_report_activity_day_kind_day", "kind", "day", "branch_id", "employer_id", "workplace_id", "n"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    branch_id: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[int | None] = mapped_column(Integer)
    workplace_id: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ParticipantDay(db.Model):
    """One contact's letters in one campaign on one day: unique participants are counted from here."""

    __tablename__ = "report_participant_day"
    __table_args__ = (
        Index("ix_report_participant_day_day", "day", "branch_id", "contact_id"),
        Index("ix_report_participant_day_campaign", "campaign_id", "day", "branch_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    week: Mapped[date] = mapped_column(Date)  # the Monday of `day`, for the weekly series
    campaign_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[int | None] = mapped_column(Integer)
    workplace_id: Mapped[int | None] = mapped_column(Integer)
    actions: Mapped[int] = mapped_column(Integer, default=0)


class ParticipantCell(db.Model):
    """Unique participants and letters over one whole period (the programme year to date, a quarter) per
    campaign (0: any campaign) and place. A contact belongs to one place, so cells add up across places."""

    __tablename__ = "report_participant_cell"
    __table_args__ = (Index("ix_report_participant_cell_period", "start_on", "end_on", "campaign_id", "branch_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    campaign_id: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[int | None] = mapped_column(Integer)
    workplace_id: Mapped[int | None] = mapped_column(Integer)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    letters: Mapped[int] = mapped_column(Integer, default=0)


class WeekCell(db.Model):
    """Unique participants and letters per week, campaign (0: any campaign), branch and employer."""

    __tablename__ = "report_week_cell"
    __table_args__ = (Index("ix_report_week_cell_week", "campaign_id", "week", "branch_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    campaign_id: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[int | None] = mapped_column(Integer)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    letters: Mapped[int] = mapped_column(Integer, default=0)


class PeriodCell(db.Model):
    """Calls, replies, joiners and leavers over one whole period (see ParticipantCell) per place; and
    the period's call-list figures per branch ("new_joiner:done" …) and per caller ("caller:attempts" …)."""

    __tablename__ = "report_period_cell"
    __table_args__ = (Index("ix_report_period_cell_period", "start_on", "end_on", "kind", "branch_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    branch_id: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[int | None] = mapped_column(Integer)
    workplace_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer, default=0)


class RoleHolder(db.Model):
    """Activist roles with their holder's place and membership attached (a snapshot), so activist
    figures never join the contacts table."""

    __tablename__ = "report_role_holder"
    __table_args__ = (Index("ix_report_role_holder_branch", "branch_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))
    branch_id: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[int | None] = mapped_column(Integer)
    workplace_id: Mapped[int | None] = mapped_column(Integer)
    employer_kind: Mapped[str | None] = mapped_column(String(32))
    is_member: Mapped[bool] = mapped_column(db.Boolean, default=True)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


class GroupCell(db.Model):
    """Members now per branch × employer × workplace in each self-identified group (a snapshot)."""

    __tablename__ = "report_group_cell"
    __table_args__ = (Index("ix_report_group_cell_branch", "branch_id", "group"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[int | None] = mapped_column(Integer)
    workplace_id: Mapped[int | None] = mapped_column(Integer)
    group: Mapped[str] = mapped_column(String(32))
    members: Mapped[int] = mapped_column(Integer, default=0)


class CallDay(db.Model):
    """New-joiner and DOCAS-leaver call entries by the day they were added, branch, kind and due date."""

    __tablename__ = "report_call_day"
    __table_args__ = (Index("ix_report_call_day_day", "day", "branch_id", "kind", "due_by", "total", "done", "gave_up",
                            "reached", "retained", "called", "still_open"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    branch_id: Mapped[int] = mapped_column(Integer)
    due_by: Mapped[date] = mapped_column(Date)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    gave_up: Mapped[int] = mapped_column(Integer, default=0)
    reached: Mapped[int] = mapped_column(Integer, default=0)
    retained: Mapped[int] = mapped_column(Integer, default=0)
    called: Mapped[int] = mapped_column(Integer, default=0)
    still_open: Mapped[int] = mapped_column(Integer, default=0)


class CallerDay(db.Model):
    """Calls made on new-joiner and DOCAS-leaver lists per day, caller and branch."""

    __tablename__ = "report_caller_day"
    __table_args__ = (Index("ix_report_caller_day_day", "day", "branch_id", "user_id", "attempts", "reached",
                            "retained"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(Integer)
    branch_id: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reached: Mapped[int] = mapped_column(Integer, default=0)
    retained: Mapped[int] = mapped_column(Integer, default=0)


class SummaryState(db.Model):
    """One row: when the summary tables were last brought up to date, and from what point."""

    __tablename__ = "report_summary_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Rows written at or after this moment (less a safety margin) are re-counted by the next refresh.
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime())
    full_recount_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The whole periods the cells hold, as [["2026-01-01", "2026-11-23"], …].
    counted_periods: Mapped[list | None] = mapped_column(db.JSON)
    # Periods someone chose on the dashboard, counted on request and kept current while recently used:
    # [["2026-03-01", "2026-06-30", "2026-12-07T13:20:00+00:00"], …] (start, end, last asked for).
    custom_periods: Mapped[list | None] = mapped_column(db.JSON)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)


class ActivistCell(db.Model):
    """Activist figures on the days the dashboard asks about (the baseline date and today), per branch,
    counted at each refresh from the role-holder snapshot so the page never counts distinct holders:
    kind "role" (key: role; holders by employer kind), "rep" (members holding any role, by workplace),
    "group" (key: self-identified group of those reps) and "day" (a marker: this day was counted).
    A person counts once per branch they hold a role in."""

    __tablename__ = "report_activist_cell"
    __table_args__ = (Index("ix_report_activist_cell_day", "day", "kind", "branch_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str | None] = mapped_column(String(32))
    branch_id: Mapped[int | None] = mapped_column(Integer)
    employer_kind: Mapped[str | None] = mapped_column(String(32))
    workplace_id: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer, default=0)
