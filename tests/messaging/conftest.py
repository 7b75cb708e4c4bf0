"""Messaging fixtures: run the queue in-process (real Redis, real RQ jobs)."""
from __future__ import annotations

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from crm.queue import get_queue, get_redis


@pytest.fixture
def work_queue(app):
    """Run every queued job now, in this process (RQ SimpleWorker in burst mode)."""

    def _work():
        SimpleWorker([get_queue()], connection=get_redis(), serializer=JSONSerializer).work(burst=True)

    return _work
