"""API test helpers: a token for a user, and a client that sends it (never a cookie)."""
from __future__ import annotations

import pytest


class ApiClient:
    """Calls the API with a bearer token, as an integration would (no session cookie)."""

    def __init__(self, client, secret: str | None):
        self.client = client
        self.secret = secret

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        headers.update(extra or {})
        return headers

    def get(self, url, **kw):
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api_as(app, db, make):
    """api_as(user) → an ApiClient with a fresh token of that user (committed)."""

    def _api(user, **kw):
        _, secret = make.api_token(user, **kw)
        db.session.commit()
        client = app.test_client(use_cookies=False)
        return ApiClient(client, secret)

    return _api
