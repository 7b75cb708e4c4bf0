"""Data protection: erased identities (salted hashes only), erasure records, settings, breaches."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..vocabulary import Labelled


class PrivacySettings(db.Model):
    """One row: the salt for erased-identity hashes and the retention period of each data kind (days;
    0 keeps that kind for ever)."""

    __tablename__ = "privacy_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    call_notes_days: Mapped[int] = mapped_column(Integer, default=730)
    message_bodies_days: Mapped[int] = mapped_column(Integer, default=365)
    letters_days: Mapped[int] = mapped_column(Integer, default=365)
    lapsed_members_days: Mapped[int] = mapped_column(Integer, default=6 * 365)
    audit_days: Mapped[int] = mapped_column(Integer, default=7 * 365)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdentityKind(Labelled):
    EMAIL = ("email", "Email address")
    MOBILE = ("mobile", "Mobile number")
    MEMBERSHIP_NUMBER = ("membership_number", "Membership number")


class ErasedIdentity(db.Model):
    """A salted hash of an erased person's email, mobile or membership number: enough to recognise
    them if they come back in an import, and nothing that says who they were."""

    __tablename__ = "erased_identity"
    __table_args__ = (UniqueConstraint("kind", "digest"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IdentityKind] = mapped_column(enum_column(IdentityKind))
    digest: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ContactErasure(db.Model):
    """The contact row left behind by an erasure (kept, anonymous, so counts stay right)."""

    __tablename__ = "contact_erasure"
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Rows changed per table, e.g. {"call_attempt": 3}: what the erasure touched, no values.
    summary: Mapped[dict | None] = mapped_column(db.JSON)

    by = relationship("User")


class BreachRisk(Labelled):
    UNLIKELY = ("unlikely", "Unlikely to result in a risk to people")
    RISK = ("risk", "A risk to people's rights: report to the ICO")
    HIGH = ("high", "A high risk: report to the ICO and tell the people affected")


class BreachStatus(Labelled):
    OPEN = ("open", "Open")
    CLOSED = ("closed", "Closed")


NOTIFY_WITHIN = timedelta(hours=72)


class Breach(TimestampMixin, db.Model):
    """A personal-data breach: what happened, whose data, and the ICO's 72-hour clock (UK GDPR art. 33)."""

    __tablename__ = "breach"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # The clock runs from when the region became aware of it.
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    description: Mapped[str] = mapped_column(Text, default="")
    data_involved: Mapped[str] = mapped_column(Text, default="")
    people_affected: Mapped[int | None] = mapped_column(Integer)
    branches_affected: Mapped[str] = mapped_column(String(400), default="")
    consequences: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    risk: Mapped[BreachRisk] = mapped_column(enum_column(BreachRisk), default=BreachRisk.RISK)
    status: Mapped[BreachStatus] = mapped_column(enum_column(BreachStatus), default=BreachStatus.OPEN)
    reported_to_ico_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ico_reference: Mapped[str] = mapped_column(String(60), default="")
    people_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the ICO was not told (risk unlikely) or told late: article 33(1) wants the reasons.
    decision_notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    created_by = relationship("User")

    @property
    def notify_by(self) -> datetime:
        return self.discovered_at + NOTIFY_WITHIN

    @property
    def needs_ico_report(self) -> bool:
        return self.risk is not BreachRisk.UNLIKELY and self.reported_to_ico_at is None

    def hours_left(self, now: datetime | None = None) -> float:
        return ((self.notify_by - (now or utcnow())).total_seconds()) / 3600

    @property
    def reported_late(self) -> bool:
        return self.reported_to_ico_at is not None and self.reported_to_ico_at > self.notify_by
