from crm.audit.models import AuditEvent
from crm.auth.roles import Role

from ..factories import PASSWORD


def _sign_in(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def test_sign_in_with_right_password_lands_on_home(client, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()], email="sec@example.org", name="Sam Secretary")
    db.session.commit()
    response = _sign_in(client, "SEC@example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Sam" in page
    assert db.session.query(AuditEvent).filter_by(action="login.success", user_id=user.id).count() == 1


def test_wrong_password_says_so_without_saying_which_part(client, make, db):
    make.user(email="sec@example.org")
    db.session.commit()
    response = _sign_in(client, "sec@example.org", "wrong password")
    assert response.status_code == 422
    assert "email address or password is not right" in response.get_data(as_text=True)
    unknown = _sign_in(client, "nobody@example.org", "whatever")
    assert unknown.get_data(as_text=True).count("not right") == 1
    assert db.session.query(AuditEvent).filter_by(action="login.failure").count() == 2


def test_empty_form_lists_each_missing_field(client):
    page = client.post("/login", data={}).get_data(as_text=True)
    assert 'href="#email"' in page and "Enter your email address." in page
    assert 'href="#password"' in page and "Enter your password." in page


def test_disabled_user_cannot_sign_in(client, make, db):
    make.user(email="gone@example.org", is_enabled=False)
    db.session.commit()
    assert _sign_in(client, "gone@example.org").status_code == 422


def test_pages_need_sign_in(client):
    response = client.get("/contacts/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_sign_out_ends_the_session_everywhere(app, make, db):
    make.user(email="sec@example.org")
    db.session.commit()
    phone, laptop = app.test_client(), app.test_client()
    for c in (phone, laptop):
        assert _sign_in(c, "sec@example.org").status_code == 302
    assert phone.post("/logout").status_code == 302
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 302  # the session version moved on


def test_open_redirect_after_sign_in_is_refused(client, make, db):
    make.user(email="sec@example.org")
    db.session.commit()
    response = client.post("/login?next=//evil.example/phish", data={"email": "sec@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_sign_in_starts_a_fresh_session(client, make, db):
    make.user(email="sec@example.org")
    db.session.commit()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    _sign_in(client, "sec@example.org")
    with client.session_transaction() as sess:
        assert "planted" not in sess
