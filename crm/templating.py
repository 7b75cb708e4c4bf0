"""Template helpers: navigation by permission, date formats, pagination links."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, request, url_for
from flask_login import current_user

from .auth.roles import Permission

UK = ZoneInfo("Europe/London")

# (label, endpoint, permission needed — or a tuple of which any will do — or None) in header order.
NAVIGATION = [
    ("Home", "main.home", None),
    ("Calls", "calls.index", Permission.WORK_CALLS),
    ("Contacts", "contacts.index", Permission.VIEW_CONTACTS),
    ("Campaigns", "campaigns.index", Permission.MANAGE_CAMPAIGNS),
    ("Messages", "messaging.index", (Permission.SEND_MESSAGES, Permission.ANSWER_REPLIES)),
    ("Imports", "imports.index", Permission.EDIT_CONTACTS),
    ("Reports", "reports.dashboard", Permission.VIEW_REPORTS),
    ("Admin", "admin.index", Permission.MANAGE_REGION),
    ("Data protection", "privacy.index", Permission.MANAGE_PRIVACY),
]


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation():
        items = []
        # While the second factor or training is outstanding the header offers nothing to open.
        if current_user.is_authenticated and not g.get("gated"):
            for label, endpoint, permission in NAVIGATION:
                needed = permission if isinstance(permission, tuple) else (permission,)
                if permission is None or any(current_user.can(p) for p in needed):
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

    @app.template_global()
    def today() -> date:
        return date.today()

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
