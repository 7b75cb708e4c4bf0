"""Applying one batch of export rows: parse, match to contacts, and write with the bulk path.

Per-run lookups and caches make each row a few dictionary hits; everything a batch writes goes
out in a handful of bulk statements inside the caller's transaction.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, func, insert, or_, select, update

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
    split_full_name,
)
from ..region.models import Branch, Employer, Workplace
from ..vocabulary import ContactStatus, PaymentMethod
from .models import ChangeKind, ImportRun, ImportScope, ImportSeen, IssueKind

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


class BatchRunner:
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
        from ..privacy.identity import erased_matcher

        # People erased on request: recognised by salted hash and never added back.
        self.erased = erased_matcher()

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
            raw = {f: cell_text(values[i]) for f, i in index.items()}
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
            if self.erased and self.erased.matches(membership_number=number, email=new.get("email"),
                                                   mobile=new.get("mobile")):
                work.rejected += 1  # the row's cells are not kept: they are the erased person's data
                work.issues.append({"run_id": self.run.id, "line_no": line_no, "kind": _REJECTED, "field": None,
                                    "reason": "this person's data was erased at their request: not imported",
                                    "original": []})
                continue
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
            if problems:
                # No fingerprint for a row with a bad field, so next month's report lists it again.
                fingerprint = None
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
                if current.fingerprint != fingerprint:
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
            new["first_name"], new["last_name"] = split_full_name(raw["full_name"])
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
        for chunk in chunked(numbers, 2000):
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
        for chunk in chunked(contact_ids, 2000):
            seen.update(db.session.execute(select(ImportSeen.contact_id).where(
                ImportSeen.run_id == self.run.id, ImportSeen.contact_id.in_(chunk))).scalars())
        return seen

    def _reject(self, work, line_no, values, fieldname, reason):
        work.rejected += 1
        work.issues.append({"run_id": self.run.id, "line_no": line_no, "kind": _REJECTED,
                            "field": fieldname, "reason": reason, "original": [cell_text(v) for v in values]})

    def _warn(self, work, line_no, values, fieldname, reason):
        work.issues.append({"run_id": self.run.id, "line_no": line_no, "kind": _WARNING,
                            "field": fieldname, "reason": reason, "original": [cell_text(v) for v in values]})

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
                for chunk in chunked([r["membership_number"] for r in numbered], 2000):
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


def cell_text(value) -> str:
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


def chunked(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
