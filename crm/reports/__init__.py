"""Reports: the participation dashboard, the year's targets and the quarterly R&R report."""
from flask import Blueprint

bp = Blueprint("reports", __name__)


@bp.record_once
def _hooks(state):
    from .summaries import install_hooks

    install_hooks()  # a finished import asks for a summary refresh


from . import views  # noqa: E402,F401
