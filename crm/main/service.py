"""What the home page and the health check report."""
from __future__ import annotations

from rq import Worker
from sqlalchemy import func, select, text

from ..auth.models import User
from ..contacts.models import Contact
from ..extensions import db
from ..queue import QUEUE_NAMES, get_queue, get_redis
from ..scoping import scoped, visible_branches_stmt
from ..vocabulary import ContactStatus


def health() -> tuple[bool, dict]:
    """The state of the database and the queue, for /healthz."""
    report: dict = {}
    ok = True
    try:
        db.session.execute(text("SELECT 1"))
        report["database"] = {"ok": True, "engine": db.engine.dialect.name}
    except Exception as exc:  # any failure is the answer here, not a crash
        db.session.rollback()
        ok = False
        report["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        conn = get_redis()
        conn.ping()
        report["queue"] = {
            "ok": True,
            "queued": {name: get_queue(name).count for name in QUEUE_NAMES},
            "workers": Worker.count(connection=conn),
            "last_job_at": (conn.get(HEARTBEAT_KEY) or b"").decode() or None,
        }
    except Exception as exc:
        ok = False
        report["queue"] = {"ok": False, "error": type(exc).__name__}
    report["ok"] = ok
    return ok, report


def home_summary(user: User) -> dict:
    """Counts for the signed-in user's home page, within their branches."""
    branches = db.session.execute(visible_branches_stmt(user)).scalars().all()
    members = db.session.execute(
        scoped(select(func.count(Contact.id)).where(Contact.status == ContactStatus.MEMBER), user, Contact.branch_id)
    ).scalar_one()
    return {"branches": branches, "members": members}


HEARTBEAT_KEY = "branchline:worker:heartbeat"


def record_worker_heartbeat() -> str:
    """Store the time a worker last ran a job, for /healthz."""
    from ..database import utcnow

    stamp = utcnow().isoformat(timespec="seconds")
    get_redis().set(HEARTBEAT_KEY, stamp)
    return stamp
