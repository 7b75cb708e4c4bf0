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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, exists, func, insert, or_, select, update

from ..audit import service as audit
from ..auth.models import User
from ..contacts.models import Contact
from ..database import bulk_insert, utcnow
from ..extensions import db
from ..normalise import (
    FieldError,
    normalise_email,
    normalise_membership_number,
    normalise_mobile,
    normalise_name,
    normalise_postcode,
    parse_date,
    parse_payment_method,
    parse_status,
)
from ..region.models import Branch, Employer, Workplace
from ..vocabulary import ContactStatus, PaymentMethod
from . import mapping as column_mapping
from .models import (
    ChangeKind,
    ImportChange,
    ImportIssue,
    ImportRun,
    ImportScope,
    ImportSeen,
    ImportStatus,
    IssueKind,
    SavedColumnMapping,
)
from .reader import UnreadableFile, open_table

BATCH_SIZE = 5000
# Plain strings for the hot loop: enum attribute access is slow in Python 3.11.
_JOINER, _LEAVER, _CHANGE = ChangeKind.JOINER.value, ChangeKind.LEAVER.value, ChangeKind.CHANGE.value
_REJECTED, _WARNING = IssueKind.REJECTED.value, IssueKind.WARNING.value
# Fields held on the contact row that an export may carry (employer/workplace resolve to ids).
VALUE_FIELDS = ("first_name", "last_name", "email", "mobile", "postcode", "job_title", "status",
                "payment_method", "joined_on", "left_on", "docas_ended_on")
MANAGED_COLUMNS = VALUE_FIELDS + ("employer_id", "workplace_id", "branch_id")
FIELD_WORDS = {"first_name": "first name", "last_name": "last name", "email": "email", "mobile": "mobile",
               "postcode": "postcode", "job_title": "job title", "status": "status",
               "payment_method": "payment method", "joined_on": "join date", "left_on": "leaving date",
               "docas_ended_on": "DOCAS end date", "membership_number": "membership number",
               "employer": "employer", "workplace": "workplace", "branch_code": "branch code"}
_SPACES = re.compile(r"\s+")


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
                rows.append([_cell(v) for v in values])
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

@dataclass
class _Existing:
    id: int
    branch_id: int
    fingerprint: str | None
    values: dict


@dataclass
class _BatchWork:
    inserts: list[dict] = field(default_factory=list)
    insert_lines: list[int] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    touches: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    joiner_numbers: set = field(default_factory=set)
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0


class _Runner:
    """Per-run state: lookups and caches that make each row a few dictionary hits."""

    def __init__(self, run: ImportRun):
        self.run = run
        self.index = {name: int(i) for i, name in run.mapping.items()}
        self.fields = sorted(self.index, key=lambda f: self.index[f])
        self.user = db.session.get(User, run.created_by_id) if run.created_by_id else None
        self.branches = {code: bid for code, bid in db.session.execute(select(Branch.code, Branch.id))}
        self.allowed = None if self.user is None or self.user.region_wide else {b.id for b in self.user.branches}
        self.employers = {name.lower(): eid for eid, name in db.session.execute(select(Employer.id, Employer.name))}
        self.workplaces = {(emp, name.lower()): wid for wid, emp, name in
                           db.session.execute(select(Workplace.id, Workplace.employer_id, Workplace.name))}
        self.memo: dict[str, dict] = {f: {} for f in ("first_name", "last_name", "postcode", "job_title", "status",
                                                      "payment_method", "joined_on", "left_on", "docas_ended_on")}
        self.raw_employers: dict[str, int | None] = {}  # exact text as exported → id
        self.raw_workplaces: dict[tuple, int | None] = {}
        self.today = date.today()

    # -- value helpers

    def _memo(self, fieldname: str, raw: str, fn):
        cache = self.memo[fieldname]
        hit = cache.get(raw)
        if hit is None:
            try:
                hit = (fn(raw), None)
            except FieldError as exc:
                hit = (None, str(exc))
            if len(cache) > 200_000:  # keep memory flat on huge files with many distinct values
                cache.clear()
            cache[raw] = hit
        return hit

    def _employer_id(self, raw: str) -> int | None:
        hit = self.raw_employers.get(raw)
        if hit is None:
            hit = self.raw_employers[raw] = self._resolve_employer(raw)
        return hit

    def _resolve_employer(self, raw: str) -> int | None:
        name = _SPACES.sub(" ", raw).strip()[:200]
        if not name:
            return None
        key = name.lower()
        eid = self.employers.get(key)
        if eid is None:
            now = utcnow()
            eid = db.session.execute(insert(Employer).values(name=name, kind="other", created_at=now, updated_at=now)
                                     .returning(Employer.id)).scalar_one()
            self.employers[key] = eid
        return eid

    def _workplace_id(self, employer_id: int | None, raw: str) -> int | None:
        hit = self.raw_workplaces.get((employer_id, raw))
        if hit is None:
            hit = self.raw_workplaces[(employer_id, raw)] = self._resolve_workplace(employer_id, raw)
        return hit

    def _resolve_workplace(self, employer_id: int | None, raw: str) -> int | None:
        name = _SPACES.sub(" ", raw).strip()[:200]
        if not name or employer_id is None:
            return None
        key = (employer_id, name.lower())
        wid = self.workplaces.get(key)
        if wid is None:
            now = utcnow()
            wid = db.session.execute(insert(Workplace).values(employer_id=employer_id, name=name, created_at=now,
                                                              updated_at=now).returning(Workplace.id)).scalar_one()
            self.workplaces[key] = wid
        return wid

    # -- one batch

    def process(self, rows: list[tuple[int, list]]) -> _BatchWork:
        work = _BatchWork()
        index = self.index
        parsed = []
        numbers = []
        for line_no, values in rows:
            raw = {f: _cell(values[i]) for f, i in index.items()}
            number_raw = raw.get("membership_number", "")
            try:
                number = normalise_membership_number(number_raw) if number_raw else None
            except FieldError as exc:
                number = None
                if not (raw.get("email") or raw.get("mobile")):
                    self._reject(work, line_no, values, "membership_number", str(exc))
                    continue
                self._warn(work, line_no, values, "membership_number", str(exc))
            parsed.append((line_no, values, raw, number))
            if number:
                numbers.append(number)
        existing = self._existing_by_number(numbers)
        supporters = self._existing_supporters([p for p in parsed if not p[3]])
        batch_numbers: dict[str, int] = {}
        already_seen = self._already_seen([e.id for e in existing.values()])
        for line_no, values, raw, number in parsed:
            branch_id, reason = self._branch_for(raw)
            if reason:
                self._reject(work, line_no, values, "branch_code", reason)
                continue
            if number:
                if number in batch_numbers:
                    self._reject(work, line_no, values, "membership_number",
                                 f"membership number {number} already appears on line {batch_numbers[number]}")
                    continue
                batch_numbers[number] = line_no
            fingerprint = _fingerprint(raw, branch_id)
            current = existing.get(number) if number else None
            if current is not None and current.id in already_seen:
                self._reject(work, line_no, values, "membership_number",
                             f"membership number {number} appears earlier in this file")
                continue
            if current is not None and current.fingerprint == fingerprint and current.branch_id == branch_id:
                work.unchanged += 1
                work.seen.append(current.id)
                continue
            if current is not None and self.allowed is not None and current.branch_id not in self.allowed:
                self._reject(work, line_no, values, "branch_code",
                             "this member is recorded in a branch you don't cover; ask the regional office to move them")
                continue
            new, problems = self._normalise(raw)
            if current is None and not number:
                if not (new.get("email") or new.get("mobile")):
                    reason = "no membership number, and no valid email or mobile: nothing identifies this person"
                    if problems:
                        reason += " (" + "; ".join(p[1] for p in problems) + ")"
                    self._reject(work, line_no, values, None, reason)
                    continue
                email = (new.get("email") or "").lower()
                current = (supporters.get((branch_id, "email", email)) if email else None) or \
                    (supporters.get((branch_id, "mobile", new["mobile"])) if new.get("mobile") else None)
            for fieldname, reason in problems:
                self._warn(work, line_no, values, fieldname, reason)
            new["branch_id"] = branch_id
            if current is None:
                if "status" not in new or new["status"] is None:
                    new["status"] = ContactStatus.MEMBER if number else ContactStatus.SUPPORTER
                row = {c: new.get(c) for c in MANAGED_COLUMNS}
                row.update(membership_number=number, import_fingerprint=fingerprint,
                           first_name=row["first_name"] or "", last_name=row["last_name"] or "")
                work.inserts.append(row)
                work.insert_lines.append(line_no)
                if number:
                    work.joiner_numbers.add(number)
                work.imported += 1
                continue
            merged = dict(current.values)
            for column in MANAGED_COLUMNS:
                value = new.get(column)
                if value is not None and value != "":
                    merged[column] = value  # blanks and bad fields never erase what we hold
            if merged["email"] and current.values["email"] and merged["email"].lower() == current.values["email"].lower():
                merged["email"] = current.values["email"]  # a change of letter case is not a new address
            work.seen.append(current.id)
            if merged == current.values:
                work.unchanged += 1
                work.touches.append({"_id": current.id, "import_fingerprint": fingerprint})
                continue
            work.updated += 1
            work.updates.append({"_id": current.id, "import_fingerprint": fingerprint, **merged})
            self._diff(work, current, merged)
        return work

    def _normalise(self, raw: dict) -> tuple[dict, list[tuple[str, str]]]:
        new: dict = {}
        problems: list[tuple[str, str]] = []
        memo = self._memo
        for fieldname, fn in (("first_name", normalise_name), ("last_name", normalise_name),
                              ("postcode", normalise_postcode), ("job_title", _job_title),
                              ("status", parse_status), ("payment_method", parse_payment_method),
                              ("joined_on", parse_date), ("left_on", parse_date), ("docas_ended_on", parse_date)):
            value = raw.get(fieldname)
            if value:
                result, problem = memo(fieldname, value, fn)
                new[fieldname] = result
                if problem:
                    problems.append((fieldname, problem))
        for fieldname, fn in (("email", normalise_email), ("mobile", normalise_mobile)):
            value = raw.get(fieldname)
            if value:
                try:
                    new[fieldname] = fn(value)
                except FieldError as exc:
                    problems.append((fieldname, str(exc)))
        if "full_name" in raw and raw["full_name"] and not (new.get("first_name") or new.get("last_name")):
            first, _, last = normalise_name(raw["full_name"]).rpartition(" ")
            new["first_name"], new["last_name"] = (first, last) if first else (last, "")
        employer_id = self._employer_id(raw["employer"]) if raw.get("employer") else None
        if employer_id:
            new["employer_id"] = employer_id
        if raw.get("workplace") and employer_id:
            new["workplace_id"] = self._workplace_id(employer_id, raw["workplace"])
        elif raw.get("workplace"):
            problems.append(("workplace", f"workplace '{raw['workplace']}' was given without an employer, so it was left empty"))
        return new, problems

    def _diff(self, work: _BatchWork, current: _Existing, merged: dict) -> None:
        before = current.values
        notes = []
        for column, words in (("employer_id", "employer"), ("workplace_id", "workplace"), ("job_title", "job title")):
            if before.get(column) != merged.get(column):
                notes.append(words)
        if notes:
            work.changes.append({"contact_id": current.id, "branch_id": merged["branch_id"],
                                 "kind": _CHANGE, "detail": ", ".join(notes) + " changed"})
        if not self.run.is_baseline:
            moved_off = (before.get("payment_method") == PaymentMethod.DOCAS
                         and merged.get("payment_method") == PaymentMethod.DIRECT_DEBIT)
            ended = before.get("docas_ended_on") is None and merged.get("docas_ended_on") is not None
            if moved_off or ended:
                work.changes.append({"contact_id": current.id, "branch_id": merged["branch_id"],
                                     "kind": _LEAVER,
                                     "detail": "DOCAS deduction ended" if ended else "payment moved off DOCAS"})

    def _branch_for(self, raw: dict) -> tuple[int | None, str | None]:
        code = raw.get("branch_code", "").strip().upper()
        if code:
            branch_id = self.branches.get(code)
            if branch_id is None:
                return None, f"branch code '{code}' is not a branch Branchline knows (an admin adds branches in Admin → Branches)"
        elif self.run.branch_id:
            branch_id = self.run.branch_id
        else:
            return None, "no branch code on this row, and no branch was chosen for the file"
        if self.run.scope is ImportScope.BRANCH and self.run.branch_id and branch_id != self.run.branch_id:
            return None, f"branch code '{code}' is not the branch this export is for"
        if self.allowed is not None and branch_id not in self.allowed:
            return None, f"branch '{code}' is not one of your branches"
        return branch_id, None

    def _existing_by_number(self, numbers: list[str]) -> dict[str, _Existing]:
        if not numbers:
            return {}
        cols = [Contact.id, Contact.membership_number, Contact.import_fingerprint] + \
               [getattr(Contact, c) for c in MANAGED_COLUMNS]
        found = {}
        for chunk in _chunked(numbers, 2000):
            for row in db.session.execute(select(*cols).where(Contact.membership_number.in_(chunk))):
                values = {c: row[i + 3] for i, c in enumerate(MANAGED_COLUMNS)}
                found[row[1]] = _Existing(id=row[0], branch_id=values["branch_id"], fingerprint=row[2], values=values)
        return found

    def _existing_supporters(self, parsed: list) -> dict[tuple, _Existing]:
        emails = {p[2]["email"].strip().lower() for p in parsed if p[2].get("email")}
        mobiles = set()
        for p in parsed:
            if p[2].get("mobile"):
                try:
                    mobiles.add(normalise_mobile(p[2]["mobile"]))
                except FieldError:
                    pass
        if not emails and not mobiles:
            return {}
        cols = [Contact.id, Contact.import_fingerprint] + [getattr(Contact, c) for c in MANAGED_COLUMNS]
        conditions = []
        if emails:
            conditions.append(func.lower(Contact.email).in_(list(emails)))
        if mobiles:
            conditions.append(Contact.mobile.in_(list(mobiles)))
        found: dict[tuple, _Existing] = {}
        rows = db.session.execute(select(*cols).where(Contact.membership_number.is_(None), or_(*conditions))
                                  .order_by(Contact.id))
        for row in rows:
            values = {c: row[i + 2] for i, c in enumerate(MANAGED_COLUMNS)}
            item = _Existing(id=row[0], branch_id=values["branch_id"], fingerprint=row[1], values=values)
            if values["email"]:
                found.setdefault((item.branch_id, "email", values["email"].lower()), item)
            if values["mobile"]:
                found.setdefault((item.branch_id, "mobile", values["mobile"]), item)
        return found

    def _already_seen(self, contact_ids: list[int]) -> set[int]:
        seen = set()
        for chunk in _chunked(contact_ids, 2000):
            seen.update(db.session.execute(select(ImportSeen.contact_id).where(
                ImportSeen.run_id == self.run.id, ImportSeen.contact_id.in_(chunk))).scalars())
        return seen

    def _reject(self, work, line_no, values, fieldname, reason):
        work.rejected += 1
        work.issues.append({"run_id": self.run.id, "line_no": line_no, "kind": _REJECTED,
                            "field": fieldname, "reason": reason, "original": [_cell(v) for v in values]})

    def _warn(self, work, line_no, values, fieldname, reason):
        work.issues.append({"run_id": self.run.id, "line_no": line_no, "kind": _WARNING,
                            "field": fieldname, "reason": reason, "original": [_cell(v) for v in values]})

    # -- writing a batch

    def apply(self, work: _BatchWork) -> None:
        session = db.session
        now = utcnow()
        run = self.run
        table = Contact.__table__
        if work.inserts:
            for row in work.inserts:
                row["created_at"] = row["updated_at"] = now
                row["status"] = _db_value(row["status"])
                row["payment_method"] = _db_value(row["payment_method"])
            numbered = [r for r in work.inserts if r["membership_number"]]
            if numbered:
                # The engine's fastest bulk path, then one indexed look-up for the new ids: far
                # faster than RETURNING through the ORM.
                columns = list(numbered[0])
                bulk_insert("contact", columns, ([r[c] for c in columns] for r in numbered))
                created = []
                for chunk in _chunked([r["membership_number"] for r in numbered], 2000):
                    created.extend(session.execute(select(table.c.id, table.c.membership_number, table.c.branch_id)
                                                   .where(table.c.membership_number.in_(chunk))).all())
                work.seen.extend(r[0] for r in created)
                if not run.is_baseline:
                    work.changes.extend({"contact_id": cid, "branch_id": bid, "kind": _JOINER,
                                         "detail": "new membership number"}
                                        for cid, number, bid in created if number in work.joiner_numbers)
            for row in work.inserts:
                if not row["membership_number"]:  # supporters: few, and identified only by their new id
                    work.seen.append(session.execute(insert(table).values(row).returning(table.c.id)).scalar_one())
        if work.updates:
            columns = MANAGED_COLUMNS + ("import_fingerprint", "updated_at")
            params = [{"_id": row["_id"], "v_updated_at": now,
                       **{"v_" + c: _db_value(row.get(c)) for c in columns if c != "updated_at"}}
                      for row in work.updates]
            session.execute(update(table).where(table.c.id == bindparam("_id"))
                            .values({c: bindparam("v_" + c) for c in columns}), params)
        if work.touches:
            session.execute(update(table).where(table.c.id == bindparam("_id"))
                            .values(import_fingerprint=bindparam("v_fp")),
                            [{"_id": t["_id"], "v_fp": t["import_fingerprint"]} for t in work.touches])
        if work.seen:
            bulk_insert("import_seen", ("run_id", "contact_id"), ((run.id, cid) for cid in work.seen))
        if work.issues:
            columns = ("run_id", "line_no", "kind", "field", "reason", "original")
            bulk_insert("import_issue", columns, ([i[c] for c in columns] for i in work.issues))
        if work.changes:
            columns = ("contact_id", "branch_id", "kind", "detail")
            bulk_insert("import_change", ("run_id",) + columns, ([run.id] + [c[k] for k in columns] for c in work.changes))
        rejected_lines = {i["line_no"] for i in work.issues if i["kind"] == _REJECTED}
        run.imported += work.imported
        run.updated += work.updated
        run.unchanged += work.unchanged
        run.rejected += work.rejected
        # A warning counts once per row however many of its fields were left empty.
        run.warnings += len({i["line_no"] for i in work.issues if i["kind"] == _WARNING} - rejected_lines)
        kinds = [c["kind"] for c in work.changes]
        run.joiners += kinds.count(_JOINER)
        run.leavers += kinds.count(_LEAVER)
        run.changes += kinds.count(_CHANGE)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value).strip()


def _db_value(value):
    # Core statements on the bare table skip the ORM's enum handling for bind parameters.
    return value.value if isinstance(value, (ContactStatus, PaymentMethod)) else value


def _job_title(raw: str) -> str:
    return _SPACES.sub(" ", raw).strip()[:160]


def _fingerprint(raw: dict, branch_id: int | None) -> str:
    text = "\x1f".join(f"{k}={raw[k]}" for k in sorted(raw)) + f"\x1f{branch_id}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _chunked(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


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
        runner = _Runner(run)
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
    return run.total_rows > existing


def _set_contact_indexes(*, present: bool) -> None:
    """Drop or (re)create the contact table's secondary indexes; a no-op when already so."""
    connection = db.session.connection()
    for index in Contact.__table__.indexes:
        if present:
            index.create(connection, checkfirst=True)
        else:
            index.drop(connection, checkfirst=True)


def _apply_batch(runner: _Runner, batch: list, commit: bool) -> bool:
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
    for chunk in _chunked(ids, 5000):
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
                         issue.reason, *[_csv_safe(v) for v in issue.original]])
        count += 1
    return count


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ would run as a formula when the report is opened in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


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
