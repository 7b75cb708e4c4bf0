"""List management for branch officers and organisers: lists, callers, filling, progress."""
from . import bp  # noqa: F401
