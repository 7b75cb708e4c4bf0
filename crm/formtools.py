"""Shared form helpers (WTForms 3.3+ wants SelectChoice objects, not tuples)."""
from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[str, str]], blank: str | None = None) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs, optionally led by an empty 'any' option."""
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs]


def enum_choices(enum_cls, blank: str | None = None) -> list[SelectChoice]:
    """Choices from a crm.vocabulary.Labelled enum."""
    return choices(((m.value, m.label) for m in enum_cls), blank)
