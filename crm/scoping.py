"""Branch scoping: the one place that decides which branches' data a user may see.

Every query returning member data goes through `scoped` or `get_scoped_or_404`. A row of a
branch the user does not cover looks exactly like a missing one (404), so existence never
leaks membership.
"""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, g, has_request_context, request
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, Select, false, select, true

from .auth.models import User
from .auth.roles import Permission
from .extensions import db


def branch_condition(user: User, branch_column) -> ColumnElement[bool]:
    """SQL condition true for rows whose branch the user covers."""
    if user.region_wide:
        return true()
    if user.id is None:
        return false()
    # The ids themselves, not a subquery: with a literal list both planners pick the branch index
    # (a deep page of 1M contacts: 16 ms instead of 1 s on SQLite).
    ids = [b.id for b in user.branches]
    return branch_column.in_(ids) if ids else false()


def scoped(stmt: Select, user: User, branch_column) -> Select:
    """Limit a select to the user's branches through the given branch_id column."""
    return stmt.where(branch_condition(user, branch_column))


def get_scoped_or_404(model, object_id: int, user: User, branch_column=None):
    """Load one branch-owned row the user may see, else 404 (same as a missing id)."""
    column = branch_column if branch_column is not None else model.branch_id
    stmt = scoped(select(model).where(model.id == object_id), user, column)
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        note_probe(model, object_id, user)
        abort(404)
    return obj


def note_probe(model, object_id: int, user: User) -> None:
    """Remember an id that exists but lies in another branch; it is audited after the response is
    made (crm/scoping.init_app), so the 404 stays byte-identical to a missing id's."""
    if not has_request_context() or user.id is None:
        return
    exists = db.session.execute(select(model.id).where(model.id == object_id)).first()
    if exists:
        g.setdefault("_probes", []).append((model.__tablename__, object_id, user.id))


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _audit_probes(exc):
        probes = g.pop("_probes", None)
        if not probes:
            return
        from .audit.service import record_separately

        db.session.rollback()  # the request is over; nothing of it stays uncommitted (or holds SQLite's lock)
        for table, object_id, user_id in probes:
            record_separately("authz.denied", user_id=user_id, object_type=table, object_id=object_id,
                              ip=request.remote_addr, detail="another branch's record")


def covers_branch(user: User, branch_id: int) -> bool:
    if user.region_wide:
        return True
    return any(b.id == branch_id for b in user.branches)


def visible_branches_stmt(user: User) -> Select:
    from .region.models import Branch

    return scoped(select(Branch).order_by(Branch.code), user, Branch.id)


def require(permission: Permission):
    """Signed-in users with the permission get the view; everyone else a 404."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(permission):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator
