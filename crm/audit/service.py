"""Record audit events; callers commit with the change they describe."""
from __future__ import annotations

from flask import has_request_context, request

from ..extensions import db
from .models import AuditEvent


def record(action: str, *, user=None, obj=None, detail: str | None = None, ip: str | None = None) -> AuditEvent:
    """Add an audit event to the session (flushed with the change it describes)."""
    if ip is None and has_request_context():
        ip = request.remote_addr
    event = AuditEvent(
        action=action,
        user_id=getattr(user, "id", None),
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        ip=ip,
        detail=detail,
    )
    db.session.add(event)
    return event
