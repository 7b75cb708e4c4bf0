"""TOTP second factor (RFC 6238 through pyotp) with one-use recovery codes. Callers commit."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from ..audit import service as audit
from ..database import utcnow
from .models import User

ISSUER = "Branchline"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt


class MfaError(ValueError):
    """A user-facing reason a code was not accepted."""


def new_secret() -> str:
    return pyotp.random_base32()


# Stored secrets are sealed with a key derived from SECRET_KEY, so a copy of the database alone (a
# leaked backup) cannot make codes.
SEALED = "f1:"


def _fernet() -> Fernet:
    key = hashlib.sha256(b"branchline-mfa-secret:" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    """The secret as stored: encrypted and authenticated (Fernet)."""
    return SEALED + _fernet().encrypt(secret.encode()).decode()


def unseal(stored: str) -> str:
    """The secret from its stored form; one stored before sealing existed is returned as it is.
    Raises MfaError when SECRET_KEY has changed since it was sealed."""
    if not stored.startswith(SEALED):
        return stored
    try:
        return _fernet().decrypt(stored[len(SEALED):].encode()).decode()
    except InvalidToken:
        raise MfaError("Two-step sign-in cannot be checked for this account (the server's secret key has "
                       "changed). Ask an administrator to reset it, then set it up again.") from None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (made here: the secret never leaves the server)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#1d1733", light="#ffffff")


def _clean(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-").lower()


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The 30-second step this code belongs to (this one or either neighbour, for clock drift)."""
    code = _clean(code)
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return totp.timecode(_dt(at))
    return None


def _dt(ts: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _hash_code(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the plain codes are returned once, only hashes are kept."""
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    codes = [f"{c[:5]}-{c[5:]}" for c in codes]
    user.recovery_code_hashes = [_hash_code(c) for c in codes]
    return codes


def enable(user: User, secret: str, code: str) -> list[str]:
    """Confirm enrolment with a first code from the app; returns the recovery codes to show once."""
    step = _matching_step(secret, code)
    if step is None:
        raise MfaError("That code is not right. Check the time on your phone is set automatically, and try the "
                       "newest code.")
    user.mfa_secret, user.mfa_enabled_at, user.mfa_last_step = seal(secret), utcnow(), step
    codes = new_recovery_codes(user)
    audit.record("mfa.enable", user=user, obj=user)
    return codes


def verify(user: User, code: str, now: float | None = None) -> str:
    """Check a sign-in code (authenticator or recovery code); returns which kind was used."""
    if not user.mfa_secret:
        raise MfaError("Two-step sign-in is not set up for this account.")
    step = _matching_step(unseal(user.mfa_secret), code, now)
    if step is not None:
        if user.mfa_last_step is not None and step <= user.mfa_last_step:
            audit.record("mfa.failure", user=user, obj=user, detail="code reused")
            raise MfaError("That code has already been used. Wait for the next one.")
        user.mfa_last_step = step
        if not user.mfa_secret.startswith(SEALED):  # enrolled before secrets were sealed
            user.mfa_secret = seal(user.mfa_secret)
        audit.record("mfa.success", user=user, obj=user)
        return "totp"
    hashed = _hash_code(code)
    remaining = list(user.recovery_code_hashes or [])
    for stored in remaining:
        if hmac.compare_digest(stored, hashed):
            remaining.remove(stored)
            user.recovery_code_hashes = remaining
            audit.record("mfa.recovery_code", user=user, obj=user, detail=f"left={len(remaining)}")
            return "recovery"
    audit.record("mfa.failure", user=user, obj=user)
    raise MfaError("That code is not right. Enter the 6-digit code your app shows now, or one of your recovery codes.")


def reset(user: User, *, by: User) -> None:
    """Remove a user's second factor (lost phone); they enrol again at their next sign-in."""
    user.mfa_secret = user.mfa_enabled_at = user.mfa_last_step = None
    user.recovery_code_hashes = None
    user.session_version += 1
    audit.record("mfa.reset", user=by, obj=user)


def recovery_codes_left(user: User) -> int:
    return len(user.recovery_code_hashes or [])
