"""Letter campaigns: the campaign and its targets and templates, what people wrote, and who took part."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..region.models import Branch, Employer, ServiceGroup
from ..vocabulary import Labelled


class CampaignStatus(Labelled):
    DRAFT = ("draft", "Draft: only staff can see it")
    OPEN = ("open", "Open: the public page takes letters")
    CLOSED = ("closed", "Closed")


class TargetKind(Labelled):
    MP = ("mp", "The member's MP (from their postcode)")
    EMPLOYER = ("employer", "The chief executive of the member's employer")
    CUSTOM = ("custom", "Someone else (a council leader, a mayor …)")


class LetterState(Labelled):
    DRAFT = ("draft", "Not confirmed")
    QUEUED = ("queued", "Confirmed: sent by email")
    OWN_EMAIL = ("own_email", "Sent from own email")
    DUPLICATE = ("duplicate", "Already written: not sent again")


class ReplyStatus(Labelled):
    REPLIED = ("replied", "Replied")
    NO_REPLY = ("no_reply", "No reply yet")


campaign_employer = Table(
    "campaign_employer",
    db.Model.metadata,
    Column("campaign_id", Integer, ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("employer_id", Integer, ForeignKey("employer.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Campaign(TimestampMixin, db.Model):
    """A letter campaign: what it asks, whom people write to, the templates and the public page's options."""

    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CampaignStatus] = mapped_column(enum_column(CampaignStatus), default=CampaignStatus.DRAFT)
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    # The owning branch: staff scoping, and where new supporters are added.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    service_group_id: Mapped[int | None] = mapped_column(ForeignKey("service_group.id"))
    target_mp: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())
    target_employer: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())
    require_personal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ask_membership_number: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The letters say the writer is a union member (special-category data sent to a third party):
    # the public page then asks for explicit agreement.
    letters_say_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    block_identical: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Percent of a letter that may be the template (or another writer's words) before we nudge or block.
    similarity_threshold: Mapped[int] = mapped_column(Integer, default=85)
    ask_about_replies: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    thank_you_text: Mapped[str] = mapped_column(Text, default="")
    share_text: Mapped[str] = mapped_column(String(280), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    branch: Mapped[Branch] = relationship()
    service_group: Mapped[ServiceGroup | None] = relationship()
    employers: Mapped[list[Employer]] = relationship(secondary=campaign_employer, order_by="Employer.name")
    targets: Mapped[list["CampaignTarget"]] = relationship(
        back_populates="campaign", order_by="CampaignTarget.id", cascade="all, delete-orphan")
    templates: Mapped[list["LetterTemplate"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan")

    def template_for(self, kind: TargetKind) -> "LetterTemplate | None":
        return next((t for t in self.templates if t.target_kind == kind), None)

    def is_open_on(self, day: date) -> bool:
        return (self.status is CampaignStatus.OPEN and (self.opens_on is None or self.opens_on <= day)
                and (self.closes_on is None or day <= self.closes_on))

    def __str__(self) -> str:
        return self.name


class CampaignTarget(db.Model):
    """A named person everyone in the campaign writes to (a council leader, a mayor)."""

    __tablename__ = "campaign_target"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(160), default="")
    email: Mapped[str] = mapped_column(String(254))

    campaign: Mapped[Campaign] = relationship(back_populates="targets")


class LetterTemplate(db.Model):
    """The letter for one kind of target: subject and body with merge fields."""

    __tablename__ = "letter_template"
    __table_args__ = (UniqueConstraint("campaign_id", "target_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    target_kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")

    campaign: Mapped[Campaign] = relationship(back_populates="templates")


class Submission(TimestampMixin, db.Model):
    """One person's go at the public page: who they said they are, their choices and consent.

    Nothing here touches a contact until the email link is clicked (or they send from their own
    email): the page never says whether the person is a member.
    """

    __tablename__ = "campaign_submission"
    __table_args__ = (Index("ix_submission_unconfirmed", "confirmed_at", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    postcode: Mapped[str] = mapped_column(String(8))
    membership_number: Mapped[str | None] = mapped_column(String(20))
    mobile: Mapped[str | None] = mapped_column(String(16))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id", ondelete="SET NULL"))
    workplace: Mapped[str] = mapped_column(String(200), default="")
    constituency_code: Mapped[str | None] = mapped_column(String(12))
    constituency_name: Mapped[str | None] = mapped_column(String(120))
    # What they ticked on the check-your-answers step, applied only once the email is confirmed.
    agreed_disclosure: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    wants_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    wants_sms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    own_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    reply_check_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship()
    employer: Mapped[Employer | None] = relationship()
    contact = relationship("Contact")
    letters: Mapped[list["Letter"]] = relationship(
        back_populates="submission", order_by="Letter.position", cascade="all, delete-orphan")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Letter(db.Model):
    """One letter to one target: its text, how much is still the template, and what happened to it."""

    __tablename__ = "campaign_letter"
    __table_args__ = (
        Index("ix_letter_campaign_target", "campaign_id", "target_key", "state"),
        Index("ix_letter_campaign_sent", "campaign_id", "sent_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("campaign_submission.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    target_kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind))
    # "mp:E14000001", "employer:12", "custom:3": one letter per writer per target per campaign.
    target_key: Mapped[str] = mapped_column(String(60))
    target_name: Mapped[str] = mapped_column(String(160))
    target_title: Mapped[str] = mapped_column(String(200), default="")
    target_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    template_share: Mapped[int] = mapped_column(Integer, default=100)  # percent still the template
    state: Mapped[LetterState] = mapped_column(enum_column(LetterState), default=LetterState.DRAFT)
    # Set when the letter goes out: unique, so the same contact never writes to the same target twice.
    sent_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    # The contact's branch when it was sent, so figures are branch-scoped without a join.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id", ondelete="SET NULL"))
    constituency_name: Mapped[str | None] = mapped_column(String(120))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    reply_status: Mapped[ReplyStatus | None] = mapped_column(enum_column(ReplyStatus))
    reply_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="letters")
    message = relationship("Message")
    branch = relationship(Branch)

    @property
    def personalised(self) -> bool:
        return self.template_share < 100
