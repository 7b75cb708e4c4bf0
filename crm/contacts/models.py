from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..region.models import Branch, Employer, Workplace
from ..vocabulary import (
    ActivistRoleKind,
    Channel,
    ConsentStatus,
    ContactStatus,
    PaymentMethod,
    SelfOrganisedGroup,
)

contact_tag = Table(
    "contact_tag",
    db.Model.metadata,
    Column("contact_id", Integer, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
    # When and by whom the tag was put on, for the contact's timeline (bulk tags included).
    Column("added_at", UTCDateTime(), nullable=True, server_default=func.current_timestamp()),
    Column("added_by_id", Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
)


class Contact(TimestampMixin, db.Model):
    """Anyone we hold: member, lapsed member or supporter. Always belongs to one branch."""

    __tablename__ = "contact"
    __table_args__ = (
        Index("ix_contact_branch_last_first", "branch_id", "last_name", "first_name", "id"),
        Index("ix_contact_last_first", "last_name", "first_name", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Identity key of the national membership system's exports.
    membership_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    mobile: Mapped[str | None] = mapped_column(String(16), index=True)  # E.164
    postcode: Mapped[str | None] = mapped_column(String(8), index=True)
    # Indexed through ix_contact_branch_last_first, which leads with branch_id.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"), index=True)
    workplace_id: Mapped[int | None] = mapped_column(ForeignKey("workplace.id"), index=True)
    job_title: Mapped[str | None] = mapped_column(String(160))
    status: Mapped[ContactStatus] = mapped_column(
        enum_column(ContactStatus), default=ContactStatus.MEMBER
    )
    payment_method: Mapped[PaymentMethod | None] = mapped_column(enum_column(PaymentMethod))
    joined_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    # Set when the employer stops deducting subs: the member lapses unless moved to direct debit.
    docas_ended_on: Mapped[date | None] = mapped_column(Date)
    # Set by a caller's "do not call" outcome: never offered on a call list again.
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A caller reached a wrong number: the mobile needs checking before anyone calls it again.
    phone_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Hash of the raw export values last imported: an unchanged row is recognised without parsing.
    import_fingerprint: Mapped[str | None] = mapped_column(String(32))

    branch: Mapped[Branch] = relationship()
    employer: Mapped[Employer | None] = relationship()
    workplace: Mapped[Workplace | None] = relationship()
    tags: Mapped[list["Tag"]] = relationship(secondary=contact_tag, order_by="Tag.name")
    activist_roles: Mapped[list["ActivistRole"]] = relationship(
        back_populates="contact", order_by="ActivistRole.started_on", cascade="all, delete-orphan"
    )
    consents: Mapped[list["Consent"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )
    sogs: Mapped[list["ContactSelfOrganisedGroup"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or "(no name)"

    @property
    def ballot_ready(self) -> bool:
        return bool(self.employer_id and self.workplace_id and self.job_title)

    def consent_for(self, channel: Channel) -> "Consent | None":
        return next((c for c in self.consents if c.channel == channel), None)

    def current_roles(self) -> list["ActivistRole"]:
        return [r for r in self.activist_roles if r.ended_on is None]


class ContactSelfOrganisedGroup(db.Model):
    """A self-organised group the member has told us they belong to (special-category data)."""

    __tablename__ = "contact_sog"
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )
    group: Mapped[SelfOrganisedGroup] = mapped_column(
        enum_column(SelfOrganisedGroup), primary_key=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="sogs")


class Consent(db.Model):
    """Current consent state for one contact on one channel, with where it came from."""

    __tablename__ = "consent"
    __table_args__ = (
        UniqueConstraint("contact_id", "channel"),
        # Covers the contacts list's consent filters ("SMS: opted out" …) without touching the table.
        Index("ix_consent_channel_status_contact", "channel", "status", "contact_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    status: Mapped[ConsentStatus] = mapped_column(enum_column(ConsentStatus))
    source: Mapped[str] = mapped_column(String(120))  # e.g. "membership form", "campaign: nhs-in-house"
    wording_version: Mapped[str | None] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="consents")


class ActivistRole(TimestampMixin, db.Model):
    __tablename__ = "activist_role"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    role: Mapped[ActivistRoleKind] = mapped_column(enum_column(ActivistRoleKind), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    contact: Mapped[Contact] = relationship(back_populates="activist_roles")
    branch: Mapped[Branch] = relationship()


class Tag(TimestampMixin, db.Model):
    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    def __str__(self) -> str:
        return self.name
