"""Two-step sign-in: required for admins and organisers, optional for others, with recovery codes."""
import re
import time

import pyotp
import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role

from ..factories import PASSWORD


def _sign_in(client, email):
    return client.post("/login", data={"email": email, "password": PASSWORD})


def _code(secret, offset=0):
    return pyotp.TOTP(secret).at(time.time() + offset)


def _enrol(client, db, user):
    page = client.get("/account/two-step").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn on the server
    with client.session_transaction() as sess:
        secret = sess["mfa_pending"]
    done = client.post("/account/two-step", data={"code": _code(secret)})
    assert done.status_code == 200 and "recovery codes" in done.get_data(as_text=True)
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.get_data(as_text=True))
    db.session.refresh(user)
    return secret, codes


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ORGANISER])
def test_admins_and_organisers_must_set_up_two_step_sign_in_before_anything_else(client, make, db, role):
    user = make.user(role, email="boss@example.org")
    db.session.commit()
    assert _sign_in(client, "boss@example.org").headers["Location"] == "/"
    gated = client.get("/contacts/")
    assert gated.status_code == 302 and gated.headers["Location"].startswith("/account/two-step")
    secret, codes = _enrol(client, db, user)
    assert user.mfa_enabled and len(codes) == 10
    assert client.get("/contacts/").status_code == 200
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.action == "mfa.enable")).scalar_one()


def test_an_enrolled_user_enters_a_code_after_the_password(client, make, db):
    user = make.user(Role.ADMIN, email="boss@example.org", mfa_secret=pyotp.random_base32())
    db.session.commit()
    _sign_in(client, "boss@example.org")
    asked = client.get("/admin/")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/login/code")
    wrong = client.post("/login/code?next=/admin/", data={"code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    right = client.post("/login/code?next=/admin/", data={"code": _code(user.mfa_secret)})
    assert right.status_code == 302 and right.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
    assert actions == ["login.success", "mfa.failure", "mfa.success"]


def test_a_code_cannot_be_used_twice(client, app, make, db):
    user = make.user(Role.ADMIN, email="boss@example.org", mfa_secret=pyotp.random_base32())
    db.session.commit()
    code = _code(user.mfa_secret)
    _sign_in(client, "boss@example.org")
    assert client.post("/login/code", data={"code": code}).status_code == 302
    other = app.test_client()
    _sign_in(other, "boss@example.org")
    replay = other.post("/login/code", data={"code": code})
    assert replay.status_code == 422 and "already been used" in replay.get_data(as_text=True)


def test_a_recovery_code_works_once(client, app, make, db):
    user = make.user(Role.ADMIN, email="boss@example.org")
    db.session.commit()
    _sign_in(client, "boss@example.org")
    _, codes = _enrol(client, db, user)
    for attempt, expected in ((codes[0], 302), (codes[0], 422), (codes[1].upper().replace("-", " "), 302)):
        fresh = app.test_client()
        _sign_in(fresh, "boss@example.org")
        assert fresh.post("/login/code", data={"code": attempt}).status_code == expected
    db.session.refresh(user)
    assert len(user.recovery_code_hashes) == 8
    assert all(code not in str(user.recovery_code_hashes) for code in codes)  # only hashes are stored


def test_two_step_is_optional_for_a_branch_officer_and_can_be_turned_off(client, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()], email="sec@example.org")
    db.session.commit()
    _sign_in(client, "sec@example.org")
    assert client.get("/contacts/").status_code == 200
    _enrol(client, db, user)
    off = client.post("/account/two-step/off", data={"password": PASSWORD})
    assert off.status_code == 302
    db.session.refresh(user)
    assert not user.mfa_enabled
    assert client.get("/contacts/").status_code == 200  # this session carries on


def test_an_admin_cannot_turn_it_off_but_can_reset_someone_elses(client, login_as, make, db):
    admin = make.user(Role.ADMIN, mfa_secret=pyotp.random_base32())
    other = make.user(Role.ORGANISER, mfa_secret=pyotp.random_base32())
    db.session.commit()
    login_as(admin)
    client.post("/account/two-step/off", data={"password": PASSWORD})
    db.session.refresh(admin)
    assert admin.mfa_enabled
    version = other.session_version
    assert client.post(f"/admin/users/{other.id}/two-step-reset").status_code == 302
    db.session.refresh(other)
    assert not other.mfa_enabled and other.session_version == version + 1


def test_too_many_wrong_codes_are_throttled(client, make, db):
    make.user(Role.ADMIN, email="boss@example.org", mfa_secret=pyotp.random_base32())
    db.session.commit()
    _sign_in(client, "boss@example.org")
    statuses = [client.post("/login/code", data={"code": "123456"}).status_code for _ in range(11)]
    assert statuses[-1] == 429 and "Too many codes tried" in client.post("/login/code", data={"code": "1"}).get_data(as_text=True)


def test_the_sign_in_still_works_for_demo_admins_with_the_published_demo_key(client, make, db):
    from crm.auth.demo import DEMO_TOTP_SECRET, demo_code, prepare_demo_accounts

    make.user(Role.ADMIN, email="admin@demo.branchline.example", trained_on=None)
    db.session.commit()
    assert prepare_demo_accounts() == 1
    db.session.commit()
    _sign_in(client, "admin@demo.branchline.example")
    assert client.post("/login/code", data={"code": demo_code()}).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert pyotp.TOTP(DEMO_TOTP_SECRET).now() == demo_code()


def test_the_secret_is_stored_sealed_and_older_plain_secrets_are_sealed_at_next_use(client, make, db, app):
    from crm.auth import mfa

    user = make.user(Role.ADMIN, email="boss@example.org")
    db.session.commit()
    _sign_in(client, "boss@example.org")
    secret, _ = _enrol(client, db, user)
    assert user.mfa_secret.startswith(mfa.SEALED) and secret not in user.mfa_secret
    assert mfa.unseal(user.mfa_secret) == secret
    # Enrolled before sealing: still works, and is sealed once used.
    older = make.user(Role.ORGANISER, mfa_secret=pyotp.random_base32())
    plain = older.mfa_secret
    assert mfa.verify(older, _code(plain)) == "totp"
    assert older.mfa_secret.startswith(mfa.SEALED) and mfa.unseal(older.mfa_secret) == plain


def test_a_secret_sealed_under_another_secret_key_is_explained_not_a_crash(make, db, app, monkeypatch):
    from crm.auth import mfa

    user = make.user(Role.ADMIN, mfa_secret=None)
    user.mfa_secret = mfa.seal(pyotp.random_base32())
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key")
    with pytest.raises(mfa.MfaError, match="Ask an administrator to reset it"):
        mfa.verify(user, "123456")
