"""The contact timeline shows every message we sent the contact and every text they sent us."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.auth.roles import Role
from crm.contacts.timeline import gather
from crm.messaging import outbox
from crm.messaging.models import InboundKind, Message, Purpose
from crm.messaging.timeline import message_entries
from crm.vocabulary import Channel


@pytest.fixture(autouse=True)
def _any_hour(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "")


def test_timeline_lists_sends_one_offs_failures_and_texts_from_them(client, login_as, make, db, work_queue):
    branch = make.branch()
    lead = make.user(Role.CAMPAIGN_LEAD)
    officer = make.user(Role.BRANCH_OFFICER, branches=[branch])
    priya = make.contact(branch, first_name="Priya")
    make.consent(priya, Channel.SMS)
    send = make.send(lead, name="Ballot reminder")
    outbox.start_send(send)
    outbox.queue_message(channel=Channel.SMS, purpose=Purpose.FOLLOW_UP, contact=priya, body="Thanks!",
                         dedupe_key="follow:1")
    outbox.queue_message(channel=Channel.SMS, purpose=Purpose.TEST, to_address="+447400123456", body="test",
                         dedupe_key="test:1")
    db.session.commit()
    work_queue()
    make.inbound_message(priya, body="Where do I vote?")
    make.inbound_message(priya, body="STOP", kind=InboundKind.STOP)
    failed = db.session.scalars(select(Message).where(Message.purpose == Purpose.FOLLOW_UP)).one()
    failed.state, failed.error_detail = failed.state.FAILED, "Unreachable destination handset"
    db.session.commit()

    titles = [(e.title, e.detail) for e in message_entries(priya, lead)]
    assert ("SMS sent: ‘Ballot reminder’", "Delivered") in titles
    assert ("SMS sent: follow-up after a call", "Failed: Unreachable destination handset") in titles
    assert ("Texted us", "Where do I vote?") in titles
    assert ("Texted STOP", "Opt-out (STOP)") in titles
    assert len(titles) == 4  # the test send to a staff number is not the contact's

    page = login_as(officer).get(f"/contacts/{priya.id}").get_data(as_text=True)
    assert "Ballot reminder" in page and "Where do I vote?" in page
    assert f"/messages/sends/{send.id}" not in page  # officers can't open send reports
    assert "/messages/replies/" in page  # but they answer replies
    lead_page = login_as(lead).get(f"/contacts/{priya.id}").get_data(as_text=True)
    assert f"/messages/sends/{send.id}" in lead_page


def test_timeline_shows_nothing_to_a_viewer_outside_the_contacts_branch(make, db):
    branch, elsewhere = make.branch(), make.branch()
    stranger = make.user(Role.BRANCH_OFFICER, branches=[elsewhere])
    priya = make.contact(branch)
    make.inbound_message(priya, body="Private")
    db.session.commit()
    assert list(message_entries(priya, stranger)) == []
    assert all(e.kind not in ("message", "reply") for e in gather(priya, stranger))
