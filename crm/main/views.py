from flask import jsonify, render_template
from flask_login import current_user, login_required

from . import bp, service


@bp.get("/")
@login_required
def home():
    return render_template("main/home.html", summary=service.home_summary(current_user))


@bp.get("/healthz")
def healthz():
    ok, report = service.health()
    return jsonify(report), 200 if ok else 503
