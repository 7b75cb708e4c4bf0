"""Checks on every signed-in request: idle timeout, the second factor, data-protection training."""
from __future__ import annotations

import time

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

# Pages anyone may open without signing in, and the token-authenticated API (which checks the token
# user's training itself and never trusts the session cookie): the gate never stands in their way.
PUBLIC_BLUEPRINTS = frozenset({"act", "unsubscribe", "webhooks", "api"})
# Reachable while the second factor is outstanding.
MFA_ENDPOINTS = frozenset({"auth.mfa", "auth.mfa_setup", "auth.logout", "auth.login"})
# Reachable while training is due: renewing it, the account page, signing out.
TRAINING_ENDPOINTS = MFA_ENDPOINTS | {"auth.training", "auth.account"}
SEEN_KEY = "seen"
MFA_KEY = "mfa_ok"


def mark_signed_in(second_factor_done: bool) -> None:
    """Start the idle clock for a fresh session and record whether the second factor was given."""
    session[SEEN_KEY] = int(time.time())
    session[MFA_KEY] = second_factor_done


def _next_target() -> str | None:
    return request.full_path.rstrip("?") if request.method == "GET" else None


def init_app(app: Flask) -> None:

    @app.before_request
    def gate():
        if request.endpoint in (None, "static") or request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        if not current_user.is_authenticated:
            return None
        now = int(time.time())
        seen = session.get(SEEN_KEY)
        if seen is not None and now - seen > current_app.config["IDLE_TIMEOUT_SECONDS"]:
            logout_user()
            session.clear()
            flash("You were signed out after a period of inactivity. Sign in again to carry on.", "info")
            return redirect(url_for("auth.login", next=_next_target()))
        if seen is None or now - seen >= 30:  # rewrite the cookie at most every 30 s
            session[SEEN_KEY] = now
        user = current_user
        if (user.mfa_required or user.mfa_enabled) and not session.get(MFA_KEY):
            g.gated = True
            if request.endpoint in MFA_ENDPOINTS:
                return None
            return redirect(url_for("auth.mfa" if user.mfa_enabled else "auth.mfa_setup", next=_next_target()))
        if user.training_due(current_app.config["TRAINING_VALID_DAYS"]):
            g.gated = True
            if request.endpoint in TRAINING_ENDPOINTS:
                return None
            return redirect(url_for("auth.training"))
        return None
