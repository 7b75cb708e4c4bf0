"""Accounts: authenticate, create and change users. Callers commit."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, or_, select

from ..audit import service as audit
from ..database import utcnow
from ..extensions import db
from ..region.models import Branch
from .models import User
from .passwords import hash_password, needs_rehash, password_problem, verify_password
from .roles import Role


class AccountError(ValueError):
    """A user-facing reason an account change was refused; `field` names what it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).scalar_one_or_none()


def authenticate(email: str, password: str, ip: str | None = None) -> User | None:
    """The enabled user with these credentials, or None; both outcomes are audited."""
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_enabled:
        # The attempted address is not stored: it may be a member's, or a typo of a password.
        audit.record("login.failure", user=user, ip=ip,
                     detail="disabled account" if ok and user else None)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record("login.success", user=user, ip=ip)
    return user


def create_user(email: str, name: str, role: Role, password: str,
                branches: list[Branch] | None = None, by: User | None = None) -> User:
    """Create a user account; the password must pass the strength rules."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError(f"There is already a user with the email {email}.", field="email")
    problem = password_problem(password, (email, name))
    if problem:
        raise AccountError(problem, field="password")
    user = User(email=email, name=name.strip() or email, role=role,
                password_hash=hash_password(password), branches=list(branches or []))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user=by, obj=user, detail=f"role={role.value}")
    return user


def update_user(user: User, *, name: str, email: str, role: Role, branches: list[Branch],
                is_enabled: bool, by: User) -> User:
    """Change a user's details, role and branches; revokes their sessions when access shrinks."""
    email = normalise_email(email)
    other = find_user_by_email(email)
    if other is not None and other.id != user.id:
        raise AccountError(f"There is already a user with the email {email}.", field="email")
    if user.id == by.id and (role != user.role or not is_enabled):
        raise AccountError("You cannot change your own role or disable your own account.",
                           field="role" if role != user.role else "is_enabled")
    old_branches = {b.id for b in user.branches}
    access_reduced = (role != user.role) or (not is_enabled) or not old_branches <= {b.id for b in branches}
    user.name, user.email, user.role, user.is_enabled = name.strip(), email, role, is_enabled
    user.branches = list(branches)
    if access_reduced:
        user.session_version += 1
    audit.record("user.update", user=by, obj=user,
                 detail=f"role={role.value} enabled={is_enabled} branches={sorted(b.id for b in branches)}")
    return user


def set_password(user: User, password: str, by: User | None = None) -> None:
    """Set a new password and sign the user out everywhere else."""
    problem = password_problem(password, (user.email, user.name))
    if problem:
        raise AccountError(problem, field="password")
    user.password_hash = hash_password(password)
    user.session_version += 1
    audit.record("user.password", user=by or user, obj=user)


def sign_out_everywhere(user: User) -> None:
    user.session_version += 1
    audit.record("logout", user=user, obj=user)


# ---------------------------------------------------------------------------------------------
# Data-protection training


def record_training(user: User, completed_on: date, *, valid_days: int, by: User | None = None,
                    today: date | None = None) -> None:
    """Record the date a user completed data-protection training (their own, or by an admin)."""
    today = today or date.today()
    if completed_on > today:
        raise AccountError("The training date cannot be in the future.", field="completed_on")
    if completed_on + timedelta(days=valid_days) <= today:
        raise AccountError(f"That date is more than {valid_days} days ago, so the training has expired. "
                           "Complete the training again, then record the new date.", field="completed_on")
    user.trained_on = completed_on
    audit.record("user.training", user=by or user, obj=user, detail=f"completed_on={completed_on.isoformat()}")


def training_due_stmt(valid_days: int, today: date | None = None):
    """Enabled users whose training was never recorded or runs out within 30 days, soonest first."""
    today = today or date.today()
    soon = today - timedelta(days=valid_days) + timedelta(days=30)
    return (select(User).where(User.is_enabled.is_(True), or_(User.trained_on.is_(None), User.trained_on < soon))
            .order_by(User.trained_on.is_not(None), User.trained_on, User.name))
