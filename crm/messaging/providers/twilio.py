"""SMS through Twilio's Programmable Messaging API, with the official SDK."""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import requests
from flask import current_app
from sqlalchemy import select
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError

from ...extensions import db
from ..models import Message, MessageState
from ..tokens import public_url
from .base import Accepted, Outgoing, RateLimited, Rejected, Uncertain

# The SDK logs each request's URL and query at INFO, and a reconcile lookup puts the member's
# number in the query: its own logger, kept at WARNING, keeps numbers out of the logs.
_sdk_log = logging.getLogger("branchline.messaging.twilio_sdk")
_sdk_log.setLevel(logging.WARNING)

# Errors that say something about the recipient rather than about this one request.
OPT_OUT_CODES = {21610}  # the recipient texted STOP to our number
BAD_ADDRESS_CODES = {21211, 21614}  # not a valid number; not a mobile
ERROR_WORDS = {
    20003: "Twilio refused our credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
    21211: "Not a valid phone number.",
    21408: "Texts to this country are not enabled on the Twilio account.",
    21610: "The recipient had texted STOP to our number: Twilio will not deliver to them.",
    21612: "Twilio cannot send from our number to this one.",
    21614: "Not a mobile number: it cannot receive texts.",
}

# Twilio's delivery states, as ours (used when reconciling and by the status webhook).
STATUS_STATES = {
    "sent": MessageState.SENT,
    "delivered": MessageState.DELIVERED,
    "read": MessageState.DELIVERED,
    "undelivered": MessageState.UNDELIVERED,
    "failed": MessageState.FAILED,
    "canceled": MessageState.FAILED,
}


class _HttpClient(TwilioHttpClient):
    """The SDK's HTTP client, optionally sending every request to another base URL (a local test double)."""

    def __init__(self, base_url: str | None, timeout: float):
        super().__init__(timeout=timeout, logger=_sdk_log)
        self._base = base_url.rstrip("/") if base_url else None
        # requests re-reads the proxy and CA-bundle environment on every request (a third of the
        # SDK's own time per text): read them once, as requests would, and stop the per-request scan.
        self.proxy = requests.utils.get_environ_proxies(self._base or "https://api.twilio.com")
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.trust_env = False

    def request(self, method, url, *args, **kwargs):
        if self._base:
            parts = urlsplit(url)
            url = self._base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


class TwilioProvider:
    """Sends each text with messages.create, from the Messaging Service (or our number), with a status callback."""

    name = "twilio"

    def __init__(self, config):
        sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
        if not sid or not token:
            raise RuntimeError("The Twilio provider needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        self.messaging_service_sid = config.get("TWILIO_MESSAGING_SERVICE_SID") or ""
        self.from_number = config.get("TWILIO_FROM_NUMBER") or ""
        if not self.messaging_service_sid and not self.from_number:
            raise RuntimeError("The Twilio provider needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER.")
        self.timeout = float(config.get("PROVIDER_TIMEOUT_SECONDS") or 10)
        self.client = Client(sid, token, http_client=_HttpClient(config.get("TWILIO_API_BASE"), self.timeout))

    def _status_callback(self, message_id: int) -> str | None:
        # Without a public address Twilio could not reach us: ask for no callbacks rather than fail ones.
        if not current_app.config.get("PUBLIC_BASE_URL"):
            return None
        # Our id rides along so a callback can settle a row whose Twilio SID was never stored.
        return public_url("/webhooks/twilio/status?" + urlencode({"m": message_id}))

    def send(self, outgoing: Outgoing) -> Accepted:
        params = {"to": outgoing.to, "body": outgoing.body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        callback = self._status_callback(outgoing.message_id)
        if callback:
            params["status_callback"] = callback
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            raise _mapped(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise _network_error(exc, self.timeout) from exc
        except TwilioException as exc:  # a 2xx answer the SDK could not read: it was probably taken
            raise Uncertain("twilio_answer", f"Twilio's answer could not be read: {exc}") from exc
        segments = int(message.num_segments) if str(message.num_segments or "").isdigit() else None
        return Accepted(provider_id=message.sid, state=MessageState.SENT, segments=segments)

    def reconcile(self, message: Message) -> Accepted | None:
        """Find the text a stopped worker handed over: to that number, created within the call's window.

        Only an unambiguous match counts: exactly one outbound message to the number created between
        the claim and the timeout, whose SID no other outbox row holds (and, for one-off messages, the
        same text). Anything else is left for a person.
        """
        if not message.to_address or message.claimed_at is None:
            return None
        earliest = message.claimed_at - timedelta(seconds=60)  # clocks differ a little
        latest = message.claimed_at + timedelta(seconds=self.timeout + 60)
        try:
            listed = self.client.messages.list(to=message.to_address, limit=50, page_size=50)
        except (TwilioException, requests.exceptions.RequestException):
            return None
        known = set(db.session.scalars(select(Message.provider_id).where(
            Message.to_address == message.to_address, Message.provider == self.name,
            Message.provider_id.is_not(None), Message.id != message.id)))
        candidates = [
            m for m in listed
            if (m.direction or "").startswith("outbound") and m.sid not in known and m.date_created is not None
            and earliest <= m.date_created <= latest and (message.body is None or m.body == message.body)
        ]
        if len(candidates) != 1:
            return None
        found = candidates[0]
        segments = int(found.num_segments) if str(found.num_segments or "").isdigit() else None
        state = STATUS_STATES.get(str(found.status or ""), MessageState.SENT)
        return Accepted(provider_id=found.sid, state=state, segments=segments)


def _mapped(exc: TwilioRestException):
    code = exc.code
    detail = ERROR_WORDS.get(code or 0) or str(exc.msg or "")[:300]
    if exc.status == 429:
        return RateLimited(str(code or 429), detail or "Twilio asked us to slow down.")
    if exc.status >= 500:
        return Uncertain(str(exc.status), f"Twilio had a server error ({exc.status}): it may have been sent.")
    if code in OPT_OUT_CODES:
        return Rejected(str(code), detail, opt_out=True)
    if code in BAD_ADDRESS_CODES:
        return Rejected(str(code), detail, bad_address=True)
    return Rejected(str(code or exc.status), detail or f"Twilio refused the message (HTTP {exc.status}).")


def _network_error(exc: requests.exceptions.RequestException, timeout: float):
    """A failure to connect means nothing was sent (retry later); one after sending may have been sent."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(reason, ConnectTimeoutError):
        # Nothing reached Twilio: safe to try again later, with the same backoff as a rate limit.
        return RateLimited("unreachable", "Could not connect to Twilio.")
    if isinstance(exc, requests.exceptions.Timeout):
        return Uncertain("timeout", f"Twilio did not answer within {timeout:g} seconds: it may have been sent.")
    return Uncertain("connection", "The connection to Twilio broke after the message was handed over: "
                     "it may have been sent.")
