"""Demo messaging: templates, the joiner lists' follow-up text, one finished send and some replies,
so the messaging pages have something to show on first run. Nothing here is sent anywhere."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from ..auth.models import User
from ..auth.roles import Role
from ..calls.models import CallList, CallListKind
from ..contacts.models import Consent, Contact
from ..extensions import db
from ..messaging.models import (
    InboundKind,
    InboundMessage,
    Message,
    MessageState,
    MessageTemplate,
    Purpose,
    Send,
    SendStatus,
    Suppression,
    SuppressionReason,
)
from ..region.models import Branch
from ..vocabulary import Channel, ConsentStatus

MEETING_REMINDER = ("Hi {{ first_name }}, {{ branch }} branch meeting this Thursday 6pm, staff canteen. "
                    "Come and have your say on the pay offer. Reply STOP to opt out.")
JOINER_FOLLOW_UP = ("Thanks for talking with us today, {{ first_name }}! Your branch is {{ branch }}: "
                    "reply to this text any time. Reply STOP to opt out.")
NEWSLETTER_SUBJECT = "{{ branch }} news: pay, safe staffing and your reps"
NEWSLETTER_BODY = """Dear {{ first_name }},

Thank you for being a member of {{ branch }}.

This month: the pay consultation closes on Friday, the safe-staffing survey results are in, and we
are looking for new workplace reps at {{ workplace }}.

In solidarity,
Your branch committee

Unsubscribe: {{ unsubscribe_url }}"""

REPLIES = [
    "Can't make Thursday but count me in for the next one",
    "Who is my rep at work? I need some advice about my shifts",
    "Is the meeting open to bank staff too?",
    "Yes I'll be there",
]


def seed_messaging(seed: int = 1) -> None:
    """Add the demo templates, follow-up texts, a finished send with its outbox rows, and replies."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    lead = db.session.scalars(select(User).where(User.role == Role.CAMPAIGN_LEAD).order_by(User.id)).first()
    reminder = MessageTemplate(name="Branch meeting reminder", channel=Channel.SMS, body=MEETING_REMINDER,
                               created_by_id=getattr(lead, "id", None))
    follow_up = MessageTemplate(name="New joiner: thanks for talking", channel=Channel.SMS, body=JOINER_FOLLOW_UP,
                                created_by_id=getattr(lead, "id", None))
    newsletter = MessageTemplate(name="Monthly branch news", channel=Channel.EMAIL, subject=NEWSLETTER_SUBJECT,
                                 body=NEWSLETTER_BODY, created_by_id=getattr(lead, "id", None))
    db.session.add_all([reminder, follow_up, newsletter])
    db.session.flush()
    for call_list in db.session.scalars(select(CallList).where(CallList.kind == CallListKind.NEW_JOINER)):
        call_list.follow_up_template_id = follow_up.id

    branch = db.session.scalars(select(Branch).where(Branch.code == "LUHFT")).first()
    if branch is None or lead is None:
        db.session.flush()
        return
    recipients = db.session.execute(
        select(Contact.id, Contact.mobile).join(Consent, Consent.contact_id == Contact.id)
        .where(Contact.branch_id == branch.id, Contact.mobile.is_not(None), Consent.channel == Channel.SMS,
               Consent.status == ConsentStatus.GRANTED).order_by(Contact.id).limit(400)).all()
    sent_at = now - timedelta(days=3, hours=2)
    send = Send(name=f"{branch.name}: branch meeting reminder", channel=Channel.SMS, template_id=reminder.id,
                body=MEETING_REMINDER, audience_kind="contacts", audience={"filter": {"branch": str(branch.id)}},
                audience_label=f"Contacts in {branch.name}", status=SendStatus.DONE, respect_quiet_hours=True,
                started_at=sent_at, finished_at=sent_at + timedelta(minutes=4), active_at=sent_at,
                recipient_count=len(recipients), excluded={"no_consent": 212, "opted_out": 9, "no_address": 14},
                created_by_id=lead.id)
    db.session.add(send)
    db.session.flush()
    messages = []
    for index, (contact_id, mobile) in enumerate(recipients):
        roll = rng.random()
        state, code, detail = MessageState.DELIVERED, None, None
        if roll < 0.02:
            state, code, detail = MessageState.UNDELIVERED, "30003", "Unreachable destination handset"
        elif roll < 0.03:
            state, code, detail = MessageState.FAILED, "21211", "Invalid 'To' phone number"
        elif index == 7:
            state, code, detail = MessageState.UNKNOWN, "worker_stopped", (
                "The worker stopped while sending this message: it may or may not have gone. Check before resending.")
        at = sent_at + timedelta(seconds=index // 2)
        messages.append(Message(
            dedupe_key=f"send:{send.id}:{contact_id}:sms", send_id=send.id, contact_id=contact_id,
            channel=Channel.SMS, purpose=Purpose.BULK, state=state, to_address=mobile, provider="log",
            provider_id=None if state is MessageState.UNKNOWN else f"log-demo-{index}", segments=1,
            error_code=code, error_detail=detail, queued_at=sent_at, claimed_at=at,
            sent_at=None if state is MessageState.UNKNOWN else at,
            delivered_at=at + timedelta(seconds=5) if state is MessageState.DELIVERED else None,
            finished_at=at + timedelta(seconds=5)))
    db.session.add_all(messages)
    db.session.flush()

    # Replies to that send land in the branch's inbox; one person texted STOP.
    for index, message in enumerate(messages[10:10 + len(REPLIES) + 1]):
        contact = db.session.get(Contact, message.contact_id)
        received = (message.delivered_at or sent_at) + timedelta(minutes=rng.randrange(5, 600))
        if index == len(REPLIES):
            db.session.add(Suppression(channel=Channel.SMS, address=message.to_address, reason=SuppressionReason.STOP,
                                       message_id=message.id, created_at=received))
            consent = contact.consent_for(Channel.SMS)
            if consent is not None:
                consent.status = ConsentStatus.WITHDRAWN
                consent.source = "texted stop"
                consent.recorded_at = received
            body, kind = "STOP", InboundKind.STOP
        else:
            body, kind = REPLIES[index], InboundKind.REPLY
        db.session.add(InboundMessage(provider="log", provider_id=f"demo-in-{message.id}", channel=Channel.SMS,
                                      from_address=message.to_address, body=body, kind=kind, contact_id=contact.id,
                                      branch_id=contact.branch_id, in_reply_to_id=message.id, received_at=received))
    db.session.flush()
