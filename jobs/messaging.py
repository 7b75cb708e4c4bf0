"""Messaging jobs: thin, idempotent, ids only (never numbers, addresses or message text)."""
from crm.extensions import db
from crm.messaging import outbox
from crm.messaging.models import Send


def prepare_send(send_id: int) -> int:
    """Work out a send's recipients, add them to the outbox and hand the batches to workers."""
    send = db.session.get(Send, send_id)
    if send is None:
        return 0
    ranges = outbox.prepare_send(send)
    outbox.enqueue_batches(send_id, ranges)
    return len(ranges)


def send_batch(send_id: int, first_id: int, last_id: int) -> dict:
    """Send one batch of a send's queued messages; rows already handled are left alone."""
    outcome = outbox.deliver_batch(send_id, first_id, last_id)
    # Counts by state, and the time spent inside provider calls (the benchmark reads it).
    return {**outcome.counts, "provider_seconds": round(outcome.provider_seconds, 4)}


def send_message(message_id: int) -> dict:
    """Send one queued one-off message; a no-op unless it is still queued."""
    return dict(outbox.deliver_one(message_id).counts)


def sweep() -> dict:
    """Reconcile stranded messages and restart quiet sends, then schedule the next sweep."""
    try:
        return vars(outbox.sweep())
    finally:
        outbox.schedule_sweep()
