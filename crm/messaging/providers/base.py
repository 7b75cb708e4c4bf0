"""What every provider adapter offers the outbox, and the ways a send can go wrong."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ...vocabulary import Channel
from ..models import Message, MessageState


@dataclass
class Outgoing:
    """One rendered message, ready for a provider. Never logged or queued: it holds member data."""

    message_id: int
    channel: Channel
    to: str
    body: str  # the SMS text, or the email's plain-text part
    subject: str | None = None
    html: str | None = None
    reply_to: str | None = None
    cc: list[str] = field(default_factory=list)
    # Email to a contact: where the one-click unsubscribe goes (List-Unsubscribe headers).
    unsubscribe_url: str | None = None


@dataclass
class Accepted:
    """The provider took the message: its id, and the state that means (the log provider: delivered)."""

    provider_id: str
    state: MessageState = MessageState.SENT
    segments: int | None = None


class ProviderError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail[:300]


class RateLimited(ProviderError):
    """429: nothing was sent; the batch is retried later with backoff and jitter."""

    def __init__(self, code: str = "429", detail: str = "", retry_after: float | None = None):
        super().__init__(code, detail)
        self.retry_after = retry_after


class Uncertain(ProviderError):
    """A timeout or 5xx: it may have been sent, so it is never retried automatically."""


class Rejected(ProviderError):
    """A permanent refusal (invalid number, unsubscribed recipient, bounced address)."""

    def __init__(self, code: str, detail: str = "", opt_out: bool = False, bad_address: bool = False):
        super().__init__(code, detail)
        self.opt_out = opt_out
        self.bad_address = bad_address


class Provider(Protocol):
    name: str

    def send(self, outgoing: Outgoing) -> Accepted:
        """Hand one message over; raise RateLimited, Uncertain or Rejected when it was not accepted."""

    def reconcile(self, message: Message) -> Accepted | None:
        """For a message left in `sending` by a stopped worker: what the provider knows of it, if it can say."""
