"""Demo sign-ins: a current training date for every demo user, and one published TOTP secret for the
demo admins and organisers (who must use two-step sign-in), so `make run` works out of the box."""
from __future__ import annotations

from datetime import date

import pyotp
from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from .mfa import seal
from .models import User

# Published in the README and the `crm serve` banner: demo data only, never a real account.
DEMO_TOTP_SECRET = "BRANCHLINEDEMOMFASECRETKEY234567"


def demo_domain() -> str:
    from ..demo.service import DEMO_EMAIL_DOMAIN

    return DEMO_EMAIL_DOMAIN


def prepare_demo_accounts(today: date | None = None) -> int:
    """Give demo users a training date and demo admins/organisers the demo TOTP secret; returns how
    many accounts changed. Idempotent; touches only @<demo domain> accounts."""
    users = db.session.execute(select(User).where(User.email.like(f"%@{demo_domain()}"))).scalars().all()
    changed = 0
    for user in users:
        touched = False
        if user.trained_on is None:
            user.trained_on = today or date.today()
            touched = True
        if user.mfa_required and not user.mfa_enabled:
            user.mfa_secret, user.mfa_enabled_at = seal(DEMO_TOTP_SECRET), utcnow()
            touched = True
        changed += touched
    return changed


def demo_code() -> str:
    """The demo TOTP secret's current code (what an authenticator app would show now)."""
    return pyotp.TOTP(DEMO_TOTP_SECRET).now()
