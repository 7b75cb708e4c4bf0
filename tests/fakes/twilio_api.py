"""A local Twilio Programmable Messaging API: create a message, list messages, answer like Twilio does."""
from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime

from . import Behaviour, FakeServer, Received, json_answer

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")

# The wording Twilio uses for the errors tests ask for.
ERROR_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


def _segments(body: str) -> int:
    # Close enough for a fake: GSM-7 text in 160/153-character parts, anything else in 70/67.
    gsm = all(ord(c) < 128 for c in body)
    single, multi = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


class FakeTwilio(FakeServer):
    """POST/GET /2010-04-01/Accounts/<sid>/Messages.json, checking HTTP basic auth like the real API."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict] = []  # every message the fake accepted, as Twilio would list it

    @property
    def sends(self) -> list[Received]:
        """The requests that asked for a message to be sent."""
        return [r for r in self.received if r.method == "POST"]

    def _authorised(self, received: Received) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return received.headers.get("authorization") == f"Basic {expected}"

    def _error(self, behaviour: Behaviour):
        code = behaviour.code or (20429 if behaviour.status == 429 else None)
        message = behaviour.message or ERROR_MESSAGES.get(code or 0, "Internal Server Error")
        return json_answer(behaviour.status, {
            "code": code, "message": message, "status": behaviour.status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None})

    def _respond(self, received: Received):
        self._record(received)
        match = _MESSAGES.match(received.path)
        if match is None:
            return json_answer(404, {"code": 20404, "message": "The requested resource was not found",
                                     "status": 404, "more_info": "https://www.twilio.com/docs/errors/20404"})
        if match["sid"] != self.account_sid or not self._authorised(received):
            return json_answer(401, {"code": 20003, "message": ERROR_MESSAGES[20003], "status": 401,
                                     "more_info": "https://www.twilio.com/docs/errors/20003"})
        if received.method == "GET":
            return self._list(received)
        form = received.form
        if not form.get("To") or not form.get("Body") or not (form.get("From") or form.get("MessagingServiceSid")):
            return json_answer(400, {"code": 21604, "message": "A 'To', 'Body' and 'From' or 'MessagingServiceSid'"
                                     " are required", "status": 400})
        return self._apply(self._next_behaviour(), lambda: self._create(form))

    def _create(self, form: dict):
        now = format_datetime(datetime.now(UTC), usegmt=True)
        sid = "SM" + secrets.token_hex(16)
        message = {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": form["Body"],
            "date_created": now, "date_sent": now, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"), "num_media": "0",
            "num_segments": str(_segments(form["Body"])), "price": None, "price_unit": "USD", "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued", "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
        }
        with self._lock:
            # Listed as Twilio lists it later: handed to the carrier.
            self.messages.append({**message, "status": "sent"})
        return json_answer(201, message)

    def _list(self, received: Received):
        to = received.query.get("To")
        with self._lock:
            found = [m for m in reversed(self.messages) if to is None or m["to"] == to]
        page_size = int(received.query.get("PageSize") or 50)
        uri = received.path
        return json_answer(200, {
            "messages": found[:page_size], "end": max(0, min(len(found), page_size) - 1),
            "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None,
            "page": 0, "page_size": page_size, "start": 0, "uri": uri})
