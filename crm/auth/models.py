from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime, enum_column
from ..extensions import db
from ..region.models import Branch
from .roles import REGION_WIDE_ROLES, ROLE_PERMISSIONS, Permission, Role

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

    branches: Mapped[list[Branch]] = relationship(secondary=user_branch, order_by="Branch.code")

    # flask-login: the id in the session carries the version, so a bump signs every session out.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def region_wide(self) -> bool:
        return self.role in REGION_WIDE_ROLES

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def __str__(self) -> str:
        return self.name
