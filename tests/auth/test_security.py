import re

import config
from crm.auth.roles import Role

from ..factories import PASSWORD


def test_repeated_failed_sign_ins_are_throttled_with_a_clear_wait(client, make, db):
    make.user(email="target@example.org")
    db.session.commit()
    for _ in range(5):
        assert client.post("/login", data={"email": "target@example.org", "password": "guess"}).status_code == 422
    response = client.post("/login", data={"email": "target@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert re.search(r"Too many sign-in attempts\. Try again in [45] minutes\.", response.get_data(as_text=True))
    assert "Retry-After" in response.headers


def test_successful_sign_ins_do_not_count_towards_the_limit(app, make, db):
    make.user(email="busy@example.org")
    db.session.commit()
    for _ in range(8):
        c = app.test_client()
        assert c.post("/login", data={"email": "busy@example.org", "password": PASSWORD}).status_code == 302


def test_forms_without_a_csrf_token_are_refused(client, make, db, app, monkeypatch):
    make.user(email="sec@example.org")
    db.session.commit()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/login", data={"email": "sec@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "form had expired" in response.get_data(as_text=True)


def test_sign_in_works_with_the_csrf_token_from_the_page(client, make, db, app, monkeypatch):
    make.user(email="sec@example.org")
    db.session.commit()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "sec@example.org", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_session_cookie_is_httponly_samesite_and_secure_by_default(client, make, db):
    assert config.SESSION_COOKIE_SECURE is True  # tests turn it off only because they speak plain HTTP
    make.user(email="sec@example.org")
    db.session.commit()
    response = client.post("/login", data={"email": "sec@example.org", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_carry_security_headers_and_are_not_cached(client, make, db, login_as):
    login_as(make.user(Role.ADMIN))
    db.session.commit()
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_password_change_signs_out_other_sessions(app, make, db):
    make.user(email="sec@example.org")
    db.session.commit()
    here, elsewhere = app.test_client(), app.test_client()
    for c in (here, elsewhere):
        c.post("/login", data={"email": "sec@example.org", "password": PASSWORD})
    response = here.post("/account", data={"current_password": PASSWORD, "new_password": "a much better passphrase",
                                           "confirm": "a much better passphrase"})
    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302


def test_password_change_rejects_a_wrong_current_password(client, make, db, login_as):
    login_as(make.user())
    db.session.commit()
    response = client.post("/account", data={"current_password": "nope", "new_password": "a much better passphrase",
                                             "confirm": "a much better passphrase"})
    assert response.status_code == 422
    assert "Your current password is not right." in response.get_data(as_text=True)


def test_users_lacking_a_permission_get_the_same_404_as_a_missing_page(client, make, db, login_as):
    login_as(make.user(Role.CALLER, branches=[make.branch()]))
    db.session.commit()
    assert client.get("/admin/").get_data() == client.get("/no-such-page").get_data()
