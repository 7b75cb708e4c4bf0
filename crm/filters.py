"""Search filters kept in the session, so search terms (member data) never appear in URLs or logs."""
from __future__ import annotations

import secrets

from flask import session

_MAX_SAVED = 20


def save_filter(area: str, values: dict) -> str:
    """Store a filter under a random key and return the key for the URL."""
    saved = session.setdefault("filters", {})
    key = secrets.token_urlsafe(6)
    saved[f"{area}:{key}"] = values
    # Keep the session cookie small: drop the oldest filters first.
    while len(saved) > _MAX_SAVED:
        saved.pop(next(iter(saved)))
    session.modified = True
    return key


def load_filter(area: str, key: str | None) -> dict:
    if not key:
        return {}
    return dict(session.get("filters", {}).get(f"{area}:{key}", {}))
