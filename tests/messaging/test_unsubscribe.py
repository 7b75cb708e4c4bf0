"""The public email unsubscribe page: a signed link, one click, no sign-in, effective at once."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from crm.auth.roles import Role
from crm.messaging import outbox
from crm.messaging.models import Message, MessageState, Purpose, Suppression, SuppressionReason
from crm.messaging.tokens import unsubscribe_token, unsubscribe_url
from crm.vocabulary import Channel, ConsentStatus

S = MessageState


def _emailed(db, make, email="sam.jones@example.org", channel=Channel.EMAIL):
    contact = make.contact(email=email)
    make.consent(contact, Channel.EMAIL)
    make.consent(contact, Channel.SMS)
    to = email if channel is Channel.EMAIL else contact.mobile
    message = Message(dedupe_key=f"u:{contact.id}", contact_id=contact.id, channel=channel, purpose=Purpose.BULK,
                      state=S.DELIVERED, to_address=to, provider="sendgrid", provider_id="sg1")
    db.session.add(message)
    db.session.commit()
    return contact, message


def _path(message_id) -> str:
    return f"/unsubscribe/{unsubscribe_token(message_id)}"


def test_the_page_shows_the_channel_and_a_masked_address_and_one_button(db, make, client):
    _, message = _emailed(db, make)
    response = client.get(_path(message.id))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Unsubscribe from emails" in page and "s***@example.org" in page
    assert "sam.jones" not in page
    assert page.count('type="submit"') == 1  # one button, no sign-in
    assert 'name="viewport"' in page
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_pressing_unsubscribe_stops_email_and_withdraws_consent(db, make, client):
    contact, message = _emailed(db, make)
    response = client.post(_path(message.id))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You won't get any more emails from us." in page and "Changed your mind? Contact your branch." in page
    assert "sam.jones" not in page
    suppression = db.session.scalars(select(Suppression)).one()
    assert (suppression.channel, suppression.address, suppression.reason, suppression.message_id) == (
        Channel.EMAIL, "sam.jones@example.org", SuppressionReason.UNSUBSCRIBE, message.id)
    db.session.refresh(contact)
    assert contact.consent_for(Channel.EMAIL).status is ConsentStatus.WITHDRAWN
    assert contact.consent_for(Channel.SMS).status is ConsentStatus.GRANTED  # texts are another matter


def test_one_click_unsubscribe_works_without_a_csrf_token(db, make, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    contact, message = _emailed(db, make)
    response = client.post(_path(message.id), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.refresh(contact)
    assert contact.consent_for(Channel.EMAIL).status is ConsentStatus.WITHDRAWN


def test_the_button_needs_the_pages_csrf_token(db, make, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    contact, message = _emailed(db, make)
    assert client.post(_path(message.id)).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0
    page = client.get(_path(message.id)).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(_path(message.id), data={"csrf_token": token}).status_code == 200
    db.session.refresh(contact)
    assert contact.consent_for(Channel.EMAIL).status is ConsentStatus.WITHDRAWN


def test_a_second_visit_says_already_unsubscribed_and_a_second_post_changes_nothing(db, make, client):
    _, message = _emailed(db, make)
    client.post(_path(message.id))
    client.post(_path(message.id))
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1
    page = client.get(_path(message.id)).get_data(as_text=True)
    assert "already unsubscribed" in page and 'type="submit"' not in page.split("<main", 1)[1]


def test_a_bad_token_is_a_friendly_404(db, make, client):
    _, message = _emailed(db, make)
    good = unsubscribe_token(message.id)
    for token in ("nonsense", good[:-3] + "abc", unsubscribe_token(987654)):
        for method in (client.get, client.post):
            response = method(f"/unsubscribe/{token}")
            assert response.status_code == 404
            assert "We don't recognise this unsubscribe link" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_a_token_for_a_text_is_not_an_email_unsubscribe(db, make, client):
    _, message = _emailed(db, make, channel=Channel.SMS)
    assert client.get(_path(message.id)).status_code == 404


def test_the_link_in_a_sent_email_unsubscribes_in_one_click(db, make, client, providers, work_queue):
    lead = make.user(Role.CAMPAIGN_LEAD)
    contact = make.contact(email="Pat.Lee@Example.org")
    make.consent(contact, Channel.EMAIL)
    send = make.send(lead, channel=Channel.EMAIL, body="Hello {{ first_name }}. Unsubscribe: {{ unsubscribe_url }}")
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    [body] = providers.sendgrid.bodies
    link = body["headers"]["List-Unsubscribe"].strip("<>")
    message_id = int(body["custom_args"]["branchline_message_id"])
    assert link == unsubscribe_url(message_id) and link in body["content"][0]["value"]
    # What a mail provider does with List-Unsubscribe-Post (RFC 8058).
    response = client.post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.refresh(contact)
    assert contact.consent_for(Channel.EMAIL).status is ConsentStatus.WITHDRAWN
    assert db.session.scalars(select(Suppression.address)).one() == "pat.lee@example.org"
    # The next send leaves them out.
    again = make.send(lead, channel=Channel.EMAIL)
    outbox.start_send(again)
    db.session.commit()
    work_queue()
    assert len(providers.sendgrid.sends) == 1
