"""Shared form helpers (WTForms 3.3+ wants SelectChoice objects, not tuples)."""
from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


def int_or_none(value) -> int | None:
    """A form value as an int, or None when it is blank or not a number (a SelectField coerce)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (each area's _helpers.html renders them as a fieldset); ids by default."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("invalid_choice_message", "Choose from the list.")
        super().__init__(*args, **kwargs)


def choices(pairs: Iterable[tuple[str, str]], blank: str | None = None) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs, optionally led by an empty 'any' option."""
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs]


def enum_choices(enum_cls, blank: str | None = None) -> list[SelectChoice]:
    """Choices from a crm.vocabulary.Labelled enum."""
    return choices(((m.value, m.label) for m in enum_cls), blank)


def show_errors(form, errors: dict, rename: dict[str, str] | None = None) -> None:
    """Put each refused value's reason next to its field, or at the top of the form when the
    reason belongs to no field (a key of None, or a name the form does not have)."""
    for name, message in errors.items():
        name = (rename or {}).get(name, name) if name else name
        field = getattr(form, name, None) if name else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
