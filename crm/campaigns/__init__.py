"""Letter campaigns: staff set-up and participation (/campaigns) and the public page members use (/act)."""
from flask import Blueprint

# Staff pages need MANAGE_CAMPAIGNS; the public page needs no account and shows no member data.
bp = Blueprint("campaigns", __name__)
act_bp = Blueprint("act", __name__)

from . import act_views, participation, views  # noqa: E402,F401  (participation registers the audience and timeline)
