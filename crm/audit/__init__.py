"""The audit trail: every sign-in, export, bulk change and erasure; admins search, export and verify it."""
from flask import Blueprint

bp = Blueprint("audit", __name__)

from . import views  # noqa: E402,F401
