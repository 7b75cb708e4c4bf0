"""How each record looks in the API: OSDI-shaped dictionaries with HAL links.

Self-organised groups are never included (special-category data), and message bodies only
when the token's own user wrote them.
"""
from __future__ import annotations

from ..auth.models import User
from ..calls.models import CallEntry, CallList
from ..campaigns.models import Campaign, Letter
from ..contacts.models import Contact, Tag
from ..messaging.models import Message
from ..vocabulary import Channel, ConsentStatus
from .hal import iso, link

ORIGIN = "Branchline"
CONSENT_STATUS = {ConsentStatus.GRANTED: "subscribed", ConsentStatus.WITHDRAWN: "unsubscribed"}


def ident(object_id: int) -> str:
    return f"branchline:{object_id}"


def person(contact: Contact) -> dict:
    email_consent = contact.consent_for(Channel.EMAIL)
    sms_consent = contact.consent_for(Channel.SMS)
    identifiers = [ident(contact.id)]
    if contact.membership_number:
        identifiers.append(f"membership_number:{contact.membership_number}")
    return {
        "identifiers": identifiers,
        "origin_system": ORIGIN,
        "created_date": iso(contact.created_at),
        "modified_date": iso(contact.updated_at),
        "given_name": contact.first_name,
        "family_name": contact.last_name,
        "email_addresses": [{"address": contact.email, "primary": True,
                             "status": CONSENT_STATUS.get(email_consent.status) if email_consent else None}]
        if contact.email else [],
        "phone_numbers": [{"number": contact.mobile, "primary": True, "number_type": "Mobile",
                           "status": CONSENT_STATUS.get(sms_consent.status) if sms_consent else None,
                           "do_not_call": contact.do_not_call}]
        if contact.mobile else [],
        "postal_addresses": [{"postal_code": contact.postcode, "country": "GB", "primary": True}]
        if contact.postcode else [],
        "membership_number": contact.membership_number,
        "membership_status": contact.status.value,
        "payment_method": contact.payment_method.value if contact.payment_method else None,
        "joined_date": contact.joined_on.isoformat() if contact.joined_on else None,
        "left_date": contact.left_on.isoformat() if contact.left_on else None,
        "job_title": contact.job_title,
        "branch": {"code": contact.branch.code, "name": contact.branch.name},
        "employer": {"identifiers": [ident(contact.employer.id)], "name": contact.employer.name}
        if contact.employer else None,
        "workplace": {"identifiers": [ident(contact.workplace.id)], "name": contact.workplace.name}
        if contact.workplace else None,
        "activist_roles": [{"role": r.role.value, "started_date": r.started_on.isoformat()}
                           for r in contact.current_roles()],
        "_links": {"self": link("api.person", person_id=contact.id),
                   "osdi:outreaches": link("api.person_outreaches", person_id=contact.id)},
    }


def tag(t: Tag) -> dict:
    return {
        "identifiers": [ident(t.id)],
        "origin_system": ORIGIN,
        "created_date": iso(t.created_at),
        "modified_date": iso(t.updated_at),
        "name": t.name,
        "_links": {"self": link("api.tag", tag_id=t.id), "osdi:taggings": link("api.taggings", tag_id=t.id)},
    }


def tagging(tag_id: int, person_id: int, added_at) -> dict:
    return {
        "identifiers": [f"branchline:{tag_id}-{person_id}"],
        "created_date": iso(added_at),
        "modified_date": iso(added_at),
        "item_type": "osdi:person",
        "_links": {"self": link("api.tagging", tag_id=tag_id, person_id=person_id),
                   "osdi:tag": link("api.tag", tag_id=tag_id),
                   "osdi:person": link("api.person", person_id=person_id)},
    }


def call_list(cl: CallList) -> dict:
    return {
        "identifiers": [ident(cl.id)],
        "origin_system": ORIGIN,
        "created_date": iso(cl.created_at),
        "modified_date": iso(cl.updated_at),
        "name": cl.name,
        "description": cl.kind.label,
        "kind": cl.kind.value,
        "active": cl.is_active,
        "branches": [b.code for b in cl.branches],
        "script": cl.script,
        "questions": [{"key": str(q.get("key", "")), "text": str(q.get("text", "")),
                       "type": str(q.get("type", "text")), "choices": [str(c) for c in q.get("choices") or []]}
                      for q in (cl.questions or []) if isinstance(q, dict)],
        "max_attempts": cl.max_attempts,
        "cooldown_hours": cl.cooldown_hours,
        "_links": {"self": link("api.list", list_id=cl.id), "osdi:items": link("api.items", list_id=cl.id),
                   "branchline:claim": link("api.claim", list_id=cl.id)},
    }


def item(entry: CallEntry) -> dict:
    return {
        "identifiers": [ident(entry.id)],
        "origin_system": ORIGIN,
        "created_date": iso(entry.added_at),
        "item_type": "osdi:person",
        "status": entry.status.value,
        "attempts": entry.attempts,
        "due_date": entry.due_by.isoformat(),
        "last_outcome": entry.last_outcome.value if entry.last_outcome else None,
        "reached": entry.reached,
        "next_attempt_date": iso(entry.next_attempt_at),
        "callback_date": iso(entry.callback_at),
        "lease_expires_date": iso(entry.lease_expires_at),
        "completed_date": iso(entry.completed_at),
        "_links": {"self": link("api.item", list_id=entry.list_id, item_id=entry.id),
                   "osdi:list": link("api.list", list_id=entry.list_id),
                   "osdi:person": link("api.person", person_id=entry.contact_id),
                   "branchline:outcomes": link("api.outcomes", list_id=entry.list_id, item_id=entry.id)},
    }


def campaign(c: Campaign, total_outreaches: int) -> dict:
    targets = []
    if c.target_mp:
        targets.append({"kind": "mp", "title": "The writer's MP", "name": None})
    if c.target_employer:
        targets.append({"kind": "employer", "title": "The chief executive of the writer's employer", "name": None})
    targets += [{"kind": "custom", "title": t.role, "name": t.name} for t in c.targets]
    return {
        "identifiers": [ident(c.id)],
        "origin_system": ORIGIN,
        "created_date": iso(c.created_at),
        "modified_date": iso(c.updated_at),
        "title": c.name,
        "description": c.summary,
        "goal": c.goal,
        "status": c.status.value,
        "type": "email",
        "browser_url": link("act.details", slug=c.slug)["href"],
        "start_date": c.opens_on.isoformat() if c.opens_on else None,
        "end_date": c.closes_on.isoformat() if c.closes_on else None,
        "branch": c.branch.code,
        "targets": targets,
        "total_outreaches": total_outreaches,
        "_links": {"self": link("api.advocacy_campaign", campaign_id=c.id),
                   "osdi:outreaches": link("api.campaign_outreaches", campaign_id=c.id)},
    }


def outreach(letter: Letter) -> dict:
    links = {"self": link("api.outreach", outreach_id=letter.id),
             "osdi:advocacy_campaign": link("api.advocacy_campaign", campaign_id=letter.campaign_id)}
    if letter.contact_id:
        links["osdi:person"] = link("api.person", person_id=letter.contact_id)
    return {
        "identifiers": [ident(letter.id)],
        "origin_system": ORIGIN,
        "created_date": iso(letter.sent_at or letter.created_at),
        "modified_date": iso(letter.reply_recorded_at or letter.sent_at or letter.created_at),
        "type": "email",
        "subject": letter.subject,
        "targets": [{"kind": letter.target_kind.value, "name": letter.target_name, "title": letter.target_title}],
        "status": letter.state.value,
        "template_share": letter.template_share,
        "personalised": letter.personalised,
        "reply_status": letter.reply_status.value if letter.reply_status else None,
        "_links": links,
    }


def message(m: Message, viewer: User, contact_visible: bool) -> dict:
    links = {"self": link("api.message", message_id=m.id)}
    if m.contact_id and contact_visible:
        links["osdi:person"] = link("api.person", person_id=m.contact_id)
    own = m.created_by_id is not None and m.created_by_id == viewer.id
    return {
        "identifiers": [ident(m.id)],
        "origin_system": ORIGIN,
        "created_date": iso(m.queued_at),
        "modified_date": iso(m.finished_at or m.delivered_at or m.sent_at or m.claimed_at or m.queued_at),
        "type": m.channel.value,
        "purpose": m.purpose.value,
        "status": m.state.value,
        "send_name": m.send.name if m.send else None,
        "sent_date": iso(m.sent_at),
        "delivered_date": iso(m.delivered_at),
        "error_code": m.error_code,
        # Only the user's own one-off messages (their replies, their tests) carry their text.
        "body": m.body if own else None,
        "_links": links,
    }
