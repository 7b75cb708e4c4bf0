"""The API tokens page's forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from ..formtools import choices

from .tokens import EXPIRY_DAYS, NAME_MAX


class TokenForm(FlaskForm):
    name = StringField("What is the token for?", description="Like ‘Sign-up form on the branch website’ or "
                                                             "‘Dialer’. Only you and the admins see it.",
                       render_kw={"maxlength": NAME_MAX, "autocomplete": "off"})
    days = SelectField("How long should it work?", coerce=int, default=90,
                       choices=choices((d, f"{d} days") for d in EXPIRY_DAYS),
                       description="You can revoke it at any time before then.")


class RevokeForm(FlaskForm):
    """A revoke button: nothing but the CSRF token."""
