"""Build a synthetic demo region (clearly fake people, example.org emails)."""
from __future__ import annotations

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db

DEMO_PASSWORD = "branchline-demo"
DEMO_EMAIL_DOMAIN = "demo.branchline.example"


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, email, password) of the demo users present in the database."""
    users = db.session.execute(
        select(User).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}")).order_by(User.role, User.email)
    ).scalars().all()
    return [(u.role.value, u.email, DEMO_PASSWORD) for u in users]
