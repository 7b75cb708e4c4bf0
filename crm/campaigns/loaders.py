"""Streaming loaders for the ONS postcode directory (NSPL/ONSPD layout) and the MPs file.

The postcode directory is read row by row and written in batches (COPY on PostgreSQL), never held
in memory: 2.7 million rows take a few megabytes beyond the interpreter. A load goes into a new
generation row that lookups cannot see; only the last transaction makes it ready (and current),
so a lookup never meets a half-loaded set of boundaries, and a reload of the same generation
swaps the old rows out in that same transaction.
"""
from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import Integer, delete, func, insert, literal, select, update

from ..database import analyze, bulk_insert, utcnow
from ..extensions import db
from ..normalise import POSTCODE_RE, FieldError, normalise_email, normalise_postcode
from .geography import BoundaryGeneration, Constituency, GenerationStatus, PostcodeConstituency, Representative
from .lookup import CONSTITUENCY_CODE_RE

BATCH_SIZE = 50_000
MAX_BAD_REPORTED = 50
DEFAULT_GENERATION = "default"
POSTCODE_COLUMNS = ("pcds", "pcd", "pcd2")  # ONSPD has all three; pcds is the one-space form
_PCON_HEADER = re.compile(r"pcon(?:[0-9]{2})?(?:cd)?")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# Every inward code ("0AA" … "9ZZ") → 0 … 3999.
_INWARD_NUMBER = {f"{d}{a}{b}": i for i, (d, a, b) in enumerate(
    (d, a, b) for d in "0123456789" for a in _INWARD_LETTERS for b in _INWARD_LETTERS)}

Source = str | Path | IO


class LoadError(Exception):
    """The file cannot be loaded at all (unreadable, empty, or not in the expected layout)."""


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class PostcodeLoadReport:
    generation: str
    label: str
    source: str
    rows_read: int = 0
    loaded: int = 0
    skipped_terminated: int = 0
    skipped_no_constituency: int = 0
    bad: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    constituencies: int = 0
    seconds: float = 0.0
    is_current: bool = False
    replaced_earlier_load: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def summary_lines(self) -> list[str]:
        """What the CLI prints: counts, speed, then the first bad rows with their line numbers."""
        state = "now current" if self.is_current else "loaded, not current (lookups still use the current boundaries)"
        what = "Reloaded" if self.replaced_earlier_load else "Loaded"
        lines = [
            f"{what} boundaries {self.generation!r} ({self.label}) from {self.source}: {state}.",
            f"Rows read {self.rows_read:,}; postcodes loaded {self.loaded:,}; terminated (skipped) "
            f"{self.skipped_terminated:,}; no constituency (skipped) {self.skipped_no_constituency:,}; "
            f"bad {self.bad:,}.",
            f"{self.constituencies:,} constituencies; {self.seconds:,.1f} s, {self.rows_per_second:,.0f} rows/s.",
            *self.notes,
        ]
        lines += _bad_row_lines(self.bad, self.bad_rows)
        return lines


@dataclass
class RepresentativeLoadReport:
    generation: str
    source: str
    rows_read: int = 0
    loaded: int = 0
    vacant: int = 0
    names_set: int = 0
    replaced: int = 0
    bad: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = [
            f"Loaded {self.loaded:,} MPs for boundaries {self.generation!r} from {self.source} "
            f"(replacing {self.replaced:,}).",
            f"Rows read {self.rows_read:,}; vacant seats {self.vacant:,}; constituency names set {self.names_set:,}; "
            f"bad {self.bad:,}.",
        ]
        return lines + _bad_row_lines(self.bad, self.bad_rows)


def _bad_row_lines(count: int, rows: list[BadRow]) -> list[str]:
    if not rows:
        return []
    shown = f"first {len(rows)} of {count:,}" if count > len(rows) else f"{count:,}"
    return [f"Bad rows ({shown}):", *(f"  line {b.line}: {b.reason}" for b in rows)]


# --------------------------------------------------------------------------- reading files

@contextmanager
def _text_stream(source: Source):
    """A text stream over a path or an open file: UTF-8 with or without a BOM; undecodable bytes
    become U+FFFD (only a postcode or code holding one matters, and that row is then reported)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise LoadError(f"{path} could not be read: {exc.strerror or exc}") from None
        with handle:
            if handle.read(4) == b"PK\x03\x04":
                raise LoadError(f"{path} is a zip archive: unzip it and load the CSV inside "
                                "(for the NSPL, Data/NSPL_*_UK.csv).")
            handle.seek(0)
            with io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="") as text:
                yield text
    elif isinstance(source, io.TextIOBase):
        yield source
    else:
        text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="replace", newline="")
        try:
            yield text
        finally:
            text.detach()  # the caller's stream stays open


def _source_name(source: Source, given: str | None) -> str:
    if given:
        return given
    if isinstance(source, (str, Path)):
        return Path(source).name
    return getattr(source, "name", None) or "the file"


def _header(reader) -> dict[str, int]:
    try:
        header = next(reader)
    except StopIteration:
        raise LoadError("the file is empty") from None
    except csv.Error as exc:
        raise LoadError(f"the first line could not be read as CSV: {exc}") from None
    if header:
        header[0] = header[0].lstrip("\ufeff")
    return {name.strip().lower(): i for i, name in reversed(list(enumerate(header)))}


class _SeenPostcodes:
    """Which postcodes the load has already taken, in one bit each (about 1.5 MB for the whole
    UK): the inward code (digit + two of 20 letters) has 4,000 values per outward code."""

    def __init__(self):
        self.outward: dict[str, int] = {}
        self.bits = bytearray()

    def add(self, postcode: str) -> bool:
        """Record a canonical postcode; False when it was already there."""
        outward = postcode[:-4]
        slot = self.outward.get(outward)
        if slot is None:
            slot = self.outward[outward] = len(self.outward)
            self.bits.extend(bytes(500))  # 4,000 bits
        byte, bit = divmod(slot * 4000 + _INWARD_NUMBER[postcode[-3:]], 8)
        if self.bits[byte] >> bit & 1:
            return False
        self.bits[byte] |= 1 << bit
        return True


# --------------------------------------------------------------------------- postcode directory

def load_postcodes(source: Source, *, generation: str | None = None, label: str | None = None,
                   make_current: bool = True, source_name: str | None = None, batch_size: int = BATCH_SIZE,
                   max_bad_reported: int = MAX_BAD_REPORTED,
                   progress: Callable[[PostcodeLoadReport], None] | None = None) -> PostcodeLoadReport:
    """Load an ONS postcode directory CSV (pcds, doterm, pcon) into a boundary generation; commits.

    Raises LoadError, having changed nothing, when the file cannot be read or lacks the columns.
    """
    started = time.perf_counter()
    name = _source_name(source, source_name)
    current = db.session.execute(select(BoundaryGeneration).where(BoundaryGeneration.is_current.is_(True))).scalar()
    code = (generation or (current.code if current else DEFAULT_GENERATION)).strip()
    if not code or len(code) > 40:
        raise LoadError("the generation code must be 1 to 40 characters, e.g. 2024")
    earlier = db.session.execute(select(BoundaryGeneration).where(
        BoundaryGeneration.code == code, BoundaryGeneration.status == GenerationStatus.READY)).scalar()
    label = (label or (earlier.label if earlier else code)).strip()[:160] or code
    report = PostcodeLoadReport(generation=code, label=label, source=name)

    with _text_stream(source) as text:
        reader = csv.reader(text)
        columns = _header(reader)
        pc_at = next((columns[c] for c in POSTCODE_COLUMNS if c in columns), None)
        pcon_at = next((i for c, i in columns.items() if _PCON_HEADER.fullmatch(c)), None)
        doterm_at = columns.get("doterm")
        missing = [what for what, at in (("pcds", pc_at), ("pcon", pcon_at)) if at is None]
        if missing:
            raise LoadError(
                f"{name} is not in the ONS postcode directory layout: no {' or '.join(missing)} column "
                "(the header needs pcds, doterm and pcon, as in the NSPL or ONSPD CSV)")
        if doterm_at is None:
            report.notes.append("No doterm column: every row was taken as a live postcode.")

        for stale in db.session.execute(select(BoundaryGeneration).where(
                BoundaryGeneration.code == code, BoundaryGeneration.status == GenerationStatus.LOADING)).scalars():
            _drop_generation(stale.id)
            report.notes.append("Removed the rows of an earlier load of this generation that did not finish.")
        gen = BoundaryGeneration(code=code, label=label, status=GenerationStatus.LOADING, source_filename=name[:255])
        db.session.add(gen)
        db.session.commit()
        gen_id = gen.id
        try:
            codes = _stream_postcodes(reader, gen_id, pc_at, pcon_at, doterm_at, report, batch_size,
                                      max_bad_reported, progress)
            if not report.loaded:
                # Never swap a working set of boundaries for an empty one (a header-only or wrong file).
                raise LoadError(f"{name} has no live postcodes with a constituency ({report.rows_read:,} rows read, "
                                f"{report.skipped_terminated:,} terminated, {report.bad:,} bad), so nothing was changed")
            _finish_load(gen_id, code, codes, report, make_current)
        except BaseException:
            db.session.rollback()
            _drop_generation(gen_id)
            db.session.commit()
            raise
    report.seconds = time.perf_counter() - started
    return report


def _stream_postcodes(reader, gen_id: int, pc_at: int, pcon_at: int, doterm_at: int | None,
                      report: PostcodeLoadReport, batch_size: int, max_bad: int, progress) -> set[str]:
    """Read every row, writing good ones in committed batches; returns the constituency codes seen."""
    table = PostcodeConstituency.__tablename__
    cols = ("generation_id", "postcode", "constituency_code")
    width = max(pc_at, pcon_at, doterm_at if doterm_at is not None else 0) + 1
    seen = _SeenPostcodes()
    codes: set[str] = set()
    batch: list[tuple[int, str, str]] = []
    valid_pc = POSTCODE_RE.fullmatch
    valid_code = CONSTITUENCY_CODE_RE.fullmatch
    bad_rows = report.bad_rows
    read = terminated = no_constituency = bad = 0

    def reject(reason: str) -> None:
        nonlocal bad
        bad += 1
        if len(bad_rows) < max_bad:
            bad_rows.append(BadRow(reader.line_num, reason))

    try:
        for row in reader:
            read += 1
            if len(row) < width:
                if not any(cell.strip() for cell in row):
                    read -= 1  # a blank line is not a row
                    continue
                reject(f"has {len(row)} fields; the header has at least {width}")
                continue
            if doterm_at is not None and row[doterm_at].strip():
                terminated += 1
                continue
            pcon = row[pcon_at].strip()
            if not pcon or pcon.endswith("99999999"):
                # ONS pseudo-codes: Channel Islands, Isle of Man, and postcodes with no constituency.
                no_constituency += 1
                continue
            if not valid_code(pcon):
                reject(f"pcon '{pcon[:30]}' is not an ONS constituency code (like E14001234)")
                continue
            postcode = row[pc_at]
            if not valid_pc(postcode):
                try:
                    postcode = normalise_postcode(postcode)
                except FieldError as exc:
                    reject(str(exc))
                    continue
                if postcode is None:
                    reject("has no postcode")
                    continue
            if not seen.add(postcode):
                reject(f"postcode {postcode} appears earlier in the file; the first row was kept")
                continue
            codes.add(pcon)
            batch.append((gen_id, postcode, pcon))
            if len(batch) >= batch_size:
                bulk_insert(table, cols, batch)
                db.session.commit()
                report.loaded += len(batch)
                batch = []
                report.rows_read, report.skipped_terminated, report.skipped_no_constituency, report.bad = (
                    read, terminated, no_constituency, bad)
                if progress is not None:
                    progress(report)
    except csv.Error as exc:
        raise LoadError(f"line {reader.line_num} could not be read as CSV ({exc}); nothing was loaded") from None
    if batch:
        bulk_insert(table, cols, batch)
        report.loaded += len(batch)
    report.rows_read, report.skipped_terminated, report.skipped_no_constituency, report.bad = (
        read, terminated, no_constituency, bad)
    return codes


def _finish_load(gen_id: int, code: str, codes: set[str], report: PostcodeLoadReport, make_current: bool) -> None:
    """One transaction: constituencies, MPs carried over from the load this one replaces, then the switch."""
    G = BoundaryGeneration
    earlier = db.session.execute(select(G.id, G.is_current, G.postcodes).where(
        G.code == code, G.status == GenerationStatus.READY)).first()
    if earlier is not None and report.loaded < 0.9 * earlier.postcodes:
        report.notes.append(f"Check the file: it has {report.loaded:,} postcodes; the load it replaced had "
                            f"{earlier.postcodes:,}.")
    has_current = db.session.execute(select(G.id).where(G.is_current.is_(True))).first() is not None
    names: dict[str, str | None] = {}
    if earlier is not None:
        names = dict(db.session.execute(select(Constituency.code, Constituency.name)
                                        .where(Constituency.generation_id == earlier.id)).all())
    if codes:
        db.session.execute(insert(Constituency), [
            {"generation_id": gen_id, "code": c, "name": names.get(c)} for c in sorted(codes)])
    if earlier is not None:
        # A reload (e.g. next month's directory) keeps the MPs loaded for these boundaries.
        R = Representative
        kept = select(literal(gen_id, Integer), R.constituency_code, R.name, R.party,
                      R.email, R.title, R.loaded_at).where(R.generation_id == earlier.id,
                                                           R.constituency_code.in_(sorted(codes)))
        db.session.execute(insert(R).from_select(
            ["generation_id", "constituency_code", "name", "party", "email", "title", "loaded_at"], kept))
        db.session.execute(update(G).where(G.id == earlier.id).values(status=GenerationStatus.REPLACED,
                                                                      is_current=False))
        report.replaced_earlier_load = True
    become_current = make_current or (earlier is not None and earlier.is_current) or not has_current
    if become_current and not make_current:
        report.notes.append("It was made current anyway: " + (
            "it replaces the current boundaries." if earlier is not None and earlier.is_current
            else "there were no current boundaries."))
    if become_current:
        db.session.execute(update(G).where(G.is_current.is_(True)).values(is_current=False))
    db.session.execute(update(G).where(G.id == gen_id).values(
        status=GenerationStatus.READY, is_current=become_current, loaded_at=utcnow(),
        rows_read=report.rows_read, postcodes=report.loaded, skipped_terminated=report.skipped_terminated,
        skipped_no_constituency=report.skipped_no_constituency, bad_rows=report.bad, constituencies=len(codes)))
    db.session.commit()
    report.constituencies = len(codes)
    report.is_current = become_current
    if earlier is not None:
        _drop_generation(earlier.id)
        db.session.commit()
    analyze(PostcodeConstituency.__table__, Constituency.__table__)
    db.session.commit()


def _drop_generation(gen_id: int) -> None:
    db.session.execute(delete(PostcodeConstituency).where(PostcodeConstituency.generation_id == gen_id))
    db.session.execute(delete(Representative).where(Representative.generation_id == gen_id))
    db.session.execute(delete(Constituency).where(Constituency.generation_id == gen_id))
    db.session.execute(delete(BoundaryGeneration).where(BoundaryGeneration.id == gen_id))


def set_current_generation(code: str) -> BoundaryGeneration:
    """Make the ready generation with this code the one lookups use (e.g. on election day); flushes."""
    G = BoundaryGeneration
    gen = db.session.execute(select(G).where(G.code == code, G.status == GenerationStatus.READY)).scalar()
    if gen is None:
        raise LoadError(f"there are no loaded boundaries with code {code!r}")
    if not gen.is_current:
        db.session.execute(update(G).where(G.is_current.is_(True)).values(is_current=False))
        db.session.execute(update(G).where(G.id == gen.id).values(is_current=True))
        db.session.refresh(gen)
    return gen


def generations() -> list[BoundaryGeneration]:
    """Every loaded generation, newest first."""
    G = BoundaryGeneration
    return list(db.session.execute(select(G).where(G.status == GenerationStatus.READY)
                                   .order_by(G.loaded_at.desc(), G.id.desc())).scalars())


# --------------------------------------------------------------------------- MPs

# Header names (lower case, spaces for _ and -) → field; the first matching column wins.
_REP_HEADERS = {
    "constituency_code": ("constituency code", "pcon", "pcon24cd", "pcon25cd", "ons code", "gss code",
                          "constituency id", "code"),
    "constituency_name": ("constituency name", "constituency", "pcon24nm", "pcon25nm"),
    "name": ("name", "mp", "mp name", "display name", "member", "full name"),
    "party": ("party", "party name"),
    "email": ("email", "email address", "e mail"),
    "title": ("title", "salutation"),
}


def load_representatives(source: Source, *, generation: str | None = None, source_name: str | None = None,
                         max_bad_reported: int = MAX_BAD_REPORTED) -> RepresentativeLoadReport:
    """Replace the MPs of a generation (current by default) with those in a CSV file; commits.

    Rows with an empty name are vacant seats. Raises LoadError, having changed nothing, when the
    file cannot be read, lacks the columns, or has no usable row.
    """
    name = _source_name(source, source_name)
    G = BoundaryGeneration
    query = select(G).where(G.status == GenerationStatus.READY)
    query = query.where(G.code == generation) if generation else query.where(G.is_current.is_(True))
    gen = db.session.execute(query).scalar()
    if gen is None:
        raise LoadError(f"there are no loaded boundaries with code {generation!r}" if generation else
                        "no postcode directory is loaded yet: run `crm load-postcodes` first, since MPs "
                        "belong to a set of constituency boundaries")
    report = RepresentativeLoadReport(generation=gen.code, source=name)
    known = dict(db.session.execute(select(Constituency.code, Constituency.id)
                                    .where(Constituency.generation_id == gen.id)).all())
    reps: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    names: dict[str, str] = {}

    def reject(line: int, reason: str) -> None:
        report.bad += 1
        if len(report.bad_rows) < max_bad_reported:
            report.bad_rows.append(BadRow(line, reason))

    with _text_stream(source) as text:
        reader = csv.reader(text)
        columns = _header(reader)
        normalised = {re.sub(r"[_\-\s]+", " ", k).strip(): i for k, i in reversed(list(columns.items()))}
        at = {f: next((normalised[h] for h in heads if h in normalised), None) for f, heads in _REP_HEADERS.items()}
        missing = [f.replace("_", " ") for f in ("constituency_code", "name", "email") if at[f] is None]
        if missing:
            raise LoadError(f"{name} has no {', '.join(missing)} column (the header needs constituency code, "
                            "name, party and email; constituency name and title are optional)")

        def cell(row, f):
            i = at[f]
            return row[i].strip() if i is not None and i < len(row) else ""

        try:
            for row in reader:
                if not any(c.strip() for c in row):
                    continue
                report.rows_read += 1
                line = reader.line_num
                code = cell(row, "constituency_code").upper()
                if not CONSTITUENCY_CODE_RE.fullmatch(code):
                    reject(line, f"constituency code '{code[:30]}' is not an ONS code (like E14001234)"
                           if code else "has no constituency code")
                    continue
                if code not in known:
                    reject(line, f"constituency {code} is not in the boundaries {gen.code!r}")
                    continue
                if code in first_line:
                    reject(line, f"constituency {code} already has a row (line {first_line[code]})")
                    continue
                first_line[code] = line
                constituency_name = cell(row, "constituency_name")
                if constituency_name:
                    names[code] = constituency_name[:160]
                mp_name = " ".join(cell(row, "name").split())
                if not mp_name:
                    report.vacant += 1
                    continue
                try:
                    email = normalise_email(cell(row, "email"))
                except FieldError as exc:
                    reject(line, str(exc))
                    continue
                if email is None:
                    reject(line, f"{mp_name} has no email address")
                    continue
                reps[code] = {"generation_id": gen.id, "constituency_code": code, "name": mp_name[:160],
                              "party": cell(row, "party")[:120] or None, "email": email,
                              "title": cell(row, "title")[:80] or None, "loaded_at": utcnow()}
        except csv.Error as exc:
            raise LoadError(f"line {reader.line_num} could not be read as CSV ({exc}); nothing was changed") from None

    if not reps and not report.vacant:
        db.session.rollback()
        raise LoadError(f"{name} has no usable rows, so the MPs already loaded were kept"
                        + (f" ({report.bad:,} bad rows, e.g. line {report.bad_rows[0].line}: "
                           f"{report.bad_rows[0].reason})" if report.bad_rows else ""))
    report.replaced = db.session.execute(select(func.count(Representative.id))
                                         .where(Representative.generation_id == gen.id)).scalar_one()
    db.session.execute(delete(Representative).where(Representative.generation_id == gen.id))
    if reps:
        db.session.execute(insert(Representative), list(reps.values()))
    for code, constituency_name in names.items():
        db.session.execute(update(Constituency).where(Constituency.id == known[code]).values(name=constituency_name))
    report.names_set = len(names)
    report.loaded = len(reps)
    db.session.commit()
    return report
