"""Data protection: subject access, erasure, retention and the breach log (UK GDPR)."""
from flask import Blueprint

bp = Blueprint("privacy", __name__)

from . import views  # noqa: E402,F401
