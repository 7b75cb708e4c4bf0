import re

import pytest
from playwright.sync_api import expect

from crm.auth.roles import Role

from ..factories import PASSWORD
from .conftest import shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def region(make, db):
    group = make.service_group("Health")
    home = make.branch(code="LIVH", name="Liverpool Health", group=group)
    other = make.branch(code="WIRH", name="Wirral Health", group=group)
    trust = make.employer("Mersey Hospitals NHS FT", branches=[home])
    site = make.workplace(trust, "Royal Infirmary")
    make.contact(home, first_name="Amara", last_name="Okafor", employer=trust, workplace=site, job_title="Staff Nurse")
    make.contact(home, first_name="Liam", last_name="Byrne", employer=trust)
    make.contact(other, first_name="Wendy", last_name="Wirral")
    caller = make.user(Role.CALLER, branches=[home], email="caller@example.org", name="Cara Caller")
    officer = make.user(Role.BRANCH_OFFICER, branches=[home], email="secretary@example.org", name="Sam Secretary")
    db.session.commit()
    return {"caller": caller, "officer": officer}


def sign_in(page, base, email):
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page):
    page.locator("details.dropdown summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def test_caller_sees_only_their_branch_and_signs_out(phone, live_server, region):
    sign_in(phone, live_server, "caller@example.org")
    expect(phone.get_by_role("heading", name="Hello, Cara")).to_be_visible()
    expect(phone.get_by_text("Liverpool Health")).to_be_visible()
    expect(phone.get_by_text("Wirral Health")).to_have_count(0)
    # Two members in their branch, not the region's three.
    expect(phone.locator(".stat").first).to_have_text("2")
    shoot(phone, "caller-home-375")
    phone.goto(live_server + "/contacts/")
    expect(phone.get_by_role("heading", name="Page not found")).to_be_visible()
    phone.goto(live_server + "/")
    sign_out(phone)
    phone.goto(live_server + "/")
    expect(phone).to_have_url(re.compile(r"/login"))


def test_branch_officer_finds_only_their_members(page, live_server, region):
    sign_in(page, live_server, "secretary@example.org")
    page.get_by_role("link", name="Contacts", exact=True).click()
    expect(page.get_by_role("link", name="Okafor, Amara")).to_be_visible()
    expect(page.get_by_role("link", name="Byrne, Liam")).to_be_visible()
    expect(page.get_by_text("Wirral")).to_have_count(0)
    shoot(page, "contacts-1280")
    page.get_by_label("Search").fill("okafor")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Byrne, Liam")).to_have_count(0)
    assert "okafor" not in page.url.lower()
    page.get_by_role("link", name="Okafor, Amara").click()
    expect(page.get_by_role("heading", name="Amara Okafor")).to_be_visible()
    expect(page.get_by_text("Staff Nurse")).to_be_visible()
    shoot(page, "contact-1280")
    sign_out(page)
    assert page.console_errors == []


def test_wrong_password_shows_the_error_summary(page, live_server, region):
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill("secretary@example.org")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("email address or password is not right")
    shoot(page, "login-error-1280")
