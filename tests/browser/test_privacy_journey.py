"""A regional admin answers a subject-access request and then erases the member, in real Chromium."""
import json
import re

import pyotp
import pytest
from playwright.sync_api import expect

from crm.auth.roles import Role

from ..factories import PASSWORD
from ..privacy.conftest import populate
from .conftest import shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def region(make, db, tmp_path):
    branch = make.branch(code="LIVH", name="Liverpool Health")
    secret = pyotp.random_base32()
    admin = make.user(Role.ADMIN, email="admin@example.org", name="Ada Admin", mfa_secret=secret)
    anna = make.contact(branch, first_name="Annabel", last_name="Quartermaine", email="annabel.q@example.org",
                        mobile="+447700900111", membership_number="55500011")
    bob = make.contact(branch, first_name="Bartholomew", last_name="Zebedee", email="bart.z@example.org",
                       mobile="+447700900222", membership_number="55500022")
    export = tmp_path / "export.csv"
    export.write_text("Membership No,Surname\n")
    shared = dict(send=make.send(admin), call_list=make.call_list([branch]), run=make.import_run(branch, str(export)),
                  campaign=make.campaign(branch))
    populate(db, make, anna, "ANNAMARK", **shared)
    populate(db, make, bob, "BOBMARK", **shared)
    db.session.commit()
    return {"secret": secret, "anna": anna}


def test_admin_exports_a_members_data_then_erases_them(page, live_server, region):
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter the code from your authenticator app")).to_be_visible()
    page.get_by_label("Code").fill(pyotp.TOTP(region["secret"]).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()

    page.goto(f"{live_server}/contacts/{region['anna'].id}")
    page.get_by_role("button", name="Subject access export").click()
    expect(page.get_by_role("heading", name="Everything we hold about Annabel Quartermaine")).to_be_visible()
    expect(page.get_by_text("note ANNAMARK: asked about the pay ballot")).to_be_visible()
    expect(page.get_by_text("BOBMARK")).to_have_count(0)
    shoot(page, "privacy-subject-access-1280")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download as JSON").click()
    document = json.loads(download_info.value.path().read_text(encoding="utf-8"))
    assert document["details"]["membership_number"] == "55500011"
    assert "BOBMARK" not in json.dumps(document)

    page.get_by_role("link", name="Annabel Quartermaine").click()
    page.get_by_role("button", name="Erase", exact=True).click()
    expect(page.get_by_role("heading", name="Erase Annabel Quartermaine?")).to_be_visible()
    page.get_by_role("button", name="Erase this contact").click()
    expect(page.get_by_text("Choose why this contact is being erased.").first).to_be_visible()
    page.get_by_label("The person asked us to erase their data").check()
    page.get_by_label(re.compile("I understand this cannot be undone")).check()
    shoot(page, "privacy-erase-1280")
    page.get_by_role("button", name="Erase this contact").click()
    expect(page.get_by_text(re.compile("has been erased"))).to_be_visible()
    expect(page.get_by_role("heading", name="Erased contact")).to_be_visible()
    expect(page.get_by_text("annabel.q@example.org")).to_have_count(0)
    assert not [e for e in page.console_errors if "422" not in e]  # the refused first try is a 422 on purpose


def test_organiser_sets_up_two_step_sign_in_on_a_phone(phone, live_server, make, db):
    make.user(Role.ORGANISER, email="org@example.org", name="Ola Organiser")
    db.session.commit()
    phone.goto(live_server + "/login")
    phone.get_by_label("Email address").fill("org@example.org")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(phone.locator("figure.qr svg")).to_be_visible()
    expect(phone.get_by_role("link", name="Contacts")).to_have_count(0)  # nothing else until it is done
    phone.get_by_text("Cannot scan it? Enter this key instead").click()
    secret = phone.locator("#mfa-secret").inner_text().strip()
    shoot(phone, "privacy-mfa-setup-375")
    phone.get_by_label("6-digit code from the app").fill(pyotp.TOTP(secret).now())
    phone.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(phone.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    assert phone.locator(".recovery-codes code").count() == 10
    phone.get_by_role("button", name="I have kept my codes: continue").click()
    expect(phone.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()
