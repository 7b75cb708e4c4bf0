"""Template helpers: navigation by permission, date formats, pagination links."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, request, url_for
from flask_login import current_user

from .auth.roles import Permission

UK = ZoneInfo("Europe/London")

# (label, endpoint, permission needed or None) in the order they appear in the header.
NAVIGATION = [
    ("Home", "main.home", None),
    ("Calls", "calls.index", Permission.WORK_CALLS),
    ("Contacts", "contacts.index", Permission.VIEW_CONTACTS),
    ("Imports", "imports.index", Permission.EDIT_CONTACTS),
    ("Admin", "admin.index", Permission.MANAGE_REGION),
]


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation():
        items = []
        if current_user.is_authenticated:
            for label, endpoint, permission in NAVIGATION:
                if permission is None or current_user.can(permission):
                    blueprint = endpoint.split(".")[0]
                    active = request.blueprint == blueprint and (blueprint != "main" or request.endpoint == endpoint)
                    items.append({"label": label, "url": url_for(endpoint), "active": active})
        return {"nav_items": items, "Permission": Permission}

    @app.template_filter("uk_date")
    def uk_date(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(UK).date()
        return value.strftime("%-d %b %Y")

    @app.template_filter("uk_datetime")
    def uk_datetime(value: datetime | None) -> str:
        if value is None:
            return ""
        return value.astimezone(UK).strftime("%-d %b %Y, %H:%M")

    @app.template_filter("thousands")
    def thousands(value: int | None) -> str:
        return f"{value or 0:,}"

    @app.template_global()
    def url_with(**changes) -> str:
        """The current URL with some query arguments changed (for paging and filters)."""
        args = request.args.to_dict()
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return url_for(request.endpoint, **(request.view_args or {}), **args)
