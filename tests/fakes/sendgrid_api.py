"""A local SendGrid v3 Mail Send API: POST /v3/mail/send answers 202 with an X-Message-Id."""
from __future__ import annotations

import secrets

from . import Behaviour, FakeServer, Received, json_answer

ERROR_MESSAGES = {
    400: "Bad Request",
    401: "The provided authorization grant is invalid, expired, or revoked",
    413: "Payload Too Large",
    429: "too many requests",
    500: "internal server error",
}


class FakeSendGrid(FakeServer):
    name = "sendgrid"

    def __init__(self, api_key: str):
        super().__init__()
        self.api_key = api_key
        self.message_ids: list[str] = []

    @property
    def sends(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST" and r.path == "/v3/mail/send"]

    @property
    def bodies(self) -> list[dict]:
        """The JSON bodies of every mail/send request."""
        return [r.json for r in self.sends]

    def _error(self, behaviour: Behaviour):
        return json_answer(behaviour.status, {"errors": [{
            "message": behaviour.message or ERROR_MESSAGES.get(behaviour.status, "error"),
            "field": "personalizations.0.to.0.email" if behaviour.code == 1 else None, "help": None}]})

    def _respond(self, received: Received):
        self._record(received)
        if received.path != "/v3/mail/send" or received.method != "POST":
            return json_answer(404, {"errors": [{"message": "not found", "field": None, "help": None}]})
        if received.headers.get("authorization") != f"Bearer {self.api_key}":
            return json_answer(401, {"errors": [{"message": ERROR_MESSAGES[401], "field": None, "help": None}]})
        body = received.json
        problems = []
        if not isinstance(body, dict):
            problems.append(("The request body must be JSON.", None))
        else:
            if not body.get("personalizations"):
                problems.append(("The personalizations field is required.", "personalizations"))
            if not (body.get("from") or {}).get("email"):
                problems.append(("The from object must be provided for every email send.", "from"))
            if not body.get("content") and not body.get("template_id"):
                problems.append(("Unless a valid template_id is provided, the content parameter is required.",
                                 "content"))
        if problems:
            return json_answer(400, {"errors": [{"message": m, "field": f, "help": None} for m, f in problems]})
        return self._apply(self._next_behaviour(), self._accepted)

    def _accepted(self):
        message_id = secrets.token_urlsafe(16)[:22]
        with self._lock:
            self.message_ids.append(message_id)
        return 202, {"X-Message-Id": message_id}, b""
