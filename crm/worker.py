"""The RQ worker that runs Branchline jobs inside the Flask app context."""
from __future__ import annotations

from flask import Flask
from rq import Worker
from rq.serializers import JSONSerializer

from .extensions import db
from .queue import get_queue, get_redis


class AppWorker(Worker):
    """A forking RQ worker whose work horse runs each job in an app context with fresh DB connections."""

    app: Flask

    def perform_job(self, *args, **kwargs):
        with self.app.app_context():
            # Connections inherited through fork belong to the parent: never share them.
            db.engine.dispose(close=False)
            try:
                return super().perform_job(*args, **kwargs)
            finally:
                db.session.remove()


def make_worker(app: Flask, queue_names: list[str]) -> AppWorker:
    with app.app_context():
        queues = [get_queue(name) for name in queue_names]
        worker = AppWorker(queues, connection=get_redis(), serializer=JSONSerializer)
    worker.app = app
    return worker


def run_worker(app: Flask, queue_names: list[str], burst: bool = False) -> bool:
    """Work the queues until stopped (or, with burst, until they are empty)."""
    worker = make_worker(app, queue_names)
    if not burst:
        from .messaging.outbox import schedule_sweep
        from .privacy.schedule import schedule_retention
        from .reports.summaries import schedule_refresh

        with app.app_context():
            schedule_sweep()
            schedule_retention()  # nightly retention (dry runs are `crm retention`)
            schedule_refresh()  # the dashboard's summary tables, every REPORTS_REFRESH_SECONDS
    return worker.work(burst=burst, with_scheduler=True)
