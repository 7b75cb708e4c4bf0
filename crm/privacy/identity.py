"""Salted hashes of erased people's identifiers, and the check imports make against them."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from ..database import insert_ignoring_duplicates
from ..extensions import db
from .models import ErasedIdentity, IdentityKind, PrivacySettings

SETTINGS_ID = 1


def get_settings() -> PrivacySettings:
    """The privacy settings row, created (with a fresh random salt) the first time it is needed."""
    settings = db.session.get(PrivacySettings, SETTINGS_ID)
    if settings is None:
        db.session.execute(insert_ignoring_duplicates(PrivacySettings.__table__).values(
            id=SETTINGS_ID, salt=secrets.token_hex(32), call_notes_days=730, message_bodies_days=365,
            letters_days=365, lapsed_members_days=6 * 365, audit_days=7 * 365))
        settings = db.session.get(PrivacySettings, SETTINGS_ID)
    return settings


def _canonical(kind: IdentityKind, value: str) -> str:
    value = value.strip()
    if kind is IdentityKind.EMAIL:
        return value.lower()
    if kind is IdentityKind.MOBILE:
        return value.replace(" ", "")
    return value.upper().lstrip("0") or "0"  # membership numbers: Excel drops leading zeros


def digest(kind: IdentityKind, value: str, salt: str | None = None) -> str:
    """HMAC-SHA256 of the canonical value under the install's secret salt."""
    key = (salt or get_settings().salt).encode()
    return hmac.new(key, f"{kind.value}:{_canonical(kind, value)}".encode(), hashlib.sha256).hexdigest()


def remember_erased(*, email: str | None, mobile: str | None, membership_number: str | None) -> int:
    """Store the hashes of an erased person's identifiers; returns how many were new."""
    salt = get_settings().salt
    added = 0
    for kind, value in ((IdentityKind.EMAIL, email), (IdentityKind.MOBILE, mobile),
                        (IdentityKind.MEMBERSHIP_NUMBER, membership_number)):
        if not value:
            continue
        d = digest(kind, value, salt)
        exists = db.session.execute(select(ErasedIdentity.id).where(ErasedIdentity.kind == kind,
                                                                    ErasedIdentity.digest == d)).first()
        if not exists:
            db.session.add(ErasedIdentity(kind=kind, digest=d))
            added += 1
    return added


@dataclass
class ErasedMatcher:
    """Every erased hash, loaded once (per import run): each row then costs three HMACs."""

    salt: str
    digests: set[tuple[str, str]]

    def __bool__(self) -> bool:
        return bool(self.digests)

    def matches(self, *, membership_number: str | None = None, email: str | None = None,
                mobile: str | None = None) -> bool:
        for kind, value in ((IdentityKind.MEMBERSHIP_NUMBER, membership_number), (IdentityKind.EMAIL, email),
                            (IdentityKind.MOBILE, mobile)):
            if value and (kind.value, digest(kind, value, self.salt)) in self.digests:
                return True
        return False


def erased_matcher() -> ErasedMatcher:
    """A matcher over every erased identity (empty, and falsy, when nobody has been erased)."""
    rows = db.session.execute(select(ErasedIdentity.kind, ErasedIdentity.digest)).all()
    if not rows:
        return ErasedMatcher("", set())
    return ErasedMatcher(get_settings().salt, {(k.value if hasattr(k, "value") else k, d) for k, d in rows})


def is_erased(*, membership_number: str | None = None, email: str | None = None, mobile: str | None = None) -> bool:
    """True when any of these identifiers belongs to someone erased on request."""
    return erased_matcher().matches(membership_number=membership_number, email=email, mobile=mobile)
