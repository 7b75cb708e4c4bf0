"""Call follow-up texts: chosen per list, offered to the caller for members who agreed to texts,
queued once in the same transaction as the outcome."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.auth.roles import Role
from crm.calls.models import CallAttempt
from crm.messaging.models import Message, MessageState, Purpose
from crm.vocabulary import Channel, ConsentStatus

TEXT = "Thanks for talking to me, {{ first_name }}. Questions? Call the branch on 0151 000 0000."


@pytest.fixture(autouse=True)
def _any_hour(app, monkeypatch):
    """Texts go at any hour in these tests, whatever time they run (quiet hours are tested in test_outbox)."""
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "")


@pytest.fixture
def calling(make, db):
    home = make.branch(code="LIVH", name="Liverpool Health")
    caller = make.user(Role.CALLER, branches=[home], name="Cara Caller")
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    template = make.message_template(name="Thanks after a call", body=TEXT)
    lst = make.call_list([home], callers=[caller], name="New joiners – LIVH", follow_up_template_id=template.id)
    amara = make.contact(home, first_name="Amara", mobile="+447400123456")
    make.consent(amara, Channel.SMS)
    entry = make.call_entry(lst, amara)
    db.session.commit()
    return {"home": home, "caller": caller, "officer": officer, "list": lst, "amara": amara, "entry": entry,
            "template": template}


def _claim(client, lst) -> str:
    response = client.post(f"/calls/lists/{lst.id}/next")
    assert response.status_code == 302
    return response.headers["Location"]


def _follow_ups(db):
    return db.session.scalars(select(Message).where(Message.purpose == Purpose.FOLLOW_UP)).all()


def test_caller_sees_the_follow_up_filled_in_and_unticked(client, login_as, calling):
    login_as(calling["caller"])
    page = client.get(_claim(client, calling["list"])).get_data(as_text=True)
    assert "Send the follow-up text" in page
    assert "Thanks for talking to me, Amara." in page
    assert 'name="send_follow_up"' in page and "checked" not in page.split('name="send_follow_up"')[1].split(">")[0]


def test_ticked_box_queues_one_text_with_the_outcome(client, login_as, calling, db, work_queue):
    login_as(calling["caller"])
    url = _claim(client, calling["list"])
    response = client.post(url + "/outcome", data={"outcome": "answered", "send_follow_up": "y"})
    assert response.status_code == 302
    # A second tap of the same button is recognised and sends nothing more.
    client.post(url + "/outcome", data={"outcome": "answered", "send_follow_up": "y"})
    attempt = db.session.scalars(select(CallAttempt)).one()
    texts = _follow_ups(db)
    assert len(texts) == 1
    assert texts[0].dedupe_key == f"follow:{attempt.id}" and texts[0].contact_id == calling["amara"].id
    assert texts[0].body.startswith("Thanks for talking to me, Amara.")
    work_queue()
    db.session.refresh(texts[0])
    assert texts[0].state is MessageState.DELIVERED and texts[0].to_address == "+447400123456"


def test_unticked_box_sends_nothing(client, login_as, calling, db):
    login_as(calling["caller"])
    url = _claim(client, calling["list"])
    assert client.post(url + "/outcome", data={"outcome": "answered"}).status_code == 302
    assert _follow_ups(db) == []


def test_no_consent_means_no_offer_and_nothing_queued(client, login_as, calling, db, make):
    consent = calling["amara"].consent_for(Channel.SMS)
    consent.status = ConsentStatus.WITHDRAWN
    db.session.commit()
    login_as(calling["caller"])
    url = _claim(client, calling["list"])
    assert "Send the follow-up text" not in client.get(url).get_data(as_text=True)
    client.post(url + "/outcome", data={"outcome": "answered", "send_follow_up": "y"})
    assert _follow_ups(db) == []


def test_no_follow_up_after_a_wrong_number(client, login_as, calling, db):
    login_as(calling["caller"])
    url = _claim(client, calling["list"])
    client.post(url + "/outcome", data={"outcome": "wrong_number", "send_follow_up": "y"})
    assert _follow_ups(db) == []


def test_consent_withdrawn_after_queuing_is_honoured_when_it_goes(client, login_as, calling, db, work_queue):
    login_as(calling["caller"])
    url = _claim(client, calling["list"])
    client.post(url + "/outcome", data={"outcome": "answered", "send_follow_up": "y"})
    consent = calling["amara"].consent_for(Channel.SMS)
    consent.status = ConsentStatus.WITHDRAWN
    db.session.commit()
    work_queue()
    text = _follow_ups(db)[0]
    db.session.refresh(text)
    assert text.state is MessageState.SKIPPED


def test_officer_chooses_the_lists_follow_up_among_sms_templates(client, login_as, calling, db, make):
    email = make.message_template(Channel.EMAIL, name="Email news")
    other_sms = make.message_template(name="Short thanks", body="Thanks {{ first_name }}!")
    db.session.commit()
    login_as(calling["officer"])
    page = client.get(f"/calls/lists/{calling['list'].id}/follow-up").get_data(as_text=True)
    assert "Short thanks" in page and "Email news" not in page and "Thanks Sam!" in page
    refused = client.post(f"/calls/lists/{calling['list'].id}/follow-up", data={"template": str(email.id)})
    assert refused.status_code == 422
    assert client.post(f"/calls/lists/{calling['list'].id}/follow-up",
                       data={"template": str(other_sms.id)}).status_code == 302
    db.session.refresh(calling["list"])
    assert calling["list"].follow_up_template_id == other_sms.id
    assert client.post(f"/calls/lists/{calling['list'].id}/follow-up", data={"template": ""}).status_code == 302
    db.session.refresh(calling["list"])
    assert calling["list"].follow_up_template_id is None
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
