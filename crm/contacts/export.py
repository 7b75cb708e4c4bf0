"""Exports of a filtered set of contacts as CSV or XLSX: streamed, formula-safe, audited.

Self-organised groups (special-category data) are never a column, and a set filtered by a
group cannot be exported at all: the file would say who is in the group.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import IO

from sqlalchemy import Select, func, select

from ..audit import service as audit
from ..auth.models import User
from ..extensions import db
from ..region.models import Branch, Employer, Workplace
from ..spreadsheets import safe_cell
from ..vocabulary import ActivistRoleKind
from .models import ActivistRole, Contact, Tag, contact_tag
from .service import ContactFilter, filter_conditions

HEADERS = [
    "Membership number", "First name", "Last name", "Email", "Mobile", "Postcode", "Branch code",
    "Employer", "Workplace", "Job title", "Status", "Payment method", "Joined",
    "Current activist roles", "Tags",
]
FORMATS = {"csv", "xlsx"}
_SEP = "\x1f"  # joins roles/tags inside SQL; never typed by people (tag names refuse control characters)
_ROLE_LABELS = {m.value: m.label for m in ActivistRoleKind}


class ExportRefused(ValueError):
    """An export that must not be made (the reason is shown to the user)."""



def _rows_stmt(user: User, flt: ContactFilter) -> Select:
    roles = (select(func.aggregate_strings(ActivistRole.role, _SEP))
             .where(ActivistRole.contact_id == Contact.id, ActivistRole.ended_on.is_(None))
             .scalar_subquery())
    tags = (select(func.aggregate_strings(Tag.name, _SEP))
            .select_from(contact_tag.join(Tag, Tag.id == contact_tag.c.tag_id))
            .where(contact_tag.c.contact_id == Contact.id)
            .scalar_subquery())
    return (
        select(Contact.membership_number, Contact.first_name, Contact.last_name, Contact.email, Contact.mobile,
               Contact.postcode, Branch.code, Employer.name, Workplace.name, Contact.job_title, Contact.status,
               Contact.payment_method, Contact.joined_on, roles, tags)
        .join(Branch, Branch.id == Contact.branch_id)
        .outerjoin(Employer, Employer.id == Contact.employer_id)
        .outerjoin(Workplace, Workplace.id == Contact.workplace_id)
        .where(*filter_conditions(user, flt))
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    )


def _joined(raw: str | None, labels: dict[str, str] | None = None) -> str:
    if not raw:
        return ""
    parts = raw.split(_SEP)
    if labels:
        parts = [labels.get(p, p) for p in parts]
    return "; ".join(sorted(parts, key=str.lower))


def export_rows(user: User, flt: ContactFilter) -> Iterator[list]:
    """The export's rows (without headers), streamed from the database in batches, cells made safe."""
    result = db.session.execute(_rows_stmt(user, flt).execution_options(yield_per=2000))
    for (number, first, last, email, mobile, postcode, branch, employer, workplace, job, status, payment,
         joined, roles, tags) in result:
        row = [number, first, last, email, mobile, postcode, branch, employer, workplace, job,
               status.label if status else None, payment.label if payment else None, joined,
               _joined(roles, _ROLE_LABELS), _joined(tags)]
        yield [safe_cell(v) for v in row]


def check_exportable(flt: ContactFilter) -> None:
    """Refuse an export whose file would reveal special-category data."""
    if flt.uses_sog:
        raise ExportRefused("A list filtered by self-organised group cannot be exported: the file would show "
                            "who is in the group, which is special-category data. Remove that filter first.")


def record_export(user: User, flt: ContactFilter, fmt: str, rows: int) -> None:
    """Audit an export: its format, how many rows and which filter fields (never the search text)."""
    audit.record("contacts.export", user=user,
                 detail=f"format={fmt} rows={rows} filter={flt.audit_summary()}")


def csv_chunks(rows: Iterator[list]) -> Iterator[str]:
    """CSV text in chunks of a few hundred rows, header first, with a BOM so Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(HEADERS)
    for n, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(rows: Iterator[list], out: IO[bytes]) -> None:
    """An XLSX workbook written row by row (openpyxl write-only mode keeps memory flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    sheet.freeze_panes = "A2"
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(out)
