"""A branch officer makes an API token in real Chromium, copies it once, calls the API with it, then revokes it."""
from __future__ import annotations

import json
import urllib.request

import pytest

from crm.auth.roles import Role
from .conftest import shoot
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _call(url: str, secret: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def _sign_in(page, live_server, email):
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_officer_makes_uses_and_revokes_a_token(page, live_server, make, db):
    branch = make.branch()
    make.contact(branch)
    make.user(Role.BRANCH_OFFICER, branches=[branch], email="officer@example.org")
    db.session.commit()
    _sign_in(page, live_server, "officer@example.org")
    page.goto(live_server + "/account")
    page.get_by_role("link", name="Tokens for other programs to use the API as you").click()
    page.get_by_role("button", name="Make token").click()
    assert page.get_by_role("alert").is_visible()  # the error summary: no name given
    shoot(page, "api-tokens-error-1280")
    page.get_by_label("What is the token for?").fill("Branch website sign-up form")
    page.get_by_label("How long should it work?").select_option("30")
    page.get_by_role("button", name="Make token").click()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert secret.startswith("bl_")
    shoot(page, "api-tokens-new-1280")
    assert _call(live_server + "/api/people", secret) == 200

    page.goto(live_server + "/api/tokens/")
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke Branch website sign-up form").click()
    assert "no longer works" in page.content()
    assert _call(live_server + "/api/people", secret) == 401
    # The only console messages are the browser noting the deliberate 422 of the empty form.
    assert [m for m in page.console_errors if "422" not in m] == []


def test_tokens_page_and_docs_fit_a_phone(phone, live_server, make, db):
    make.user(Role.CALLER, branches=[make.branch()], email="caller@example.org")
    db.session.commit()
    _sign_in(phone, live_server, "caller@example.org")
    phone.goto(live_server + "/api/tokens/")
    phone.get_by_label("What is the token for?").fill("Dialer")
    phone.get_by_role("button", name="Make token").click()
    assert phone.get_by_label("Token", exact=True).input_value().startswith("bl_")
    shoot(phone, "api-tokens-375")
    width = phone.evaluate("document.documentElement.scrollWidth")
    wide = phone.evaluate("""[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 380)
                             .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
    assert width <= 380, f"the tokens page scrolls sideways on a phone ({width}px): {wide}"
    phone.goto(live_server + "/api/docs")
    shoot(phone, "api-docs-375")
    width = phone.evaluate("document.documentElement.scrollWidth")
    wide = phone.evaluate("""[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 380
                             && !e.closest('.table-wrap')).slice(0, 6).map(e => e.tagName + '.' + e.className + ':' + e.textContent.slice(0, 30))""")
    assert width <= 380, f"the API docs scroll sideways on a phone ({width}px): {wide}"
