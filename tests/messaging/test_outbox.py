"""The outbox with the log provider: recipients, exclusions, send-time checks, forward-only states."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from crm.auth.roles import Role
from crm.extensions import db
from crm.messaging import outbox
from crm.messaging.models import ExclusionReason, Message, MessageState, Purpose, Send, SendStatus, SuppressionReason
from crm.messaging.suppression import suppress
from crm.vocabulary import Channel, ConsentStatus

S = MessageState


def _region(make, n_ok=3):
    lead = make.user(Role.CAMPAIGN_LEAD)
    branch = make.branch()
    ok = [make.contact(branch) for _ in range(n_ok)]
    for c in ok:
        make.consent(c, Channel.SMS)
    never_asked = make.contact(branch)
    opted_out = make.contact(branch)
    make.consent(opted_out, Channel.SMS, ConsentStatus.WITHDRAWN)
    no_mobile = make.contact(branch, mobile=None)
    make.consent(no_mobile, Channel.SMS)
    twin = make.contact(branch, mobile=ok[0].mobile)
    make.consent(twin, Channel.SMS)
    return lead, branch, ok, dict(never_asked=never_asked, opted_out=opted_out, no_mobile=no_mobile, twin=twin)


def _states(send_id):
    return dict(db.session.execute(select(Message.state, func.count()).where(Message.send_id == send_id)
                                   .group_by(Message.state)).all())


def test_send_reaches_only_consenting_contacts_and_says_why_others_are_left_out(db, make, work_queue):
    lead, _, ok, _ = _region(make)
    send = make.send(lead)
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    db.session.refresh(send)
    assert send.status is SendStatus.DONE
    assert send.recipient_count == 3
    assert send.excluded == {ExclusionReason.NO_CONSENT.value: 1, ExclusionReason.OPTED_OUT.value: 1,
                             ExclusionReason.NO_ADDRESS.value: 1, ExclusionReason.DUPLICATE.value: 1}
    assert _states(send.id) == {S.DELIVERED: 3}
    sent_to = set(db.session.scalars(select(Message.to_address).where(Message.send_id == send.id)))
    assert sent_to == {c.mobile for c in ok}


def test_preparing_a_send_twice_creates_no_new_rows(db, make):
    lead, _, _, _ = _region(make)
    send = make.send(lead, status=SendStatus.QUEUING)
    db.session.commit()
    first = outbox.prepare_send(send)
    send.status = SendStatus.QUEUING
    again = outbox.prepare_send(send)
    assert first == again
    assert db.session.scalar(select(func.count()).select_from(Message)) == 3


def test_stop_after_queueing_means_that_contact_is_not_sent_to(db, make, work_queue):
    lead, _, ok, _ = _region(make)
    send = make.send(lead, status=SendStatus.QUEUING)
    db.session.commit()
    ranges = outbox.prepare_send(send)
    suppress(Channel.SMS, ok[1].mobile, SuppressionReason.STOP)
    db.session.commit()
    outbox.enqueue_batches(send.id, ranges)
    work_queue()
    skipped = db.session.scalars(select(Message).where(Message.state == S.SKIPPED)).all()
    assert [(m.contact_id, m.error_code) for m in skipped] == [(ok[1].id, "suppressed")]
    assert ok[1].consent_for(Channel.SMS).status is ConsentStatus.WITHDRAWN


def test_consent_withdrawn_after_queueing_is_honoured(db, make, work_queue):
    lead, _, ok, _ = _region(make)
    send = make.send(lead, status=SendStatus.QUEUING)
    db.session.commit()
    ranges = outbox.prepare_send(send)
    ok[2].consent_for(Channel.SMS).status = ConsentStatus.WITHDRAWN
    db.session.commit()
    outbox.enqueue_batches(send.id, ranges)
    work_queue()
    assert db.session.scalar(select(Message.error_code).where(Message.contact_id == ok[2].id)) == "no_consent"


def test_cancelled_send_sends_nothing_more(db, make, work_queue):
    lead, _, _, _ = _region(make)
    send = make.send(lead, status=SendStatus.QUEUING)
    db.session.commit()
    ranges = outbox.prepare_send(send)
    outbox.enqueue_batches(send.id, ranges)
    assert outbox.cancel_send(send, by=lead) == 3
    db.session.commit()
    work_queue()
    assert _states(send.id) == {S.CANCELLED: 3}
    assert db.session.get(Send, send.id).status is SendStatus.CANCELLED


def test_states_only_move_forward(db, make):
    contact = make.contact()
    message = outbox.queue_message(channel=Channel.SMS, purpose=Purpose.REPLY, dedupe_key="t1", body="hi",
                                   contact=contact)
    assert outbox.record_state(message.id, S.DELIVERED)
    assert not outbox.record_state(message.id, S.SENT)
    assert not outbox.record_state(message.id, S.DELIVERED)
    db.session.refresh(message)
    assert message.state is S.DELIVERED


def test_the_same_one_off_twice_is_one_message(db, make, work_queue):
    contact = make.contact()
    make.consent(contact)
    a = outbox.queue_message(channel=Channel.SMS, purpose=Purpose.FOLLOW_UP, dedupe_key="follow:1", body="Thanks",
                             contact=contact)
    b = outbox.queue_message(channel=Channel.SMS, purpose=Purpose.FOLLOW_UP, dedupe_key="follow:1", body="Thanks",
                             contact=contact)
    db.session.commit()
    work_queue()
    assert a.id == b.id
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    assert db.session.get(Message, a.id).state is S.DELIVERED


def test_quiet_hours_hold_texts_until_morning(app):
    with app.app_context():
        evening = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 21:30 in London (GMT)
        assert outbox.quiet_until(evening, "21:00-08:00") == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
        summer_night = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # 07:00 BST
        assert outbox.quiet_until(summer_night, "21:00-08:00") == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
        assert outbox.quiet_until(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), "21:00-08:00") is None
        assert outbox.quiet_until(evening, "") is None


def test_a_send_in_quiet_hours_waits(db, make, work_queue, app, monkeypatch):
    lead, _, _, _ = _region(make)
    send = make.send(lead, status=SendStatus.QUEUING, respect_quiet_hours=True)
    db.session.commit()
    ranges = outbox.prepare_send(send)
    morning = datetime.now(UTC) + timedelta(hours=8)
    monkeypatch.setattr(outbox, "quiet_until", lambda now, spec=None: morning)
    outbox.enqueue_batches(send.id, ranges)
    work_queue()
    assert _states(send.id) == {S.QUEUED: 3}
    assert db.session.get(Send, send.id).active_at == morning.replace(microsecond=morning.microsecond)


def test_sweeper_marks_stranded_rows_unknown_and_never_resends(db, make, app):
    lead, _, _, _ = _region(make)
    send = make.send(lead, status=SendStatus.QUEUING)
    db.session.commit()
    outbox.prepare_send(send)
    stranded = db.session.scalars(select(Message).order_by(Message.id)).first()
    stranded.state = S.SENDING
    stranded.provider = "twilio_missing"
    stranded.claimed_at = datetime.now(UTC) - timedelta(hours=1)
    db.session.commit()
    result = outbox.sweep()
    db.session.refresh(stranded)
    assert stranded.state is S.UNKNOWN and stranded.error_code == "worker_stopped"
    assert result.unknown == 1


def test_sweeper_retries_a_one_off_left_queued(db, make, app, work_queue):
    contact = make.contact()
    make.consent(contact)
    message = outbox.queue_message(channel=Channel.EMAIL, purpose=Purpose.REPLY, dedupe_key="late:1", body="hi",
                                   contact=contact)
    message.queued_at = datetime.now(UTC) - timedelta(hours=1)
    db.session.commit()
    from crm.queue import get_queue

    get_queue().empty()  # the job was lost (e.g. its retries ran out after repeated 429s)
    assert outbox.sweep().restarted_messages == 1
    work_queue()
    db.session.refresh(message)
    assert message.state is S.DELIVERED
