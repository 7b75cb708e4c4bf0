"""HAL+JSON responses, OSDI paging and the API's error shape ({"errors": [{"field", "reason"}]})."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from math import ceil

from flask import Response, request, url_for
from sqlalchemy import Select, func, select

from ..extensions import db

HAL = "application/hal+json"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
MAX_PAGE = 1_000_000
MAX_ID = 2_147_483_647  # ids are 32-bit integers on PostgreSQL; bigger ones exist nowhere
CURIES = [{"name": "osdi", "href": "https://opensupporter.github.io/osdi-docs/{rel}", "templated": True}]


class ApiError(Exception):
    """An answer other than success: status, plus the fields and reasons to report."""

    def __init__(self, status: int, errors: list[dict[str, str]], headers: dict | None = None):
        super().__init__("; ".join(e["reason"] for e in errors))
        self.status = status
        self.errors = errors
        self.headers = headers or {}


def invalid(field: str, reason: str) -> ApiError:
    return ApiError(422, [{"field": field, "reason": reason}])


def not_found() -> ApiError:
    # One body for every 404, whether the id is missing, of another branch or outside the role.
    return ApiError(404, [{"field": "id", "reason": "Not found."}])


def error_response(status: int, errors: list[dict[str, str]], headers: dict | None = None) -> Response:
    response = Response(json.dumps({"errors": errors}), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _default(value):
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def hal(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body, default=_default, ensure_ascii=False), status=status, mimetype=HAL)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def link(endpoint: str, **values) -> dict[str, str]:
    return {"href": url_for(endpoint, _external=True, **values)}


def check_id(value: str | int) -> int:
    """A path id that can exist (digits, within 32 bits); anything else is the same 404 as a missing row."""
    text = str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= 10) or not 1 <= int(text) <= MAX_ID:
        raise not_found()
    return int(text)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        raise invalid(name, f"Give {name} as a whole number from {low} to {high:,}.".replace(",", " "))
    return int(raw)


@dataclass
class Paging:
    page: int
    per_page: int


def paging_args() -> Paging:
    return Paging(_int_arg("page", 1, 1, MAX_PAGE), _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE))


@dataclass
class PageOf:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def total_pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def fetch_page(stmt: Select, paging: Paging, scalars: bool = True) -> PageOf:
    """One page of a select (ordered by the caller) and the count of the whole."""
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    items: list = []
    if (paging.page - 1) * paging.per_page < total:
        result = db.session.execute(stmt.limit(paging.per_page).offset((paging.page - 1) * paging.per_page))
        items = list(result.scalars() if scalars else result)
    return PageOf(items, total, paging.page, paging.per_page)


def collection(page: PageOf, rel: str, endpoint: str, rendered: list[dict], **view_args) -> Response:
    """An OSDI collection: paging numbers, links to self/next/prev and the embedded items."""
    keep = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def at(number: int) -> dict[str, str]:
        return link(endpoint, **view_args, **keep, page=number, per_page=page.per_page)

    links: dict = {"self": at(page.page)}
    if page.page < page.total_pages:
        links["next"] = at(page.page + 1)
    if 1 < page.page <= page.total_pages:
        links["prev"] = at(page.page - 1)
    links[rel] = [{"href": item["_links"]["self"]["href"]} for item in rendered]
    links["curies"] = CURIES
    body = {"total_pages": page.total_pages, "per_page": page.per_page, "page": page.page,
            "total_records": page.total, "_links": links, "_embedded": {rel: rendered}}
    return hal(body)
