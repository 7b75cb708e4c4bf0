"""Redis and RQ: connections made lazily per app, JSON-serialised jobs that take ids only."""
from __future__ import annotations

from flask import current_app, g
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import event

from .extensions import db

QUEUE_NAMES = ("default",)


def redis_connection(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)


def get_redis() -> Redis:
    """The app's Redis connection (created on first use, shared by the process)."""
    conn = current_app.extensions.get("branchline_redis")
    if conn is None:
        url = current_app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not set: start through `crm serve` or set REDIS_URL")
        conn = redis_connection(url)
        current_app.extensions["branchline_redis"] = conn
    return conn


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=get_redis(), serializer=JSONSerializer)


def enqueue_after_commit(func_path: str, *ids: int, queue: str = "default", at=None, **options) -> None:
    """Enqueue a job once the current transaction commits, so workers never see uncommitted rows.

    With `at` (an aware datetime) the job waits in RQ's scheduled registry until then.
    """
    for arg in ids:
        if not isinstance(arg, int):
            raise TypeError("job arguments are ids only (never member data)")
    pending = g.setdefault("_jobs_after_commit", [])
    pending.append((queue, func_path, ids, at, options))
    session = db.session()
    if not getattr(session, "_branchline_hooked", False):
        session._branchline_hooked = True
        event.listen(session, "after_commit", _flush_jobs)
        event.listen(session, "after_rollback", _drop_jobs)


def _flush_jobs(session) -> None:
    jobs = g.pop("_jobs_after_commit", [])
    for queue, func_path, ids, at, options in jobs:
        if at is not None:
            get_queue(queue).enqueue_at(at, func_path, *ids, **options)
        else:
            get_queue(queue).enqueue(func_path, *ids, **options)


def _drop_jobs(session) -> None:
    g.pop("_jobs_after_commit", None)
