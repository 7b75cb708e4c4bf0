"""Provider webhooks, signed the way Twilio and SendGrid sign them, posted at the app."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.messaging.models import (
    InboundKind,
    InboundMessage,
    Message,
    MessageState,
    Purpose,
    Suppression,
    SuppressionReason,
    WebhookReceipt,
)
from crm.vocabulary import Channel, ConsentStatus

from .conftest import PUBLIC_BASE, sendgrid_signature, twilio_signature

S = MessageState
STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"
EVENTS = "/webhooks/sendgrid/events"


def _post_twilio(client, path, params, *, signed_url=None, signature=None):
    url = signed_url or PUBLIC_BASE + path
    headers = {"X-Twilio-Signature": signature if signature is not None else twilio_signature(url, params)}
    return client.post(path, data=params, headers=headers)


def _message(db, make, *, channel=Channel.SMS, state=S.SENT, provider="twilio", provider_id="SM" + "1" * 32,
             contact=None, **kw):
    contact = contact or make.contact()
    to = contact.mobile if channel is Channel.SMS else contact.email
    message = Message(dedupe_key=f"m:{contact.id}:{provider_id}", contact_id=contact.id, channel=channel,
                      purpose=Purpose.BULK, state=state, to_address=to, provider=provider, provider_id=provider_id,
                      claimed_at=datetime.now(UTC), **kw)
    db.session.add(message)
    db.session.commit()
    return message


def _status(message_id, sid="SM" + "1" * 32, status="delivered", **extra):
    return f"{STATUS}?m={message_id}", {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "5e" * 16,
                                       "To": "+447700900123", **extra}


def _consent_events():
    return db_count(AuditEvent, AuditEvent.action == "contact.consent")


def db_count(model, *where):
    from crm.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------------------------------------
# Twilio signatures


def test_twilio_status_with_a_valid_signature_moves_the_message_on(db, make, client, providers):
    message = _message(db, make)
    path, params = _status(message.id)
    assert _post_twilio(client, path, params).status_code == 204
    db.session.refresh(message)
    assert message.state is S.DELIVERED and message.delivered_at is not None


@pytest.mark.parametrize("signature", ["", "bm90IHJpZ2h0", "garbage that is not base64 !!"])
def test_twilio_webhooks_refuse_a_missing_or_wrong_signature(db, make, client, providers, signature):
    message = _message(db, make)
    path, params = _status(message.id)
    assert _post_twilio(client, path, params, signature=signature).status_code == 403
    inbound = {"MessageSid": "SM" + "2" * 32, "From": message.to_address, "Body": "STOP"}
    assert _post_twilio(client, INBOUND, inbound, signature=signature).status_code == 403
    db.session.refresh(message)
    assert message.state is S.SENT
    assert db_count(Suppression) == 0 and db_count(WebhookReceipt) == 0


def test_twilio_signature_must_cover_our_public_address_not_the_host_we_were_reached_on(db, make, client, providers):
    message = _message(db, make)
    path, params = _status(message.id)
    # Signed for the address the request arrived at (behind a proxy, an internal one): refused.
    assert _post_twilio(client, path, params, signed_url="http://localhost" + path).status_code == 403
    # A signature over other parameters (a tampered body) is refused too.
    tampered = dict(params, MessageStatus="failed")
    assert _post_twilio(client, path, tampered, signature=twilio_signature(PUBLIC_BASE + path, params)).status_code == 403
    assert _post_twilio(client, path, params).status_code == 204


def test_twilio_webhooks_are_refused_when_twilio_is_not_configured(db, make, client, providers, app):
    message = _message(db, make)
    path, params = _status(message.id)
    signature = twilio_signature(PUBLIC_BASE + path, params)
    app.config["TWILIO_AUTH_TOKEN"] = ""
    assert _post_twilio(client, path, params, signature=signature).status_code == 403


def test_webhooks_need_no_csrf_token_but_check_signatures(db, make, client, providers, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    message = _message(db, make)
    path, params = _status(message.id)
    assert _post_twilio(client, path, params).status_code == 204


# ---------------------------------------------------------------------------------------------
# Twilio status callbacks


@pytest.mark.parametrize("status, state", [
    ("queued", S.SENT), ("accepted", S.SENT), ("sending", S.SENT), ("sent", S.SENT),
    ("delivered", S.DELIVERED), ("undelivered", S.UNDELIVERED), ("failed", S.FAILED),
])
def test_twilio_statuses_map_to_ours(db, make, client, providers, status, state):
    message = _message(db, make)
    extra = {"ErrorCode": "30003"} if status in ("undelivered", "failed") else {}
    path, params = _status(message.id, status=status, **extra)
    assert _post_twilio(client, path, params).status_code == 204
    db.session.refresh(message)
    assert message.state is state
    if extra:
        assert message.error_code == "30003"


def test_a_late_sent_after_delivered_changes_nothing(db, make, client, providers):
    message = _message(db, make)
    for status in ("delivered", "sent", "queued"):
        path, params = _status(message.id, status=status)
        assert _post_twilio(client, path, params).status_code == 204
    db.session.refresh(message)
    assert message.state is S.DELIVERED


def test_twilio_status_finds_the_message_by_sid_without_our_id(db, make, client, providers):
    message = _message(db, make)
    _, params = _status(message.id)
    assert _post_twilio(client, STATUS, params).status_code == 204
    db.session.refresh(message)
    assert message.state is S.DELIVERED


def test_a_callback_settles_a_message_whose_sid_was_never_stored(db, make, client, providers):
    message = _message(db, make, state=S.UNKNOWN, provider_id=None, error_code="worker_stopped")
    path, params = _status(message.id, sid="SM" + "9" * 32, status="delivered")
    assert _post_twilio(client, path, params).status_code == 204
    db.session.refresh(message)
    assert message.state is S.DELIVERED and message.provider_id == "SM" + "9" * 32
    assert message.error_code is None


def test_a_callback_for_a_message_we_do_not_hold_is_accepted_quietly(db, make, client, providers):
    path, params = _status(424242, sid="SM" + "7" * 32)
    assert _post_twilio(client, path, params).status_code == 204


def test_a_status_callback_without_a_sid_is_a_clear_400(db, make, client, providers):
    params = {"MessageStatus": "delivered"}
    response = _post_twilio(client, STATUS, params)
    assert response.status_code == 400 and "MessageSid" in response.get_data(as_text=True)


def test_twilio_21610_on_a_callback_suppresses_the_number(db, make, client, providers):
    contact = make.contact()
    make.consent(contact)
    message = _message(db, make, contact=contact)
    path, params = _status(message.id, status="failed", ErrorCode="21610")
    assert _post_twilio(client, path, params).status_code == 204
    suppression = db.session.scalars(select(Suppression)).one()
    assert (suppression.address, suppression.reason, suppression.message_id) == (
        contact.mobile, SuppressionReason.STOP, message.id)
    db.session.refresh(contact)
    assert contact.consent_for(Channel.SMS).status is ConsentStatus.WITHDRAWN


def test_each_twilio_status_replayed_three_times_changes_state_once(db, make, client, providers):
    contact = make.contact()
    make.consent(contact)
    message = _message(db, make, contact=contact)
    path, params = _status(message.id, status="failed", ErrorCode="21610")
    for _ in range(3):
        assert _post_twilio(client, path, params).status_code == 204
    db.session.refresh(message)
    assert message.state is S.FAILED
    assert db_count(WebhookReceipt) == 1 and db_count(Suppression) == 1 and _consent_events() == 1


# ---------------------------------------------------------------------------------------------
# Texts to our number


def _inbound(sid_digit, from_, body, **extra):
    return {"MessageSid": "SM" + sid_digit * 32, "From": from_, "To": "+447700900999", "Body": body,
            "AccountSid": "AC" + "5e" * 16, **extra}


@pytest.mark.parametrize("body, extra", [
    ("STOP", {}), ("  stop \n", {}), ("Stop", {}), ("STOPALL", {}), ("unsubscribe", {}), ("Cancel", {}),
    ("END", {}), ("quit", {}), ("REVOKE", {}), ("OptOut", {}),
    ("please don't text me again", {"OptOutType": "STOP"}),
])
def test_a_stop_text_suppresses_the_number_at_once_for_every_contact_holding_it(db, make, client, providers,
                                                                               body, extra):
    member = make.contact()
    make.consent(member)
    partner = make.contact(mobile=member.mobile)  # a shared phone: both stop
    make.consent(partner)
    db.session.commit()
    response = _post_twilio(client, INBOUND, _inbound("3", member.mobile, body, **extra))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert "<Message>" not in response.get_data(as_text=True)
    suppression = db.session.scalars(select(Suppression)).one()
    assert (suppression.channel, suppression.address, suppression.reason) == (
        Channel.SMS, member.mobile, SuppressionReason.STOP)
    for contact in (member, partner):
        db.session.refresh(contact)
        assert contact.consent_for(Channel.SMS).status is ConsentStatus.WITHDRAWN
    stored = db.session.scalars(select(InboundMessage)).one()
    assert stored.kind is InboundKind.STOP and stored.handled_at is not None


def test_stop_inside_a_sentence_is_a_reply_not_an_opt_out(db, make, client, providers):
    member = make.contact()
    make.consent(member)
    db.session.commit()
    _post_twilio(client, INBOUND, _inbound("3", member.mobile, "Can you stop by the ward on Friday?"))
    assert db_count(Suppression) == 0
    assert db.session.scalars(select(InboundMessage)).one().kind is InboundKind.REPLY


@pytest.mark.parametrize("body, extra", [("START", {}), (" yes ", {}), ("Unstop", {}), ("ok", {"OptOutType": "START"})])
def test_start_lifts_the_suppression_and_grants_consent_again(db, make, client, providers, body, extra):
    member = make.contact()
    make.consent(member)
    db.session.commit()
    _post_twilio(client, INBOUND, _inbound("3", member.mobile, "STOP"))
    _post_twilio(client, INBOUND, _inbound("4", member.mobile, body, **extra))
    assert db_count(Suppression) == 0
    db.session.refresh(member)
    assert member.consent_for(Channel.SMS).status is ConsentStatus.GRANTED
    assert db.session.scalars(select(InboundMessage.kind).order_by(InboundMessage.id)).all() == [
        InboundKind.STOP, InboundKind.START]


def test_help_is_answered_with_who_we_are_and_how_to_stop(db, make, client, providers, app):
    member = make.contact()
    db.session.commit()
    response = _post_twilio(client, INBOUND, _inbound("3", member.mobile, " help "))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<Message>" in text and "Reply STOP" in text
    assert app.config["SMS_HELP_TEXT"][:40] in text
    assert db.session.scalars(select(InboundMessage)).one().kind is InboundKind.HELP
    assert db_count(Suppression) == 0


def test_a_reply_is_kept_for_the_contacts_branch_and_linked_to_our_last_text(db, make, client, providers):
    member = make.contact()
    earlier = _message(db, make, contact=member, provider_id="SM" + "a" * 32)
    latest = _message(db, make, contact=member, provider_id="SM" + "b" * 32, state=S.DELIVERED)
    response = _post_twilio(client, INBOUND, _inbound("3", member.mobile, "Yes I'll be there, can I bring a friend?"))
    assert response.status_code == 200 and "<Message>" not in response.get_data(as_text=True)
    reply = db.session.scalars(select(InboundMessage)).one()
    assert reply.kind is InboundKind.REPLY and reply.handled_at is None
    assert (reply.contact_id, reply.branch_id, reply.in_reply_to_id) == (member.id, member.branch_id, latest.id)
    assert reply.body == "Yes I'll be there, can I bring a friend?" and reply.from_address == member.mobile
    assert earlier.id < latest.id


def test_a_reply_from_a_shared_number_goes_to_the_most_recently_updated_contact(db, make, client, providers):
    older = make.contact()
    newer = make.contact(mobile=older.mobile)
    db.session.commit()
    newer.job_title = "Ward clerk"
    db.session.commit()
    _post_twilio(client, INBOUND, _inbound("3", older.mobile, "Thanks"))
    assert db.session.scalars(select(InboundMessage.contact_id)).one() == newer.id


def test_a_text_from_an_unknown_number_is_kept_without_a_contact(db, make, client, providers):
    _post_twilio(client, INBOUND, _inbound("3", "+447700900777", "Who is this?"))
    reply = db.session.scalars(select(InboundMessage)).one()
    assert reply.contact_id is None and reply.branch_id is None


def test_an_incoming_text_replayed_three_times_is_kept_once(db, make, client, providers):
    member = make.contact()
    make.consent(member)
    db.session.commit()
    for _ in range(3):
        assert _post_twilio(client, INBOUND, _inbound("3", member.mobile, "STOP")).status_code == 200
    assert db_count(InboundMessage) == 1 and db_count(Suppression) == 1 and _consent_events() == 1


# ---------------------------------------------------------------------------------------------
# SendGrid events


def _events_post(client, key, events, *, timestamp=None, body=None, headers=None):
    raw = body if body is not None else json.dumps(events)
    signed = headers if headers is not None else sendgrid_signature(key, raw, timestamp)
    return client.post(EVENTS, data=raw, headers=signed, content_type="application/json")


def _event(message, kind, n=1, **extra):
    return {"email": message.to_address, "timestamp": int(time.time()), "event": kind,
            "sg_event_id": f"ev-{kind}-{message.id}-{n}", "sg_message_id": f"{message.provider_id}.filter0001.1.0",
            "branchline_message_id": str(message.id), **extra}


def _email_message(db, make, **kw):
    contact = make.contact()
    make.consent(contact, Channel.EMAIL)
    return _message(db, make, channel=Channel.EMAIL, provider="sendgrid", provider_id=kw.pop("provider_id", "sgid1"),
                    contact=contact, **kw), contact


def test_sendgrid_delivered_event_marks_the_email_delivered(db, make, client, providers, sendgrid_signing_key):
    message, _ = _email_message(db, make)
    response = _events_post(client, sendgrid_signing_key, [_event(message, "processed"), _event(message, "delivered")])
    assert response.status_code == 200
    db.session.refresh(message)
    assert message.state is S.DELIVERED


def test_sendgrid_bounce_fails_the_email_and_suppresses_the_address_without_withdrawing_consent(
        db, make, client, providers, sendgrid_signing_key):
    message, contact = _email_message(db, make)
    _events_post(client, sendgrid_signing_key, [_event(message, "bounce", status="5.1.1",
                                                       reason="550 5.1.1 The email account does not exist")])
    db.session.refresh(message)
    assert message.state is S.FAILED and message.error_code == "5.1.1" and "does not exist" in message.error_detail
    suppression = db.session.scalars(select(Suppression)).one()
    assert (suppression.address, suppression.reason) == (contact.email.lower(), SuppressionReason.BOUNCE)
    db.session.refresh(contact)
    assert contact.consent_for(Channel.EMAIL).status is ConsentStatus.GRANTED  # a bounce is not a "no"


def test_a_blocked_bounce_fails_the_email_but_keeps_the_address(db, make, client, providers, sendgrid_signing_key):
    message, _ = _email_message(db, make)
    _events_post(client, sendgrid_signing_key, [_event(message, "bounce", type="blocked", status="4.0.0")])
    db.session.refresh(message)
    assert message.state is S.FAILED and db_count(Suppression) == 0


@pytest.mark.parametrize("kind, extra, reason, withdrawn", [
    ("dropped", {"reason": "Unsubscribed Address"}, SuppressionReason.UNSUBSCRIBE, True),
    ("dropped", {"reason": "Bounced Address"}, SuppressionReason.BOUNCE, False),
    ("spamreport", {}, SuppressionReason.SPAM_REPORT, True),
    ("unsubscribe", {}, SuppressionReason.UNSUBSCRIBE, True),
    ("group_unsubscribe", {"asm_group_id": 4321}, SuppressionReason.UNSUBSCRIBE, True),
])
def test_sendgrid_opt_out_events_suppress_the_address(db, make, client, providers, sendgrid_signing_key,
                                                      kind, extra, reason, withdrawn):
    message, contact = _email_message(db, make)
    assert _events_post(client, sendgrid_signing_key, [_event(message, kind, **extra)]).status_code == 200
    assert db.session.scalars(select(Suppression.reason)).one() is reason
    db.session.refresh(contact)
    expected = ConsentStatus.WITHDRAWN if withdrawn else ConsentStatus.GRANTED
    assert contact.consent_for(Channel.EMAIL).status is expected
    db.session.refresh(message)
    assert message.state is (S.FAILED if kind == "dropped" else S.SENT)


def test_sendgrid_event_without_our_id_is_matched_by_its_message_id(db, make, client, providers, sendgrid_signing_key):
    message, _ = _email_message(db, make, provider_id="x3Q8xuQJTlm4dqNZ")
    event = _event(message, "delivered")
    del event["branchline_message_id"]
    _events_post(client, sendgrid_signing_key, [event])
    db.session.refresh(message)
    assert message.state is S.DELIVERED


def test_each_sendgrid_event_replayed_three_times_changes_state_once(db, make, client, providers,
                                                                     sendgrid_signing_key):
    message, _ = _email_message(db, make)
    events = [_event(message, "delivered"), _event(message, "spamreport")]
    for _ in range(3):
        assert _events_post(client, sendgrid_signing_key, events).status_code == 200
    db.session.refresh(message)
    assert message.state is S.DELIVERED
    assert db_count(WebhookReceipt) == 2 and db_count(Suppression) == 1 and _consent_events() == 1


def test_sendgrid_refuses_bad_missing_tampered_or_stale_signatures(db, make, client, providers, sendgrid_signing_key):
    from cryptography.hazmat.primitives.asymmetric import ec

    message, _ = _email_message(db, make)
    events = [_event(message, "spamreport")]
    raw = json.dumps(events)
    assert _events_post(client, sendgrid_signing_key, events, headers={}).status_code == 403
    stranger = ec.generate_private_key(ec.SECP256R1())
    assert _events_post(client, stranger, events).status_code == 403
    signed = sendgrid_signature(sendgrid_signing_key, raw)
    tampered = raw.replace("spamreport", "delivered")
    assert _events_post(client, sendgrid_signing_key, None, body=tampered, headers=signed).status_code == 403
    stale = int(time.time()) - 3600
    assert _events_post(client, sendgrid_signing_key, events, timestamp=stale).status_code == 403
    garbage = {"X-Twilio-Email-Event-Webhook-Signature": "%%%not base64%%%",
               "X-Twilio-Email-Event-Webhook-Timestamp": str(int(time.time()))}
    assert _events_post(client, sendgrid_signing_key, events, headers=garbage).status_code == 403
    assert db_count(Suppression) == 0 and db_count(WebhookReceipt) == 0


def test_sendgrid_webhook_is_refused_without_a_configured_key(db, make, client, providers, app, sendgrid_signing_key):
    message, _ = _email_message(db, make)
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = ""
    assert _events_post(client, sendgrid_signing_key, [_event(message, "delivered")]).status_code == 403


@pytest.mark.parametrize("body, words", [
    ("{not json", "not JSON"),
    ('{"event": "delivered"}', "JSON list"),
    ('["delivered"]', "JSON list"),
])
def test_a_malformed_but_signed_sendgrid_body_is_a_clear_400(db, make, client, providers, sendgrid_signing_key,
                                                            body, words):
    response = _events_post(client, sendgrid_signing_key, None, body=body)
    assert response.status_code == 400 and words in response.get_data(as_text=True)


def test_a_body_that_is_not_utf8_is_a_400_not_a_500(client, providers):
    response = client.post(EVENTS, data=b"\xff\xfe\x00", content_type="application/json")
    assert response.status_code == 400
