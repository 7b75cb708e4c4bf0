from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import TimestampMixin, UTCDateTime, enum_column
from ..extensions import db
from ..vocabulary import Labelled


class ImportScope(Labelled):
    REGION = ("region", "Full region export: members missing from it have left")
    BRANCH = ("branch", "Full export of one branch: its members missing from it have left")
    PARTIAL = ("partial", "Partial or update file: nobody is marked as a leaver")


class ImportStatus(Labelled):
    UPLOADED = ("uploaded", "Waiting for the column check")
    QUEUED = ("queued", "Queued")
    RUNNING = ("running", "Importing")
    COMPLETED = ("completed", "Completed")
    FAILED = ("failed", "Could not be read")
    ABORTED = ("aborted", "Stopped")


class IssueKind(Labelled):
    REJECTED = ("rejected", "Rejected")
    WARNING = ("warning", "Imported with a field left empty")


class ChangeKind(Labelled):
    JOINER = ("joiner", "New joiner")
    LEAVER = ("leaver", "Leaver")
    CHANGE = ("change", "Employer, workplace or job title changed")


class ImportRun(TimestampMixin, db.Model):
    """One import of a membership export: its file, mapping, scope, progress and outcome."""

    __tablename__ = "import_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    scope: Mapped[ImportScope] = mapped_column(enum_column(ImportScope))
    # The one branch of a branch-scoped file (or of a file with no branch column).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"), index=True)
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus), default=ImportStatus.UPLOADED)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    # First import of its scope: nothing to compare with, so no joiners or leavers.
    is_baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    headers: Mapped[list] = mapped_column(JSON, default=list)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)  # column index (str) → field
    header_signature: Mapped[str | None] = mapped_column(String(64))
    total_rows: Mapped[int | None] = mapped_column(Integer)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    last_line_done: Mapped[int] = mapped_column(Integer, default=1)  # resumable after a crash
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    joiners: Mapped[int] = mapped_column(Integer, default=0)
    leavers: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("User")
    branch = relationship("Branch")

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.ABORTED)

    def summary_line(self) -> str:
        return (f"imported={self.imported} updated={self.updated} unchanged={self.unchanged} "
                f"rejected={self.rejected} warnings={self.warnings} joiners={self.joiners} "
                f"leavers={self.leavers} changes={self.changes}")


class ImportIssue(db.Model):
    """A rejected row, or a row imported with a bad field left empty, with its original values."""

    __tablename__ = "import_issue"
    __table_args__ = (Index("ix_import_issue_run_line", "run_id", "line_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_run.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[IssueKind] = mapped_column(enum_column(IssueKind))
    field: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    original: Mapped[list] = mapped_column(JSON, default=list)


class ImportChange(db.Model):
    """A joiner, leaver or change found by comparing an export with the previous one."""

    __tablename__ = "import_change"
    __table_args__ = (
        Index("ix_import_change_run_kind", "run_id", "kind"),
        Index("ix_import_change_contact", "contact_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_run.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    kind: Mapped[ChangeKind] = mapped_column(enum_column(ChangeKind))
    detail: Mapped[str | None] = mapped_column(Text)  # e.g. "job title: Nurse → Ward Manager"

    contact = relationship("Contact")


class ImportSeen(db.Model):
    """Contacts present in a run's file, so those missing can be found when it ends."""

    __tablename__ = "import_seen"
    run_id: Mapped[int] = mapped_column(ForeignKey("import_run.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class SavedColumnMapping(TimestampMixin, db.Model):
    """A confirmed mapping, offered again for the next file with the same headers."""

    __tablename__ = "saved_column_mapping"
    __table_args__ = (UniqueConstraint("header_signature"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    header_signature: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
