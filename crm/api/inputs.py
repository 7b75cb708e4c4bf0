"""Reading what a client sent: JSON bodies, plain text fields, and the OData subset used to filter collections.

Every problem becomes a 422 naming the field and the reason; nothing a client sends reaches the
database unchecked (NUL bytes, lone surrogates and out-of-range dates would otherwise be 500s).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from flask import request
from sqlalchemy import func

from .hal import ApiError, invalid

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")


def json_body() -> dict:
    """The request's JSON object, else a 422 (400 when it is not JSON at all)."""
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise ApiError(400, [{"field": "body", "reason": "Send a JSON object as the request body."}])
    if not isinstance(data, dict):
        raise invalid("body", "The request body must be a JSON object.")
    return data


def text(value, field: str, max_len: int, *, multiline: bool = False, required: bool = False) -> str | None:
    """A string field trimmed (None when absent or blank), or a 422 saying what is wrong with it."""
    if value is None:
        if required:
            raise invalid(field, "This field is required.")
        return None
    if not isinstance(value, str):
        raise invalid(field, "Give this as a string.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(field, "The text is not valid Unicode.") from None
    if (_CONTROL if multiline else _CONTROL_OR_BREAK).search(value):
        raise invalid(field, "The text contains control characters.")
    value = value.strip()
    if len(value) > max_len:
        raise invalid(field, f"Use {max_len} characters or fewer.")
    if not value:
        if required:
            raise invalid(field, "This field is required.")
        return None
    return value


def boolean(value, field: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid(field, "Give this as true or false.")
    return value


def parse_datetime(raw: str, field: str) -> datetime:
    """An ISO 8601 date or date-time; a date means its midnight UTC, a time without zone means UTC."""
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time.min, tzinfo=timezone.utc)
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(field, f"‘{raw[:40]}’ is not a date like 2025-01-31 or a time like 2025-01-31T09:00:00Z.") \
            from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise invalid(field, "That date is out of range.") from None


# ---------------------------------------------------------------------------------------------
# OData filters: `modified_date gt '2025-01-01' and email_address eq 'a@example.org'`

OPERATORS = {"eq": "__eq__", "ne": "__ne__", "gt": "__gt__", "ge": "__ge__", "lt": "__lt__", "le": "__le__"}
_CLAUSE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z]+)\s+('(?:[^']|'')*'|[^\s']+)\s*")
_AND = re.compile(r"\s*and\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Field:
    """A filterable property: its column, and whether it holds date-times or text (compared without case)."""

    column: object
    kind: str = "text"  # "datetime" | "text" | "lower" (compared in lower case)
    convert: object = None  # optional function raw → stored value, raising ApiError


def parse_filter(raw: str | None, fields: dict[str, Field]) -> list:
    """SQL conditions for an OData filter over the given fields; a 422 (field "filter") for anything else."""
    if raw is None or not raw.strip():
        return []
    text(raw, "filter", 1000)
    conditions = []
    rest = raw.strip()
    while True:
        match = _CLAUSE.match(rest)
        if not match:
            raise invalid("filter", "Write the filter like: modified_date gt '2025-01-01' and "
                                    "email_address eq 'name@example.org'.")
        name, op, value = match.group(1), match.group(2).lower(), match.group(3)
        if name not in fields:
            raise invalid("filter", f"‘{name}’ cannot be filtered on. Use one of: {', '.join(sorted(fields))}.")
        if op not in OPERATORS:
            raise invalid("filter", f"‘{op}’ is not an operator here. Use eq, ne, gt, ge, lt or le.")
        if value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        conditions.append(_condition(fields[name], name, op, value))
        rest = rest[match.end():]
        if not rest:
            return conditions
        joined = _AND.match(rest)
        if not joined or joined.end() == 0:
            raise invalid("filter", "Join conditions with ‘and’.")
        rest = rest[joined.end():]


def describe_filter(raw: str | None) -> str:
    """A checked filter's fields and operators for the audit log, never its values ("email_address eq")."""
    if not raw:
        return ""
    return " and ".join(f"{m.group(1)} {m.group(2).lower()}" for m in _CLAUSE.finditer(raw))[:200]


def _condition(field: Field, name: str, op: str, value: str):
    column = field.column
    if field.kind == "datetime":
        compared = parse_datetime(value, "filter")
    else:
        if op not in ("eq", "ne"):
            raise invalid("filter", f"‘{name}’ can only be compared with eq or ne.")
        compared = field.convert(value) if field.convert else value
        if field.kind == "lower":
            column, compared = func.lower(column), (compared or "").lower()
    return getattr(column, OPERATORS[op])(compared)
