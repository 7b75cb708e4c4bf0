"""Contacts: members, lapsed members and supporters, always seen through branch scoping."""
from flask import Blueprint

bp = Blueprint("contacts", __name__)

from . import views  # noqa: E402,F401
