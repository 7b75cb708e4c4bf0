"""The JSON API at /api in the OSDI shape (HAL+JSON), and the page where users manage their API tokens.

Two blueprints: `api` answers bearer-token calls only (cookies never authenticate it, so it is
exempt from CSRF); `api_tokens` is an ordinary signed-in page with CSRF-protected forms.
"""
from flask import Blueprint

bp = Blueprint("api", __name__)
tokens_bp = Blueprint("api_tokens", __name__)

from . import token_views, views  # noqa: E402,F401
