"""A campaign lead texts a saved contacts search: compose, the exact numbers, send, the report finishes."""
import re

import pytest
from playwright.sync_api import expect
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from crm.auth.roles import Role
from crm.queue import get_queue, get_redis
from crm.messaging.models import Message, MessageState
from crm.vocabulary import Channel, ConsentStatus

from ..factories import PASSWORD
from .conftest import shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def work_queue(app):
    """Run every queued job now, in this process (RQ SimpleWorker in burst mode)."""
    return lambda: SimpleWorker([get_queue()], connection=get_redis(), serializer=JSONSerializer).work(burst=True)


@pytest.fixture
def region(make, db):
    home = make.branch(code="LIVH", name="Liverpool Health")
    other = make.branch(code="WIRC", name="Wirral Council")
    trust = make.employer("Mersey Hospitals NHS FT", branches=[home])
    site = make.workplace(trust, "Royal Infirmary")
    lead = make.user(Role.CAMPAIGN_LEAD, email="lead@example.org", name="Lena Lead")
    for first, last in (("Amara", "Okafor"), ("Liam", "Byrne"), ("Zoë", "Wright"), ("Sam", "Patel")):
        make.consent(make.contact(home, first_name=first, last_name=last, employer=trust, workplace=site), Channel.SMS)
    make.contact(home, first_name="Never", last_name="Asked")
    make.consent(make.contact(home, first_name="Opted", last_name="Out"), Channel.SMS, ConsentStatus.WITHDRAWN)
    make.consent(make.contact(other, first_name="Other", last_name="Branch"), Channel.SMS)
    db.session.commit()
    return {"home": home, "lead": lead}


def sign_in(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()


def test_campaign_lead_texts_a_saved_search_and_watches_it_finish(page, phone, live_server, region, db, work_queue):
    sign_in(page, live_server, "lead@example.org")
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_label("Branch", exact=True).select_option(label="LIVH – Liverpool Health")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name="Message these contacts").click()

    expect(page.get_by_role("heading", name="New SMS or email")).to_be_visible()
    assert "Liverpool" not in page.url and "LIVH" not in page.url  # the search is named by a key only
    expect(page.get_by_label("Which search")).to_have_value(re.compile(".+"))
    page.get_by_label("Name of this send").fill("Ballot reminder – June")
    body = page.get_by_label("Text", exact=True)
    body.fill("Hi {{ first_name }}, the pay ballot closes Friday – vote today!")
    counter = page.locator(".sms-counter")
    expect(counter).to_contain_text("UCS-2")  # the en dash is not GSM-7
    expect(counter.locator("[data-part=chars]")).to_have_text("–")
    expect(page.get_by_label("Subject")).to_be_hidden()  # email-only fields hide for SMS
    shoot(page, "messages-compose-1280")
    body.fill("Hi {{ first_name }}, the pay ballot closes Friday - vote today!")
    expect(counter.locator("[data-part=summary]")).to_contain_text("GSM-7")
    page.get_by_role("button", name="Save and check the numbers").click()

    expect(page.get_by_role("heading", name="Check before sending")).to_be_visible()
    expect(page.locator("#recipient-count")).to_have_text("4")
    expect(page.locator("#excluded-count")).to_have_text("2")
    expect(page.get_by_text("Never agreed to this channel")).to_be_visible()
    expect(page.get_by_text("Opted out of this channel")).to_be_visible()
    expect(page.locator(".check-preview pre")).to_have_text(re.compile(r"^Hi Amara, the pay ballot"))
    page.get_by_label("Show the message as this recipient gets it").select_option(label="3. Zoë Wright")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator(".check-preview pre")).to_have_text(re.compile(r"^Hi Zoë, the pay ballot"))
    expect(page.get_by_label("Date and time (UK time)")).to_be_hidden()  # "Send now" is chosen
    shoot(page, "messages-check-1280")

    check_url = re.sub(r"/preview(#.*)?$", "/check", page.url)
    sign_in(phone, live_server, "lead@example.org")
    phone.goto(check_url)
    expect(phone.locator("#recipient-count")).to_have_text("4")
    send_button = phone.get_by_role("button", name="Send to 4 people")
    assert send_button.bounding_box()["height"] >= 44
    shoot(phone, "messages-check-375")

    # Whatever the time of day the test runs, send at once.
    page.get_by_label("Respect the SMS quiet hours").uncheck()
    page.get_by_role("button", name="Send to 4 people").click()
    expect(page.get_by_role("heading", name="Ballot reminder – June")).to_be_visible()
    expect(page.locator("#send-status")).to_contain_text(re.compile("Preparing recipients|Sending"))
    shoot(page, "messages-report-sending-1280")

    work_queue()  # no worker runs beside the test server: run the queue here
    expect(page.locator("#send-status")).to_contain_text("Finished", timeout=15000)  # the page polls and reloads
    expect(page.get_by_text("100.0% of 4 handed to the provider")).to_be_visible()
    assert db.session.scalar(select(func.count(Message.id)).where(Message.state == MessageState.DELIVERED)) == 4
    shoot(page, "messages-report-1280")
    phone.goto(page.url)
    expect(phone.locator("#send-status")).to_contain_text("Finished")
    shoot(phone, "messages-report-375")
    page.locator(".site-header").get_by_role("link", name="Messages", exact=True).click()
    expect(page.get_by_role("link", name="Ballot reminder – June")).to_be_visible()
    shoot(page, "messages-index-1280")

    # A template on the phone: the live counter names the character that makes it UCS-2.
    phone.goto(live_server + "/messages/templates/new?channel=sms")
    phone.get_by_label("Name").fill("Meeting reminder")
    phone.get_by_label("Text", exact=True).fill("Branch meeting Thursday 6pm 🙂 all welcome")
    expect(phone.locator(".sms-counter [data-part=chars]")).to_have_text("🙂")
    phone.get_by_role("button", name="Preview for a sample member").click()
    expect(phone.locator("#sample")).to_contain_text("Branch meeting Thursday")
    shoot(phone, "messages-template-375")
    phone.get_by_role("button", name="Save the template").click()
    expect(phone.get_by_role("link", name="Meeting reminder")).to_be_visible()
    assert not page.console_errors


def test_branch_officer_answers_a_reply_on_a_phone(phone, live_server, make, db, work_queue, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "")
    home = make.branch(code="LIVH", name="Liverpool Health")
    make.user(Role.BRANCH_OFFICER, branches=[home], email="officer@example.org", name="Olu Officer")
    priya = make.contact(home, first_name="Priya", last_name="Shah", mobile="+447400123456")
    make.inbound_message(priya, body="Is the ballot postal or online? I work nights.")
    db.session.commit()
    sign_in(phone, live_server, "officer@example.org")
    phone.get_by_role("link", name="Messages", exact=True).click()
    expect(phone.get_by_role("heading", name="Replies")).to_be_visible()
    shoot(phone, "messages-replies-375")
    phone.get_by_role("link", name=re.compile("Priya Shah")).click()
    expect(phone.get_by_text("Is the ballot postal or online? I work nights.")).to_be_visible()
    phone.get_by_label("Your answer").fill("It's postal, Priya: your pack arrives next week. Olu, LIVH branch")
    shoot(phone, "messages-reply-375")
    phone.get_by_role("button", name="Send the answer").click()
    expect(phone.get_by_text("Your answer is on its way")).to_be_visible()
    work_queue()
    phone.reload()
    expect(phone.locator(".thread-out")).to_contain_text("It's postal, Priya")
    expect(phone.locator(".thread-out")).to_contain_text("Delivered")
    shoot(phone, "messages-reply-answered-375")


def test_caller_sends_the_follow_up_text_from_the_call_screen(phone, live_server, make, db, app, monkeypatch):
    from crm.calls.models import CallListKind
    from crm.messaging.models import Purpose

    home = make.branch(code="LIVH", name="Liverpool Health")
    caller = make.user(Role.CALLER, branches=[home], email="caller@example.org", name="Cara Caller")
    template = make.message_template(name="Thanks", body="Thanks for your time, {{ first_name }}. Any questions, "
                                     "reply to this text or call the branch on 0151 000 0000.")
    joiners = make.call_list([home], kind=CallListKind.NEW_JOINER, callers=[caller], name="New joiners – LIVH",
                             follow_up_template_id=template.id)
    amara = make.contact(home, first_name="Amara", last_name="Okafor", mobile="+447400123456")
    make.consent(amara, Channel.SMS)
    make.call_entry(joiners, amara)
    db.session.commit()
    sign_in(phone, live_server, "caller@example.org")
    phone.get_by_role("link", name="Calls", exact=True).click()
    phone.get_by_role("button", name=re.compile("^Call next")).click()
    box = phone.get_by_label("Send the follow-up text")
    expect(box).not_to_be_checked()
    expect(phone.locator(".call-follow-up blockquote")).to_have_text(re.compile("^Thanks for your time, Amara."))
    box.check()
    phone.locator(".call-follow-up").scroll_into_view_if_needed()
    shoot(phone, "call-follow-up-375")
    phone.get_by_role("button", name="Answered").click()
    expect(phone.get_by_text(re.compile("follow-up text on its way"))).to_be_visible()
    texts = db.session.scalars(select(Message).where(Message.purpose == Purpose.FOLLOW_UP)).all()
    assert len(texts) == 1 and texts[0].contact_id == amara.id
