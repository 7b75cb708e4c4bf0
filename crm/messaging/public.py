"""The public email unsubscribe page (/unsubscribe/<token>): no sign-in, the signed token is the authority."""
from __future__ import annotations

from flask import current_app, render_template, request

from ..extensions import csrf, db
from . import inbound, public_bp
from .tokens import read_unsubscribe_token


def _target(token: str):
    return inbound.unsubscribe_target(read_unsubscribe_token(token))


def _invalid():
    return render_template("messaging/unsubscribe_invalid.html"), 404


@public_bp.get("/<token>")
def show(token):
    message = _target(token)
    if message is None:
        return _invalid()
    return render_template("messaging/unsubscribe.html", token=token,
                           masked=inbound.masked_address(message.to_address),
                           already=inbound.is_unsubscribed(message))


@public_bp.post("/<token>")
@csrf.exempt  # the one-click POST (RFC 8058) comes from a mail provider, with no CSRF token
def unsubscribe(token):
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if not one_click and current_app.config.get("WTF_CSRF_ENABLED", True):
        # The button on our own page carries a token like every other form.
        csrf.protect()
    message = _target(token)
    if message is None:
        return _invalid()
    inbound.unsubscribe(message)
    db.session.commit()
    return render_template("messaging/unsubscribe_done.html", masked=inbound.masked_address(message.to_address))
