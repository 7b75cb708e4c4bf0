"""public"""
from . import bp, public_bp, webhooks_bp  # noqa: F401
