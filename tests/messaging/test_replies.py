"""The replies inbox: branch-scoped, unhandled first, a conversation page, answering by text."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import func, select

from crm.auth.roles import Role
from crm.database import utcnow
from crm.messaging import outbox
from crm.messaging.models import InboundKind, Message, MessageState, Purpose, SuppressionReason
from crm.messaging.suppression import suppress
from crm.vocabulary import Channel


@pytest.fixture(autouse=True)
def _any_hour(app, monkeypatch):
    """Texts go at any hour in these tests, whatever time they run (quiet hours are tested in test_outbox)."""
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "")


def _world(make, db):
    home = make.branch(code="HOME")
    other = make.branch(code="OTHER")
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    lead = make.user(Role.CAMPAIGN_LEAD)
    mine = make.contact(home, first_name="Priya", last_name="Shah")
    theirs = make.contact(other, first_name="Olu", last_name="Other")
    return home, other, officer, lead, mine, theirs


def test_branch_officer_sees_only_their_branchs_replies(client, login_as, make, db):
    home, other, officer, lead, mine, theirs = _world(make, db)
    make.inbound_message(mine, body="Happy to help at the stall")
    hidden = make.inbound_message(theirs, body="Other branch reply")
    stranger = make.inbound_message(None, body="Who is this?")
    make.inbound_message(mine, body="STOP", kind=InboundKind.STOP)
    db.session.commit()
    page = login_as(officer).get("/messages/replies").get_data(as_text=True)
    assert "Happy to help at the stall" in page
    assert "Other branch reply" not in page and "Who is this?" not in page and ">STOP<" not in page
    assert client.get(f"/messages/replies/{hidden.id}").status_code == 404
    assert client.get(f"/messages/replies/{stranger.id}").status_code == 404
    assert client.post(f"/messages/replies/{hidden.id}/answer", data={"body": "Hi"}).status_code == 404
    # Regional staff see everything, including numbers that match nobody.
    page = login_as(lead).get("/messages/replies").get_data(as_text=True)
    assert "Other branch reply" in page and "Who is this?" in page


def test_inbox_lists_unhandled_first_then_newest(client, login_as, make, db):
    home, other, officer, lead, mine, theirs = _world(make, db)
    now = utcnow()
    make.inbound_message(mine, body="Old and open", received_at=now - timedelta(days=2))
    make.inbound_message(mine, body="New but handled", received_at=now, handled_at=now)
    make.inbound_message(mine, body="Newer and open", received_at=now - timedelta(hours=1))
    db.session.commit()
    page = login_as(officer).get("/messages/replies").get_data(as_text=True)
    assert page.index("Newer and open") < page.index("Old and open") < page.index("New but handled")
    open_only = client.get("/messages/replies?show=open").get_data(as_text=True)
    assert "New but handled" not in open_only


def test_conversation_shows_our_texts_and_theirs(client, login_as, make, db, work_queue):
    home, other, officer, lead, mine, theirs = _world(make, db)
    make.consent(mine, Channel.SMS)
    send = make.send(lead, name="Ballot reminder", body="Hi {{ first_name }}, vote by Friday!")
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    sent = db.session.scalars(select(Message).where(Message.send_id == send.id)).one()
    reply = make.inbound_message(mine, body="Where do I vote?", in_reply_to_id=sent.id)
    db.session.commit()
    page = login_as(officer).get(f"/messages/replies/{reply.id}").get_data(as_text=True)
    assert "Hi Priya, vote by Friday!" in page and "Ballot reminder" in page
    assert "Where do I vote?" in page
    assert page.index("Hi Priya, vote by Friday!") < page.index("Where do I vote?")


def test_answer_is_one_text_per_answer_and_marks_the_reply_handled(client, login_as, make, db, work_queue):
    home, other, officer, lead, mine, theirs = _world(make, db)
    reply = make.inbound_message(mine, body="Where do I vote?")
    db.session.commit()
    login_as(officer)
    for _ in range(2):  # the same form posted twice (a double tap)
        response = client.post(f"/messages/replies/{reply.id}/answer",
                               data={"body": "At the hospital chapel, 9 to 5. Priya", "nonce": "abc"})
        assert response.status_code == 302
    work_queue()
    answers = db.session.scalars(select(Message).where(Message.purpose == Purpose.REPLY)).all()
    assert len(answers) == 1
    assert answers[0].contact_id == mine.id and answers[0].state is MessageState.DELIVERED
    assert answers[0].to_address == mine.mobile
    db.session.refresh(reply)
    assert reply.handled_at is not None and reply.handled_by_id == officer.id
    # Answering needs no SMS consent (they wrote to us), but a blank answer is refused.
    empty = client.post(f"/messages/replies/{reply.id}/answer", data={"body": "  ", "nonce": "x"})
    assert empty.status_code == 422 and "Enter your answer." in empty.get_data(as_text=True)


def test_a_number_that_texted_stop_cannot_be_answered(client, login_as, make, db):
    home, other, officer, lead, mine, theirs = _world(make, db)
    reply = make.inbound_message(mine, body="Not interested")
    suppress(Channel.SMS, mine.mobile, SuppressionReason.STOP)
    db.session.commit()
    login_as(officer)
    assert "opted out of texts" in client.get(f"/messages/replies/{reply.id}").get_data(as_text=True)
    response = client.post(f"/messages/replies/{reply.id}/answer", data={"body": "Sorry to hear", "nonce": "n"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Message.id))) == 0


def test_mark_as_handled_and_back(client, login_as, make, db):
    home, other, officer, lead, mine, theirs = _world(make, db)
    reply = make.inbound_message(mine)
    db.session.commit()
    login_as(officer)
    assert client.post(f"/messages/replies/{reply.id}/handled").status_code == 302
    db.session.refresh(reply)
    assert reply.handled_at is not None
    assert client.post(f"/messages/replies/{reply.id}/handled", data={"handled": "no"}).status_code == 302
    db.session.refresh(reply)
    assert reply.handled_at is None
