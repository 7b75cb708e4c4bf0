"""Creating, checking and revoking API tokens. Operations flush; the views commit."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..audit import service as audit
from ..auth.models import User
from ..database import utcnow
from ..extensions import db
from .models import ApiToken

TOKEN_PREFIX = "bl_"
# Expiry choices offered on the tokens page, in days.
EXPIRY_DAYS = (30, 90, 180, 365)
# last_used_at is written at most this often per token, so busy integrations don't write on every call.
LAST_USED_EVERY = timedelta(minutes=1)
NAME_MAX = 80


class TokenError(ValueError):
    """A token that cannot be made as asked; `errors` maps form field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class NewToken:
    token: ApiToken
    secret: str  # shown to its owner once, never stored


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, name: str, days: int, now: datetime | None = None) -> NewToken:
    """A new token for the user, valid for `days`; audited. The secret is returned once. Flushes."""
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = "Enter a name that says what the token is for, like ‘Sign-up form’."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Use {NAME_MAX} characters or fewer for the name."
    if days not in EXPIRY_DAYS:
        errors["days"] = "Choose how long the token lasts."
    if errors:
        raise TokenError(errors)
    now = now or utcnow()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits: guessing is hopeless, so one sha256 is enough
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret), prefix=secret[:10],
                     created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.create", user=user, obj=token, detail=f"expires={token.expires_at.date().isoformat()}")
    return NewToken(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def get_own_token_or_404(user: User, token_id: int) -> ApiToken:
    """One of the user's own tokens, else 404 (someone else's looks like a missing one)."""
    from flask import abort

    token = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        abort(404)
    return token


def revoke(token: ApiToken, *, by: User) -> bool:
    """Stop a token working at once; audited. False when it was already revoked. Flushes."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    token.revoked_by_id = by.id
    db.session.flush()
    audit.record("api_token.revoke", user=by, obj=token)
    return True


def authenticate(secret: str | None, now: datetime | None = None) -> ApiToken | None:
    """The live token with this secret whose user is enabled, else None."""
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    now = now or utcnow()
    if token is None or not token.active(now) or not token.user.is_enabled:
        return None
    return token


def mark_used(token: ApiToken, now: datetime | None = None) -> bool:
    """Note that the token was used (at most once a minute); True when a write is needed."""
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        return True
    return False
