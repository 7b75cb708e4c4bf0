"""Caller screens: the lists, call next, the entry screen and its outcome."""
from flask import render_template
from flask_login import current_user

from ..auth.roles import Permission
from ..extensions import db
from ..scoping import require
from . import bp, service
from .models import CallList


@bp.get("/")
@require(Permission.WORK_CALLS)
def index():
    lists = db.session.execute(service.lists_stmt(current_user).where(CallList.is_active.is_(True))
                               .order_by(CallList.name)).scalars().all()
    rows = [(lst, service.progress(lst, current_user)) for lst in lists]
    return render_template("calls/index.html", rows=rows)
