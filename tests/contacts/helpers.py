"""Helpers shared by the contacts tests."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from crm.contacts.service import FILTER_KEYS


def search(client, **data):
    """POST the contacts search (every field blank unless given) and follow the redirect."""
    response = client.post("/contacts/", data={**dict.fromkeys(FILTER_KEYS, ""), **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"])


def filter_key(response) -> str:
    """The saved-filter key of the list page a search redirected to."""
    return parse_qs(urlparse(response.request.url).query)["f"][0]


def listed_names(page_html: str) -> list[str]:
    """Surnames of the contacts in the list's table, in order."""
    return re.findall(r'<td><a href="/contacts/\d+">([^<,]+),', page_html)
