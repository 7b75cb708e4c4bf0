from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..vocabulary import Labelled


class CallListKind(Labelled):
    NEW_JOINER = ("new_joiner", "New joiners")
    DOCAS_LEAVER = ("docas_leaver", "DOCAS leavers")
    CAMPAIGN = ("campaign", "Campaign")
    CUSTOM = ("custom", "Custom")


class DoneRule(Labelled):
    REACHED = ("reached", "Done when the member is reached (or can't be)")
    ANY_OUTCOME = ("any_outcome", "Done after one call, whatever happened")


class EntryStatus(Labelled):
    PENDING = ("pending", "To call")
    IN_PROGRESS = ("in_progress", "Being called")
    DONE = ("done", "Done")
    GAVE_UP = ("gave_up", "Not reached after the last attempt")


class Outcome(Labelled):
    ANSWERED = ("answered", "Answered")
    NO_ANSWER = ("no_answer", "No answer")
    VOICEMAIL = ("voicemail", "Left voicemail")
    BUSY = ("busy", "Busy")
    WRONG_NUMBER = ("wrong_number", "Wrong number")
    CALL_BACK = ("call_back", "Call back at…")
    DO_NOT_CALL = ("do_not_call", "Do not call")
    RETAINED = ("retained", "Retained: moved to direct debit")
    LEFT_EMPLOYER = ("left_employer", "Left the employer")
    RETIRED = ("retired", "Retired")
    NOT_RENEWING = ("not_renewing", "Not renewing")


# Outcomes that mean we spoke to the member (the "reach" in reach rate).
REACHED_OUTCOMES = frozenset({Outcome.ANSWERED, Outcome.RETAINED, Outcome.LEFT_EMPLOYER, Outcome.RETIRED,
                              Outcome.NOT_RENEWING, Outcome.DO_NOT_CALL})
# Outcomes that close the entry whatever the done rule: there is no point calling again.
FINAL_OUTCOMES = REACHED_OUTCOMES | {Outcome.WRONG_NUMBER}
# No contact made: try again after the cooldown, up to the list's maximum attempts.
RETRY_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.BUSY})
LEAVER_OUTCOMES = (Outcome.RETAINED, Outcome.LEFT_EMPLOYER, Outcome.RETIRED, Outcome.NOT_RENEWING)

call_list_branch = Table(
    "call_list_branch",
    db.Model.metadata,
    Column("list_id", Integer, ForeignKey("call_list.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", Integer, ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True, index=True),
)

call_list_caller = Table(
    "call_list_caller",
    db.Model.metadata,
    Column("list_id", Integer, ForeignKey("call_list.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class CallList(TimestampMixin, db.Model):
    """A list of contacts to call, with its script, questions and calling rules."""

    __tablename__ = "call_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[CallListKind] = mapped_column(enum_column(CallListKind))
    # Markdown with merge fields such as {{ first_name }} and {{ workplace }}.
    script: Mapped[str] = mapped_column(Text, default="")
    # [{"key": "rep", "text": "Would you like to become a rep?", "type": "yes_no"|"choice"|"text", "choices": [...]}]
    questions: Mapped[list] = mapped_column(JSON, default=list)
    cooldown_hours: Mapped[int] = mapped_column(Integer, default=20)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    due_days: Mapped[int | None] = mapped_column(Integer)  # e.g. joiners called within 7 days
    done_rule: Mapped[DoneRule] = mapped_column(enum_column(DoneRule), default=DoneRule.REACHED)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Filled automatically from each import's joiners or leavers for its branches.
    auto_fill: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # The SMS a caller can send after a call ("Thanks for talking to me …"); none: no follow-up offered.
    follow_up_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_template.id", ondelete="SET NULL"))

    branches = relationship("Branch", secondary=call_list_branch, order_by="Branch.code")
    callers = relationship("User", secondary=call_list_caller, order_by="User.name")
    follow_up_template = relationship("MessageTemplate")

    def __str__(self) -> str:
        return self.name


class CallEntry(db.Model):
    """One contact on one list: its place in the queue, its lease and its latest outcome."""

    __tablename__ = "call_entry"
    __table_args__ = (
        UniqueConstraint("list_id", "contact_id"),
        # The claim query walks this index in order and stops at the first eligible entry.
        Index("ix_call_entry_queue", "list_id", "status", "due_by", "id"),
        Index("ix_call_entry_callback", "list_id", "callback_at"),
        Index("ix_call_entry_contact", "contact_id"),
        Index("ix_call_entry_lease_user", "lease_user_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("call_list.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    # The contact's branch, copied so the queue is scoped without a join.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus), default=EntryStatus.PENDING)
    # Never empty (the day it was added when the list has no due-by rule), so the queue's order is an index walk.
    due_by: Mapped[date] = mapped_column(Date, default=date.today)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    callback_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    reached: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str | None] = mapped_column(String(80))  # "import #12", "contact filter"

    call_list = relationship(CallList)
    contact = relationship("Contact")
    lease_user = relationship("User", foreign_keys=[lease_user_id])
    callback_user = relationship("User", foreign_keys=[callback_user_id])


class CallAttempt(db.Model):
    """One call made: who, when, what happened, the answers and the note."""

    __tablename__ = "call_attempt"
    __table_args__ = (
        Index("ix_call_attempt_contact_at", "contact_id", "at"),
        Index("ix_call_attempt_list_user", "list_id", "user_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("call_entry.id", ondelete="CASCADE"), index=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("call_list.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome))
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)

    user = relationship("User")
    call_list = relationship(CallList)
