"""Composing a send: audience from a saved search or a call list, the check page's numbers, preview,
test send, send now or schedule, cancel."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.database import utcnow
from crm.messaging import outbox
from crm.messaging.models import Message, MessageState, Purpose, Send, SendStatus
from crm.templating import UK
from crm.vocabulary import Channel, ConsentStatus


@pytest.fixture
def region(make, db):
    lead = make.user(Role.CAMPAIGN_LEAD, email="lead@example.org")
    branch = make.branch(code="LIVH", name="Liverpool Health")
    other = make.branch(code="WIRL", name="Wirral Council")
    ok = [make.contact(branch, first_name=name) for name in ("Amara", "Liam", "Zoë")]
    for c in ok:
        make.consent(c, Channel.SMS)
    make.contact(branch)  # never asked about texts
    opted_out = make.contact(branch)
    make.consent(opted_out, Channel.SMS, ConsentStatus.WITHDRAWN)
    no_mobile = make.contact(branch, mobile=None)
    make.consent(no_mobile, Channel.SMS)
    twin = make.contact(branch, mobile=ok[0].mobile)
    make.consent(twin, Channel.SMS)
    elsewhere = make.contact(other)
    make.consent(elsewhere, Channel.SMS)
    db.session.commit()
    return {"lead": lead, "branch": branch, "other": other, "ok": ok}


def _search(client, **values) -> str:
    """Make a contacts search as the signed-in user; returns its session key."""
    response = client.post("/contacts/", data=values)
    assert response.status_code == 302
    return parse_qs(urlparse(response.headers["Location"]).query)["f"][0]


def _compose(client, key, **extra):
    data = {"name": "Branch meeting", "channel": "sms", "body": "Hi {{ first_name }}, branch meeting Thursday.",
            "audience_kind": "contacts", "aud_contacts": key, "action": "save"}
    data.update(extra)
    return client.post("/messages/new", data=data)


def _send_id(response) -> int:
    return int(re.search(r"/sends/(\d+)/check", response.headers["Location"]).group(1))


def test_lead_composes_from_a_saved_search_and_sees_the_exact_numbers(client, login_as, region, db):
    login_as(region["lead"])
    key = _search(client, branch=str(region["branch"].id))
    page = client.get(f"/messages/new?f={key}").get_data(as_text=True)
    assert "Contacts: Branch: LIVH" in page
    response = _compose(client, key)
    assert response.status_code == 302
    send = db.session.get(Send, _send_id(response))
    assert send.status is SendStatus.DRAFT
    assert send.audience == {"filter": {**send.audience["filter"], "branch": str(region["branch"].id)}}
    assert send.audience_label == "Contacts: Branch: LIVH"
    check = client.get(f"/messages/sends/{send.id}/check").get_data(as_text=True)
    assert re.search(r'id="recipient-count">3<', check)
    assert re.search(r'id="excluded-count">4<', check)
    for words in ("Never agreed to this channel", "Opted out of this channel", "No mobile number or email address",
                  "Shares a number or address with another recipient"):
        assert words in check
    assert "of 7 in the audience" in check
    assert "Send to 3 people" in check
    # The preview shows the first recipient's own text; the other branch's contact is nowhere.
    assert "Hi Amara, branch meeting Thursday." in check


def test_search_text_never_goes_into_a_url(client, login_as, region, db):
    login_as(region["lead"])
    key = _search(client, q="Amara")
    response = _compose(client, key)
    assert "Amara" not in response.headers["Location"]
    check = client.get(response.headers["Location"]).get_data(as_text=True)
    for url in re.findall(r'(?:href|action)="([^"]*)"', check):
        assert "Amara" not in url


def test_preview_of_another_recipient_is_chosen_by_position_in_a_post(client, login_as, region, db):
    login_as(region["lead"])
    send_id = _send_id(_compose(client, _search(client, branch=str(region["branch"].id))))
    page = client.post(f"/messages/sends/{send_id}/preview", data={"position": "3"}).get_data(as_text=True)
    assert "Hi Zoë, branch meeting Thursday." in page
    assert "For recipient 3" in page
    assert "UCS-2" in page  # ë is not in the GSM-7 alphabet, so Zoë's text costs more


@pytest.mark.parametrize("sender", ["organiser", "lead"])
def test_call_list_audience_counts_only_the_list(client, login_as, region, make, db, sender):
    # Organisers manage call lists; campaign leads are not assigned to lists but may message their members.
    user = make.user(Role.ORGANISER) if sender == "organiser" else region["lead"]
    call_list = make.call_list([region["branch"]], name="New joiners – LIVH")
    make.call_entry(call_list, region["ok"][1])
    db.session.commit()
    login_as(user)
    assert "New joiners – LIVH" in client.get("/messages/new").get_data(as_text=True)
    response = client.post("/messages/new", data={
        "name": "Welcome", "channel": "sms", "body": "Welcome {{ first_name }}", "audience_kind": "call_list",
        "aud_call_list": str(call_list.id), "action": "save"})
    send = db.session.get(Send, _send_id(response))
    assert send.audience == {"call_list_id": call_list.id} and send.audience_label == "Call list: New joiners – LIVH"
    assert re.search(r'id="recipient-count">1<', client.get(f"/messages/sends/{send.id}/check").get_data(as_text=True))


def test_unknown_merge_field_and_missing_audience_are_refused_with_clear_errors(client, login_as, region, db):
    login_as(region["lead"])
    response = client.post("/messages/new", data={"name": "Oops", "channel": "sms", "body": "Hi {{ frist_name }}",
                                                  "audience_kind": "contacts", "aud_contacts": "", "action": "save"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Unknown merge field: frist_name" in page and "first_name" in page
    assert "Choose which search to send to" in page
    assert db.session.scalar(select(func.count(Send.id))) == 0


def test_an_audience_matching_nobody_is_refused(client, login_as, region, db):
    login_as(region["lead"])
    key = _search(client, q="Nobody-by-this-name")
    response = _compose(client, key)
    assert response.status_code == 422
    assert "Nobody you can see is in that audience" in response.get_data(as_text=True)


def test_a_template_is_copied_into_the_form(client, login_as, region, make, db):
    template = make.message_template(Channel.EMAIL, name="Newsletter")
    db.session.commit()
    login_as(region["lead"])
    page = client.post("/messages/new", data={"name": "", "channel": "sms", "template": str(template.id),
                                             "body": "", "action": "use_template"}).get_data(as_text=True)
    assert "News for {{ first_name }}" in page
    assert re.search(r'checked[^>]*value="email"|value="email"[^>]*checked', page)


def test_test_send_goes_to_the_typed_mobile_once_per_click(client, login_as, region, db):
    login_as(region["lead"])
    send_id = _send_id(_compose(client, _search(client, branch=str(region["branch"].id))))
    bad = client.post(f"/messages/sends/{send_id}/test", data={"mobile": "0161 496 0000", "nonce": "a"})
    assert bad.status_code == 422
    assert "That is not a UK mobile number. Enter one like 07400 123456." in bad.get_data(as_text=True)
    for _ in range(2):  # a double click posts the same form twice
        assert client.post(f"/messages/sends/{send_id}/test", data={"mobile": "07400 123456", "nonce": "n1"}).status_code == 302
    tests = db.session.scalars(select(Message).where(Message.purpose == Purpose.TEST)).all()
    assert len(tests) == 1
    assert tests[0].to_address == "+447400123456" and tests[0].send_id is None
    assert tests[0].body == "Hi Sam, branch meeting Thursday."
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "message_send.test")) == 1


def test_email_test_send_goes_to_the_users_own_address(client, login_as, region, make, db):
    for c in region["ok"]:
        make.consent(c, Channel.EMAIL)
    db.session.commit()
    login_as(region["lead"])
    key = _search(client, branch=str(region["branch"].id))
    send_id = _send_id(_compose(client, key, channel="email", subject="News for {{ first_name }}"))
    assert client.post(f"/messages/sends/{send_id}/test", data={"nonce": "e1"}).status_code == 302
    message = db.session.scalars(select(Message).where(Message.purpose == Purpose.TEST)).one()
    assert message.to_address == "lead@example.org" and message.subject == "[Test] News for Sam"


def test_send_now_delivers_to_the_recipients_and_is_audited(client, login_as, region, db, work_queue):
    login_as(region["lead"])
    send_id = _send_id(_compose(client, _search(client, branch=str(region["branch"].id))))
    response = client.post(f"/messages/sends/{send_id}/start", data={"when": "now", "quiet_hours": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/messages/sends/{send_id}")
    work_queue()
    send = db.session.get(Send, send_id)
    db.session.refresh(send)
    assert send.status is SendStatus.DONE and send.recipient_count == 3 and send.respect_quiet_hours is False
    assert db.session.scalar(select(func.count(Message.id)).where(Message.send_id == send_id,
                                                                  Message.state == MessageState.DELIVERED)) == 3
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "message_send.start")) == 1
    # Started sends can no longer be changed.
    assert client.get(f"/messages/sends/{send_id}/edit").status_code == 302
    assert client.post(f"/messages/sends/{send_id}/start", data={"when": "now"}).status_code == 302


def test_a_time_in_the_past_is_refused(client, login_as, region, db):
    login_as(region["lead"])
    send_id = _send_id(_compose(client, _search(client, branch=str(region["branch"].id))))
    past = (utcnow() - timedelta(hours=1)).astimezone(UK).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/messages/sends/{send_id}/start", data={"when": "later", "send_at": past, "quiet_hours": "y"})
    assert response.status_code == 422
    assert "The time to send must be in the future." in response.get_data(as_text=True)
    assert db.session.get(Send, send_id).status is SendStatus.DRAFT
    missing = client.post(f"/messages/sends/{send_id}/start", data={"when": "later", "send_at": ""})
    assert "Enter the date and time to send." in missing.get_data(as_text=True)


def test_schedule_then_cancel_sends_nothing(client, login_as, region, db, work_queue):
    login_as(region["lead"])
    send_id = _send_id(_compose(client, _search(client, branch=str(region["branch"].id))))
    later = utcnow() + timedelta(days=1)
    response = client.post(f"/messages/sends/{send_id}/start", data={
        "when": "later", "send_at": later.astimezone(UK).strftime("%Y-%m-%dT%H:%M"), "quiet_hours": "y"})
    assert response.status_code == 302
    send = db.session.get(Send, send_id)
    assert send.status is SendStatus.SCHEDULED and send.respect_quiet_hours is True
    assert abs((send.scheduled_for - later).total_seconds()) < 60
    report = client.get(f"/messages/sends/{send_id}").get_data(as_text=True)
    assert "Cancel this send" in report
    assert "Yes, cancel it" in client.get(f"/messages/sends/{send_id}/cancel").get_data(as_text=True)
    assert client.post(f"/messages/sends/{send_id}/cancel").status_code == 302
    db.session.refresh(send)
    assert send.status is SendStatus.CANCELLED and send.cancelled_by_id == region["lead"].id
    # The scheduled job finds a cancelled send and does nothing.
    from jobs.messaging import prepare_send

    prepare_send(send_id)
    assert db.session.scalar(select(func.count(Message.id)).where(Message.send_id == send_id)) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "message_send.cancel")) == 1


def test_cancelling_a_running_send_stops_the_queued_messages(client, login_as, region, db):
    send = db.session.get(Send, _send_id(_compose(login_as(region["lead"]), _search(client, branch=str(region["branch"].id)))))
    outbox.start_send(send)
    db.session.commit()
    outbox.prepare_send(send)  # rows queued, no worker has sent them yet
    assert client.post(f"/messages/sends/{send.id}/cancel").status_code == 302
    states = set(db.session.scalars(select(Message.state).where(Message.send_id == send.id)))
    assert states == {MessageState.CANCELLED}


def test_a_draft_can_be_edited_and_deleted(client, login_as, region, db):
    login_as(region["lead"])
    key = _search(client, branch=str(region["branch"].id))
    send_id = _send_id(_compose(client, key))
    page = client.get(f"/messages/sends/{send_id}/edit").get_data(as_text=True)
    assert f'value="{key}" selected' in page
    response = _compose(client, key, name="Renamed")
    assert response.status_code == 302
    edit = client.post(f"/messages/sends/{send_id}/edit", data={
        "name": "Renamed", "channel": "sms", "body": "Hello {{ first_name }}", "audience_kind": "contacts",
        "aud_contacts": key, "action": "save"})
    assert edit.status_code == 302
    assert db.session.get(Send, send_id).body == "Hello {{ first_name }}"
    assert client.post(f"/messages/sends/{send_id}/delete").status_code == 302
    assert db.session.get(Send, send_id) is None


def test_contacts_page_links_to_message_these_contacts_for_leads_only(client, login_as, region, make, db):
    officer = make.user(Role.BRANCH_OFFICER, branches=[region["branch"]])
    db.session.commit()
    login_as(region["lead"])
    key = _search(client, branch=str(region["branch"].id))
    assert f"/messages/new?f={key}" in client.get(f"/contacts/?f={key}").get_data(as_text=True)
    login_as(officer)
    key = _search(client, branch=str(region["branch"].id))
    assert "Message these contacts" not in client.get(f"/contacts/?f={key}").get_data(as_text=True)


def test_the_audience_choices_come_from_the_registry(client, login_as, region, make, db, monkeypatch):
    from crm.messaging import audiences, service
    from crm.contacts.models import Contact

    campaign = make.campaign(region["branch"], name="Bring services in-house")
    db.session.commit()
    login_as(region["lead"])
    page = client.get("/messages/new").get_data(as_text=True)
    assert "People who wrote letters in a campaign" in page and "Bring services in-house" in page
    assert campaign.id
    # A kind registered later (with its picker) appears without touching the form.
    monkeypatch.setitem(audiences.AUDIENCES, "everyone", audiences.AudienceKind(
        "everyone", "Everyone in my branches", lambda params, user: select(Contact.id)))
    monkeypatch.setitem(service.PICKERS, "everyone", service.AudiencePicker(
        options=lambda user, context: [("all", "All of them")], params=lambda value, user, context: {},
        describe=lambda params, user: "Everyone"))
    page = client.get("/messages/new").get_data(as_text=True)
    assert "Everyone in my branches" in page and "All of them" in page
    response = client.post("/messages/new", data={"name": "All", "channel": "sms", "body": "Hi",
                                                  "audience_kind": "everyone", "aud_everyone": "all", "action": "save"})
    assert response.status_code == 302
    send = db.session.get(Send, _send_id(response))
    assert send.audience_kind == "everyone" and send.audience_label == "Everyone"
