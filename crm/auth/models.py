from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime, enum_column
from ..extensions import db
from ..region.models import Branch
from .roles import MFA_REQUIRED_ROLES, REGION_WIDE_ROLES, ROLE_PERMISSIONS, Permission, Role

user_branch = Table(
    "user_branch",
    db.Model.metadata,
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", Integer, ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on sign-out everywhere, password change and disable: old sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Data-protection training: the date the user last completed it (work programme objective 4).
    trained_on: Mapped[date | None] = mapped_column(Date)
    # TOTP MFA: the shared secret (base32) once enrolment is confirmed, and hashed recovery codes.
    mfa_secret: Mapped[str | None] = mapped_column(String(255))  # sealed: crm/auth/mfa.seal
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last time step accepted, so a code cannot be replayed within its 30-second window.
    mfa_last_step: Mapped[int | None] = mapped_column(Integer)
    recovery_code_hashes: Mapped[list | None] = mapped_column(JSON)

    branches: Mapped[list[Branch]] = relationship(secondary=user_branch, order_by="Branch.code")

    # flask-login: the id in the session carries the version, so a bump signs every session out.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_secret is not None

    @property
    def mfa_required(self) -> bool:
        return self.role in MFA_REQUIRED_ROLES

    def training_due_on(self, valid_days: int) -> date | None:
        """The day training must be renewed by (None: never recorded, so due now)."""
        return self.trained_on + timedelta(days=valid_days) if self.trained_on else None

    def training_due(self, valid_days: int, today: date | None = None) -> bool:
        due = self.training_due_on(valid_days)
        return due is None or due <= (today or date.today())

    @property
    def region_wide(self) -> bool:
        return self.role in REGION_WIDE_ROLES

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def __str__(self) -> str:
        return self.name
