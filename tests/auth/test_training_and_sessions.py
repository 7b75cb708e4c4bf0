"""The training gate, the idle timeout and the breached-password list."""
from datetime import date, timedelta

from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.passwords import is_common, password_problem
from crm.auth.roles import Role

from ..factories import PASSWORD


def test_a_user_whose_training_has_lapsed_sees_only_the_renewal_page(client, login_as, make, db):
    branch = make.branch()
    user = make.user(Role.BRANCH_OFFICER, branches=[branch], trained_on=date.today() - timedelta(days=400))
    contact = make.contact(branch)
    db.session.commit()
    login_as(user)
    for url in ("/", "/contacts/", f"/contacts/{contact.id}", "/calls/"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/account/training", url
    page = client.get("/account/training").get_data(as_text=True)
    assert "Renew your data-protection training" in page and 'href="/contacts/' not in page
    # No contact page was opened, so none was logged as viewed.
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "contact.view")).first() is None


def test_recording_a_recent_date_lets_the_user_back_in(client, login_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()], trained_on=None)
    db.session.commit()
    login_as(user)
    future = client.post("/account/training", data={"completed_on": (date.today() + timedelta(days=2)).isoformat()})
    assert future.status_code == 422 and "cannot be in the future" in future.get_data(as_text=True)
    stale = client.post("/account/training", data={"completed_on": (date.today() - timedelta(days=500)).isoformat()})
    assert stale.status_code == 422 and "has expired" in stale.get_data(as_text=True)
    ok = client.post("/account/training", data={"completed_on": (date.today() - timedelta(days=3)).isoformat()})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.training")).scalar_one()
    assert event.object_id == user.id


def test_admins_see_who_is_due_and_record_training_for_them(client, login_as, make, db):
    admin = make.user(Role.ADMIN)
    due = make.user(Role.CALLER, branches=[make.branch()], name="Dee Due", trained_on=date.today() - timedelta(days=380))
    soon = make.user(Role.CALLER, branches=[make.branch()], name="Sue Soon", trained_on=date.today() - timedelta(days=350))
    make.user(Role.CALLER, branches=[make.branch()], name="Cur Rent", trained_on=date.today() - timedelta(days=10))
    db.session.commit()
    login_as(admin)
    html = client.get("/admin/users/?training=due").get_data(as_text=True)
    assert "Dee Due" in html and "Sue Soon" in html and "Cur Rent" not in html
    response = client.post(f"/admin/users/{due.id}/training", data={"completed_on": date.today().isoformat()})
    assert response.status_code == 302
    db.session.refresh(due)
    assert due.trained_on == date.today() and soon.trained_on < date.today()


def test_an_idle_session_is_signed_out(client, app, make, db, monkeypatch):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()], email="sec@example.org")
    db.session.commit()
    client.post("/login", data={"email": "sec@example.org", "password": PASSWORD})
    assert client.get("/contacts/").status_code == 200
    with client.session_transaction() as sess:
        sess["seen"] -= app.config["IDLE_TIMEOUT_SECONDS"] + 5
    response = client.get("/contacts/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "inactivity" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/contacts/").status_code == 302
    assert user.is_enabled


def test_common_and_breached_passwords_are_refused():
    assert is_common("password123") and is_common("Liverpool1") and is_common("qwertyuiop")
    assert not is_common("correct horse battery")
    assert "leaked in data breaches" in password_problem("iloveyou12345")
    assert password_problem("sam secretary 2026", ("sam.secretary@example.org", "Sam Secretary"))
    assert password_problem("correct horse battery") is None


def test_setting_a_common_password_is_refused_with_a_clear_message(client, login_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    db.session.commit()
    login_as(user)
    response = client.post("/account", data={"current_password": PASSWORD, "new_password": "password1234",
                                              "confirm": "password1234"})
    assert response.status_code == 422 and "leaked in data breaches" in response.get_data(as_text=True)
