"""The outbox and everything around it: templates, sends, messages, suppressions, replies, webhook receipts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..vocabulary import Channel, Labelled


class MessageState(Labelled):
    QUEUED = ("queued", "Queued")
    SENDING = ("sending", "Sending")
    SENT = ("sent", "Sent")
    DELIVERED = ("delivered", "Delivered")
    FAILED = ("failed", "Failed")
    UNDELIVERED = ("undelivered", "Not delivered")
    # The worker stopped between handing the message over and recording it: a person decides.
    UNKNOWN = ("unknown", "Unknown: check before resending")
    CANCELLED = ("cancelled", "Cancelled")
    # Not sent because, at send time, consent or the address no longer allowed it.
    SKIPPED = ("skipped", "Not sent")


# States only ever move forward: a late "sent" after "delivered" changes nothing.
STATE_RANK: dict[MessageState, int] = {
    MessageState.QUEUED: 0,
    MessageState.SENDING: 1,
    MessageState.UNKNOWN: 2,
    MessageState.SENT: 3,
    MessageState.DELIVERED: 4,
    MessageState.UNDELIVERED: 4,
    MessageState.FAILED: 4,
    MessageState.CANCELLED: 4,
    MessageState.SKIPPED: 4,
}
FINAL_STATES = frozenset(s for s, rank in STATE_RANK.items() if rank == 4)
OPEN_STATES = frozenset({MessageState.QUEUED, MessageState.SENDING})


def states_before(state: MessageState) -> list[MessageState]:
    """The states a message may move to `state` from."""
    return [s for s, rank in STATE_RANK.items() if rank < STATE_RANK[state]]


class Purpose(Labelled):
    BULK = ("bulk", "Send to an audience")
    FOLLOW_UP = ("follow_up", "Follow-up after a call")
    REPLY = ("reply", "Answer to a reply")
    LETTER = ("letter", "Campaign letter")
    TEST = ("test", "Test send")
    TRANSACTIONAL = ("transactional", "Confirmation")


# Purposes that need the contact's consent for the channel; the others answer the person's own
# request (a reply to their text, their own letter, a test to ourselves) but still honour STOP.
CONSENT_PURPOSES = frozenset({Purpose.BULK, Purpose.FOLLOW_UP})


class SendStatus(Labelled):
    DRAFT = ("draft", "Draft")
    SCHEDULED = ("scheduled", "Scheduled")
    QUEUING = ("queuing", "Preparing recipients")
    SENDING = ("sending", "Sending")
    DONE = ("done", "Finished")
    CANCELLED = ("cancelled", "Cancelled")


class ExclusionReason(Labelled):
    NO_ADDRESS = ("no_address", "No mobile number or email address")
    OPTED_OUT = ("opted_out", "Opted out of this channel")
    NO_CONSENT = ("no_consent", "Never agreed to this channel")
    SUPPRESSED = ("suppressed", "Number or address unsubscribed, bounced or invalid")
    DUPLICATE = ("duplicate", "Shares a number or address with another recipient")


class SuppressionReason(Labelled):
    STOP = ("stop", "Texted STOP")
    UNSUBSCRIBE = ("unsubscribe", "Unsubscribed")
    BOUNCE = ("bounce", "Email bounced")
    SPAM_REPORT = ("spam_report", "Reported as spam")
    INVALID = ("invalid", "Not a valid number or address")
    MANUAL = ("manual", "Added by staff")


class InboundKind(Labelled):
    REPLY = ("reply", "Reply")
    STOP = ("stop", "Opt-out (STOP)")
    START = ("start", "Opt-in again (START)")
    HELP = ("help", "Asked for help")


class MessageTemplate(TimestampMixin, db.Model):
    """A reusable SMS or email text with merge fields, e.g. the monthly branch-meeting reminder."""

    __tablename__ = "message_template"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    subject: Mapped[str | None] = mapped_column(String(200))  # email only
    body: Mapped[str] = mapped_column(Text, default="")  # SMS text, or the email's plain-text part
    html: Mapped[str | None] = mapped_column(Text)  # email only; generated from the text part when empty
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    def __str__(self) -> str:
        return self.name


class Send(TimestampMixin, db.Model):
    """One SMS or email to an audience: what it says, who it goes to, when, and how it went."""

    __tablename__ = "message_send"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("message_template.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    # Where the recipients come from: a kind registered in crm/messaging/audiences.py and its
    # parameters (a saved contacts filter's values, a call list id, a campaign id). Kept in the
    # database, never in a URL or a job argument.
    audience_kind: Mapped[str] = mapped_column(String(32))
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    audience_label: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[SendStatus] = mapped_column(enum_column(SendStatus), default=SendStatus.DRAFT)
    respect_quiet_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Last time a worker did something for this send: the sweeper restarts sends gone quiet.
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    # Counts by ExclusionReason value when the recipients were prepared.
    excluded: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    template = relationship(MessageTemplate)
    created_by = relationship("User", foreign_keys=[created_by_id])

    def __str__(self) -> str:
        return self.name


class Message(db.Model):
    """One outbox row: one message to one address on one channel, and where it has got to."""

    __tablename__ = "message"
    __table_args__ = (
        # Workers walk a send's queued rows in id order; reports count a send's rows by state.
        Index("ix_message_send_state", "send_id", "state", "id"),
        Index("ix_message_contact", "contact_id", "id"),
        Index("ix_message_provider_id", "provider_id"),
        Index("ix_message_state_claimed", "state", "claimed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique per (send, contact, channel) for sends; per letter/target, reply … for one-offs, so
    # preparing the same thing twice creates nothing new.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    send_id: Mapped[int | None] = mapped_column(ForeignKey("message_send.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose))
    state: Mapped[MessageState] = mapped_column(enum_column(MessageState), default=MessageState.QUEUED)
    # For a send's messages the address is taken from the contact when it is sent; one-off
    # messages (letters to an MP, tests) are addressed when created.
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)  # one-offs only; a send's text is rendered at send time
    html: Mapped[str | None] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(254))
    cc: Mapped[str | None] = mapped_column(String(254))
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    segments: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(String(300))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    send = relationship(Send)
    contact = relationship("Contact")
    created_by = relationship("User", foreign_keys=[created_by_id])


class Suppression(db.Model):
    """A number or address we must not message on a channel (STOP, unsubscribe, bounce, spam report)."""

    __tablename__ = "suppression"
    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    address: Mapped[str] = mapped_column(String(254))  # E.164 mobile or lower-case email
    reason: Mapped[SuppressionReason] = mapped_column(enum_column(SuppressionReason))
    detail: Mapped[str | None] = mapped_column(String(200))
    # The message that led to it (for a send's "opt-outs caused").
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboundMessage(db.Model):
    """A text someone sent us: a reply for the replies inbox, or a STOP / START / HELP keyword."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_branch_handled", "branch_id", "handled_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), default=Channel.SMS)
    from_address: Mapped[str] = mapped_column(String(254))
    to_address: Mapped[str | None] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[InboundKind] = mapped_column(enum_column(InboundKind), default=InboundKind.REPLY)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    # The contact's branch when it arrived, so the inbox is branch-scoped without a join.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    # The latest message we sent to that number before it arrived (for a send's "replies").
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    contact = relationship("Contact")
    in_reply_to = relationship(Message)
    handled_by = relationship("User", foreign_keys=[handled_by_id])


class WebhookReceipt(db.Model):
    """A provider event already applied, so a replayed webhook changes nothing."""

    __tablename__ = "webhook_receipt"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_key: Mapped[str] = mapped_column(String(160))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("provider", "event_key"),)
