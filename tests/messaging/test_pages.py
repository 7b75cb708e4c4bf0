"""The /messages pages: who may open them, the sends list, templates with merge-field checks."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select, update

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.messaging import outbox
from crm.messaging.models import Message, MessageState, MessageTemplate, SendStatus, SuppressionReason
from crm.messaging.suppression import suppress
from crm.vocabulary import Channel


def test_callers_and_branch_officers_cannot_reach_sends(client, login_as, make, db):
    branch = make.branch()
    caller = make.user(Role.CALLER, branches=[branch])
    officer = make.user(Role.BRANCH_OFFICER, branches=[branch])
    db.session.commit()
    login_as(caller)
    for url in ("/messages/", "/messages/new", "/messages/templates", "/messages/replies"):
        assert client.get(url).status_code == 404
    login_as(officer)
    assert client.get("/messages/new").status_code == 404
    assert client.get("/messages/templates").status_code == 404
    # Branch officers answer replies: /messages takes them to the inbox.
    response = client.get("/messages/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/messages/replies")


def test_messages_is_in_the_header_for_campaign_leads_and_officers_not_callers(client, login_as, make, db):
    branch = make.branch()
    lead = make.user(Role.CAMPAIGN_LEAD)
    officer = make.user(Role.BRANCH_OFFICER, branches=[branch])
    caller = make.user(Role.CALLER, branches=[branch])
    db.session.commit()
    for user, shown in ((lead, True), (officer, True), (caller, False)):
        login_as(user)
        page = client.get("/").get_data(as_text=True)
        assert ('href="/messages/"' in page) is shown


def test_sends_list_shows_drafts_running_and_finished_sends(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    make.send(lead, name="Draft about the ballot")
    make.send(lead, name="Scheduled reminder", status=SendStatus.SCHEDULED)
    make.send(lead, name="Done last week", status=SendStatus.DONE)
    db.session.commit()
    page = login_as(lead).get("/messages/").get_data(as_text=True)
    assert "Draft about the ballot" in page and "Scheduled reminder" in page and "Done last week" in page
    assert page.index("Scheduled reminder") < page.index("Draft about the ballot") < page.index("Done last week")


def test_lead_creates_an_sms_template(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    db.session.commit()
    login_as(lead)
    assert client.get("/messages/templates/new?channel=sms").status_code == 200
    response = client.post("/messages/templates/new?channel=sms", data={
        "name": "Meeting reminder", "body": "Hi {{ first_name }}, branch meeting at {{ workplace }} on Thursday.",
        "action": "save"})
    assert response.status_code == 302
    template = db.session.scalars(select(MessageTemplate)).one()
    assert template.channel is Channel.SMS and template.created_by_id == lead.id
    assert "Meeting reminder" in client.get("/messages/templates").get_data(as_text=True)


def test_unknown_merge_field_is_refused_naming_it_and_the_allowed_ones(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    db.session.commit()
    response = login_as(lead).post("/messages/templates/new?channel=sms", data={
        "name": "Typo", "body": "Hi {{ firstname }}", "action": "save"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Unknown merge field: firstname" in page
    assert "first_name" in page and "workplace" in page
    assert db.session.scalars(select(MessageTemplate)).first() is None


def test_email_template_needs_a_subject_and_checks_the_html_part(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    db.session.commit()
    response = login_as(lead).post("/messages/templates/new?channel=email", data={
        "name": "News", "subject": "", "body": "Dear {{ first_name }}", "html": "<p>{{ nickname }}</p>",
        "action": "save"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a subject for the email." in page and "Unknown merge field: nickname" in page


def test_sms_template_page_counts_segments_and_names_ucs2_characters(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    template = make.message_template(body="Meeting tonight – don’t miss it")
    db.session.commit()
    page = login_as(lead).get(f"/messages/templates/{template.id}/edit").get_data(as_text=True)
    assert "UCS-2" in page and "–’" in page
    assert "1 segment" in page


def test_template_preview_renders_for_the_sample_member_without_saving(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    db.session.commit()
    response = login_as(lead).post("/messages/templates/new?channel=sms", data={
        "name": "Hello", "body": "Hi {{ first_name }}", "action": "preview"})
    assert response.status_code == 200
    assert "Hi Sam" in response.get_data(as_text=True)
    assert db.session.scalars(select(MessageTemplate)).first() is None


def test_archived_templates_are_not_offered_for_new_sends(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    template = make.message_template(name="Old reminder")
    db.session.commit()
    login_as(lead)
    assert "Old reminder" in client.get("/messages/new").get_data(as_text=True)
    assert client.post(f"/messages/templates/{template.id}/archive", data={"archive": "yes"},
                       follow_redirects=True).status_code == 200
    assert "Old reminder" not in client.get("/messages/new").get_data(as_text=True)
    assert "Old reminder" in client.get("/messages/templates?show=archived").get_data(as_text=True)


def test_report_json_counts_states(client, login_as, make, db, work_queue):
    lead = make.user(Role.CAMPAIGN_LEAD)
    branch = make.branch()
    for _ in range(3):
        make.consent(make.contact(branch), Channel.SMS)
    make.contact(branch)  # never agreed to texts
    send = make.send(lead)
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    data = login_as(lead).get(f"/messages/sends/{send.id}/progress").get_json()
    assert data["status"] == "done" and data["finished"] is True
    assert data["total"] == 3 and data["processed"] == 3 and data["delivered"] == 3
    assert data["counts"]["delivered"] == 3 and data["counts"]["queued"] == 0
    page = client.get(f"/messages/sends/{send.id}").get_data(as_text=True)
    assert "Finished" in page and "100.0% of 3" in page
    assert "Never agreed to this channel" in page


def _finished_send(make, db, work_queue, n=3):
    lead = make.user(Role.CAMPAIGN_LEAD)
    branch = make.branch()
    contacts = [make.contact(branch) for _ in range(n)]
    for c in contacts:
        make.consent(c, Channel.SMS)
    send = make.send(lead, name="Ballot reminder")
    outbox.start_send(send)
    db.session.commit()
    work_queue()
    rows = db.session.scalars(select(Message).where(Message.send_id == send.id).order_by(Message.id)).all()
    return lead, send, contacts, rows


def test_report_shows_failures_by_code_opt_outs_and_replies(client, login_as, make, db, work_queue):
    lead, send, contacts, rows = _finished_send(make, db, work_queue)
    db.session.execute(update(Message).where(Message.id == rows[0].id).values(state=MessageState.UNDELIVERED,
                                                                              error_code="30003",
                                                                              error_detail="Unreachable handset"))
    suppress(Channel.SMS, contacts[1].mobile, SuppressionReason.STOP, message_id=rows[1].id)
    make.inbound_message(contacts[2], body="Thanks!", in_reply_to_id=rows[2].id)
    db.session.commit()
    page = login_as(lead).get(f"/messages/sends/{send.id}").get_data(as_text=True)
    assert "30003" in page and "Unreachable handset" in page
    assert "Texted STOP: 1" in page
    assert re.search(r'Replies</span><span class="stat">1<', page)
    assert "66.7% of 3" in page


def test_unknown_messages_are_listed_and_a_person_decides(client, login_as, make, db, work_queue):
    lead, send, contacts, rows = _finished_send(make, db, work_queue)
    for row in rows[:2]:
        db.session.execute(update(Message).where(Message.id == row.id).values(
            state=MessageState.UNKNOWN, error_code="worker_stopped", error_detail="The worker stopped."))
    db.session.commit()
    login_as(lead)
    page = client.get(f"/messages/sends/{send.id}").get_data(as_text=True)
    assert "Messages to check (2)" in page and contacts[0].full_name in page
    url = f"/messages/sends/{send.id}/messages/{{}}/resolve"
    assert client.post(url.format(rows[0].id), data={"decision": "sent"}).status_code == 302
    assert client.post(url.format(rows[1].id), data={"decision": "again"}).status_code == 302
    # Deciding twice changes nothing more.
    assert client.post(url.format(rows[1].id), data={"decision": "again"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Message, rows[0].id).state is MessageState.SENT
    assert db.session.get(Message, rows[1].id).state is MessageState.FAILED
    copies = db.session.scalars(select(Message).where(Message.send_id == send.id, Message.id > rows[-1].id)).all()
    assert len(copies) == 1 and copies[0].contact_id == contacts[1].id and copies[0].state is MessageState.QUEUED
    work_queue()
    db.session.refresh(copies[0])
    assert copies[0].state is MessageState.DELIVERED
    events = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "message.resolve_unknown")).all()
    assert sorted(e.split()[0] for e in events) == ["decision=send_again", "decision=sent"]


def test_report_says_texts_wait_during_quiet_hours(client, login_as, make, db, app, monkeypatch):
    lead = make.user(Role.CAMPAIGN_LEAD)
    send = make.send(lead, status=SendStatus.SENDING, respect_quiet_hours=True)
    db.session.commit()
    from crm.messaging import views

    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "21:00-08:00")
    monkeypatch.setattr(views, "utcnow", lambda: datetime(2026, 1, 15, 22, 30, tzinfo=UTC))
    page = login_as(lead).get(f"/messages/sends/{send.id}").get_data(as_text=True)
    assert "texts are waiting until 16 Jan 2026, 08:00 UK time" in page


def test_every_messaging_form_carries_a_csrf_token_and_is_refused_without(client, login_as, make, db, app,
                                                                          monkeypatch, work_queue):
    lead, send, contacts, rows = _finished_send(make, db, work_queue)
    draft = make.send(lead, name="Draft")
    reply = make.inbound_message(contacts[0])
    make.message_template()
    db.session.commit()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    login_as(lead)
    for url in ("/messages/new", "/messages/templates", "/messages/templates/new?channel=sms",
                f"/messages/sends/{draft.id}/check", f"/messages/replies/{reply.id}"):
        page = client.get(url).get_data(as_text=True)
        forms = re.findall(r'<form method="post".*?</form>', page, re.S)
        assert forms, url
        for form in forms:
            assert 'name="csrf_token"' in form, f"{url}: a form without a CSRF token"
    assert client.post(f"/messages/sends/{draft.id}/start", data={"when": "now"}).status_code in (400, 422)
    assert db.session.get(type(draft), draft.id).status is SendStatus.DRAFT
    assert client.post(f"/messages/replies/{reply.id}/answer", data={"body": "Hi"}).status_code in (400, 422)
