from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, enum_column
from ..extensions import db
from ..vocabulary import EmployerKind


class RegionSettings(TimestampMixin, db.Model):
    """One row: the region this installation serves."""

    __tablename__ = "region_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    default_phone_region: Mapped[str] = mapped_column(String(2), default="GB")


class ServiceGroup(TimestampMixin, db.Model):
    __tablename__ = "service_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    branches: Mapped[list["Branch"]] = relationship(back_populates="service_group")

    def __str__(self) -> str:
        return self.name


branch_employer = Table(
    "branch_employer",
    db.Model.metadata,
    Column("branch_id", Integer, ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True),
    Column("employer_id", Integer, ForeignKey("employer.id", ondelete="CASCADE"), primary_key=True),
)


class Branch(TimestampMixin, db.Model):
    __tablename__ = "branch"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    service_group_id: Mapped[int] = mapped_column(ForeignKey("service_group.id"), index=True)

    service_group: Mapped[ServiceGroup] = relationship(back_populates="branches")
    employers: Mapped[list["Employer"]] = relationship(
        secondary=branch_employer, back_populates="branches", order_by="Employer.name"
    )

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Employer(TimestampMixin, db.Model):
    __tablename__ = "employer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[EmployerKind] = mapped_column(enum_column(EmployerKind), default=EmployerKind.OTHER)
    chief_executive_name: Mapped[str | None] = mapped_column(String(160))
    chief_executive_email: Mapped[str | None] = mapped_column(String(254))

    branches: Mapped[list[Branch]] = relationship(
        secondary=branch_employer, back_populates="employers", order_by="Branch.code"
    )
    workplaces: Mapped[list["Workplace"]] = relationship(
        back_populates="employer", order_by="Workplace.name", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Workplace(TimestampMixin, db.Model):
    __tablename__ = "workplace"
    __table_args__ = (UniqueConstraint("employer_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(8))
    # Known headcount lets reports show union density per site.
    headcount: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)

    employer: Mapped[Employer] = relationship(back_populates="workplaces")

    def __str__(self) -> str:
        return self.name
