"""API tokens: made on the tokens page and shown once, stored hashed, expiring, revocable, rate-limited."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from crm.api.models import ApiToken
from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.database import utcnow


def _secret_from(page: str) -> str:
    match = re.search(r'value="(bl_[A-Za-z0-9_-]+)"', page)
    assert match, "the new token is shown on the page"
    return match.group(1)


def test_token_made_on_the_page_is_shown_once_and_stored_only_as_a_hash(client, login_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    db.session.commit()
    login_as(user)
    response = client.post("/api/tokens/", data={"name": "Sign-up form", "days": "90"})
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    secret = _secret_from(page)
    assert "only time it is shown" in page
    assert response.headers["Cache-Control"] == "no-store"

    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.token_hash}
    assert secret.startswith(token.prefix)
    assert timedelta(days=89) < token.expires_at - utcnow() <= timedelta(days=90)

    again = client.get("/api/tokens/").get_data(as_text=True)
    assert secret not in again and "Sign-up form" in again and token.prefix in again
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.create")).object_id == token.id


def test_token_form_errors_are_shown_next_to_the_fields(client, login_as, make, db):
    user = make.user(Role.CALLER, branches=[make.branch()])
    db.session.commit()
    login_as(user)
    response = client.post("/api/tokens/", data={"name": "  ", "days": "7"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert db.session.scalar(select(ApiToken)) is None


def test_the_token_acts_as_its_user_and_notes_when_it_was_used(api_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()], name="Priya Officer")
    api = api_as(user)
    response = api.get("/api/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/hal+json")
    body = response.get_json()
    assert body["user"] == {"name": "Priya Officer", "role": "branch_officer"}
    assert "osdi:people" in body["_links"] and "osdi:advocacy_campaigns" not in body["_links"]
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_missing_or_wrong_token_is_401_and_cookies_never_authenticate(client, login_as, make, db, api_as):
    user = make.user(Role.ADMIN)
    db.session.commit()
    login_as(user)  # a signed-in browser session
    response = client.get("/api/people")
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["field"] == "Authorization"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    api = api_as(user)
    api.secret = api.secret[:-2] + ("AA" if not api.secret.endswith("AA") else "BB")
    assert api.get("/api/people").status_code == 401


def test_a_post_without_csrf_token_is_judged_by_its_bearer_token_only(app, make, db, api_as):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
        api = api_as(user)
        assert api.post("/api/tags", json={"name": "Nurses"}).status_code == 201
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_expired_token_stops_working(api_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    api = api_as(user)
    token = db.session.scalar(select(ApiToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api.get("/api/people").status_code == 401


def test_revoked_token_stops_working_at_once_and_is_audited(client, login_as, api_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    api = api_as(user)
    assert api.get("/api/people").status_code == 200
    token = db.session.scalar(select(ApiToken))
    login_as(user)
    response = client.post(f"/api/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert api.get("/api/people").status_code == 401
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.revoke")).object_id == token.id
    assert "Revoked" in client.get("/api/tokens/").get_data(as_text=True)


def test_someone_elses_token_cannot_be_revoked(client, login_as, api_as, make, db):
    owner = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    api = api_as(owner)
    other = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    db.session.commit()
    token = db.session.scalar(select(ApiToken))
    login_as(other)
    assert client.post(f"/api/tokens/{token.id}/revoke").status_code == 404
    assert api.get("/api/people").status_code == 200


def test_an_admin_sees_and_revokes_another_users_token(client, login_as, api_as, make, db):
    owner = make.user(Role.BRANCH_OFFICER, branches=[make.branch()], name="Olive Owner")
    api = api_as(owner)
    admin = make.user(Role.ADMIN)
    stranger = make.user(Role.CALLER)
    db.session.commit()
    token = db.session.scalar(select(ApiToken))
    login_as(admin)
    page = client.get(f"/admin/users/{owner.id}/edit").get_data(as_text=True)
    assert token.name in page and token.prefix in page
    # Through another user's page the token is a 404, like a missing one.
    assert client.post(f"/admin/users/{stranger.id}/api-tokens/{token.id}/revoke").status_code == 404
    assert api.get("/api/people").status_code == 200
    response = client.post(f"/admin/users/{owner.id}/api-tokens/{token.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/users/{owner.id}/edit")
    assert api.get("/api/people").status_code == 401
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.revoke"))
    assert (event.user_id, event.object_id) == (admin.id, token.id)
    assert "Revoked" in client.get(f"/admin/users/{owner.id}/edit").get_data(as_text=True)


def test_only_admins_revoke_other_peoples_tokens(client, login_as, api_as, make, db):
    owner = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    api = api_as(owner)
    organiser = make.user(Role.ORGANISER)
    db.session.commit()
    token = db.session.scalar(select(ApiToken))
    login_as(organiser)
    assert client.post(f"/admin/users/{owner.id}/api-tokens/{token.id}/revoke").status_code == 404
    assert api.get("/api/people").status_code == 200


def test_a_disabled_users_token_stops_working(api_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    api = api_as(user)
    user.is_enabled = False
    db.session.commit()
    assert api.get("/api/people").status_code == 401


def test_token_of_a_user_whose_training_lapsed_is_refused(api_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()], trained_on=None)
    api = api_as(user)
    response = api.get("/api/people")
    assert response.status_code == 403
    assert "training" in response.get_json()["errors"][0]["reason"]


def test_each_token_is_rate_limited_on_its_own_with_retry_after(app, api_as, make, db):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
        first, second = api_as(user), api_as(user)
        for _ in range(3):
            assert first.get("/api/tags").status_code == 200
        limited = first.get("/api/tags")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "Too many requests" in limited.get_json()["errors"][0]["reason"]
        assert second.get("/api/tags").status_code == 200  # another token has its own allowance
    finally:
        app.config.pop("API_RATE_LIMIT")


def test_osdi_api_token_header_is_accepted(api_as, make, db):
    user = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    api = api_as(user)
    response = api.client.get("/api/people", headers={"OSDI-API-Token": api.secret})
    assert response.status_code == 200
