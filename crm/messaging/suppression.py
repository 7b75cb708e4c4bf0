"""Numbers and addresses we must not message, and the consent that goes with them.

A STOP, unsubscribe, bounce or spam report suppresses the address at once and withdraws the
consent of every contact holding it, so the next send's check (which reads both) skips them.
"""
from __future__ import annotations

from sqlalchemy import delete, func, select

from ..audit import service as audit
from ..contacts.models import Consent, Contact
from ..database import insert_ignoring_duplicates, utcnow
from ..extensions import db
from ..vocabulary import Channel, ConsentStatus
from .models import Suppression, SuppressionReason

# Reasons that mean the person said no, so their consent is withdrawn too (a bounce is not a "no").
OPT_OUT_REASONS = frozenset({SuppressionReason.STOP, SuppressionReason.UNSUBSCRIBE, SuppressionReason.SPAM_REPORT})


def canonical_address(channel: Channel, address: str) -> str:
    address = (address or "").strip()
    return address.lower() if channel is Channel.EMAIL else address


def contacts_with_address(channel: Channel, address: str) -> list[Contact]:
    """Every contact holding this mobile number or email address."""
    address = canonical_address(channel, address)
    if channel is Channel.SMS:
        condition = Contact.mobile == address
    else:
        condition = func.lower(Contact.email) == address
    return list(db.session.scalars(select(Contact).where(condition)))


def is_suppressed(channel: Channel, address: str) -> bool:
    return db.session.scalar(select(Suppression.id).where(
        Suppression.channel == channel, Suppression.address == canonical_address(channel, address))) is not None


def suppress(channel: Channel, address: str, reason: SuppressionReason, *, detail: str | None = None,
             message_id: int | None = None, source: str | None = None) -> list[Contact]:
    """Stop all messages on this channel to this address; returns the contacts whose consent was withdrawn."""
    address = canonical_address(channel, address)
    if not address:
        return []
    db.session.execute(insert_ignoring_duplicates(Suppression.__table__).values(
        channel=channel.value, address=address, reason=reason.value, detail=(detail or "")[:200] or None,
        message_id=message_id, created_at=utcnow()))
    changed: list[Contact] = []
    if reason in OPT_OUT_REASONS:
        for contact in contacts_with_address(channel, address):
            if _set_consent(contact, channel, ConsentStatus.WITHDRAWN, source or reason.label.lower()):
                changed.append(contact)
    return changed


def unsuppress(channel: Channel, address: str, *, source: str) -> list[Contact]:
    """Lift a suppression the person lifted themselves (texting START); their consent is granted again."""
    address = canonical_address(channel, address)
    db.session.execute(delete(Suppression).where(Suppression.channel == channel, Suppression.address == address))
    changed = []
    for contact in contacts_with_address(channel, address):
        if _set_consent(contact, channel, ConsentStatus.GRANTED, source):
            changed.append(contact)
    return changed


def _set_consent(contact: Contact, channel: Channel, status: ConsentStatus, source: str) -> bool:
    consent = db.session.scalar(select(Consent).where(Consent.contact_id == contact.id, Consent.channel == channel))
    if consent is not None and consent.status is status:
        return False
    before = consent.status.value if consent else "none"
    if consent is None:
        consent = Consent(contact_id=contact.id, channel=channel)
        db.session.add(consent)
    consent.status = status
    consent.source = source[:120]
    consent.wording_version = None
    consent.recorded_at = utcnow()
    db.session.flush()
    # The same audit event as a change made on the contact page, so it shows on the timeline.
    audit.record("contact.consent", obj=contact, detail=f"channel={channel.value} from={before} to={status.value}"
                 f" source={source.replace(' ', '_')[:60]}")
    return True
