"""Regional admin: branches, service groups, employers, workplaces, users and roles."""
from flask import Blueprint

bp = Blueprint("admin", __name__)

from . import views  # noqa: E402,F401
