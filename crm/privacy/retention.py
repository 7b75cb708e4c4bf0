"""Retention: each kind of personal data is kept for a configurable period, then emptied or erased.

`crm retention` shows what is due (a dry run); `--apply` (and the daily job) does it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update

from ..audit import service as audit
from ..calls.models import CallAttempt
from ..campaigns.models import Letter, LetterState
from ..contacts.models import Contact
from ..database import utcnow
from ..extensions import db
from ..messaging.models import FINAL_STATES, InboundMessage, Message
from ..vocabulary import ContactStatus
from .identity import get_settings
from .models import ContactErasure

# Lapsed members erased per run: the daily job carries on tomorrow, so one run stays short.
ERASE_BATCH = 500


@dataclass
class RetentionLine:
    kind: str
    label: str
    days: int
    due: int
    done: int = 0

    @property
    def kept_for_ever(self) -> bool:
        return self.days <= 0


KINDS = [
    ("call_notes_days", "call_notes", "Call notes"),
    ("message_bodies_days", "message_bodies", "Message bodies (sent and received texts and emails)"),
    ("letters_days", "letters", "Campaign letters after sending"),
    ("lapsed_members_days", "lapsed_members", "Lapsed members (erased)"),
    ("audit_days", "audit", "Audit trail entries"),
]


def _cutoff(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)


def _call_notes(cutoff):
    return and_(CallAttempt.at < cutoff, CallAttempt.note.is_not(None), CallAttempt.note != "")


def _messages(cutoff):
    return and_(Message.queued_at < cutoff, Message.state.in_(list(FINAL_STATES)),
                or_(Message.body != "", Message.to_address.is_not(None)))


def _inbound(cutoff):
    return and_(InboundMessage.received_at < cutoff, InboundMessage.body != "")


def _letters(cutoff):
    sent = Letter.state.in_([LetterState.QUEUED, LetterState.OWN_EMAIL, LetterState.DUPLICATE])
    return and_(func.coalesce(Letter.sent_at, Letter.created_at) < cutoff,
                or_(sent, Letter.state == LetterState.DRAFT), Letter.body != "")


def _lapsed(cutoff_day: date):
    erased = select(ContactErasure.contact_id)
    return and_(Contact.status == ContactStatus.LAPSED, Contact.left_on.is_not(None), Contact.left_on < cutoff_day,
                Contact.id.not_in(erased))


def _count(model, condition) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(condition)).scalar_one()


def plan(now: datetime | None = None) -> list[RetentionLine]:
    """What each kind's period makes due now (nothing is changed)."""
    now = now or utcnow()
    settings = get_settings()
    lines = []
    for attr, kind, label in KINDS:
        days = getattr(settings, attr)
        due = 0
        if days > 0:
            cutoff = _cutoff(days, now)
            if kind == "call_notes":
                due = _count(CallAttempt, _call_notes(cutoff))
            elif kind == "message_bodies":
                due = _count(Message, _messages(cutoff)) + _count(InboundMessage, _inbound(cutoff))
            elif kind == "letters":
                due = _count(Letter, _letters(cutoff))
            elif kind == "lapsed_members":
                due = _count(Contact, _lapsed(cutoff.date()))
            elif kind == "audit":
                due = audit.prune_before(cutoff, apply=False)
        lines.append(RetentionLine(kind, label, days, due))
    return lines


def apply(now: datetime | None = None, by=None) -> list[RetentionLine]:
    """Empty or erase everything past its period; audited with the counts. The caller commits."""
    from .erasure import ErasureReason, erase

    now = now or utcnow()
    lines = plan(now)
    for line in lines:
        if line.kept_for_ever or not line.due:
            continue
        cutoff = _cutoff(line.days, now)
        if line.kind == "call_notes":
            line.done = db.session.execute(update(CallAttempt).where(_call_notes(cutoff)).values(note=None)
                                           .execution_options(synchronize_session=False)).rowcount
        elif line.kind == "message_bodies":
            line.done = db.session.execute(
                update(Message).where(_messages(cutoff)).values(body="", html=None, subject=None, to_address=None,
                                                                 reply_to=None, cc=None)
                .execution_options(synchronize_session=False)).rowcount
            line.done += db.session.execute(update(InboundMessage).where(_inbound(cutoff)).values(body="")
                                            .execution_options(synchronize_session=False)).rowcount
        elif line.kind == "letters":
            line.done = db.session.execute(update(Letter).where(_letters(cutoff)).values(body="", subject="")
                                           .execution_options(synchronize_session=False)).rowcount
        elif line.kind == "lapsed_members":
            ids = db.session.execute(select(Contact.id).where(_lapsed(cutoff.date())).order_by(Contact.id)
                                     .limit(ERASE_BATCH)).scalars().all()
            for contact_id in ids:
                erase(db.session.get(Contact, contact_id), by=by, reason=ErasureReason.NO_LONGER_NEEDED)
            line.done = len(ids)
    audit_line = next(line for line in lines if line.kind == "audit")
    done = {line.kind: line.done for line in lines if line.done}
    if done or audit_line.due:
        audit.record("retention.apply", user=by, detail=" ".join(f"{k}={v}" for k, v in done.items()) or "nothing")
    if not audit_line.kept_for_ever and audit_line.due:
        # Last, so the retention event itself is chained after the pruned prefix.
        audit_line.done = audit.prune_before(_cutoff(audit_line.days, now), apply=True, by=by)
    return lines


def update_periods(*, by, **days: int) -> None:
    """Change retention periods (days; 0 keeps that kind for ever)."""
    settings = get_settings()
    changed = []
    for attr, _, _ in KINDS:
        if attr in days and days[attr] is not None and getattr(settings, attr) != days[attr]:
            changed.append(f"{attr}: {getattr(settings, attr)} → {days[attr]}")
            setattr(settings, attr, days[attr])
    if changed:
        settings.updated_at = utcnow()
        audit.record("retention.settings", user=by, detail="; ".join(changed))

