"""Cell formatting and figure links for the reports templates.

Plain Python rather than Jinja macros: the dashboard has hundreds of cells, and a macro call or a
url_for per cell costs more than all the SQL behind the page.
"""
from __future__ import annotations

from urllib.parse import urlencode

from markupsafe import Markup, escape

SMALL_NUMBER_TEXT = Markup('<span title="Fewer than 5: not shown to protect people\'s privacy">fewer than 5</span>')


class Cells:
    """Helpers the dashboard template calls per cell: numbers, signs, badges and links to people."""

    def __init__(self, people_url: str, args: dict[str, str], can_list: bool):
        self.people_url = people_url
        self.args = args
        self.can_list = can_list
        self._prefix: dict[tuple, str] = {}

    def num(self, value, suffix: str = "") -> str:
        if value is None:
            return "—"
        return (f"{value:,}" if isinstance(value, int) else f"{value}") + suffix

    def signed(self, value, suffix: str = "") -> str:
        if value is None:
            return "—"
        return (f"+{value}" if value > 0 else f"{value}") + suffix

    def value(self, value) -> str:
        """The number a chart reads from a cell's data-value ("" when there is none)."""
        return "" if value is None else str(value)

    def suppressed(self, value) -> Markup | str:
        return SMALL_NUMBER_TEXT if value is None else f"{value:,}"

    def badge(self, on_target) -> Markup:
        if on_target is None:
            return Markup('<span class="badge badge-muted">no figure</span>')
        if on_target:
            return Markup('<span class="badge badge-good">on target</span>')
        return Markup('<span class="badge badge-warn">below target</span>')

    def people(self, figure: str, label, **extra) -> Markup:
        """The label linked to the list of contacts behind the figure (ids and dates only in the URL)."""
        text = escape(label if isinstance(label, str) else f"{label:,}")
        if not self.can_list:
            return text
        given = {k: str(v) for k, v in extra.items() if v is not None}
        # The part of the address shared by a whole table is encoded once, not once per cell.
        key = (figure, tuple(sorted(given)))
        prefix = self._prefix.get(key)
        if prefix is None:
            base = {"figure": figure, **{k: v for k, v in self.args.items() if k not in given}}
            prefix = self._prefix[key] = f"{self.people_url}?{urlencode(base)}"
        href = prefix + ("&" + urlencode(given) if given else "")
        return Markup(f'<a href="{escape(href)}">{text}</a>')
