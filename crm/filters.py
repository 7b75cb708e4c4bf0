"""Search filters kept in the session, so search terms (member data) never appear in URLs or logs."""
from __future__ import annotations

import secrets

from flask import session

_MAX_SAVED = 20


def _saved() -> list:
    # A list of [area, key, values], oldest first: the session cookie's JSON sorts dict keys, so a
    # dict would lose the order in which searches were made.
    saved = session.get("saved_filters")
    return saved if isinstance(saved, list) else []


def save_filter(area: str, values: dict) -> str:
    """Store a filter under a random key and return the key for the URL."""
    key = secrets.token_urlsafe(6)
    saved = _saved() + [[area, key, values]]
    session["saved_filters"] = saved[-_MAX_SAVED:]  # keep the cookie small: drop the oldest first
    return key


def load_filter(area: str, key: str | None) -> dict:
    if not key:
        return {}
    for saved_area, saved_key, values in _saved():
        if saved_area == area and saved_key == key:
            return dict(values)
    return {}


def saved_filters(area: str) -> list[tuple[str, dict]]:
    """This session's filters for an area as (key, values), newest first."""
    return [(key, dict(values)) for saved_area, key, values in reversed(_saved()) if saved_area == area]
