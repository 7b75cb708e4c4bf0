"""The messaging area's contact timeline: every message we sent the contact and every text they sent us."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..auth.models import User
from ..auth.roles import Permission
from ..contacts.models import Contact
from ..contacts.timeline import TimelineEntry, provider
from ..extensions import db
from ..scoping import covers_branch
from .models import InboundKind, InboundMessage, Message, MessageState, Purpose, Send

_LIMIT = 200  # the newest; a contact on many sends still gets a page that opens quickly
_PROBLEM_STATES = frozenset({MessageState.FAILED, MessageState.UNDELIVERED, MessageState.SKIPPED,
                             MessageState.UNKNOWN})


@provider
def message_entries(contact: Contact, viewer: User) -> Iterable[TimelineEntry]:
    """Messages to the contact (send name or purpose, channel, state, error) and their texts to us."""
    if not covers_branch(viewer, contact.branch_id):
        return
    sees_sends = viewer.can(Permission.SEND_MESSAGES)
    sees_replies = viewer.can(Permission.ANSWER_REPLIES)
    rows = db.session.execute(
        select(Message.id, Message.channel, Message.purpose, Message.state, Message.error_detail, Message.queued_at,
               Message.sent_at, Message.send_id, Send.name)
        .outerjoin(Send, Send.id == Message.send_id)
        .where(Message.contact_id == contact.id, Message.purpose != Purpose.TEST)
        .order_by(Message.id.desc()).limit(_LIMIT)).all()
    for row in rows:
        what = f"‘{row.name}’" if row.name else row.purpose.label.lower()
        detail = row.state.label + (f": {row.error_detail}" if row.state in _PROBLEM_STATES and row.error_detail else "")
        link = {"endpoint": "messaging.report", "params": {"send_id": row.send_id}} if row.send_id and sees_sends else {}
        yield TimelineEntry(at=row.sent_at or row.queued_at, kind="message", title=f"{row.channel.label} sent: {what}",
                            detail=detail, **link)
    inbound = db.session.execute(
        select(InboundMessage).where(InboundMessage.contact_id == contact.id)
        .order_by(InboundMessage.id.desc()).limit(_LIMIT)).scalars().all()
    for message in inbound:
        if message.kind is InboundKind.REPLY:
            link = {"endpoint": "messaging.reply", "params": {"reply_id": message.id}} if sees_replies else {}
            yield TimelineEntry(at=message.received_at, kind="reply", title="Texted us", detail=message.body[:500],
                                **link)
        else:
            yield TimelineEntry(at=message.received_at, kind="reply", title=f"Texted {message.body.strip()[:20]!s}",
                                detail=message.kind.label)
