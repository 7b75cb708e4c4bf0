"""Signed links for people without an account: the email unsubscribe link names a message, never an address."""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

_SALT = "branchline-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def public_url(path: str) -> str:
    """An absolute URL on the public base (workers have no request to build one from)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or f"http://{current_app.config['HOST']}:{current_app.config['PORT']}"
    return base.rstrip("/") + path


def unsubscribe_token(message_id: int) -> str:
    return _serializer().dumps(message_id)


def unsubscribe_url(message_id: int) -> str:
    """The one-click unsubscribe link for an email (works for as long as the secret key is kept)."""
    return public_url(f"/unsubscribe/{unsubscribe_token(message_id)}")


def read_unsubscribe_token(token: str) -> int | None:
    """The message id in a genuine token, or None for anything else."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None
