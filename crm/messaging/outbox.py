"""The outbox: one row per message, handed to a provider at most once, its state only moving forward.

Preparing a send inserts one queued row per eligible recipient (a unique key per send, contact and
channel makes preparing twice harmless) and enqueues batch jobs holding ids only. A batch job
claims each row with a conditional update (queued → sending) that also re-checks consent and
suppression, commits, calls the provider, and records the result. A row a stopped worker left in
`sending` is reconciled with the provider where it can say, otherwise marked unknown for a person:
it is never sent again automatically.
"""
from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from rq import Retry
from sqlalchemy import TextClause, and_, bindparam, exists, func, select, text, update
from sqlalchemy.orm import aliased

from ..contacts.models import Consent, Contact
from ..database import UTCDateTime, insert_ignoring_duplicates, utcnow
from ..extensions import db
from ..queue import enqueue_after_commit, get_queue, get_redis
from ..region.models import Branch, Employer, Workplace
from ..vocabulary import Channel, ConsentStatus
from . import audiences
from .models import (
    CONSENT_PURPOSES,
    FINAL_STATES,
    ExclusionReason,
    Message,
    MessageState,
    Purpose,
    Send,
    SendStatus,
    Suppression,
    SuppressionReason,
    states_before,
)
from .providers import Accepted, Outgoing, RateLimited, Rejected, Uncertain, get_provider, provider_name
from .rendering import CompiledText, text_to_html
from .suppression import canonical_address, suppress
from .tokens import unsubscribe_url

log = logging.getLogger("branchline.messaging")
UK = ZoneInfo("Europe/London")
S = MessageState


class SendLater(Exception):
    """Raised by a batch that hit a provider's rate limit: RQ retries it with backoff and jitter."""


# ---------------------------------------------------------------------------------------------
# Who a send reaches


@dataclass
class Recipients:
    """A send's audience split into who will receive it and who is left out, and why."""

    contact_ids: list[int] = field(default_factory=list)
    excluded: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return len(self.contact_ids) + sum(self.excluded.values())


def address_column(channel: Channel):
    return Contact.mobile if channel is Channel.SMS else func.lower(Contact.email)


def classify(send: Send) -> Recipients:
    """Everyone in the send's audience (as its author may see it), sorted into recipients and exclusions."""
    channel = send.channel
    address = address_column(channel)
    consent = aliased(Consent)
    stmt = (
        select(Contact.id, address, consent.status, Suppression.id)
        .outerjoin(consent, and_(consent.contact_id == Contact.id, consent.channel == channel))
        .outerjoin(Suppression, and_(Suppression.channel == channel, Suppression.address == address))
        .where(Contact.id.in_(audiences.contact_ids(send)))
        .order_by(Contact.id)
    )
    result = Recipients()
    seen: set[str] = set()
    for contact_id, addr, consent_status, suppressed in db.session.execute(stmt):
        if not addr:
            reason = ExclusionReason.NO_ADDRESS
        elif consent_status is ConsentStatus.WITHDRAWN:
            reason = ExclusionReason.OPTED_OUT
        elif consent_status is not ConsentStatus.GRANTED:
            reason = ExclusionReason.NO_CONSENT
        elif suppressed is not None:
            reason = ExclusionReason.SUPPRESSED
        elif addr in seen:
            reason = ExclusionReason.DUPLICATE
        else:
            seen.add(addr)
            result.contact_ids.append(contact_id)
            continue
        result.excluded[reason.value] += 1
    return result


# ---------------------------------------------------------------------------------------------
# Starting, preparing and stopping a send


def start_send(send: Send, *, at: datetime | None = None) -> None:
    """Send now, or at `at`: recipients are worked out when it starts, so later opt-outs count."""
    if send.status is not SendStatus.DRAFT:
        raise ValueError("only a draft can be sent")
    if at is not None and at > utcnow():
        send.status = SendStatus.SCHEDULED
        send.scheduled_for = at
        enqueue_after_commit("jobs.messaging.prepare_send", send.id, at=at)
    else:
        send.status = SendStatus.QUEUING
        send.scheduled_for = None
        enqueue_after_commit("jobs.messaging.prepare_send", send.id)
    send.active_at = at or utcnow()


def prepare_send(send: Send) -> list[tuple[int, int]]:
    """Insert the queued outbox rows and return the id ranges to hand to batch jobs; commits.

    Running it again (a retried job) inserts nothing new and returns the ranges still queued.
    """
    if send.status not in (SendStatus.SCHEDULED, SendStatus.QUEUING):
        return []
    recipients = classify(send)
    now = utcnow()
    rows = [
        {"dedupe_key": f"send:{send.id}:{cid}:{send.channel.value}", "send_id": send.id, "contact_id": cid,
         "channel": send.channel.value, "purpose": Purpose.BULK.value, "state": S.QUEUED.value, "queued_at": now}
        for cid in recipients.contact_ids
    ]
    table = Message.__table__
    for start in range(0, len(rows), 5000):
        db.session.execute(insert_ignoring_duplicates(table), rows[start:start + 5000])
    send.recipient_count = db.session.scalar(select(func.count()).where(Message.send_id == send.id))
    send.excluded = dict(recipients.excluded)
    send.status = SendStatus.SENDING
    send.started_at = send.started_at or now
    send.active_at = now
    db.session.commit()
    return queued_ranges(send.id)


def queued_ranges(send_id: int) -> list[tuple[int, int]]:
    """A send's queued rows as (first id, last id) ranges of at most one batch each."""
    size = current_app.config["MESSAGE_BATCH_SIZE"]
    ids = db.session.scalars(select(Message.id).where(Message.send_id == send_id, Message.state == S.QUEUED)
                             .order_by(Message.id)).all()
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def retry_policy() -> Retry:
    """Backoff with jitter, so workers that hit a rate limit together do not come back together."""
    intervals = [max(1, round(s * random.uniform(0.8, 1.25))) for s in current_app.config["MESSAGE_RETRY_INTERVALS"]]
    return Retry(max=len(intervals), interval=intervals)


def enqueue_batches(send_id: int, ranges: list[tuple[int, int]]) -> None:
    """Hand the ranges to workers (after the rows are committed), one job per batch, ids only."""
    if not ranges:
        return
    queue = get_queue()
    timeout = max(600, current_app.config["MESSAGE_BATCH_SIZE"] * 3)
    for start in range(0, len(ranges), 1000):
        queue.enqueue_many([
            queue.prepare_data("jobs.messaging.send_batch", (send_id, lo, hi), retry=retry_policy(), timeout=timeout)
            for lo, hi in ranges[start:start + 1000]
        ])


def cancel_send(send: Send, by=None) -> int:
    """Stop a scheduled or running send: nothing still queued goes out. Returns how many were stopped."""
    if send.status in (SendStatus.DONE, SendStatus.CANCELLED, SendStatus.DRAFT):
        return 0
    now = utcnow()
    stopped = db.session.execute(
        update(Message).where(Message.send_id == send.id, Message.state == S.QUEUED)
        .values(state=S.CANCELLED, finished_at=now).execution_options(synchronize_session=False)
    ).rowcount
    send.status = SendStatus.CANCELLED
    send.cancelled_at = now
    send.cancelled_by_id = getattr(by, "id", None)
    return stopped


# ---------------------------------------------------------------------------------------------
# One-off messages: a caller's follow-up, an answer to a reply, a letter, a test


def queue_message(*, channel: Channel, purpose: Purpose, dedupe_key: str, body: str, contact=None,
                  to_address: str | None = None, subject: str | None = None, html: str | None = None,
                  reply_to: str | None = None, cc: str | None = None, created_by=None) -> Message:
    """Add one message to the outbox and send it once the caller's transaction commits.

    With a contact and no address the contact's current number or email is used when it is sent.
    The same dedupe key twice returns the first message and sends nothing more.
    """
    if contact is None and not to_address:
        raise ValueError("a message needs a contact or an address")
    db.session.execute(insert_ignoring_duplicates(Message.__table__).values(
        dedupe_key=dedupe_key, channel=channel.value, purpose=purpose.value, state=S.QUEUED.value,
        contact_id=getattr(contact, "id", None), to_address=to_address, subject=subject, body=body, html=html,
        reply_to=reply_to, cc=cc, created_by_id=getattr(created_by, "id", None), queued_at=utcnow()))
    message = db.session.scalars(select(Message).where(Message.dedupe_key == dedupe_key)).one()
    if message.state is S.QUEUED:
        enqueue_after_commit("jobs.messaging.send_message", message.id, retry=retry_policy())
    return message


# ---------------------------------------------------------------------------------------------
# Delivering


def quiet_until(now: datetime, spec: str | None = None) -> datetime | None:
    """When the SMS quiet hours (UK time, e.g. "21:00-08:00") end, if `now` falls inside them."""
    spec = current_app.config.get("SMS_QUIET_HOURS", "") if spec is None else spec
    if not spec:
        return None
    start_s, end_s = spec.split("-")
    start = datetime.strptime(start_s.strip(), "%H:%M").time()
    end = datetime.strptime(end_s.strip(), "%H:%M").time()
    local = now.astimezone(UK)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=UK).astimezone(now.tzinfo)


def throttle(provider: str) -> None:
    """Wait for a slot under the provider's messages-per-second limit, shared by every worker."""
    limit = current_app.config.get(f"{provider.upper()}_MAX_PER_SECOND") or 0
    if not limit:
        return
    redis = get_redis()
    while True:
        second = int(time.time())
        key = f"branchline:throttle:{provider}:{second}"
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 2)
        if pipe.execute()[0] <= limit:
            return
        time.sleep(max(0.0, second + 1 - time.time()) + random.uniform(0, 0.01))


@dataclass
class BatchOutcome:
    counts: Counter = field(default_factory=Counter)
    deferred_until: datetime | None = None
    provider_seconds: float = 0.0


_ROW_COLUMNS = (Message.id, Message.contact_id, Message.to_address, Message.purpose, Message.subject,
                Message.body, Message.html, Message.reply_to, Message.cc, Message.channel,
                Contact.first_name, Contact.last_name, Contact.mobile, Contact.email, Contact.job_title,
                Contact.membership_number, Branch.name.label("branch_name"), Employer.name.label("employer_name"),
                Workplace.name.label("workplace_name"))


def _rows(*conditions):
    return db.session.execute(
        select(*_ROW_COLUMNS)
        .outerjoin(Contact, Contact.id == Message.contact_id)
        .outerjoin(Branch, Branch.id == Contact.branch_id)
        .outerjoin(Employer, Employer.id == Contact.employer_id)
        .outerjoin(Workplace, Workplace.id == Contact.workplace_id)
        .where(Message.state == S.QUEUED, *conditions)
        .order_by(Message.id)
    ).all()


def deliver_batch(send_id: int, first_id: int, last_id: int) -> BatchOutcome:
    """Send a batch of a send's queued messages (ids first_id..last_id); rows no longer queued are left alone."""
    send = db.session.get(Send, send_id)
    if send is None or send.status is not SendStatus.SENDING:
        return BatchOutcome()
    rows = _rows(Message.send_id == send_id, Message.id.between(first_id, last_id))
    compiled = CompiledText(send.body, send.subject, send.html)
    outcome = _deliver(rows, send=send, compiled=compiled)
    if outcome.deferred_until is not None:
        # Quiet hours: the same batch runs again when they end.
        db.session.execute(update(Send).where(Send.id == send_id).values(active_at=outcome.deferred_until))
        db.session.commit()
        get_queue().enqueue_at(outcome.deferred_until + timedelta(seconds=random.uniform(0, 120)),
                               "jobs.messaging.send_batch", send_id, first_id, last_id, retry=retry_policy())
    else:
        finish_if_done(send_id)
    return outcome


def deliver_one(message_id: int) -> BatchOutcome:
    """Send one queued one-off message (a follow-up, a reply, a letter, a test)."""
    rows = _rows(Message.id == message_id)
    outcome = _deliver(rows, send=None, compiled=None)
    if outcome.deferred_until is not None:
        get_queue().enqueue_at(outcome.deferred_until + timedelta(seconds=random.uniform(0, 120)),
                               "jobs.messaging.send_message", message_id, retry=retry_policy())
    return outcome


def _deliver(rows, *, send: Send | None, compiled: CompiledText | None) -> BatchOutcome:
    outcome = BatchOutcome()
    if not rows:
        return outcome
    channel = rows[0].channel
    name = provider_name(channel)
    provider = get_provider(name)
    respect_quiet = channel is Channel.SMS and (send is None or send.respect_quiet_hours)
    if send is not None:
        db.session.execute(update(Send).where(Send.id == send.id).values(active_at=utcnow()))
        db.session.commit()
    pending_result = False
    for index, row in enumerate(rows):
        if index % 50 == 0:
            if send is not None and index and _send_cancelled(send.id):
                break
            if respect_quiet and row.purpose is not Purpose.TEST:
                until = quiet_until(utcnow())
                if until is not None:
                    outcome.deferred_until = until
                    break
        address = _address_for(row)
        if not address:
            _skip(row.id, "no_address", "No mobile number or email address when it was due to go.")
            outcome.counts["skipped"] += 1
            continue
        if not _claim(row, address, name):
            db.session.commit()
            outcome.counts["skipped" if _skip_reason(row, address) else "not_queued"] += 1
            continue
        db.session.commit()  # the claim (and the previous message's result) is durable before the provider call
        outgoing = _outgoing(row, address, compiled)
        throttle(name)
        started = time.perf_counter()
        try:
            accepted = provider.send(outgoing)
        except RateLimited as exc:
            outcome.provider_seconds += time.perf_counter() - started
            # Nothing was sent: put it back in the queue and let RQ retry the batch later.
            db.session.execute(update(Message).where(Message.id == row.id, Message.state == S.SENDING)
                               .values(state=S.QUEUED, claimed_at=None))
            db.session.commit()
            raise SendLater(f"{name} rate limit ({exc.code})") from exc
        except Uncertain as exc:
            record_state(row.id, S.UNKNOWN, error_code=exc.code, error_detail=exc.detail
                         or "The provider did not answer clearly: it may have been sent. Check before resending.")
            outcome.counts["unknown"] += 1
        except Rejected as exc:
            record_state(row.id, S.FAILED, error_code=exc.code, error_detail=exc.detail)
            if exc.opt_out or exc.bad_address:
                suppress(channel, address, SuppressionReason.STOP if exc.opt_out else SuppressionReason.INVALID,
                         detail=f"{name} error {exc.code}", message_id=row.id, source=f"{name} error {exc.code}")
            outcome.counts["failed"] += 1
        else:
            record_accepted(row.id, name, accepted)
            outcome.counts[accepted.state.value] += 1
        outcome.provider_seconds += time.perf_counter() - started
        pending_result = True
    if pending_result or outcome.counts:
        db.session.commit()
    return outcome


def _send_cancelled(send_id: int) -> bool:
    return db.session.scalar(select(Send.status).where(Send.id == send_id)) is SendStatus.CANCELLED


def _address_for(row) -> str | None:
    if row.to_address and (row.contact_id is None or row.purpose in (Purpose.LETTER, Purpose.TEST, Purpose.TRANSACTIONAL)):
        return canonical_address(row.channel, row.to_address)
    raw = row.mobile if row.channel is Channel.SMS else row.email
    return canonical_address(row.channel, raw) if raw else None


def _fixed_address(row) -> bool:
    return bool(row.to_address) and (row.contact_id is None or row.purpose in (Purpose.LETTER, Purpose.TEST,
                                                                               Purpose.TRANSACTIONAL))


# The claim and the result updates run once or twice per message: plain SQL built once (SQLAlchemy
# expression building cost ~1 ms per message, half the worker's time, when measured).
_CLAIM_SQL: dict[tuple[bool, bool], TextClause] = {}


def _claim_sql(contact_address: bool, needs_consent: bool) -> TextClause:
    key = (contact_address, needs_consent)
    if key not in _CLAIM_SQL:
        sql = ("UPDATE message SET state = 'sending', to_address = :address, provider = :provider, "
               "claimed_at = :now WHERE id = :id AND state = 'queued' "
               "AND NOT EXISTS (SELECT 1 FROM suppression s WHERE s.channel = :channel AND s.address = :address)")
        if contact_address:
            # The address must still be the contact's (a number changed since queueing is not used).
            sql += (" AND EXISTS (SELECT 1 FROM contact c WHERE c.id = message.contact_id AND "
                    "(CASE WHEN :channel = 'sms' THEN c.mobile ELSE lower(c.email) END) = :address)")
        if needs_consent:
            sql += (" AND EXISTS (SELECT 1 FROM consent k WHERE k.contact_id = message.contact_id "
                    "AND k.channel = :channel AND k.status = 'granted')")
        _CLAIM_SQL[key] = text(sql).bindparams(bindparam("now", type_=UTCDateTime()))
    return _CLAIM_SQL[key]


def _claim(row, address: str, provider: str) -> bool:
    stmt = _claim_sql(not _fixed_address(row), row.purpose in CONSENT_PURPOSES)
    claimed = db.session.connection().execute(stmt, {
        "address": address, "provider": provider, "now": utcnow(), "id": row.id, "channel": row.channel.value,
    }).rowcount
    return claimed == 1


_SKIP_WORDS = {
    "suppressed": "The number or address was unsubscribed, bounced or invalid by the time it was due to go.",
    "no_consent": "Consent for this channel had been withdrawn by the time it was due to go.",
    "address_changed": "The contact's number or address changed before it was sent.",
}


def _skip_reason(row, address: str) -> str | None:
    """Why a queued row could not be claimed; marks it skipped. None when it was no longer queued."""
    if db.session.scalar(select(Message.state).where(Message.id == row.id)) is not S.QUEUED:
        return None
    if db.session.scalar(select(exists().where(Suppression.channel == row.channel, Suppression.address == address))):
        reason = "suppressed"
    elif row.purpose in CONSENT_PURPOSES and not db.session.scalar(select(exists().where(
            Consent.contact_id == row.contact_id, Consent.channel == row.channel,
            Consent.status == ConsentStatus.GRANTED))):
        reason = "no_consent"
    else:
        reason = "address_changed"
    _skip(row.id, reason, _SKIP_WORDS[reason])
    db.session.commit()
    return reason


def _skip(message_id: int, code: str, detail: str) -> None:
    db.session.execute(update(Message).where(Message.id == message_id, Message.state == S.QUEUED)
                       .values(state=S.SKIPPED, error_code=code, error_detail=detail, finished_at=utcnow())
                       .execution_options(synchronize_session=False))


def _outgoing(row, address: str, compiled: CompiledText | None) -> Outgoing:
    values = {
        "first_name": row.first_name or "", "last_name": row.last_name or "",
        "full_name": f"{row.first_name or ''} {row.last_name or ''}".strip(),
        "branch": row.branch_name or "", "employer": row.employer_name or "", "workplace": row.workplace_name or "",
        "job_title": row.job_title or "", "membership_number": row.membership_number or "",
    }
    unsubscribe = None
    if row.channel is Channel.EMAIL and row.contact_id is not None and row.purpose in CONSENT_PURPOSES:
        unsubscribe = unsubscribe_url(row.id)
        values["unsubscribe_url"] = unsubscribe
    if compiled is not None:
        subject, body, html = compiled.render(values)
    else:
        subject, body, html = row.subject, row.body or "", row.html
    if row.channel is Channel.EMAIL and not html:
        html = text_to_html(body)
    return Outgoing(message_id=row.id, channel=row.channel, to=address, body=body, subject=subject, html=html,
                    reply_to=row.reply_to, cc=[c.strip() for c in (row.cc or "").split(",") if c.strip()],
                    unsubscribe_url=unsubscribe)


# ---------------------------------------------------------------------------------------------
# Recording what happened (workers, webhooks and the sweeper all come through here)


_STATE_SQL: dict[tuple[MessageState, bool], TextClause] = {}


def _state_sql(state: MessageState, accepted: bool) -> TextClause:
    """UPDATE moving one message forward to `state` (and, for an accepted message, keeping the
    provider's id whatever the state: a fast webhook may have got there first)."""
    key = (state, accepted)
    if key not in _STATE_SQL:
        before = ", ".join(f"'{s.value}'" for s in states_before(state))
        forward = f"state IN ({before})"
        sets = [f"state = CASE WHEN {forward} THEN '{state.value}' ELSE state END"]
        if state is S.DELIVERED:
            sets.append(f"delivered_at = CASE WHEN {forward} THEN :at ELSE delivered_at END")
        if state in (S.SENT, S.DELIVERED) or accepted:
            sets.append("sent_at = COALESCE(sent_at, :at)")
        if state in FINAL_STATES or state is S.UNKNOWN:
            sets.append(f"finished_at = CASE WHEN {forward} THEN :at ELSE finished_at END")
        if accepted:
            sets += ["provider = :provider", "provider_id = COALESCE(provider_id, :provider_id)",
                     "segments = COALESCE(:segments, segments)",
                     # A message a webhook rescued from "unknown" loses the worker's error.
                     "error_code = CASE WHEN state = 'unknown' THEN NULL ELSE error_code END",
                     "error_detail = CASE WHEN state = 'unknown' THEN NULL ELSE error_detail END"]
            where = "id = :id"
        else:
            sets += [f"error_code = CASE WHEN {forward} THEN COALESCE(:error_code, error_code) ELSE error_code END",
                     f"error_detail = CASE WHEN {forward} THEN COALESCE(:error_detail, error_detail) "
                     "ELSE error_detail END"]
            where = f"id = :id AND {forward}"
        _STATE_SQL[key] = text(f"UPDATE message SET {', '.join(sets)} WHERE {where}").bindparams(
            bindparam("at", type_=UTCDateTime()))
    return _STATE_SQL[key]


def record_accepted(message_id: int, provider: str, accepted: Accepted, *, at: datetime | None = None) -> None:
    """The provider took the message: keep its id, and move the state forward if that is news."""
    db.session.connection().execute(_state_sql(accepted.state, True), {
        "id": message_id, "at": at or utcnow(), "provider": provider, "provider_id": accepted.provider_id,
        "segments": accepted.segments})


def record_state(message_id: int, state: MessageState, *, error_code: str | None = None,
                 error_detail: str | None = None, at: datetime | None = None) -> bool:
    """Move a message to `state` if that is forward; returns whether anything changed."""
    changed = db.session.connection().execute(_state_sql(state, False), {
        "id": message_id, "at": at or utcnow(), "error_code": error_code[:32] if error_code else None,
        "error_detail": (error_detail or "")[:300] or None}).rowcount
    return changed == 1


def finish_if_done(send_id: int) -> bool:
    """Mark a sending send finished once none of its messages is queued or being sent."""
    still_open = db.session.scalar(select(exists().where(
        Message.send_id == send_id, Message.state.in_([S.QUEUED, S.SENDING]))))
    if still_open:
        return False
    done = db.session.execute(
        update(Send).where(Send.id == send_id, Send.status == SendStatus.SENDING)
        .values(status=SendStatus.DONE, finished_at=utcnow())).rowcount
    db.session.commit()
    return done == 1


# ---------------------------------------------------------------------------------------------
# The sweeper: stranded rows and sends that went quiet


@dataclass
class SweepResult:
    reconciled: int = 0
    unknown: int = 0
    restarted_sends: int = 0
    started_scheduled: int = 0
    finished_sends: int = 0
    restarted_messages: int = 0


def sweep(now: datetime | None = None) -> SweepResult:
    """Reconcile messages a stopped worker left in `sending`, restart sends that went quiet; commits."""
    now = now or utcnow()
    stale = now - timedelta(seconds=current_app.config["MESSAGE_STALE_SECONDS"])
    result = SweepResult()
    stranded = db.session.scalars(select(Message).where(Message.state == S.SENDING, Message.claimed_at < stale)
                                  .order_by(Message.id).limit(1000)).all()
    for message in stranded:
        accepted = None
        try:
            accepted = get_provider(message.provider or provider_name(message.channel)).reconcile(message)
        except Exception:  # a provider lookup failing must not stop the sweep
            log.exception("reconciling message #%s with %s failed", message.id, message.provider)
        if accepted is not None:
            record_accepted(message.id, message.provider or "", accepted)
            result.reconciled += 1
        else:
            record_state(message.id, S.UNKNOWN, error_code="worker_stopped", error_detail=(
                "The worker stopped while sending this message: it may or may not have gone. Check before resending."))
            result.unknown += 1
    db.session.commit()

    for send in db.session.scalars(select(Send).where(Send.status == SendStatus.SCHEDULED,
                                                      Send.scheduled_for < stale)):
        send.status = SendStatus.QUEUING
        db.session.commit()
        enqueue_batches(send.id, prepare_send(send))
        result.started_scheduled += 1
    for send in db.session.scalars(select(Send).where(Send.status.in_([SendStatus.QUEUING, SendStatus.SENDING]),
                                                      Send.active_at < stale)).all():
        if send.status is SendStatus.QUEUING:
            enqueue_batches(send.id, prepare_send(send))
            result.restarted_sends += 1
        elif finish_if_done(send.id):
            result.finished_sends += 1
        else:
            ranges = queued_ranges(send.id)
            db.session.execute(update(Send).where(Send.id == send.id).values(active_at=now))
            db.session.commit()
            enqueue_batches(send.id, ranges)
            result.restarted_sends += 1 if ranges else 0

    # One-off messages still queued long after they were due (their job ran out of retries after
    # repeated 429s, or was lost): try again. Texts wait while quiet hours hold them anyway.
    quiet = quiet_until(now) is not None
    waiting = select(Message.id).where(Message.send_id.is_(None), Message.state == S.QUEUED,
                                       Message.queued_at < stale)
    if quiet:
        waiting = waiting.where((Message.channel != Channel.SMS) | (Message.purpose == Purpose.TEST))
    for message_id in db.session.scalars(waiting.order_by(Message.id).limit(1000)).all():
        get_queue().enqueue("jobs.messaging.send_message", message_id, retry=retry_policy())
        result.restarted_messages += 1
    return result


def schedule_sweep(delay_seconds: int | None = None) -> None:
    """Keep one sweep job scheduled (a fixed job id, so every worker shares it)."""
    delay = delay_seconds if delay_seconds is not None else current_app.config["MESSAGE_SWEEP_SECONDS"]
    get_queue().enqueue_in(timedelta(seconds=delay), "jobs.messaging.sweep", job_id="branchline-messaging-sweep")


# ---------------------------------------------------------------------------------------------
# Resolving unknown messages (a person decides)


def resolve_unknown(message: Message, *, sent: bool, by=None) -> Message | None:
    """A person checked an unknown message: mark it sent, or queue a fresh copy. Returns the copy."""
    if message.state is not S.UNKNOWN:
        raise ValueError("only a message in the unknown state can be resolved")
    if sent:
        db.session.execute(update(Message).where(Message.id == message.id, Message.state == S.UNKNOWN)
                           .values(state=S.SENT, error_detail="Marked as sent by staff after checking."))
        return None
    record_state(message.id, S.FAILED, error_code=message.error_code or "unknown",
                 error_detail="Marked as not sent by staff; a new copy was queued.")
    copy = Message(dedupe_key=f"{message.dedupe_key}:again:{message.id}"[:120], send_id=message.send_id,
                   contact_id=message.contact_id, channel=message.channel, purpose=message.purpose,
                   to_address=message.to_address if _fixed_address(message) else None, subject=message.subject,
                   body=message.body, html=message.html, reply_to=message.reply_to, cc=message.cc,
                   created_by_id=getattr(by, "id", None))
    db.session.add(copy)
    db.session.flush()
    if message.send_id is not None:
        db.session.execute(update(Send).where(Send.id == message.send_id, Send.status == SendStatus.DONE)
                           .values(status=SendStatus.SENDING, finished_at=None))
        enqueue_after_commit("jobs.messaging.send_batch", message.send_id, copy.id, copy.id, retry=retry_policy())
    else:
        enqueue_after_commit("jobs.messaging.send_message", copy.id, retry=retry_policy())
    return copy
