"""Where a postcode votes: boundary generations, constituencies, postcode → constituency, MPs.

A boundary generation ("2024 constituencies") is data, not schema: new boundaries after a review
are a reload into a new generation, and the old one stays queryable by its code. Exactly one ready
generation is current; lookups use it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..vocabulary import Labelled


class GenerationStatus(Labelled):
    LOADING = ("loading", "Loading")
    READY = ("ready", "Ready")
    REPLACED = ("replaced", "Replaced by a reload")


class BoundaryGeneration(db.Model):
    """One load of the postcode directory for one set of constituency boundaries."""

    __tablename__ = "boundary_generation"
    __table_args__ = (
        # One ready row per code (a reload loads beside it, then swaps), one current row overall.
        Index("uq_boundary_generation_ready_code", "code", unique=True,
              sqlite_where=text("status = 'ready'"), postgresql_where=text("status = 'ready'")),
        Index("uq_boundary_generation_current", "is_current", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    label: Mapped[str] = mapped_column(String(160))
    status: Mapped[GenerationStatus] = mapped_column(enum_column(GenerationStatus), default=GenerationStatus.LOADING)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    loaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    postcodes: Mapped[int] = mapped_column(Integer, default=0)
    skipped_terminated: Mapped[int] = mapped_column(Integer, default=0)
    skipped_no_constituency: Mapped[int] = mapped_column(Integer, default=0)
    bad_rows: Mapped[int] = mapped_column(Integer, default=0)
    constituencies: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self) -> str:
        return f"{self.label} ({self.code})" if self.label != self.code else self.code


class Constituency(db.Model):
    """A Westminster constituency of one generation (ONS code like E14001234)."""

    __tablename__ = "constituency"
    __table_args__ = (UniqueConstraint("generation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("boundary_generation.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(9))
    # The postcode directory carries codes only; names come with the MPs file.
    name: Mapped[str | None] = mapped_column(String(160))


class PostcodeConstituency(db.Model):
    """postcode → constituency code, per generation: 2.7 million narrow rows, clustered on the key.

    No foreign key to the generation on purpose: checking one per row would slow the bulk load,
    and generations are only ever deleted by the loader, which removes their rows first.
    """

    __tablename__ = "postcode_constituency"
    __table_args__ = {"sqlite_with_rowid": False}

    generation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)  # canonical, "L8 7SS"
    constituency_code: Mapped[str] = mapped_column(String(9))


class Representative(db.Model):
    """The MP for a constituency of one generation."""

    __tablename__ = "representative"
    __table_args__ = (UniqueConstraint("generation_id", "constituency_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("boundary_generation.id", ondelete="CASCADE"))
    constituency_code: Mapped[str] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(String(160))
    party: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    title: Mapped[str | None] = mapped_column(String(80))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
