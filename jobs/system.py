"""Housekeeping jobs."""
from crm.main import service


def record_heartbeat() -> str:
    """Note that a worker is alive and processing jobs (shown by /healthz)."""
    return service.record_worker_heartbeat()
