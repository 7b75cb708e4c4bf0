"""Call lists: new joiners and DOCAS leavers, worked one contact at a time by branch callers."""
from flask import Blueprint

bp = Blueprint("calls", __name__)

from . import manage, views  # noqa: E402,F401  (caller screens; list management)
