from flask import render_template

from ..auth.roles import Permission
from ..scoping import require
from . import bp


@bp.get("/")
@require(Permission.MANAGE_REGION)
def index():
    return render_template("admin/index.html")
