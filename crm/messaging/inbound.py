"""What comes back from the providers and recipients: delivery reports, texts to our number,
email events and unsubscribes. Each event is applied once (a WebhookReceipt per event), states
only move forward (through outbox.record_state), and opt-outs go through suppression.py, which
withdraws consent and audits the change.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from sqlalchemy import select

from ..contacts.models import Contact
from ..database import insert_ignoring_duplicates, utcnow
from ..extensions import db
from ..normalise import FieldError, normalise_mobile
from ..vocabulary import Channel
from . import outbox, suppression
from .models import InboundKind, InboundMessage, Message, MessageState, SuppressionReason, WebhookReceipt
from .providers import Accepted
from .providers.twilio import STATUS_STATES

log = logging.getLogger("branchline.messaging.inbound")
S = MessageState

# Whole-message keywords, as carriers and Twilio recognise them (trimmed, any case).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

TWILIO_OPT_OUT_CODE = "21610"


class BadEvent(ValueError):
    """A provider payload that cannot be read; the message says what is wrong with it."""


def first_time(provider: str, event_key: str) -> bool:
    """Record that this provider event has been seen; False when it was already (a replay)."""
    # RETURNING rather than rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here.
    table = WebhookReceipt.__table__
    inserted = db.session.execute(insert_ignoring_duplicates(table).values(
        provider=provider, event_key=event_key[:160], received_at=utcnow()).returning(table.c.id)).first()
    return inserted is not None


def _message(message_id, provider: str, provider_id: str | None) -> Message | None:
    """The outbox row an event is about: by our own id when the event carries it, else by provider id."""
    if message_id is not None:
        try:
            found = db.session.get(Message, int(message_id))
        except (TypeError, ValueError):
            found = None
        if found is not None and (not found.provider_id or not provider_id or found.provider_id == provider_id):
            return found
    if provider_id:
        return db.session.scalars(select(Message).where(Message.provider == provider,
                                                        Message.provider_id == provider_id)
                                  .order_by(Message.id.desc()).limit(1)).first()
    return None


def _note_provider_id(message: Message, provider: str, provider_id: str | None) -> None:
    # An event about a row whose provider id was never stored (its worker stopped after handing it
    # over) proves the provider took it: record that, which also settles an "unknown" row.
    if provider_id and not message.provider_id:
        outbox.record_accepted(message.id, provider, Accepted(provider_id=provider_id[:64], state=S.SENT))


# ---------------------------------------------------------------------------------------------
# Twilio


def apply_twilio_status(params: dict, message_id: str | None = None) -> bool:
    """Apply a Twilio status callback; returns whether the message's state changed."""
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        raise BadEvent("A status callback needs MessageSid and MessageStatus.")
    if not first_time("twilio", f"status:{sid}:{status}"):
        return False
    message = _message(message_id, "twilio", sid)
    if message is None:
        log.info("twilio status %s for a message we do not hold", status)
        return False
    before = message.state
    _note_provider_id(message, "twilio", sid)
    target = STATUS_STATES.get(status)
    if target is not None:
        error_code = (params.get("ErrorCode") or "").strip() or None
        detail = None
        if error_code:
            detail = (params.get("ErrorMessage") or "").strip() or f"Twilio error {error_code}"
        outbox.record_state(message.id, target, error_code=error_code if target is not S.SENT else None,
                            error_detail=detail)
        if error_code == TWILIO_OPT_OUT_CODE and message.to_address:
            suppression.suppress(Channel.SMS, message.to_address, SuppressionReason.STOP,
                                 detail="twilio error 21610", message_id=message.id, source="twilio error 21610")
    db.session.flush()
    db.session.refresh(message)
    return message.state is not before


@dataclass
class InboundResult:
    kind: InboundKind | None  # None: a replay, already handled
    inbound: InboundMessage | None = None
    answer: str | None = None  # a text to send back in the TwiML response (HELP)


def _normalised_number(raw: str) -> str:
    try:
        return normalise_mobile(raw) or raw.strip()
    except FieldError:
        return raw.strip()  # a short code or a number we cannot parse: keep it as Twilio gave it


def _kind(body: str, opt_out_type: str) -> InboundKind:
    opt_out_type = opt_out_type.strip().upper()
    word = body.strip().upper()
    if opt_out_type == "STOP" or word in STOP_WORDS:
        return InboundKind.STOP
    if opt_out_type == "START" or word in START_WORDS:
        return InboundKind.START
    if opt_out_type == "HELP" or word in HELP_WORDS:
        return InboundKind.HELP
    return InboundKind.REPLY


def contact_for_number(number: str) -> Contact | None:
    """The contact a text came from: the only one with that mobile, else the most recently updated."""
    return db.session.scalars(select(Contact).where(Contact.mobile == number)
                              .order_by(Contact.updated_at.desc(), Contact.id.desc()).limit(1)).first()


def receive_sms(params: dict, *, help_text: str) -> InboundResult:
    """Take a text sent to our number: STOP/START change consent at once, HELP is answered, others are kept."""
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    raw_from = (params.get("From") or "").strip()
    if not sid or not raw_from:
        raise BadEvent("An incoming text needs MessageSid and From.")
    if not first_time("twilio", f"inbound:{sid}"):
        return InboundResult(kind=None)
    number = _normalised_number(raw_from)
    body = params.get("Body") or ""
    kind = _kind(body, params.get("OptOutType") or "")
    if kind is InboundKind.STOP:
        suppression.suppress(Channel.SMS, number, SuppressionReason.STOP, detail="Texted STOP", source="texted STOP")
    elif kind is InboundKind.START:
        suppression.unsuppress(Channel.SMS, number, source="texted START")
    contact = contact_for_number(number)
    latest = db.session.scalars(
        select(Message.id).where(Message.channel == Channel.SMS, Message.to_address == number,
                                 Message.state.in_([S.SENT, S.DELIVERED, S.UNDELIVERED, S.UNKNOWN]))
        .order_by(Message.id.desc()).limit(1)).first()
    now = utcnow()
    inbound = InboundMessage(
        provider="twilio", provider_id=sid[:64], channel=Channel.SMS, from_address=number[:254],
        to_address=(params.get("To") or "").strip()[:254] or None, body=body, kind=kind,
        contact_id=contact.id if contact else None, branch_id=contact.branch_id if contact else None,
        in_reply_to_id=latest, received_at=now,
        # Keywords are dealt with here and now: only replies wait in the inbox for a person.
        handled_at=None if kind is InboundKind.REPLY else now)
    db.session.add(inbound)
    db.session.flush()
    return InboundResult(kind=kind, inbound=inbound, answer=help_text if kind is InboundKind.HELP else None)


# ---------------------------------------------------------------------------------------------
# SendGrid


def parse_sendgrid_events(raw: str) -> list[dict]:
    """The events in an Event Webhook body; BadEvent when it is not a JSON list of objects."""
    try:
        events = json.loads(raw)
    except ValueError as exc:
        raise BadEvent("The body is not JSON.") from exc
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise BadEvent("The body must be a JSON list of event objects.")
    return events


def apply_sendgrid_events(events: list[dict]) -> int:
    """Apply SendGrid Event Webhook events; returns how many were new (not replays)."""
    applied = 0
    for event in events:
        key = str(event.get("sg_event_id") or "") or hashlib.sha256(
            json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()
        if not first_time("sendgrid", f"event:{key}"):
            continue
        applied += 1
        _apply_sendgrid_event(event)
    return applied


def _apply_sendgrid_event(event: dict) -> None:
    kind = str(event.get("event") or "").lower()
    sg_message_id = str(event.get("sg_message_id") or "")
    # sg_message_id is the X-Message-Id we stored, followed by ".filter…" and more.
    provider_id = sg_message_id.split(".", 1)[0] or None
    message = _message(event.get("branchline_message_id"), "sendgrid", provider_id)
    address = str(event.get("email") or "") or (message.to_address if message else "")
    message_id = message.id if message else None
    if message is not None and kind in ("processed", "delivered", "bounce", "deferred"):
        _note_provider_id(message, "sendgrid", provider_id)
    if kind == "delivered" and message is not None:
        outbox.record_state(message.id, S.DELIVERED)
    elif kind == "bounce":
        permanent = str(event.get("type") or "bounce").lower() != "blocked"
        if message is not None:
            code = str(event.get("status") or "bounce")[:32]
            outbox.record_state(message.id, S.FAILED, error_code=code,
                                error_detail=str(event.get("reason") or "The email bounced.")[:300])
        if permanent:
            # A "blocked" bounce is the receiving server refusing this message, not the address.
            suppression.suppress(Channel.EMAIL, address, SuppressionReason.BOUNCE, detail="sendgrid bounce",
                                 message_id=message_id, source="email bounced")
    elif kind == "dropped":
        reason = str(event.get("reason") or "")
        if message is not None:
            outbox.record_state(message.id, S.FAILED, error_code="dropped",
                                error_detail=reason[:300] or "SendGrid dropped the email.")
        lowered = reason.lower()
        if "unsubscribe" in lowered:
            suppression.suppress(Channel.EMAIL, address, SuppressionReason.UNSUBSCRIBE, detail="sendgrid dropped",
                                 message_id=message_id, source="unsubscribed at sendgrid")
        elif "bounce" in lowered:
            suppression.suppress(Channel.EMAIL, address, SuppressionReason.BOUNCE, detail="sendgrid dropped",
                                 message_id=message_id, source="email bounced")
        elif "spam" in lowered:
            suppression.suppress(Channel.EMAIL, address, SuppressionReason.SPAM_REPORT, detail="sendgrid dropped",
                                 message_id=message_id, source="reported as spam")
    elif kind == "spamreport":
        suppression.suppress(Channel.EMAIL, address, SuppressionReason.SPAM_REPORT, detail="sendgrid spam report",
                             message_id=message_id, source="reported as spam")
    elif kind in ("unsubscribe", "group_unsubscribe"):
        suppression.suppress(Channel.EMAIL, address, SuppressionReason.UNSUBSCRIBE, detail=f"sendgrid {kind}",
                             message_id=message_id, source="unsubscribed at sendgrid")
    # processed, deferred, open, click and group_resubscribe change nothing here: consent given
    # again is recorded by staff or by the person, not inferred from a preference page.


# ---------------------------------------------------------------------------------------------
# The unsubscribe link


def unsubscribe_target(message_id: int | None) -> Message | None:
    """The email an unsubscribe token names, if it is one we can unsubscribe from."""
    if message_id is None:
        return None
    message = db.session.get(Message, message_id)
    if message is None or message.channel is not Channel.EMAIL or not message.to_address:
        return None
    return message


def is_unsubscribed(message: Message) -> bool:
    return suppression.is_suppressed(Channel.EMAIL, message.to_address or "")


def unsubscribe(message: Message) -> list[Contact]:
    """Stop all email to the address this message went to; consent is withdrawn for every contact holding it."""
    return suppression.suppress(Channel.EMAIL, message.to_address or "", SuppressionReason.UNSUBSCRIBE,
                                detail="unsubscribe link", message_id=message.id, source="unsubscribe link")


def masked_address(address: str) -> str:
    """An email address as the unsubscribe page shows it: s***@example.org."""
    local, _, domain = (address or "").partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"
