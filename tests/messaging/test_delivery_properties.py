"""The delivery pipeline's promises, shown end to end with real workers, real Redis and the real
SDKs against the local provider fakes:

1. a worker killed (-9) after the provider took a message but before the commit never causes a resend;
2. STOP received after a send was queued: that contact is not sent to;
3. every webhook replayed three times changes a message's state once;
4. a 429 then a 201: one message, delivered;
5. a send of 10,000 where 1,234 lack consent: exactly 8,766 requests reach the provider.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from rq import SimpleWorker
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from crm.auth.roles import Role
from crm.contacts.models import Contact
from crm.database import bulk_insert, utcnow
from crm.messaging import outbox
from crm.messaging.models import Message, MessageState, Purpose, Send, SendStatus, WebhookReceipt
from crm.queue import get_queue, get_redis
from crm.vocabulary import Channel, ConsentStatus
from tests.fakes import accept, error, hold

from .conftest import PUBLIC_BASE, sendgrid_signature, twilio_signature

S = MessageState
ROOT = Path(__file__).resolve().parents[2]


def _start_worker(app, providers, log_path: Path, *args: str, **env) -> subprocess.Popen:
    """`crm worker` in its own process group, sharing this test's database, Redis and fakes."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "crm", "crm", "worker", *args],
                                env=providers.worker_env(app, **env), cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (an RQ worker's work horse)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid …": comm may hold spaces, so split after the last ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _kill_9(worker: subprocess.Popen) -> None:
    """kill -9 a worker and its work horse. RQ puts the horse in its own process group, so
    killing the worker's group alone would leave the horse to finish the job and commit."""
    horses = _children(worker.pid)
    assert horses, "the worker had no work horse to kill"
    for horse in horses:
        os.killpg(horse, signal.SIGKILL)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()


def _run_burst_worker(app, providers, log_path: Path, timeout=120, **env) -> None:
    proc = _start_worker(app, providers, log_path, "--burst", **env)
    try:
        assert proc.wait(timeout=timeout) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _work_with_scheduler() -> None:
    """A burst of an in-process RQ worker that also moves due scheduled jobs (retries) onto the queue."""
    SimpleWorker([get_queue()], connection=get_redis(), serializer=JSONSerializer).work(burst=True, with_scheduler=True)


def _audience(make, n_consenting, channel=Channel.SMS, **contact_kw):
    lead, branch = make.user(Role.CAMPAIGN_LEAD), make.branch()
    contacts = [make.contact(branch, mobile=f"+44771{i:07d}", email=f"person{i}@example.org")
                for i in range(n_consenting)]
    for c in contacts:
        make.consent(c, channel)
    return lead, contacts


# ---------------------------------------------------------------------------------------------
# 1. kill -9 between the provider's answer and the commit


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL])
def test_a_worker_killed_mid_send_never_causes_a_second_request(db, make, app, providers, tmp_path, channel):
    lead, contacts = _audience(make, 5, channel)
    fake = providers.twilio if channel is Channel.SMS else providers.sendgrid
    fake.then(accept(), accept(), hold())  # the third request is taken, then its answer held back
    send = make.send(lead, channel=channel)
    send.status = SendStatus.QUEUING
    db.session.commit()
    outbox.enqueue_batches(send.id, outbox.prepare_send(send))

    # A long HTTP timeout: the worker must still be waiting on the answer when it is killed.
    worker = _start_worker(app, providers, tmp_path / "worker.log", "--burst", PROVIDER_TIMEOUT_SECONDS=120)
    try:
        assert fake.wait_until_held(timeout=90), (tmp_path / "worker.log").read_text()
    finally:
        _kill_9(worker)  # the worker and its work horse, mid-request
    fake.release()
    held_row = db.session.scalars(select(Message).where(Message.send_id == send.id, Message.state == S.SENDING)).one()

    # What an operator's restart does: RQ finds the abandoned batch job and retries it (it has
    # retries left); a new worker runs it; the sweeper later settles the stranded row.
    StartedJobRegistry(queue=get_queue()).cleanup(timestamp=time.time() + 24 * 3600)
    time.sleep(1.6)  # the retry waits MESSAGE_RETRY_INTERVALS ([1] here, with jitter)
    _run_burst_worker(app, providers, tmp_path / "worker2.log")
    db.session.expire_all()
    assert db.session.get(Message, held_row.id).state is S.SENDING  # never picked up again
    result = outbox.sweep(now=utcnow() + timedelta(seconds=app.config["MESSAGE_STALE_SECONDS"] + 60))

    addresses = ([r.form["To"] for r in fake.sends] if channel is Channel.SMS
                 else [r.json["personalizations"][0]["to"][0]["email"] for r in fake.sends])
    rows = db.session.scalars(select(Message).where(Message.send_id == send.id)).all()
    assert len(rows) == 5
    assert Counter(addresses) == Counter(m.to_address for m in rows)  # exactly one request per row
    stranded = db.session.get(Message, held_row.id)
    db.session.refresh(stranded)
    if channel is Channel.SMS:
        # Twilio can be asked: the held message is found and recorded, never sent again.
        assert result.reconciled == 1 and stranded.state is S.SENT
        assert stranded.provider_id == [m["sid"] for m in fake.messages if m["to"] == stranded.to_address][0]
    else:
        # SendGrid cannot be asked: a person decides.
        assert result.unknown == 1 and stranded.state is S.UNKNOWN and stranded.error_code == "worker_stopped"
    assert {m.state for m in rows if m.id != stranded.id} == {S.SENT}
    assert db.session.get(Send, send.id).status is SendStatus.DONE


# ---------------------------------------------------------------------------------------------
# 2. STOP after queueing


def test_stop_received_after_a_send_was_queued_means_that_contact_is_not_sent_to(db, make, app, client, providers,
                                                                                 work_queue):
    lead, contacts = _audience(make, 4)
    send = make.send(lead)
    send.status = SendStatus.QUEUING
    db.session.commit()
    ranges = outbox.prepare_send(send)
    outbox.enqueue_batches(send.id, ranges)
    assert get_queue().count == 1 and send.recipient_count == 4

    stopper = contacts[2]
    params = {"MessageSid": "SM" + "c" * 32, "From": stopper.mobile, "To": "+447700900999", "Body": "Stop"}
    signature = twilio_signature(PUBLIC_BASE + "/webhooks/twilio/inbound", params)
    assert client.post("/webhooks/twilio/inbound", data=params,
                       headers={"X-Twilio-Signature": signature}).status_code == 200
    work_queue()

    sent_to = [r.form["To"] for r in providers.twilio.sends]
    assert sorted(sent_to) == sorted(c.mobile for c in contacts if c is not stopper)
    skipped = db.session.scalars(select(Message).where(Message.contact_id == stopper.id)).one()
    assert skipped.state is S.SKIPPED and skipped.error_code == "suppressed"
    db.session.refresh(stopper)
    assert stopper.consent_for(Channel.SMS).status is ConsentStatus.WITHDRAWN


# ---------------------------------------------------------------------------------------------
# 3. Webhooks replayed


def test_every_webhook_replayed_three_times_changes_state_once(db, make, app, client, providers, work_queue,
                                                               sendgrid_signing_key, monkeypatch):
    lead, texted = _audience(make, 2)
    text_send = make.send(lead)
    emailed = [make.contact(email=f"reader{i}@example.org") for i in range(2)]
    for c in emailed:
        make.consent(c, Channel.EMAIL)
    email_send = make.send(lead, channel=Channel.EMAIL,
                           audience_kind="contacts", audience={"filter": {}})
    outbox.start_send(text_send)
    outbox.start_send(email_send)
    db.session.commit()
    work_queue()

    changes: Counter = Counter()
    record_state = outbox.record_state

    def counting(message_id, state, **kw):
        changed = record_state(message_id, state, **kw)
        changes[(message_id, state)] += changed
        return changed

    monkeypatch.setattr(outbox, "record_state", counting)
    texts = db.session.scalars(select(Message).where(Message.send_id == text_send.id)).all()
    emails = db.session.scalars(select(Message).where(Message.send_id == email_send.id,
                                                      Message.contact_id.in_([c.id for c in emailed]))).all()
    assert len(texts) == 2 and len(emails) == 2
    for _ in range(3):
        for message, status in ((texts[0], "sent"), (texts[0], "delivered"), (texts[1], "undelivered")):
            path = f"/webhooks/twilio/status?m={message.id}"
            params = {"MessageSid": message.provider_id, "MessageStatus": status, "ErrorCode": "30003"
                      if status == "undelivered" else ""}
            signature = twilio_signature(PUBLIC_BASE + path, params)
            assert client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 204
        raw = ("[" + ",".join(
            f'{{"event": "{kind}", "email": "{m.to_address}", "sg_event_id": "{kind}-{m.id}", '
            f'"sg_message_id": "{m.provider_id}.filter1", "branchline_message_id": "{m.id}", "timestamp": 1}}'
            for m, kind in ((emails[0], "delivered"), (emails[1], "bounce"))) + "]")
        assert client.post("/webhooks/sendgrid/events", data=raw, content_type="application/json",
                           headers=sendgrid_signature(sendgrid_signing_key, raw)).status_code == 200

    assert changes == {(texts[0].id, S.DELIVERED): 1, (texts[1].id, S.UNDELIVERED): 1,
                       (emails[0].id, S.DELIVERED): 1, (emails[1].id, S.FAILED): 1,
                       (texts[0].id, S.SENT): 0}
    db.session.expire_all()
    states = {m.id: m.state for m in db.session.scalars(select(Message)).all()}
    assert (states[texts[0].id], states[texts[1].id], states[emails[0].id], states[emails[1].id]) == (
        S.DELIVERED, S.UNDELIVERED, S.DELIVERED, S.FAILED)
    assert db.session.scalar(select(func.count()).select_from(WebhookReceipt)) == 5


# ---------------------------------------------------------------------------------------------
# 4. Rate limited, then accepted


def test_a_429_then_a_201_delivers_one_message(db, make, app, client, providers, work_queue):
    contact = make.contact()
    make.consent(contact)
    providers.twilio.then(error(429))
    message = outbox.queue_message(channel=Channel.SMS, purpose=Purpose.FOLLOW_UP, dedupe_key="follow:429",
                                   body="Thanks for your time today.", contact=contact)
    db.session.commit()
    work_queue()  # 429: nothing sent, the job is scheduled to try again
    db.session.refresh(message)
    assert message.state is S.QUEUED and len(providers.twilio.sends) == 1
    assert get_queue().scheduled_job_registry.count == 1

    time.sleep(1.6)
    _work_with_scheduler()
    db.session.refresh(message)
    assert message.state is S.SENT and len(providers.twilio.sends) == 2 and len(providers.twilio.messages) == 1

    path = f"/webhooks/twilio/status?m={message.id}"
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    client.post(path, data=params, headers={"X-Twilio-Signature": twilio_signature(PUBLIC_BASE + path, params)})
    db.session.refresh(message)
    assert message.state is S.DELIVERED
    assert [r.form["To"] for r in providers.twilio.sends] == [contact.mobile, contact.mobile]


# ---------------------------------------------------------------------------------------------
# 5. Consent at scale


def _bulk_contacts(db, make, total: int, without_consent: int) -> list[str]:
    """`total` contacts in one branch, the first `without_consent` never asked or opted out; returns
    the mobiles that may be texted."""
    branch = make.branch()
    now = utcnow()
    columns = ("membership_number", "first_name", "last_name", "email", "mobile", "branch_id", "status",
               "created_at", "updated_at")
    bulk_insert("contact", columns, ((f"P{i:07d}", f"Member{i}", "Bulk", f"bulk{i}@example.org", f"+44772{i:07d}",
                                      branch.id, "member", now, now) for i in range(total)))
    ids = db.session.execute(select(Contact.id, Contact.mobile).where(Contact.branch_id == branch.id)
                             .order_by(Contact.membership_number)).all()
    consents = []
    for index, (contact_id, _) in enumerate(ids):
        if index < without_consent // 2:
            continue  # never asked
        status = ConsentStatus.WITHDRAWN if index < without_consent else ConsentStatus.GRANTED
        consents.append((contact_id, Channel.SMS.value, status.value, "bulk test", now))
    bulk_insert("consent", ("contact_id", "channel", "status", "source", "recorded_at"), consents)
    db.session.commit()
    return [mobile for _, mobile in ids[without_consent:]]


def test_a_send_to_10000_where_1234_lack_consent_makes_exactly_8766_requests(db, make, app, providers, tmp_path):
    started = time.monotonic()
    lead = make.user(Role.CAMPAIGN_LEAD)
    allowed = _bulk_contacts(db, make, 10_000, 1_234)
    send = make.send(lead)
    send.status = SendStatus.QUEUING
    db.session.commit()
    outbox.enqueue_batches(send.id, outbox.prepare_send(send))  # what the prepare_send job does
    queued = time.monotonic()
    # Two workers share the batch jobs, as they would in production.
    workers = [_start_worker(app, providers, tmp_path / f"worker{n}.log", "--burst") for n in range(2)]
    try:
        for n, worker in enumerate(workers):
            assert worker.wait(timeout=300) == 0, (tmp_path / f"worker{n}.log").read_text()
    finally:
        for worker in workers:
            if worker.poll() is None:
                _kill_9(worker)
    sent = time.monotonic()

    sends = providers.twilio.sends
    assert len(sends) == 8_766
    assert Counter(r.form["To"] for r in sends) == Counter(allowed)
    db.session.refresh(send)
    assert send.status is SendStatus.DONE and send.recipient_count == 8_766
    assert send.excluded == {"no_consent": 617, "opted_out": 617}
    assert dict(db.session.execute(select(Message.state, func.count()).group_by(Message.state)).all()) == {
        S.SENT: 8_766}
    print(f"\n10,000-recipient send: set-up {queued - started:.1f}s, "
          f"8,766 texts through two workers in {sent - queued:.1f}s ({8_766 / (sent - queued):.0f}/s)")
