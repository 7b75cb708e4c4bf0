"""A volunteer works a call list on a phone: call next, the script, an answer, outcomes, the end."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.auth.roles import Role
from crm.calls import scripts
from crm.calls.models import CallAttempt, CallListKind, Outcome

from ..factories import PASSWORD
from .conftest import ARTIFACTS, shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def calling(make, db):
    group = make.service_group("Health")
    home = make.branch(code="LIVH", name="Liverpool Health", group=group)
    trust = make.employer("Mersey Hospitals NHS FT", branches=[home])
    site = make.workplace(trust, "Royal Infirmary")
    caller = make.user(Role.CALLER, branches=[home], email="caller@example.org", name="Cara Caller")
    joiners = make.call_list([home], kind=CallListKind.NEW_JOINER, callers=[caller], name="New joiners – LIVH",
                             script=scripts.NEW_JOINER_SCRIPT, questions=list(scripts.NEW_JOINER_QUESTIONS))
    amara = make.contact(home, first_name="Amara", last_name="Okafor", employer=trust, workplace=site,
                         job_title="Staff Nurse", mobile="+447700900123")
    liam = make.contact(home, first_name="Liam", last_name="Byrne", employer=trust, workplace=site,
                        job_title="Porter", mobile="+447700900456")
    make.call_entry(joiners, amara, due_by=date(2025, 1, 10))
    make.call_entry(joiners, liam, due_by=date(2025, 1, 11))
    db.session.commit()
    return {"list": joiners, "amara": amara, "liam": liam}


def sign_in(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()


def test_caller_works_the_list_on_a_phone_to_the_end(phone, live_server, calling, db):
    errors: list[str] = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(phone, live_server, "caller@example.org")
    phone.get_by_role("link", name="Calls", exact=True).click()
    expect(phone.get_by_role("heading", name="New joiners – LIVH")).to_be_visible()
    expect(phone.get_by_text("waiting for you now")).to_be_visible()
    shoot(phone, "calls-index-375")

    phone.get_by_role("button", name=re.compile("^Call next")).click()
    expect(phone.get_by_role("heading", name="Amara Okafor", level=1)).to_be_visible()
    expect(phone.locator(".call-script-body")).to_contain_text("welcome to the union")
    expect(phone.locator(".call-script-body")).to_contain_text("Royal Infirmary as Staff Nurse")
    call = phone.get_by_role("button", name=re.compile("Call 07700 900123"))
    expect(call).to_be_visible()
    expect(call).to_have_attribute("href", "tel:+447700900123")
    assert call.bounding_box()["height"] >= 48
    expect(phone.get_by_text(re.compile(r"Reserved for you for another (9|10) minutes"))).to_be_visible()
    shoot(phone, "call-entry-375")
    # What the phone shows at first: the fixed call bar sits at the bottom of the screen.
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "call-entry-375-screen.png"))
    bar = phone.locator(".call-dial").bounding_box()
    assert bar["y"] + bar["height"] == pytest.approx(812, abs=1)

    phone.get_by_role("group", name="Would you like to become a rep?").get_by_label("Yes").check()
    phone.get_by_label("Note").fill("Ring back after her shift")
    no_answer = phone.get_by_role("button", name="No answer")
    box = no_answer.bounding_box()
    assert box["height"] >= 48 and box["width"] < 375 / 2  # two to a row
    shoot(phone, "call-entry-answered-375")
    no_answer.scroll_into_view_if_needed()
    phone.screenshot(path=str(ARTIFACTS / "call-entry-outcomes-375-screen.png"))
    no_answer.click()

    expect(phone.get_by_role("heading", name="Liam Byrne", level=1)).to_be_visible()
    expect(phone.get_by_text("Saved: no answer for Amara. Next: Liam.")).to_be_visible()
    expect(phone.locator(".call-script-body")).to_contain_text("Hi Liam")
    shoot(phone, "call-entry-next-375")
    phone.get_by_role("button", name="Answered").click()

    expect(phone.get_by_text("Saved: answered for Liam.")).to_be_visible()
    expect(phone.get_by_role("heading", name="There is nobody to call right now.")).to_be_visible()
    expect(phone.get_by_text(re.compile("resting between attempts until"))).to_be_visible()
    expect(phone.get_by_text("You have made 2 calls on this list today. Thank you!")).to_be_visible()
    shoot(phone, "call-list-empty-375")

    db.session.expire_all()
    attempts = db.session.execute(select(CallAttempt).order_by(CallAttempt.id)).scalars().all()
    assert [(a.contact_id, a.outcome) for a in attempts] == [
        (calling["amara"].id, Outcome.NO_ANSWER), (calling["liam"].id, Outcome.ANSWERED)]
    assert attempts[0].answers == {"rep": "yes"} and attempts[0].note == "Ring back after her shift"
    assert errors == []


def test_desktop_caller_records_outcomes_with_the_keyboard(page, live_server, calling, db):
    sign_in(page, live_server, "caller@example.org")
    page.goto(live_server + "/calls/")
    shoot(page, "calls-index-1280")
    page.get_by_role("button", name=re.compile("^Call next")).click()
    expect(page.get_by_role("heading", name="Amara Okafor", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="No answer")).to_have_attribute("aria-keyshortcuts", "N")
    shoot(page, "call-entry-1280")
    # Typing a note must not trigger a shortcut.
    page.get_by_label("Note").fill("no answer, voicemail full")
    page.get_by_label("Note").blur()
    page.wait_for_load_state()  # the shortcuts arrive with calls.js
    page.keyboard.press("n")
    expect(page.get_by_role("heading", name="Liam Byrne", level=1)).to_be_visible()
    # "c" goes to the call-back picker first rather than saving without a time.
    page.wait_for_load_state()
    page.keyboard.press("c")
    expect(page.get_by_label("Call back at")).to_be_focused()
    # Asking for a call-back without a time: the error is said next to the picker, GOV.UK style.
    page.get_by_role("button", name="Call back at this time").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the date and time to call back.")
    expect(page.locator("#callback_at-error")).to_contain_text("Enter the date and time to call back.")
    expect(page.get_by_role("heading", name="Liam Byrne", level=1)).to_be_visible()
    shoot(page, "call-entry-error-1280")
    page.wait_for_load_state()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("s")  # skip: Liam goes back on the list
    expect(page.get_by_text("Liam was put back on the list")).to_be_visible()
    shoot(page, "call-list-1280")
    db.session.expire_all()
    attempts = db.session.execute(select(CallAttempt)).scalars().all()
    assert [(a.outcome, a.note) for a in attempts] == [(Outcome.NO_ANSWER, "no answer, voicemail full")]
    # The 422 of the refused call-back is the only thing the console may report.
    assert [e for e in page.console_errors if "status of 422" not in e] == []
