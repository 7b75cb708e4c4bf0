"""What the home page and the health check report."""
from __future__ import annotations

from rq import Worker
from sqlalchemy import func, select, text

from ..auth.models import User
from ..auth.roles import Permission
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
    summary = {"branches": branches, "members": members, "call_lists": 0, "waiting": 0}
    if user.can(Permission.WORK_CALLS):
        from ..calls import service as calls
        from ..calls.models import CallList

        from ..calls.models import call_list_caller

        # The lists this person is assigned to call (not every list a regional role can see).
        lists = db.session.execute(calls.lists_stmt(user).where(
            CallList.is_active.is_(True),
            CallList.id.in_(select(call_list_caller.c.list_id).where(call_list_caller.c.user_id == user.id)))
        ).scalars().all()
        summary["call_lists"] = len(lists)
        summary["waiting"] = sum(calls.waiting_count(lst, user) for lst in lists)
    return summary


HEARTBEAT_KEY = "branchline:worker:heartbeat"


def record_worker_heartbeat() -> str:
    """Store the time a worker last ran a job, for /healthz."""
    from ..database import utcnow

    stamp = utcnow().isoformat(timespec="seconds")
    get_redis().set(HEARTBEAT_KEY, stamp)
    return stamp
