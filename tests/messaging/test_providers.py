"""The Twilio and SendGrid adapters: the real SDKs over real HTTP against local fakes."""
from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from crm.auth.roles import Role
from crm.messaging import outbox
from crm.messaging.models import Message, MessageState, Purpose, SendStatus, Suppression, SuppressionReason
from crm.messaging.providers import RateLimited, Rejected, Uncertain, get_provider, provider_for
from crm.messaging.providers.base import Outgoing
from crm.messaging.providers.sendgrid import SendGridProvider
from crm.messaging.providers.twilio import TwilioProvider
from crm.messaging.tokens import unsubscribe_url
from crm.vocabulary import Channel, ConsentStatus
from tests.fakes import accept, error, sleep

from .conftest import PUBLIC_BASE, SENDGRID_KEY, TWILIO_FROM, TWILIO_SID

S = MessageState


def _sms(message_id=7, to="+447700900123", body="Branch meeting Thursday 6pm. Reply STOP to opt out."):
    return Outgoing(message_id=message_id, channel=Channel.SMS, to=to, body=body)


def _email(message_id=9, **kw):
    values = dict(message_id=message_id, channel=Channel.EMAIL, to="sam.jones@example.org", subject="Branch news",
                  body="Dear Sam,\n\nOur news.", html="<p>Dear Sam,</p><p>Our news.</p>")
    values.update(kw)
    return Outgoing(**values)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Twilio


def test_twilio_sends_from_our_number_with_a_status_callback_naming_our_message(app, providers):
    accepted = provider_for(Channel.SMS).send(_sms())
    assert accepted.provider_id.startswith("SM") and accepted.state is S.SENT and accepted.segments == 1
    [request] = providers.twilio.sends
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.form["To"] == "+447700900123" and request.form["From"] == TWILIO_FROM
    assert "MessagingServiceSid" not in request.form
    callback = urlsplit(request.form["StatusCallback"])
    assert f"{callback.scheme}://{callback.netloc}" == PUBLIC_BASE
    assert callback.path == "/webhooks/twilio/status" and parse_qs(callback.query) == {"m": ["7"]}


def test_twilio_prefers_the_messaging_service_and_counts_segments(app, providers):
    app.config["TWILIO_MESSAGING_SERVICE_SID"] = "MG" + "ab" * 16
    provider = TwilioProvider(app.config)
    accepted = provider.send(_sms(body="x" * 200))
    [request] = providers.twilio.sends
    assert request.form["MessagingServiceSid"] == "MG" + "ab" * 16 and "From" not in request.form
    assert accepted.segments == 2


def test_twilio_asks_for_no_callback_without_a_public_address(app, providers):
    app.config["PUBLIC_BASE_URL"] = ""
    TwilioProvider(app.config).send(_sms())
    assert "StatusCallback" not in providers.twilio.sends[0].form


@pytest.mark.parametrize("behaviour, kind, code, opt_out, bad_address", [
    (error(429), RateLimited, "20429", False, False),
    (error(500), Uncertain, "500", False, False),
    (error(503), Uncertain, "503", False, False),
    (error(400, 21610), Rejected, "21610", True, False),
    (error(400, 21211), Rejected, "21211", False, True),
    (error(400, 21614), Rejected, "21614", False, True),
    (error(400, 21408, "Permission to send an SMS has not been enabled"), Rejected, "21408", False, False),
])
def test_twilio_errors_map_to_what_the_outbox_does_next(app, providers, behaviour, kind, code, opt_out, bad_address):
    providers.twilio.then(behaviour)
    with pytest.raises(kind) as caught:
        provider_for(Channel.SMS).send(_sms())
    assert caught.value.code == code
    if kind is Rejected:
        assert caught.value.opt_out is opt_out and caught.value.bad_address is bad_address
        assert caught.value.detail


def test_twilio_refusing_our_credentials_says_so(app, providers):
    app.config["TWILIO_AUTH_TOKEN"] = "wrong"
    with pytest.raises(Rejected) as caught:
        TwilioProvider(app.config).send(_sms())
    assert caught.value.code == "20003" and "TWILIO_AUTH_TOKEN" in caught.value.detail


def test_twilio_timeout_is_uncertain_and_bounded(app, providers):
    app.config["PROVIDER_TIMEOUT_SECONDS"] = 0.5
    providers.twilio.then(sleep(2))
    started = time.monotonic()
    with pytest.raises(Uncertain) as caught:
        TwilioProvider(app.config).send(_sms())
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 1.5


def test_twilio_unreachable_is_retried_later_because_nothing_was_sent(app, providers):
    app.config["TWILIO_API_BASE"] = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(RateLimited) as caught:
        TwilioProvider(app.config).send(_sms())
    assert caught.value.code == "unreachable"


def test_twilio_needs_credentials_and_a_sender(app, providers):
    app.config["TWILIO_FROM_NUMBER"] = ""
    with pytest.raises(RuntimeError, match="TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER"):
        TwilioProvider(app.config)
    app.config["TWILIO_AUTH_TOKEN"] = ""
    with pytest.raises(RuntimeError, match="TWILIO_AUTH_TOKEN"):
        TwilioProvider(app.config)


def _stranded(db, make, *, to="+447700900123", body=None, claimed_at=None):
    contact = make.contact(mobile=to)
    message = Message(dedupe_key=f"t:{contact.id}", contact_id=contact.id, channel=Channel.SMS,
                      purpose=Purpose.FOLLOW_UP, state=S.SENDING, to_address=to, body=body, provider="twilio",
                      claimed_at=claimed_at or datetime.now(UTC) - timedelta(seconds=5))
    db.session.add(message)
    db.session.flush()
    return message


def test_twilio_reconciles_a_message_it_took_when_the_match_is_unambiguous(db, make, app, providers):
    message = _stranded(db, make, body="See you Thursday")
    sent = provider_for(Channel.SMS).send(_sms(message.id, body="See you Thursday"))
    found = provider_for(Channel.SMS).reconcile(message)
    assert found is not None and found.provider_id == sent.provider_id and found.state is S.SENT


def test_twilio_reconcile_will_not_guess(db, make, app, providers):
    provider = provider_for(Channel.SMS)
    nothing_sent = _stranded(db, make, to="+447700900200")
    assert provider.reconcile(nothing_sent) is None
    twice = _stranded(db, make, to="+447700900300")
    provider.send(_sms(twice.id, to="+447700900300"))
    provider.send(_sms(twice.id, to="+447700900300"))
    assert provider.reconcile(twice) is None  # two candidates: a person decides
    other_text = _stranded(db, make, to="+447700900400", body="Our text")
    provider.send(_sms(other_text.id, to="+447700900400", body="Someone else's text"))
    assert provider.reconcile(other_text) is None
    long_ago = _stranded(db, make, to="+447700900500", claimed_at=datetime.now(UTC) - timedelta(hours=2))
    provider.send(_sms(long_ago.id, to="+447700900500"))
    assert provider.reconcile(long_ago) is None  # created long after that claim: not this one


# ---------------------------------------------------------------------------------------------
# SendGrid


def test_sendgrid_sends_one_mail_with_our_id_and_one_click_unsubscribe_headers(app, providers):
    app.config["SENDGRID_UNSUBSCRIBE_GROUP_ID"] = 4321
    provider = SendGridProvider(app.config)
    link = f"{PUBLIC_BASE}/unsubscribe/abc"
    accepted = provider.send(_email(reply_to="secretary@branch.example.org", cc=["sam.jones@example.org",
                                                                               "rep@branch.example.org"],
                                    unsubscribe_url=link))
    assert accepted.provider_id == providers.sendgrid.message_ids[0] and accepted.state is S.SENT
    [request] = providers.sendgrid.sends
    assert request.headers["authorization"] == f"Bearer {SENDGRID_KEY}"
    body = request.json
    assert body["from"] == {"email": "news@branch.example-union.org.uk", "name": "Mersey Health Branch"}
    assert body["personalizations"] == [{"to": [{"email": "sam.jones@example.org"}],
                                         "cc": [{"email": "rep@branch.example.org"}]}]
    assert body["reply_to"] == {"email": "secretary@branch.example.org"}
    assert body["subject"] == "Branch news"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["custom_args"] == {"branchline_message_id": "9"}
    assert body["asm"] == {"group_id": 4321}
    assert body["headers"] == {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def test_sendgrid_letters_carry_no_unsubscribe_headers(app, providers):
    provider_for(Channel.EMAIL).send(_email())
    body = providers.sendgrid.bodies[0]
    assert "headers" not in body and "asm" not in body


@pytest.mark.parametrize("behaviour, kind, code, bad_address", [
    (error(429), RateLimited, "429", False),
    (error(500), Uncertain, "500", False),
    (error(502), Uncertain, "502", False),
    (error(400, code=1, message="Does not contain a valid address."), Rejected, "400", True),
    (error(413), Rejected, "413", False),
    (error(403, message="Sender not verified"), Rejected, "403", False),
])
def test_sendgrid_errors_map_to_what_the_outbox_does_next(app, providers, behaviour, kind, code, bad_address):
    providers.sendgrid.then(behaviour)
    with pytest.raises(kind) as caught:
        provider_for(Channel.EMAIL).send(_email())
    assert caught.value.code == code
    if kind is Rejected:
        assert caught.value.bad_address is bad_address and caught.value.detail


def test_sendgrid_timeout_is_uncertain_and_bounded(app, providers):
    app.config["PROVIDER_TIMEOUT_SECONDS"] = 0.5
    providers.sendgrid.then(sleep(2))
    started = time.monotonic()
    with pytest.raises(Uncertain) as caught:
        SendGridProvider(app.config).send(_email())
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 1.5


def test_sendgrid_unreachable_is_retried_later(app, providers):
    app.config["SENDGRID_API_BASE"] = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(RateLimited) as caught:
        SendGridProvider(app.config).send(_email())
    assert caught.value.code == "unreachable"


def test_sendgrid_cannot_reconcile_so_a_stranded_email_stays_for_a_person(db, make, app, providers):
    message = Message(dedupe_key="e1", channel=Channel.EMAIL, purpose=Purpose.LETTER, state=S.SENDING,
                      to_address="mp@parliament.example", claimed_at=datetime.now(UTC))
    db.session.add(message)
    db.session.flush()
    assert get_provider("sendgrid").reconcile(message) is None


# ---------------------------------------------------------------------------------------------
# Through the outbox and RQ


def _consenting(make, branch, n, channel=Channel.SMS):
    contacts = [make.contact(branch) for _ in range(n)]
    for c in contacts:
        make.consent(c, channel)
    return contacts


def test_a_text_send_through_twilio_records_sids_and_segments(db, make, app, providers, work_queue):
    lead, branch = make.user(Role.CAMPAIGN_LEAD), make.branch()
    contacts = _consenting(make, branch, 3)
    send = make.send(lead)
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    rows = db.session.scalars(select(Message).where(Message.send_id == send.id)).all()
    assert {m.state for m in rows} == {S.SENT}
    assert {m.provider_id for m in rows} == {r["sid"] for r in providers.twilio.messages}
    assert all(m.provider == "twilio" and m.segments == 1 for m in rows)
    assert sorted(r.form["To"] for r in providers.twilio.sends) == sorted(c.mobile for c in contacts)
    assert sorted(r.form["Body"] for r in providers.twilio.sends) == sorted(
        f"Hi {c.first_name}, branch meeting Thursday 6pm." for c in contacts)
    assert db.session.get(type(send), send.id).status is SendStatus.DONE


def test_twilio_21610_fails_that_text_and_suppresses_the_number(db, make, app, providers, work_queue):
    lead, branch = make.user(Role.CAMPAIGN_LEAD), make.branch()
    contacts = _consenting(make, branch, 3)
    providers.twilio.then(accept(), error(400, 21610), accept())
    send = make.send(lead)
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    failed = db.session.scalars(select(Message).where(Message.state == S.FAILED)).one()
    assert failed.error_code == "21610" and "STOP" in failed.error_detail
    assert failed.contact_id == contacts[1].id
    suppression = db.session.scalars(select(Suppression)).one()
    assert (suppression.address, suppression.reason) == (contacts[1].mobile, SuppressionReason.STOP)
    db.session.refresh(contacts[1])
    assert contacts[1].consent_for(Channel.SMS).status is ConsentStatus.WITHDRAWN
    assert db.session.scalar(select(func.count()).where(Message.state == S.SENT)) == 2


def test_a_twilio_timeout_leaves_the_text_unknown_and_never_resends_it(db, make, app, providers, work_queue):
    app.config["PROVIDER_TIMEOUT_SECONDS"] = 0.5
    lead, branch = make.user(Role.CAMPAIGN_LEAD), make.branch()
    _consenting(make, branch, 2)
    providers.twilio.then(sleep(1.5))
    send = make.send(lead)
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    states = dict(db.session.execute(select(Message.state, func.count()).group_by(Message.state)).all())
    assert states == {S.UNKNOWN: 1, S.SENT: 1}
    assert len(providers.twilio.sends) == 2


def test_an_email_send_through_sendgrid_links_each_mail_to_its_row(db, make, app, providers, work_queue):
    lead, branch = make.user(Role.CAMPAIGN_LEAD), make.branch()
    _consenting(make, branch, 2, Channel.EMAIL)
    send = make.send(lead, channel=Channel.EMAIL)
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    rows = {m.id: m for m in db.session.scalars(select(Message).where(Message.send_id == send.id))}
    assert {m.state for m in rows.values()} == {S.SENT}
    for body in providers.sendgrid.bodies:
        row = rows[int(body["custom_args"]["branchline_message_id"])]
        assert body["personalizations"][0]["to"] == [{"email": row.to_address}]
        assert body["headers"]["List-Unsubscribe"] == f"<{unsubscribe_url(row.id)}>"
    assert {m.provider_id for m in rows.values()} == set(providers.sendgrid.message_ids)
