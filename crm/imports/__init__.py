"""Membership-export imports: upload, column mapping, batched apply, joiners/leavers diff."""
from flask import Blueprint

bp = Blueprint("imports", __name__)

from . import views  # noqa: E402,F401
