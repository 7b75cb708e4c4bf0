"""The nightly retention run, kept scheduled in RQ's scheduler under one fixed job id."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ..queue import get_queue

UK = ZoneInfo("Europe/London")
RUN_AT = time(3, 15)  # UK time: after the day's sends, before anyone starts work
JOB_ID = "branchline-retention"


def next_run(now: datetime | None = None) -> datetime:
    """The next 03:15 UK time, as UTC."""
    local = (now or datetime.now(timezone.utc)).astimezone(UK)
    candidate = datetime.combine(local.date(), RUN_AT, tzinfo=UK)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), RUN_AT, tzinfo=UK)
    return candidate.astimezone(timezone.utc)


def schedule_retention(now: datetime | None = None) -> datetime:
    """(Re)schedule the nightly run; the fixed id means every worker shares one schedule."""
    when = next_run(now)
    get_queue().enqueue_at(when, "jobs.privacy.apply_retention", job_id=JOB_ID)
    return when
