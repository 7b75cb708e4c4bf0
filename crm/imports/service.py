"""Import a membership export: store it, map its columns, apply it in batches, find the diff.

One pipeline serves the upload page (through an RQ job) and `crm import-members`. Each batch is
one transaction that also moves the run's progress on, so a crash leaves a run that can be
resumed or stopped, never a half-applied batch without a record of it.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import exists, func, insert, or_, select, update

from ..audit import service as audit
from ..auth.models import User
from ..contacts.models import Contact
from ..database import analyze, utcnow
from ..extensions import db
from ..region.models import Branch
from ..spreadsheets import safe_cell
from ..vocabulary import ContactStatus
from . import mapping as column_mapping
from .batches import BATCH_SIZE, FIELD_WORDS, BatchRunner, cell_text, chunked
from .models import (
    ChangeKind,
    ImportChange,
    ImportIssue,
    ImportRun,
    ImportScope,
    ImportSeen,
    ImportStatus,
    SavedColumnMapping,
)
from .reader import UnreadableFile, open_table


class ImportRefused(ValueError):
    """A user-facing reason an import cannot start."""


# ---------------------------------------------------------------- creating and mapping a run

def imports_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _safe_filename(name: str) -> str:
    base = os.path.basename(name or "export")
    return re.sub(r"[^A-Za-z0-9._ -]", "_", base)[:120] or "export"


def create_run(source: str | os.PathLike | Iterable[bytes], filename: str, *, by: User | None,
               scope: ImportScope = ImportScope.PARTIAL, branch: Branch | None = None,
               dry_run: bool = False) -> ImportRun:
    """Keep a copy of the file, read its headers and propose a column mapping (flushes the run)."""
    digest = hashlib.sha256()
    tmp = imports_dir() / f"upload-{os.getpid()}-{utcnow().timestamp():.6f}"
    size = 0
    with open(tmp, "wb") as out:
        chunks = _chunks_of(source)
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    sha = digest.hexdigest()
    stored = imports_dir() / f"{sha[:16]}-{_safe_filename(filename)}"
    os.replace(tmp, stored)
    run = ImportRun(filename=_safe_filename(filename), stored_path=str(stored), file_sha256=sha, file_size=size,
                    scope=scope, branch_id=branch.id if branch else None, created_by_id=by.id if by else None,
                    dry_run=dry_run, status=ImportStatus.UPLOADED)
    db.session.add(run)
    try:
        with open_table(stored) as table:
            run.headers = list(table.headers)
    except UnreadableFile as exc:
        run.status = ImportStatus.FAILED
        run.error = str(exc)
        run.finished_at = utcnow()
    else:
        run.header_signature = column_mapping.header_signature(run.headers)
        saved = db.session.execute(
            select(SavedColumnMapping).where(SavedColumnMapping.header_signature == run.header_signature)
        ).scalar_one_or_none()
        if saved is not None:
            run.mapping = dict(saved.mapping)
        else:
            guessed = column_mapping.guess_mapping(run.headers)
            run.mapping = {str(i): f for i, f in guessed.fields.items()}
    db.session.flush()
    audit.record("import.upload", user=by, obj=run, detail=f"file={run.filename} size={size} scope={scope.value}")
    return run


def _chunks_of(source) -> Iterator[bytes]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk
    elif hasattr(source, "read"):
        while chunk := source.read(1 << 20):
            yield chunk
    else:
        yield from source


def mapping_for(run: ImportRun) -> column_mapping.Mapping:
    """The run's current mapping, with the columns it leaves out sorted into ignored and unknown."""
    guessed = column_mapping.guess_mapping(run.headers)
    fields = {int(i): f for i, f in run.mapping.items()}
    unmapped = [h for i, h in enumerate(guessed.headers) if i not in fields and column_mapping.normalise_header(h)]
    return column_mapping.Mapping(
        headers=guessed.headers, fields=fields,
        ignored=[h for h in unmapped if h not in guessed.unknown], unknown=[h for h in unmapped if h in guessed.unknown])


def sample_rows(run: ImportRun, count: int = 4) -> list[list[str]]:
    """The first few data rows, to show beside each column on the mapping page."""
    rows = []
    try:
        with open_table(run.stored_path) as table:
            for _, values in table:
                rows.append([cell_text(v) for v in values])
                if len(rows) >= count:
                    break
    except UnreadableFile:
        return []
    return rows


def set_mapping(run: ImportRun, fields_by_column: dict[int, str | None]) -> list[str]:
    """Record the user's column choices; returns problems (empty when the mapping can be used)."""
    chosen: dict[str, str] = {}
    problems: list[str] = []
    used: dict[str, int] = {}
    for index, name in sorted(fields_by_column.items()):
        if not name:
            continue
        if name not in FIELD_WORDS and name != "full_name":
            problems.append(f"Column '{run.headers[index]}': '{name}' is not a field Branchline knows.")
            continue
        if name in used:
            problems.append(f"Columns '{run.headers[used[name]]}' and '{run.headers[index]}' are both set to "
                            f"{column_mapping.FIELD_LABELS.get(name, name)}: choose one.")
            continue
        used[name] = index
        chosen[str(index)] = name
    if not ({"membership_number", "email", "mobile"} & set(chosen.values())):
        problems.append("No column is set to membership number, email or mobile: nothing could identify a person.")
    if not problems:
        run.mapping = chosen
    return problems


def confirm_run(run: ImportRun, *, scope: ImportScope, branch: Branch | None, by: User | None) -> None:
    """Fix the scope, remember the mapping for the next file of this shape, and queue the run."""
    check_scope(run.mapping, scope, branch, by)
    run.scope, run.branch_id = scope, branch.id if branch else None
    saved = db.session.execute(
        select(SavedColumnMapping).where(SavedColumnMapping.header_signature == run.header_signature)
    ).scalar_one_or_none()
    if saved is None:
        db.session.add(SavedColumnMapping(header_signature=run.header_signature, mapping=dict(run.mapping)))
    else:
        saved.mapping = dict(run.mapping)
    run.status = ImportStatus.QUEUED
    audit.record("import.start", user=by, obj=run, detail=f"scope={scope.value} branch={run.branch_id}")


def check_scope(mapping: dict, scope: ImportScope, branch: Branch | None, by: User | None) -> None:
    has_branch_column = "branch_code" in mapping.values()
    if by is not None and not by.region_wide and branch is None:
        raise ImportRefused("Choose which of your branches this file is for.")
    if scope is ImportScope.REGION and by is not None and not by.region_wide:
        raise ImportRefused("Only regional staff can import a full region export. Choose your branch instead.")
    if scope is ImportScope.BRANCH and branch is None:
        raise ImportRefused("Choose the branch this export is for.")
    if not has_branch_column and branch is None:
        raise ImportRefused("The file has no branch code column: choose the branch its members belong to.")
    if branch is not None and by is not None and not by.region_wide and branch.id not in {b.id for b in by.branches}:
        raise ImportRefused("You can only import into your own branches.")


# ---------------------------------------------------------------- running

def _is_baseline(run: ImportRun) -> bool:
    previous = select(ImportRun.id).where(ImportRun.status == ImportStatus.COMPLETED, ImportRun.dry_run.is_(False),
                                          ImportRun.id != run.id)
    if run.scope is ImportScope.REGION:
        previous = previous.where(ImportRun.scope == ImportScope.REGION)
    else:
        previous = previous.where(or_(ImportRun.scope == ImportScope.REGION, ImportRun.branch_id == run.branch_id))
    return db.session.execute(previous.limit(1)).first() is None


def previous_identical(run: ImportRun) -> ImportRun | None:
    """An earlier completed import of exactly the same file, if any."""
    return db.session.execute(
        select(ImportRun).where(ImportRun.file_sha256 == run.file_sha256, ImportRun.id != run.id,
                                ImportRun.status == ImportStatus.COMPLETED, ImportRun.dry_run.is_(False))
        .order_by(ImportRun.id.desc()).limit(1)
    ).scalar_one_or_none()


def execute_run(run: ImportRun, *, batch_size: int = BATCH_SIZE) -> ImportRun:
    """Apply the file in batches (one transaction each), then mark leavers; resumes after a crash."""
    if run.finished:
        return run
    commit = not run.dry_run
    if run.status is not ImportStatus.RUNNING:
        run.status = ImportStatus.RUNNING
        run.started_at = utcnow()
        run.is_baseline = _is_baseline(run)
    try:
        table_cm = open_table(run.stored_path)
        table = table_cm.__enter__()
    except UnreadableFile as exc:
        return _fail(run, str(exc), commit)
    bulk = False
    try:
        if run.total_rows is None:
            run.total_rows = table.count_rows()
        bulk = commit and _use_bulk_mode(run)
        _set_contact_indexes(present=not bulk)
        if commit:
            db.session.commit()
        runner = BatchRunner(run)
        batch: list[tuple[int, list]] = []
        resume_after = run.last_line_done
        for line_no, values in table:
            if line_no <= resume_after:
                continue
            batch.append((line_no, values))
            if len(batch) >= batch_size:
                if not _apply_batch(runner, batch, commit):
                    return run
                batch = []
        if batch and not _apply_batch(runner, batch, commit):
            return run
    except UnreadableFile as exc:
        return _fail(run, str(exc), commit)
    finally:
        table_cm.__exit__(None, None, None)
        if bulk:
            db.session.rollback()
            _set_contact_indexes(present=True)
            db.session.commit()
    _mark_missing_as_leavers(run)
    if commit and run.imported + run.updated >= 10_000:
        analyze(Contact.__table__)  # big loads change the plans worth using
    if commit:
        from ..calls.service import add_import_changes

        add_import_changes(run)  # joiners and leavers land on their branches' call lists
    run.status = ImportStatus.COMPLETED
    run.finished_at = utcnow()
    audit.record("import.complete", user=None, obj=run, detail=run.summary_line())
    if commit:
        db.session.commit()
    return run


BULK_MODE_MIN_ROWS = 50_000


def _use_bulk_mode(run: ImportRun) -> bool:
    """A load that at least doubles the contacts is faster with the secondary indexes built once
    at the end than maintained row by row (SQLite: ~6× for the contact table's indexes)."""
    if (run.total_rows or 0) < BULK_MODE_MIN_ROWS:
        return False
    existing = db.session.execute(select(func.count(Contact.id))).scalar_one()
    return existing < run.total_rows // 2


def _set_contact_indexes(*, present: bool) -> None:
    """Drop or (re)create the contact table's secondary indexes; a no-op when already so."""
    connection = db.session.connection()
    for index in Contact.__table__.indexes:
        if present:
            index.create(connection, checkfirst=True)
        else:
            index.drop(connection, checkfirst=True)


def _apply_batch(runner: BatchRunner, batch: list, commit: bool) -> bool:
    run = runner.run
    if commit:
        status = db.session.execute(select(ImportRun.status).where(ImportRun.id == run.id)).scalar_one()
        if status is ImportStatus.ABORTED:
            db.session.refresh(run)
            return False
    work = runner.process(batch)
    runner.apply(work)
    run.rows_read += len(batch)
    run.last_line_done = batch[-1][0]
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return True


def _fail(run: ImportRun, message: str, commit: bool) -> ImportRun:
    run.status = ImportStatus.FAILED
    run.error = message
    run.finished_at = utcnow()
    if commit:
        db.session.commit()
    return run


def _mark_missing_as_leavers(run: ImportRun) -> None:
    """Members in the file's scope who are not in it have left (never for a partial file or a baseline)."""
    if run.scope is ImportScope.PARTIAL or run.is_baseline:
        return
    seen = exists().where(ImportSeen.run_id == run.id, ImportSeen.contact_id == Contact.id)
    missing = select(Contact.id, Contact.branch_id).where(
        Contact.status == ContactStatus.MEMBER, Contact.membership_number.is_not(None), ~seen)
    if run.scope is ImportScope.BRANCH:
        missing = missing.where(Contact.branch_id == run.branch_id)
    user = db.session.get(User, run.created_by_id) if run.created_by_id else None
    if user is not None and not user.region_wide:
        missing = missing.where(Contact.branch_id.in_([b.id for b in user.branches]))
    ids: list[tuple[int, int]] = list(db.session.execute(missing))
    today = date.today()
    for chunk in chunked(ids, 5000):
        db.session.execute(insert(ImportChange), [
            {"run_id": run.id, "contact_id": cid, "branch_id": bid, "kind": ChangeKind.LEAVER.value,
             "detail": "missing from the export"} for cid, bid in chunk])
        db.session.execute(update(Contact).where(Contact.id.in_([cid for cid, _ in chunk]))
                           .values(status=ContactStatus.LAPSED, left_on=today, updated_at=utcnow()))
    run.leavers += len(ids)


def abort_run(run: ImportRun, by: User | None) -> None:
    """Stop a queued or running import; batches already applied stay, and the run says so."""
    if run.finished:
        raise ImportRefused("This import has already finished.")
    run.status = ImportStatus.ABORTED
    run.finished_at = utcnow()
    audit.record("import.abort", user=by, obj=run, detail=f"after line {run.last_line_done}")


# ---------------------------------------------------------------- the report

def write_report(run: ImportRun, out) -> int:
    """Write the rejected rows and warnings, with line numbers and original values, as CSV."""
    writer = csv.writer(out)
    writer.writerow(["line", "outcome", "field", "reason", *run.headers])
    count = 0
    issues = db.session.execute(select(ImportIssue).where(ImportIssue.run_id == run.id)
                                .order_by(ImportIssue.line_no, ImportIssue.id)).scalars()
    for issue in issues:
        writer.writerow([issue.line_no, issue.kind.label, FIELD_WORDS.get(issue.field or "", issue.field or ""),
                         issue.reason, *[safe_cell(v) for v in issue.original]])
        count += 1
    return count


def progress(run: ImportRun) -> dict:
    """What the progress bar shows; no member data."""
    total = run.total_rows or 0
    return {"status": run.status.value, "status_label": run.status.label, "finished": run.finished,
            "rows_read": run.rows_read, "total_rows": run.total_rows,
            "percent": round(100 * run.rows_read / total, 1) if total else (100.0 if run.finished else 0.0),
            "imported": run.imported, "updated": run.updated, "unchanged": run.unchanged,
            "rejected": run.rejected, "warnings": run.warnings, "joiners": run.joiners,
            "leavers": run.leavers, "changes": run.changes}


def audit_report_download(run: ImportRun, by: User, rows: int) -> None:
    audit.record("import.report_download", user=by, obj=run, detail=f"rows={rows}")


def mapping_problems_for(run: ImportRun) -> list[str]:
    """Why the run's current mapping cannot be used (empty when it can)."""
    return column_mapping.mapping_problems(mapping_for(run))


STALLED_AFTER = timedelta(minutes=3)


def is_stalled(run: ImportRun) -> bool:
    """A queued or running import whose progress has not moved for a while (its worker may be gone)."""
    return (run.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
            and run.updated_at < utcnow() - STALLED_AFTER)
