"""Staff messaging: templates, composing and checking a send, starting and cancelling it, its report,
the replies inbox and call follow-up texts.

Functions take models and plain values, flush and never commit (the view commits). Lookups are
scoped: a send belongs to its author unless the user is region-wide; replies are branch-scoped
through InboundMessage.branch_id (numbers that match nobody only for region-wide users).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import abort
from jinja2 import meta
from sqlalchemy import Select, case, func, or_, select

from ..audit import service as audit
from ..auth.models import User
from ..contacts.models import Consent, Contact
from ..database import utcnow
from ..extensions import db
from ..region.models import Branch, Employer, Workplace
from ..scoping import branch_condition, note_probe
from ..vocabulary import Channel, ConsentStatus
from . import audiences, outbox, rendering
from .models import (
    ExclusionReason,
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
from .suppression import is_suppressed

S = MessageState
ACTIVE_STATUSES = (SendStatus.SCHEDULED, SendStatus.QUEUING, SendStatus.SENDING)
PREVIEW_RECIPIENTS = 20
# States a message has left the queue for (counted as "processed" on the progress bar).
PROCESSED_STATES = tuple(s for s in MessageState if s not in (S.QUEUED, S.SENDING))
HANDED_OVER = (S.SENT, S.DELIVERED, S.FAILED, S.UNDELIVERED, S.UNKNOWN)
SCHEDULE_HORIZON = timedelta(days=180)


class MessagingError(ValueError):
    """A request refused for a reason the user can fix; `errors` maps form field names to messages."""

    def __init__(self, errors: dict[str | None, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Templates


@dataclass
class TemplateText:
    name: str
    channel: Channel
    body: str
    subject: str | None = None
    html: str | None = None


def text_problems(channel: Channel, body: str, subject: str | None, html: str | None) -> dict[str, str]:
    """Plain-words problems with a message's text, by form field (empty when it can be used)."""
    email = channel is Channel.EMAIL
    problems: dict[str, str] = {}
    if not (body or "").strip():
        problems["body"] = "Enter the text of the message." if not email else "Enter the text part of the email."
    else:
        problem = rendering.template_problem(body, email=email)
        if problem:
            problems["body"] = problem
    if email:
        if not (subject or "").strip():
            problems["subject"] = "Enter a subject for the email."
        else:
            problem = rendering.template_problem(subject, email=True)
            if problem:
                problems["subject"] = problem
        if (html or "").strip():
            problem = rendering.template_problem(html, email=True, html=True)
            if problem:
                problems["html"] = problem
    return problems


def _clean(text: TemplateText) -> TemplateText:
    email = text.channel is Channel.EMAIL
    return TemplateText(
        name=" ".join((text.name or "").split()), channel=text.channel,
        body=(text.body or "").replace("\r\n", "\n").strip(),
        subject=" ".join((text.subject or "").split()) or None if email else None,
        html=((text.html or "").replace("\r\n", "\n").strip() or None) if email else None)


def _check_text(text: TemplateText) -> None:
    problems = text_problems(text.channel, text.body, text.subject, text.html)
    if not text.name:
        problems = {"name": "Enter a name.", **problems}
    if problems:
        raise MessagingError(problems)


def create_template(text: TemplateText, *, by: User) -> MessageTemplate:
    """A new SMS or email template; audited. Flushes."""
    text = _clean(text)
    _check_text(text)
    template = MessageTemplate(name=text.name, channel=text.channel, body=text.body, subject=text.subject,
                               html=text.html, created_by_id=by.id)
    db.session.add(template)
    db.session.flush()
    audit.record("message_template.create", user=by, obj=template, detail=f"channel={text.channel.value}")
    return template


def update_template(template: MessageTemplate, text: TemplateText, *, by: User) -> list[str]:
    """Change a template's name and text (not its channel); returns the changed fields; audited. Flushes."""
    text = _clean(TemplateText(text.name, template.channel, text.body, text.subject, text.html))
    _check_text(text)
    changed = [name for name in ("name", "body", "subject", "html") if getattr(template, name) != getattr(text, name)]
    for name in changed:
        setattr(template, name, getattr(text, name))
    if changed:
        db.session.flush()
        audit.record("message_template.update", user=by, obj=template, detail="fields=" + ",".join(changed))
    return changed


def set_template_archived(template: MessageTemplate, archived: bool, *, by: User) -> None:
    """Archive a template (kept for the sends that used it, no longer offered) or bring it back."""
    if template.archived != archived:
        template.archived = archived
        audit.record("message_template.archive" if archived else "message_template.restore", user=by, obj=template)


def get_template_or_404(template_id: int) -> MessageTemplate:
    """Templates are shared across the region: any of them, else 404."""
    template = db.session.get(MessageTemplate, template_id)
    if template is None:
        abort(404)
    return template


def templates(channel: Channel | None = None, *, archived: bool = False) -> list[MessageTemplate]:
    """Templates by name, active ones unless `archived`."""
    stmt = select(MessageTemplate).where(MessageTemplate.archived.is_(archived))
    if channel is not None:
        stmt = stmt.where(MessageTemplate.channel == channel)
    return list(db.session.scalars(stmt.order_by(func.lower(MessageTemplate.name), MessageTemplate.id)))


def sample_rendering(channel: Channel, body: str, subject: str | None = None, html: str | None = None):
    """(subject, text, html, SmsLength or None) for the sample member, or None when the text has a problem."""
    if text_problems(channel, body, subject, html):
        return None
    subject_r, body_r, html_r = rendering.CompiledText(body, subject, html).render(rendering.SAMPLE_VALUES)
    return subject_r, body_r, html_r, rendering.sms_length(body_r) if channel is Channel.SMS else None


# ---------------------------------------------------------------------------------------------
# Audiences: what the compose form offers for each registered kind


@dataclass(frozen=True)
class AudiencePicker:
    """How the compose form offers one audience kind.

    options(user, context) → [(value, label)] the user may choose (context holds what only the view
    can know, such as the session's saved contacts searches); params(value, user, context) → the
    parameters stored in Send.audience, or None when the value is no longer available;
    describe(params, user) → the words stored in Send.audience_label.
    """

    options: Callable[[User, dict], list[tuple[str, str]]]
    params: Callable[[str, User, dict], dict | None]
    describe: Callable[[dict, User], str]
    empty_hint: str = ""


PICKERS: dict[str, AudiencePicker] = {}


def audience_picker(key: str, picker: AudiencePicker) -> None:
    """Register how the compose form offers an audience kind (the campaigns area adds "campaign")."""
    PICKERS[key] = picker


def offered_kinds() -> list[audiences.AudienceKind]:
    """The registered audience kinds the compose form can offer, in registration order."""
    return [kind for key, kind in audiences.AUDIENCES.items() if key in PICKERS]


def _describe_contacts_filter(values: dict) -> str:
    from ..calls.lists import describe_filter
    from ..contacts.service import filter_from_values

    return describe_filter(filter_from_values(values))


def _contacts_options(user: User, context: dict) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for key, values in context.get("searches") or []:
        found.setdefault(_describe_contacts_filter(values), key)  # the same search twice is offered once
    return [(key, f"Contacts: {text}") for text, key in found.items()]


def _contacts_params(value: str, user: User, context: dict) -> dict | None:
    for key, values in context.get("searches") or []:
        if key == value:
            return {"filter": dict(values)}
    return None


audience_picker("contacts", AudiencePicker(
    options=_contacts_options, params=_contacts_params,
    describe=lambda params, user: "Contacts: " + _describe_contacts_filter(params.get("filter") or {}),
    empty_hint="Search the contacts first: each search you make is offered here."))


def _call_lists(user: User) -> list:
    from ..calls.models import CallList
    from ..calls.service import lists_stmt

    return list(db.session.scalars(lists_stmt(user, to_message=True)
                                   .order_by(CallList.is_active.desc(), CallList.name, CallList.id)))


def _call_list_params(value: str, user: User, context: dict) -> dict | None:
    return {"call_list_id": int(value)} if value in {str(c.id) for c in _call_lists(user)} else None


def _describe_call_list(params: dict, user: User) -> str:
    from ..calls.models import CallList

    found = db.session.get(CallList, params.get("call_list_id") or 0)
    return f"Call list: {found.name}" if found else "Call list (deleted)"


audience_picker("call_list", AudiencePicker(
    options=lambda user, context: [(str(c.id), c.name + ("" if c.is_active else " (paused)")) for c in _call_lists(user)],
    params=_call_list_params, describe=_describe_call_list,
    empty_hint="You can’t see any call lists."))


def _campaigns(user: User) -> list:
    # Imported when used: the campaigns area registers the "campaign" audience kind itself, and this
    # picker is only offered while that kind is registered (offered_kinds()).
    from ..campaigns.models import Campaign
    from ..campaigns.service import campaigns_stmt

    return list(db.session.scalars(campaigns_stmt(user).order_by(Campaign.name, Campaign.id)))


def _describe_campaign(params: dict, user: User) -> str:
    from ..campaigns.models import Campaign

    found = db.session.get(Campaign, params.get("campaign_id") or 0)
    return f"Took part in: {found.name}" if found else "Campaign (deleted)"


audience_picker("campaign", AudiencePicker(
    options=lambda user, context: [(str(c.id), c.name) for c in _campaigns(user)],
    params=lambda value, user, context: ({"campaign_id": int(value)}
                                         if value in {str(c.id) for c in _campaigns(user)} else None),
    describe=_describe_campaign, empty_hint="You can’t see any campaigns yet."))


def audience_count(kind: str, params: dict, user: User) -> int:
    """How many contacts (the user may see) an audience holds, before consent and other checks."""
    found = audiences.AUDIENCES.get(kind)
    if found is None:
        return 0
    ids = found.query(dict(params), user)
    return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0


# ---------------------------------------------------------------------------------------------
# Composing


@dataclass
class Draft:
    name: str
    channel: Channel
    body: str
    audience_kind: str
    audience: dict
    subject: str | None = None
    html: str | None = None
    template_id: int | None = None


def _check_draft(draft: Draft, user: User) -> tuple[TemplateText, str]:
    text = _clean(TemplateText(draft.name, draft.channel, draft.body, draft.subject, draft.html))
    problems: dict[str | None, str] = {}
    if not text.name:
        problems["name"] = "Enter a name for this send, like ‘Pay ballot reminder – June’."
    problems.update(text_problems(text.channel, text.body, text.subject, text.html))
    picker = PICKERS.get(draft.audience_kind)
    if draft.audience_kind not in audiences.AUDIENCES or picker is None:
        problems["audience_kind"] = "Choose who the message goes to."
    elif audience_count(draft.audience_kind, draft.audience, user) == 0:
        problems["audience_kind"] = ("Nobody you can see is in that audience. Choose another search or list, "
                                     "or widen the search.")
    if problems:
        raise MessagingError(problems)
    return text, picker.describe(draft.audience, user)[:300]


def create_send(draft: Draft, *, by: User) -> Send:
    """A draft send to an audience the user may see; refuses unknown merge fields and empty audiences. Flushes."""
    text, label = _check_draft(draft, by)
    send = Send(name=text.name[:160], channel=text.channel, body=text.body, subject=text.subject, html=text.html,
                template_id=draft.template_id, audience_kind=draft.audience_kind, audience=dict(draft.audience),
                audience_label=label, created_by_id=by.id, status=SendStatus.DRAFT,
                respect_quiet_hours=True)
    db.session.add(send)
    db.session.flush()
    audit.record("message_send.create", user=by, obj=send,
                 detail=f"channel={send.channel.value} audience={send.audience_kind}")
    return send


def update_send(send: Send, draft: Draft, *, by: User) -> None:
    """Change a draft's text or audience (only drafts can change). Flushes."""
    if send.status is not SendStatus.DRAFT:
        raise MessagingError({None: "Only a draft can be changed."})
    text, label = _check_draft(draft, by)
    send.name, send.channel, send.body = text.name[:160], text.channel, text.body
    send.subject, send.html, send.template_id = text.subject, text.html, draft.template_id
    send.audience_kind, send.audience, send.audience_label = draft.audience_kind, dict(draft.audience), label
    db.session.flush()
    audit.record("message_send.update", user=by, obj=send)


def delete_draft(send: Send, *, by: User) -> None:
    """Throw away a draft that was never sent."""
    if send.status is not SendStatus.DRAFT:
        raise MessagingError({None: "Only a draft can be deleted; a send that started stays for its report."})
    audit.record("message_send.delete", user=by, obj=send)
    db.session.delete(send)


def sends_stmt(user: User) -> Select:
    """Sends the user may see: every send for region-wide users, else their own."""
    stmt = select(Send)
    if not user.region_wide:
        stmt = stmt.where(Send.created_by_id == user.id)
    return stmt


def get_send_or_404(user: User, send_id: int) -> Send:
    """A send the user may see, else 404 (the same as a missing id)."""
    found = db.session.scalar(sends_stmt(user).where(Send.id == send_id))
    if found is None:
        abort(404)
    return found


def active_sends(user: User) -> list[Send]:
    """Scheduled, preparing and sending sends, soonest first."""
    return list(db.session.scalars(sends_stmt(user).where(Send.status.in_(ACTIVE_STATUSES))
                                   .order_by(func.coalesce(Send.scheduled_for, Send.started_at), Send.id)))


def drafts(user: User) -> list[Send]:
    """The user's own drafts (region-wide users see everyone's), newest first."""
    return list(db.session.scalars(sends_stmt(user).where(Send.status == SendStatus.DRAFT)
                                   .order_by(Send.updated_at.desc(), Send.id.desc())))


def finished_stmt(user: User) -> Select:
    """Finished and cancelled sends the user may see, most recent first."""
    return sends_stmt(user).where(Send.status.in_([SendStatus.DONE, SendStatus.CANCELLED])).order_by(
        func.coalesce(Send.finished_at, Send.cancelled_at).desc(), Send.id.desc())


# ---------------------------------------------------------------------------------------------
# The check page


@dataclass
class Longest:
    encoding: str
    characters: int
    segments: int
    non_gsm: str
    total_segments: int
    ucs2_recipients: int


@dataclass
class Check:
    recipients: list[int]
    excluded: list[tuple[ExclusionReason, int]]
    total: int
    longest: Longest | None = None

    @property
    def count(self) -> int:
        return len(self.recipients)

    @property
    def excluded_count(self) -> int:
        return sum(n for _, n in self.excluded)


_FIELD_COLUMNS = {
    "first_name": Contact.first_name, "last_name": Contact.last_name, "job_title": Contact.job_title,
    "membership_number": Contact.membership_number, "branch": Branch.name, "employer": Employer.name,
    "workplace": Workplace.name,
}


def used_fields(*sources: str | None) -> set[str]:
    """The merge fields these texts use."""
    env = rendering._text_env
    used: set[str] = set()
    for source in sources:
        if source:
            used |= meta.find_undeclared_variables(env.parse(source))
    return used


def _longest_sms(send: Send, contact_ids: list[int]) -> Longest | None:
    """The SMS length of every recipient's text: the longest, the total segments, how many need UCS-2."""
    if not contact_ids:
        return None
    compiled = rendering.CompiledText(send.body)
    used = used_fields(send.body)
    if "full_name" in used:
        used |= {"first_name", "last_name"}
    columns = [name for name in _FIELD_COLUMNS if name in used]
    lengths: Counter = Counter()  # distinct values rendered once, counted per recipient
    if not columns:
        lengths[(rendering.sms_length(compiled.render({k: "" for k in rendering.MERGE_FIELDS})[1]))] = len(contact_ids)
    else:
        wanted = set(contact_ids)
        # One pass over the audience (the same select the outbox uses), keeping the recipients: far
        # quicker than thousands of ids in IN lists.
        stmt = (select(Contact.id, *[_FIELD_COLUMNS[c] for c in columns]).select_from(Contact)
                .outerjoin(Branch, Branch.id == Contact.branch_id)
                .outerjoin(Employer, Employer.id == Contact.employer_id)
                .outerjoin(Workplace, Workplace.id == Contact.workplace_id)
                .where(Contact.id.in_(audiences.contact_ids(send))))
        per_values: Counter = Counter()  # recipients per distinct set of merge values: each is rendered once
        for row in db.session.execute(stmt):
            if row[0] in wanted:
                per_values[row[1:]] += 1
        for key, n in per_values.items():
            values = {k: "" for k in rendering.MERGE_FIELDS}
            values.update({c: (v or "") for c, v in zip(columns, key)})
            values["full_name"] = f"{values['first_name']} {values['last_name']}".strip()
            lengths[rendering.sms_length(compiled.render(values)[1])] += n
    longest = max(lengths, key=lambda s: (s.segments, s.characters))
    non_gsm = "".join(dict.fromkeys("".join(s.non_gsm for s in lengths)))
    return Longest(encoding=longest.encoding, characters=longest.characters, segments=longest.segments,
                   non_gsm=non_gsm, total_segments=sum(s.segments * n for s, n in lengths.items()),
                   ucs2_recipients=sum(n for s, n in lengths.items() if s.encoding == "UCS-2"))


def check(send: Send) -> Check:
    """The exact numbers before sending: who receives it, who is left out and why, the longest SMS."""
    recipients = outbox.classify(send)
    excluded = [(reason, recipients.excluded.get(reason.value, 0)) for reason in ExclusionReason
                if recipients.excluded.get(reason.value)]
    result = Check(recipients=recipients.contact_ids, excluded=excluded, total=recipients.total)
    if send.channel is Channel.SMS:
        result.longest = _longest_sms(send, recipients.contact_ids)
    return result


@dataclass
class Preview:
    position: int  # 1-based among the recipients
    contact: Contact
    subject: str | None
    body: str
    html: str | None
    sms: rendering.SmsLength | None


def preview_choices(contact_ids: list[int]) -> list[tuple[int, Contact]]:
    """The first recipients as (position, contact), for the preview picker."""
    ids = contact_ids[:PREVIEW_RECIPIENTS]
    found = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids)))} if ids else {}
    return [(i + 1, found[cid]) for i, cid in enumerate(ids) if cid in found]


def preview(send: Send, contact: Contact, position: int) -> Preview:
    """The send's text exactly as this recipient would get it."""
    values = rendering.merge_values(contact)
    if send.channel is Channel.EMAIL:
        values["unsubscribe_url"] = rendering.SAMPLE_VALUES["unsubscribe_url"]
    subject, body, html = rendering.CompiledText(send.body, send.subject, send.html).render(values)
    if send.channel is Channel.EMAIL and not html:
        html = rendering.text_to_html(body)
    return Preview(position, contact, subject, body, html,
                   rendering.sms_length(body) if send.channel is Channel.SMS else None)


def send_test(send: Send, *, by: User, to_address: str, nonce: str) -> Message:
    """Queue the send's text, filled in for the sample member, to the user's own number or email; audited."""
    values = dict(rendering.SAMPLE_VALUES)
    subject, body, html = rendering.CompiledText(send.body, send.subject, send.html).render(values)
    if send.channel is Channel.EMAIL:
        subject = f"[Test] {subject or ''}".strip()
    key = f"test:{send.id}:{nonce}"[:120]
    existing = db.session.scalar(select(Message).where(Message.dedupe_key == key))
    if existing is not None:
        return existing  # the same click posted twice: one test, one audit event
    message = outbox.queue_message(
        channel=send.channel, purpose=Purpose.TEST, dedupe_key=key, body=body,
        subject=subject, html=html, to_address=to_address, created_by=by)
    audit.record("message_send.test", user=by, obj=send, detail=f"channel={send.channel.value} message={message.id}")
    return message


def start(send: Send, *, by: User, at: datetime | None, respect_quiet_hours: bool, now: datetime | None = None) -> None:
    """Send now (at=None) or at a future time; refuses the past and a send with nobody to receive it."""
    now = now or utcnow()
    if send.status is not SendStatus.DRAFT:
        raise MessagingError({None: "This send has already been started."})
    if at is not None:
        if at <= now:
            raise MessagingError({"send_at": "The time to send must be in the future."})
        if at > now + SCHEDULE_HORIZON:
            raise MessagingError({"send_at": "Schedule a send within the next six months."})
    if not outbox.classify(send).contact_ids:
        raise MessagingError({None: "Nobody in this audience can receive it, so there is nothing to send."})
    send.respect_quiet_hours = respect_quiet_hours if send.channel is Channel.SMS else False
    outbox.start_send(send, at=at)
    audit.record("message_send.schedule" if at else "message_send.start", user=by, obj=send,
                 detail=f"channel={send.channel.value} quiet_hours={'yes' if send.respect_quiet_hours else 'no'}"
                 + (f" at={at.isoformat()}" if at else ""))


def cancel(send: Send, *, by: User) -> int:
    """Cancel a scheduled or running send: nothing still queued goes out; audited. Returns how many were stopped."""
    if send.status not in ACTIVE_STATUSES:
        raise MessagingError({None: "Only a scheduled or running send can be cancelled."})
    stopped = outbox.cancel_send(send, by=by)
    audit.record("message_send.cancel", user=by, obj=send, detail=f"stopped={stopped}")
    return stopped


def quiet_hours_words(spec: str | None) -> str:
    """SMS quiet hours in words, e.g. ‘no texts between 21:00 and 08:00 UK time’."""
    if not spec:
        return "No quiet hours are set: texts go at any time."
    start_s, end_s = (p.strip() for p in spec.split("-"))
    return f"No texts between {start_s} and {end_s} UK time: texts due then wait until {end_s}."


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class Report:
    counts: dict[MessageState, int]
    total: int
    processed: int
    handed_over: int
    delivered: int
    failures: list
    opt_outs: list[tuple[SuppressionReason, int]]
    replies: int
    stops: int
    timeline: list
    bucket: str

    @property
    def delivery_pct(self) -> float | None:
        return round(100 * self.delivered / self.handed_over, 1) if self.handed_over else None

    @property
    def processed_pct(self) -> float:
        return round(100 * self.processed / self.total, 1) if self.total else 0.0


def state_counts(send_id: int) -> dict[MessageState, int]:
    """How many of a send's messages are in each state."""
    return dict(db.session.execute(select(Message.state, func.count()).where(Message.send_id == send_id)
                                   .group_by(Message.state)).all())


def progress(send: Send) -> dict:
    """A send's live figures for the progress bar (plain JSON values)."""
    counts = state_counts(send.id)
    total = sum(counts.values())
    processed = sum(n for s, n in counts.items() if s in PROCESSED_STATES)
    return {
        "status": send.status.value, "status_label": send.status.label,
        "finished": send.status in (SendStatus.DONE, SendStatus.CANCELLED),
        "total": total, "processed": processed, "recipients": send.recipient_count,
        "delivered": counts.get(S.DELIVERED, 0),
        "counts": {s.value: counts.get(s, 0) for s in MessageState},
    }


_BUCKETS = [(timedelta(minutes=1), "minute"), (timedelta(minutes=5), "5 minutes"), (timedelta(minutes=15), "15 minutes"),
            (timedelta(hours=1), "hour"), (timedelta(hours=6), "6 hours"), (timedelta(days=1), "day")]


def _timeline(send_id: int) -> tuple[list, str]:
    """Messages handed over, delivered and failed per time bucket (at most ~24 rows)."""
    rows = db.session.execute(select(Message.sent_at, Message.delivered_at, Message.finished_at, Message.state)
                              .where(Message.send_id == send_id, or_(Message.sent_at.is_not(None),
                                                                      Message.finished_at.is_not(None)))).all()
    moments = [m for r in rows for m in (r.sent_at, r.delivered_at, r.finished_at) if m is not None]
    if not moments:
        return [], "minute"
    first, last = min(moments), max(moments)
    size, label = next(((s, lbl) for s, lbl in _BUCKETS if (last - first) / s <= 24), _BUCKETS[-1])
    epoch = first.replace(second=0, microsecond=0)

    def slot(moment: datetime) -> datetime:
        return epoch + size * ((moment - epoch) // size)

    table: dict[datetime, Counter] = {}
    for sent_at, delivered_at, finished_at, state in rows:
        if sent_at is not None:
            table.setdefault(slot(sent_at), Counter())["sent"] += 1
        if state is S.DELIVERED and delivered_at is not None:
            table.setdefault(slot(delivered_at), Counter())["delivered"] += 1
        elif state in (S.FAILED, S.UNDELIVERED, S.SKIPPED, S.UNKNOWN) and finished_at is not None:
            table.setdefault(slot(finished_at), Counter())["failed"] += 1
    return [(at, table[at]) for at in sorted(table)], label


def report(send: Send) -> Report:
    """Everything about how a send went: states, delivery rate, failures, opt-outs, replies, over time."""
    counts = state_counts(send.id)
    total = sum(counts.values())
    handed_over = sum(counts.get(s, 0) for s in HANDED_OVER)
    failures = db.session.execute(
        select(Message.state, Message.error_code, func.count(), func.max(Message.error_detail))
        .where(Message.send_id == send.id, Message.state.in_([S.FAILED, S.UNDELIVERED, S.SKIPPED, S.UNKNOWN]))
        .group_by(Message.state, Message.error_code).order_by(func.count().desc())).all()
    in_send = select(Message.id).where(Message.send_id == send.id)
    opt_outs = db.session.execute(select(Suppression.reason, func.count()).where(Suppression.message_id.in_(in_send))
                                  .group_by(Suppression.reason)).all()
    inbound = dict(db.session.execute(select(InboundMessage.kind, func.count())
                                      .where(InboundMessage.in_reply_to_id.in_(in_send))
                                      .group_by(InboundMessage.kind)).all())
    timeline, bucket = _timeline(send.id)
    return Report(counts=counts, total=total, processed=sum(n for s, n in counts.items() if s in PROCESSED_STATES),
                  handed_over=handed_over, delivered=counts.get(S.DELIVERED, 0), failures=failures,
                  opt_outs=sorted(opt_outs, key=lambda r: -r[1]), replies=inbound.get(InboundKind.REPLY, 0),
                  stops=inbound.get(InboundKind.STOP, 0), timeline=timeline, bucket=bucket)


def excluded_rows(send: Send) -> list[tuple[ExclusionReason, int]]:
    """The exclusions recorded when the send's recipients were prepared, with their labels."""
    saved = send.excluded or {}
    return [(reason, saved[reason.value]) for reason in ExclusionReason if saved.get(reason.value)]


def unknown_messages(send: Send, user: User, limit: int = 100) -> list[Message]:
    """The send's messages in the unknown state, for contacts the user may see."""
    return list(db.session.scalars(
        select(Message).join(Contact, Contact.id == Message.contact_id)
        .where(Message.send_id == send.id, Message.state == S.UNKNOWN, branch_condition(user, Contact.branch_id))
        .order_by(Message.id).limit(limit)))


def get_unknown_or_404(send: Send, user: User, message_id: int) -> Message:
    """One of the send's messages to a contact the user may see, else 404."""
    found = db.session.scalar(
        select(Message).join(Contact, Contact.id == Message.contact_id)
        .where(Message.id == message_id, Message.send_id == send.id, branch_condition(user, Contact.branch_id)))
    if found is None:
        abort(404)
    return found


def resolve(message: Message, *, sent: bool, by: User) -> Message | None:
    """A person decided about an unknown message: it was sent, or send it again; audited."""
    if message.state is not S.UNKNOWN:
        raise MessagingError({None: "Someone has already decided about this message."})
    copy = outbox.resolve_unknown(message, sent=sent, by=by)
    audit.record("message.resolve_unknown", user=by, obj=message,
                 detail=f"decision={'sent' if sent else 'send_again'}" + (f" copy={copy.id}" if copy else ""))
    return copy


# ---------------------------------------------------------------------------------------------
# Replies


def replies_stmt(user: User) -> Select:
    """Text replies the user may see: their branches' (numbers matching nobody only for region-wide users)."""
    return select(InboundMessage).where(InboundMessage.kind == InboundKind.REPLY,
                                        branch_condition(user, InboundMessage.branch_id))


def inbox_stmt(user: User, *, handled: bool | None = None) -> Select:
    """The replies inbox: unhandled first, newest first."""
    stmt = replies_stmt(user)
    if handled is True:
        stmt = stmt.where(InboundMessage.handled_at.is_not(None))
    elif handled is False:
        stmt = stmt.where(InboundMessage.handled_at.is_(None))
    return stmt.order_by(case((InboundMessage.handled_at.is_(None), 0), else_=1),
                         InboundMessage.received_at.desc(), InboundMessage.id.desc())


def unhandled_count(user: User) -> int:
    """How many replies the user may see still need attention."""
    return db.session.scalar(select(func.count()).select_from(
        replies_stmt(user).where(InboundMessage.handled_at.is_(None)).subquery())) or 0


def get_reply_or_404(user: User, reply_id: int) -> InboundMessage:
    """A reply the user may see (their branches'), else 404 exactly like a missing id."""
    found = db.session.scalar(replies_stmt(user).where(InboundMessage.id == reply_id))
    if found is None:
        note_probe(InboundMessage, reply_id, user)
        abort(404)
    return found


@dataclass
class ThreadItem:
    at: datetime
    inbound: bool
    body: str
    state: MessageState | None = None
    label: str = ""
    error: str | None = None
    by: str | None = None
    id: int = 0
    current: bool = False


@dataclass
class Thread:
    items: list[ThreadItem] = field(default_factory=list)


def _sent_text(message: Message, cache: dict) -> str:
    if message.body is not None or message.send is None or message.contact is None:
        return message.body or ""
    key = message.send_id
    if key not in cache:
        cache[key] = rendering.CompiledText(message.send.body)
    return cache[key].render(rendering.merge_values(message.contact))[1]


def conversation(reply: InboundMessage, limit: int = 100) -> Thread:
    """The texts between us and this reply's sender, oldest first: theirs and ours (SMS only)."""
    address = reply.from_address
    ours_cond = [Message.to_address == address]
    theirs_cond = [InboundMessage.from_address == address]
    if reply.contact_id is not None:
        ours_cond.append(Message.contact_id == reply.contact_id)
        theirs_cond.append(InboundMessage.contact_id == reply.contact_id)
    ours = db.session.scalars(select(Message).where(Message.channel == Channel.SMS, or_(*ours_cond),
                                                    Message.purpose != Purpose.TEST)
                              .order_by(Message.queued_at.desc()).limit(limit)).all()
    theirs = db.session.scalars(select(InboundMessage).where(InboundMessage.channel == Channel.SMS, or_(*theirs_cond))
                                .order_by(InboundMessage.received_at.desc()).limit(limit)).all()
    cache: dict = {}
    items = [ThreadItem(at=m.sent_at or m.queued_at, inbound=False, body=_sent_text(m, cache), state=m.state,
                        label=m.send.name if m.send else m.purpose.label, error=m.error_detail,
                        by=m.created_by.name if m.created_by else None, id=m.id) for m in ours]
    items += [ThreadItem(at=i.received_at, inbound=True, body=i.body, label=i.kind.label, id=i.id,
                         current=i.id == reply.id) for i in theirs]
    return Thread(sorted(items, key=lambda t: (t.at, t.inbound))[-limit:])


def answer(reply: InboundMessage, body: str, *, by: User, nonce: str) -> Message:
    """Text an answer to a reply (one-to-one SMS) and mark the reply handled; audited."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise MessagingError({"body": "Enter your answer."})
    if len(body) > 1000:
        raise MessagingError({"body": "Keep the answer to 1,000 characters or fewer."})
    if is_suppressed(Channel.SMS, reply.from_address):
        raise MessagingError({None: "This number has opted out of texts (STOP), so it can’t be answered by text."})
    message = outbox.queue_message(
        channel=Channel.SMS, purpose=Purpose.REPLY, dedupe_key=f"reply:{reply.id}:{nonce}"[:120], body=body,
        contact=reply.contact, to_address=None if reply.contact is not None else reply.from_address, created_by=by)
    mark_handled(reply, True, by=by)
    audit.record("inbound.answer", user=by, obj=reply, detail=f"message={message.id}")
    return message


def mark_handled(reply: InboundMessage, handled: bool, *, by: User) -> None:
    """Mark a reply handled (nothing more to do) or back to needing attention."""
    if handled and reply.handled_at is None:
        reply.handled_at, reply.handled_by_id = utcnow(), by.id
        audit.record("inbound.handled", user=by, obj=reply)
    elif not handled and reply.handled_at is not None:
        reply.handled_at = reply.handled_by_id = None
        audit.record("inbound.unhandled", user=by, obj=reply)


# ---------------------------------------------------------------------------------------------
# Call follow-up texts


# Outcomes after which a follow-up text makes no sense (or is unwelcome).
NO_FOLLOW_UP_OUTCOMES = frozenset({"wrong_number", "do_not_call"})


def follow_up_text(call_list, contact: Contact) -> str | None:
    """The list's follow-up SMS filled in for this contact, when one may be offered: the list has an SMS
    template, the contact has a mobile, agreed to texts and is not suppressed. None otherwise."""
    template = call_list.follow_up_template
    if template is None or template.archived or template.channel is not Channel.SMS or not contact.mobile:
        return None
    consent = db.session.scalar(select(Consent.status).where(Consent.contact_id == contact.id,
                                                             Consent.channel == Channel.SMS))
    if consent is not ConsentStatus.GRANTED or is_suppressed(Channel.SMS, contact.mobile):
        return None
    if rendering.template_problem(template.body):
        return None
    return rendering.CompiledText(template.body).render(rendering.merge_values(contact))[1]


def queue_follow_up(call_list, contact: Contact, attempt, *, by: User) -> Message | None:
    """Queue the follow-up text after a call, once per call; consent is checked again when it goes."""
    if attempt.outcome.value in NO_FOLLOW_UP_OUTCOMES:
        return None
    body = follow_up_text(call_list, contact)
    if body is None:
        return None
    message = outbox.queue_message(channel=Channel.SMS, purpose=Purpose.FOLLOW_UP, contact=contact, body=body,
                                   dedupe_key=f"follow:{attempt.id}", created_by=by)
    audit.record("message.follow_up", user=by, obj=message, detail=f"list={call_list.id} attempt={attempt.id}")
    return message


def set_follow_up_template(call_list, template: MessageTemplate | None, *, by: User) -> bool:
    """Choose the list's follow-up SMS template (or none); audited. Returns whether it changed."""
    if template is not None and (template.channel is not Channel.SMS or template.archived):
        raise MessagingError({"template": "Choose one of the SMS templates listed."})
    new_id = template.id if template else None
    if call_list.follow_up_template_id == new_id:
        return False
    call_list.follow_up_template_id = new_id
    call_list.follow_up_template = template
    audit.record("call_list.follow_up", user=by, obj=call_list, detail=f"template={new_id or '-'}")
    return True
