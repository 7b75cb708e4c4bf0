"""Argon2id password hashing (argon2-cffi's tuned defaults) and the new-password rules."""
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("branchline-timing-equaliser")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords from breach corpora, as shipped inside the zxcvbn package
    (no network at run time)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """True for a password from the breached/common list, even with a digit or symbol tacked on."""
    lowered = password.lower()
    common = common_passwords()
    stripped = lowered.rstrip("0123456789!?.@#$%&*_-")
    return lowered in common or (len(stripped) >= 4 and stripped in common) or len(set(lowered)) <= 2


def password_problem(password: str, personal: tuple[str, ...] = ()) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if is_common(password):
        return "That password is on a list of passwords leaked in data breaches. Choose another."
    lowered = password.lower()
    words = [w for value in personal for w in (value or "").lower().split("@")[0].replace(".", " ").split()]
    for word in words:
        if len(word) >= 4 and word in lowered:
            return "Do not use your name or email address in your password."
    if password.lower() == password and password.isalpha() and len(password) < 16:
        return "Use a longer passphrase, or mix in numbers or capitals."
    return None
