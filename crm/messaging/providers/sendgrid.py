"""Email through SendGrid's v3 Mail Send API, with the official SDK."""
from __future__ import annotations

import http.client
import json
import logging
import socket
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Asm, Cc, CustomArg, From, GroupId, Header, Mail, ReplyTo, To

from ..models import Message, MessageState
from .base import Accepted, Outgoing, RateLimited, Rejected, Uncertain

# python_http_client logs whole request bodies (names, addresses, letters) at DEBUG: never let
# a DEBUG log level write member data out.
logging.getLogger("python_http_client.client").setLevel(logging.INFO)


class SendGridProvider:
    """One Mail Send request per message, carrying our message id back to us in custom_args."""

    name = "sendgrid"

    def __init__(self, config):
        api_key = config.get("SENDGRID_API_KEY")
        if not api_key:
            raise RuntimeError("The SendGrid provider needs SENDGRID_API_KEY.")
        self.timeout = float(config.get("PROVIDER_TIMEOUT_SECONDS") or 10)
        self.client = SendGridAPIClient(api_key, host=config.get("SENDGRID_API_BASE") or "https://api.sendgrid.com")
        # The SDK sets no timeout of its own; each per-path client it builds copies this one.
        self.client.client.timeout = self.timeout
        self.from_email = config.get("SENDGRID_FROM_EMAIL")
        self.from_name = config.get("SENDGRID_FROM_NAME") or None
        self.group_id = int(config.get("SENDGRID_UNSUBSCRIBE_GROUP_ID") or 0)

    def mail(self, outgoing: Outgoing) -> Mail:
        """The Mail Send request for one message."""
        mail = Mail(from_email=From(self.from_email, self.from_name), to_emails=To(outgoing.to),
                    subject=outgoing.subject or "(no subject)", plain_text_content=outgoing.body or " ",
                    html_content=outgoing.html or None)
        if outgoing.reply_to:
            mail.reply_to = ReplyTo(outgoing.reply_to)
        # SendGrid refuses a request naming the same address twice in one personalization.
        seen = {outgoing.to.lower()}
        for address in outgoing.cc:
            if address.lower() not in seen:
                seen.add(address.lower())
                mail.add_cc(Cc(address))
        mail.custom_arg = CustomArg("branchline_message_id", str(outgoing.message_id))
        if self.group_id:
            mail.asm = Asm(GroupId(self.group_id))
        if outgoing.unsubscribe_url:
            # RFC 8058 one-click unsubscribe: mail clients show an "Unsubscribe" button and POST to it.
            mail.header = Header("List-Unsubscribe", f"<{outgoing.unsubscribe_url}>")
            mail.header = Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
        return mail

    def send(self, outgoing: Outgoing) -> Accepted:
        try:
            response = self.client.send(self.mail(outgoing))
        except HTTPError as exc:
            raise _mapped(exc) from exc
        except URLError as exc:
            # urllib raises URLError only while connecting or writing the request: nothing was taken.
            raise RateLimited("unreachable", "Could not connect to SendGrid.") from exc
        except (TimeoutError, socket.timeout) as exc:
            raise Uncertain("timeout", f"SendGrid did not answer within {self.timeout:g} seconds: "
                            "it may have been sent.") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise Uncertain("connection", "The connection to SendGrid broke after the message was handed "
                            "over: it may have been sent.") from exc
        if response.status_code != 202:
            raise Uncertain(str(response.status_code), f"SendGrid answered {response.status_code}, not 202.")
        message_id = (response.headers.get("X-Message-Id") or "").strip()
        if not message_id:
            raise Uncertain("no_message_id", "SendGrid accepted the message but gave no message id.")
        return Accepted(provider_id=message_id[:64], state=MessageState.SENT)

    def reconcile(self, message: Message) -> Accepted | None:
        # SendGrid can only look a message up through the Email Activity API, a paid add-on, so a
        # stranded email is left for a person (its delivered/bounce event may still settle it).
        return None


def _errors(exc: HTTPError) -> list[dict]:
    try:
        body = json.loads(exc.body.decode("utf-8") if isinstance(exc.body, bytes) else exc.body)
        return [e for e in body.get("errors", []) if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError):
        return []


def _mapped(exc: HTTPError):
    status = int(exc.status_code)
    errors = _errors(exc)
    detail = "; ".join(str(e.get("message") or "") for e in errors if e.get("message"))[:300]
    if status == 429:
        retry_after = None
        reset = (exc.headers or {}).get("X-RateLimit-Reset") if hasattr(exc.headers, "get") else None
        if reset and str(reset).isdigit():
            retry_after = float(reset)
        return RateLimited("429", detail or "SendGrid asked us to slow down.", retry_after=retry_after)
    if status >= 500:
        return Uncertain(str(status), f"SendGrid had a server error ({status}): it may have been sent.")
    if status in (401, 403):
        return Rejected(str(status), detail or "SendGrid refused our API key: check SENDGRID_API_KEY.")
    bad_address = any("email" in str(e.get("field") or "") and ".to" in str(e.get("field") or "") for e in errors)
    return Rejected(str(status), detail or f"SendGrid refused the message (HTTP {status}).", bad_address=bad_address)
