"""A member writes to their MP and their trust's chief executive on a phone, confirms by email, and the
campaign lead reads who took part."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.auth.roles import Role
from crm.campaigns.models import Letter, LetterState
from crm.messaging.models import Message, Purpose

from ..factories import PASSWORD
from .conftest import shoot

pytestmark = pytest.mark.browser

OWN_WORDS = ("I have been a porter at the Royal for eleven years. When my colleagues were moved to a private "
             "contractor they lost their sick pay, and two of them now work second jobs to get by.")


@pytest.fixture
def campaign(make, db):
    branch = make.branch(code="LHH", name="Liverpool Hospitals Health")
    trust = make.employer(name="Liverpool University Hospitals NHS FT", branches=[branch],
                          chief_executive_name="Jo Chief", chief_executive_email="ceo@trust.example.org")
    other = make.employer(name="Alder Hey Children's NHS FT", branches=[branch])
    make.mp_for("L8 7SS")
    make.contact(branch, first_name="Priya", last_name="Shah", email="priya@example.org", employer=trust)
    campaign = make.campaign(branch, employers=[trust, other], slug="in-house", name="Bring Liverpool NHS services in-house",
                             letters_say_member=True, thank_you_text="Thank you for standing with your colleagues.",
                             share_text="I've written to my MP to bring our hospital services back in-house. Will you?")
    make.user(Role.CAMPAIGN_LEAD, email="lead@example.org", name="Lee Lead")
    db.session.commit()
    return campaign


def _confirm_link(db) -> str:
    db.session.expire_all()
    body = db.session.scalars(select(Message.body).where(Message.purpose == Purpose.TRANSACTIONAL)).one()
    return "/act/confirm?t=" + re.search(r"/act/confirm\?t=(\S+)", body).group(1)


def test_a_member_writes_both_letters_on_a_phone_and_confirms(phone, page, live_server, campaign, db):
    errors: list[str] = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(f"{live_server}/act/in-house")
    expect(phone.get_by_role("heading", name="Bring Liverpool NHS services in-house")).to_be_visible()
    shoot(phone, "act-details-375")

    # A mistake first: the error summary links to the field and says what to do.
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(phone.get_by_role("link", name="Enter your first name.")).to_be_visible()
    shoot(phone, "act-details-errors-375")

    phone.get_by_label("First name").fill("Priya")
    phone.get_by_label("Last name").fill("Shah")
    phone.get_by_label("Email address").fill("priya@example.org")
    phone.get_by_label("Postcode").fill("l87ss")
    employer = phone.get_by_role("combobox", name="Your employer")
    employer.fill("liverpool univ")
    phone.get_by_role("option", name="Liverpool University Hospitals NHS FT").click()
    expect(employer).to_have_value("Liverpool University Hospitals NHS FT")
    phone.get_by_label("Where you work (optional)").fill("Royal Liverpool Hospital")
    phone.get_by_role("button", name="Continue").click()

    expect(phone.get_by_role("heading", name="Your letters")).to_be_visible()
    expect(phone.get_by_text("Letter 1 of 2: to Alex Example MP")).to_be_visible()
    expect(phone.get_by_text("Letter 2 of 2: to Jo Chief")).to_be_visible()
    shoot(phone, "act-letters-375")
    for i in range(2):
        body = phone.locator(f"#letters-{i}-body")
        text = body.input_value()
        assert "[Replace this line" in text
        body.fill(re.sub(r"\[Replace this line[^\]]*\]", OWN_WORDS, text))
        # The live figure drops as the writer's own words go in.
        expect(phone.locator(f"#letters-{i}-share [data-share-value]")).not_to_have_text("100%")
    phone.get_by_role("button", name="Continue").click()

    expect(phone.get_by_role("heading", name="Check your answers before sending")).to_be_visible()
    for name in ("I agree that my letters say I am a union member", "Email me campaign updates", "Text me campaign updates"):
        expect(phone.get_by_label(name)).not_to_be_checked()
    expect(phone.get_by_label("Mobile number")).to_be_hidden()  # shown only for text updates
    shoot(phone, "act-check-375")
    phone.get_by_role("button", name="Send my letters").click()
    expect(phone.get_by_role("link", name=re.compile("Tick the box to agree"))).to_be_visible()
    phone.get_by_text("I agree that my letters say I am a union member").click()
    phone.get_by_text("Email me campaign updates").click()
    phone.get_by_role("button", name="Send my letters").click()

    expect(phone.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(phone.get_by_text("Your letters are not sent yet.")).to_be_visible()
    shoot(phone, "act-check-email-375")
    assert db.session.scalars(select(Letter.state)).all() == [LetterState.DRAFT, LetterState.DRAFT]

    phone.goto(live_server + _confirm_link(db))
    expect(phone.get_by_role("heading", name="Send your letters")).to_be_visible()
    phone.get_by_role("button", name="Send my letters").click()
    expect(phone.get_by_role("heading", name="Your letters are on their way")).to_be_visible()
    expect(phone.get_by_text("Thank you for standing with your colleagues.")).to_be_visible()
    expect(phone.get_by_role("link", name="Share on WhatsApp")).to_be_visible()
    shoot(phone, "act-confirmed-375")
    db.session.expire_all()
    assert sorted(s.value for s in db.session.scalars(select(Letter.state))) == ["queued", "queued"]
    # The two 422s are the pages with mistakes on them, answered as such on purpose.
    assert [e for e in errors if "status of 422" not in e] == [], errors

    # The same pages on a desktop, and the campaign lead's view of who took part.
    page.goto(f"{live_server}/act/in-house")
    shoot(page, "act-details-1280")
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill("lead@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("link", name="Bring Liverpool NHS services in-house").click()
    expect(page.locator(".stat").first).to_have_text("2")
    expect(page.get_by_role("cell", name="Alex Example MP").first).to_be_visible()
    shoot(page, "campaign-show-1280")
    page.goto(page.url + "/edit")
    shoot(page, "campaign-edit-1280")


def test_the_employer_list_works_without_javascript(browser, live_server, campaign):
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/act/in-house")
    page.get_by_label("Your employer").select_option(label="My employer is not listed")
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Supporter")
    page.get_by_label("Email address").fill("sam@example.org")
    page.get_by_label("Postcode").fill("L8 7SS")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Letter 1 of 1: to Alex Example MP")).to_be_visible()
    expect(page.get_by_text("As your employer is not on our list")).to_be_visible()
    context.close()


def test_a_writer_who_keeps_the_template_is_nudged_and_can_still_send(phone, live_server, campaign):
    phone.goto(f"{live_server}/act/in-house")
    phone.get_by_label("First name").fill("Sam")
    phone.get_by_label("Last name").fill("Supporter")
    phone.get_by_label("Email address").fill("sam@example.org")
    phone.get_by_label("Postcode").fill("L8 7SS")
    employer = phone.get_by_role("combobox", name="Your employer")
    employer.fill("alder")
    employer.press("ArrowDown")
    employer.press("Enter")
    expect(employer).to_have_value("Alder Hey Children's NHS FT")
    phone.get_by_role("button", name="Continue").click()
    # Alder Hey has no chief executive email on file: only the MP letter, and the page says why.
    expect(phone.get_by_text("We don't have an email address for the chief executive of Alder Hey")).to_be_visible()
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", name="Could you add your own words?")).to_be_visible()
    expect(phone.get_by_text("Your letter to Alex Example MP is still 100% the template")).to_be_visible()
    shoot(phone, "act-letters-nudge-375")
    phone.get_by_role("button", name="Send it as it is").click()
    expect(phone.get_by_role("heading", name="Check your answers before sending")).to_be_visible()
