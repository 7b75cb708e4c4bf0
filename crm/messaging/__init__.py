"""Messaging: SMS and email templates, sends to audiences, the outbox and its workers, provider
webhooks, replies and unsubscribes."""
from flask import Blueprint

# Staff pages (/messages), provider webhooks (/webhooks, signature-checked, the only CSRF-exempt
# routes) and the public unsubscribe page (/unsubscribe, signed token, no sign-in).
bp = Blueprint("messaging", __name__)
webhooks_bp = Blueprint("webhooks", __name__)
public_bp = Blueprint("unsubscribe", __name__)

from . import public, timeline, views, webhooks  # noqa: E402,F401
