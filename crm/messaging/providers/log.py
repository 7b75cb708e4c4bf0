"""The default provider with no credentials: records what would be sent and reports it delivered."""
from __future__ import annotations

import logging

from ..models import Message, MessageState
from .base import Accepted, Outgoing

log = logging.getLogger("branchline.messaging.log_provider")


class LogProvider:
    """Sends nothing. The log line names the outbox row and its size, never the address or the text."""

    name = "log"

    def __init__(self, config):
        pass

    def send(self, outgoing: Outgoing) -> Accepted:
        log.info("log provider: would send %s message #%s (%d characters)",
                 outgoing.channel.value, outgoing.message_id, len(outgoing.body))
        return Accepted(provider_id=f"log-{outgoing.message_id}", state=MessageState.DELIVERED)

    def reconcile(self, message: Message) -> Accepted | None:
        # Nothing ever leaves the building, so a half-recorded row can safely be called delivered.
        return Accepted(provider_id=f"log-{message.id}", state=MessageState.DELIVERED)
