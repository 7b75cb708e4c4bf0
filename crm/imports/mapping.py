"""Map a membership export's column headers to Branchline fields.

Headers are compared case- and punctuation-insensitively ("Tel (Mobile)" ≡ "tel mobile" ≡
"TELMOBILE"), against the aliases national membership systems use. Some columns are known but
deliberately not imported (date of birth, address lines …): they are reported as ignored, so the
user can map one if they really want it. Pure Python; no Flask, no database.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = [
    "FIELDS",
    "FIELD_LABELS",
    "REQUIRED_ANY_OF",
    "ALIASES",
    "IGNORED_HEADERS",
    "Duplicate",
    "Mapping",
    "normalise_header",
    "guess_mapping",
    "apply_overrides",
    "header_signature",
    "mapping_problems",
    "mapping_notes",
]

FIELD_LABELS: dict[str, str] = {
    "membership_number": "Membership number",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split into first and last)",
    "email": "Email",
    "mobile": "Mobile",
    "postcode": "Postcode",
    "branch_code": "Branch code",
    "employer": "Employer",
    "workplace": "Workplace",
    "job_title": "Job title",
    "status": "Membership status",
    "payment_method": "Payment method",
    "joined_on": "Date joined",
    "left_on": "Date left",
    "docas_ended_on": "DOCAS end date",
}
FIELDS: tuple[str, ...] = tuple(FIELD_LABELS)

# A row needs one of these to identify a person: a membership number, or for a supporter
# (no membership number) an email or a mobile.
REQUIRED_ANY_OF: tuple[str, ...] = ("membership_number", "email", "mobile")

ALIASES: dict[str, tuple[str, ...]] = {
    "membership_number": (
        "Membership No", "Membership Number", "Membership No.", "Mem No", "Mem Number", "Member No",
        "Member Number", "Member ID", "Membership ID", "Person No", "Person Number", "Person ID",
    ),
    "first_name": ("Forename", "Forenames", "First Name", "Firstname", "Given Name", "Given Names",
                   "Christian Name", "Preferred Name"),
    "last_name": ("Surname", "Last Name", "Lastname", "Family Name"),
    "full_name": ("Name", "Full Name", "Member Name", "Contact Name"),
    "email": ("Email", "E-mail", "Email Address", "E-mail Address", "Home Email", "Personal Email",
              "Email Addr"),
    "mobile": ("Mobile", "Mobile Phone", "Mobile Tel", "Mobile Telephone", "Tel (Mobile)", "Mobile No",
               "Mobile Number", "Cell", "Cell Phone", "Mobile Phone Number", "Phone (Mobile)"),
    "postcode": ("Postcode", "Post Code", "Home Postcode", "Home Post Code", "Zip", "Zip Code"),
    "branch_code": ("Branch", "Branch Code", "Br Code", "Branch No", "Branch ID"),
    "employer": ("Employer", "Employer Name", "Employer Org"),
    "workplace": ("Workplace", "Work Location", "Site", "Workplace Name", "Work Place", "Location"),
    "job_title": ("Job Title", "Occupation", "Role", "Job", "Job Role"),
    "status": ("Status", "Membership Status", "Member Status"),
    "payment_method": ("Payment Method", "Pay Method", "Payment Type", "Method of Payment",
                       "Payment Mode", "Subs Method"),
    "joined_on": ("Join Date", "Date Joined", "Joined", "Joining Date", "Date of Joining", "Joined On"),
    "left_on": ("Lapsed Date", "Date Left", "Left", "Lapse Date", "Date Lapsed", "Leaving Date",
                "Left On"),
    "docas_ended_on": ("DOCAS End Date", "DOCAS End", "Check-off End", "Check-off End Date",
                       "Checkoff End Date", "Payroll End Date", "Payroll End", "DOCAS Ended"),
}

# Known columns that Branchline does not import unless the user maps them.
IGNORED_HEADERS: tuple[str, ...] = (
    "DOB", "Date of Birth", "Birth Date", "Age", "Title", "Salutation", "Gender", "Sex",
    "Home Phone", "Home Tel", "Telephone", "Tel", "Phone", "Work Phone", "Work Tel", "Landline",
    "Address", "Address 1", "Address 2", "Address 3", "Address 4", "Address 5",
    "Address Line 1", "Address Line 2", "Address Line 3", "Address Line 4", "Address Line 5",
    "Town", "City", "County", "Country", "Ethnicity", "Ethnic Origin", "Disability", "Sexual Orientation",
    "NI Number", "National Insurance Number", "Pay Number", "Payroll Number", "Employee No",
    "Work Email", "Region", "Service Group", "Band", "Grade", "Hours", "Full/Part Time", "Notes",
)


def normalise_header(header: object) -> str:
    """Lower-case with everything but letters and digits dropped: "Tel (Mobile)" → "telmobile"."""
    if header is None:
        return ""
    return "".join(c for c in str(header).casefold() if c.isalnum())


_LOOKUP: dict[str, str | None] = {}
for _name in IGNORED_HEADERS:
    _LOOKUP[normalise_header(_name)] = None
for _field, _aliases in ALIASES.items():
    for _alias in (_field, *_aliases):
        _LOOKUP[normalise_header(_alias)] = _field
del _name, _field, _aliases, _alias


@dataclass(frozen=True)
class Duplicate:
    """A column that would map to a field another column already holds (the first one wins)."""

    column: int
    header: str
    field: str
    kept_column: int


@dataclass
class Mapping:
    """Which column holds which field; what is ignored, unknown, or a second claim on a field."""

    headers: list[str]
    fields: dict[int, str] = field(default_factory=dict)  # column index → field
    ignored: list[str] = field(default_factory=list)  # headers of known-but-ignored columns
    unknown: list[str] = field(default_factory=list)  # headers we do not recognise
    duplicates: list[Duplicate] = field(default_factory=list)

    def column_of(self, fieldname: str) -> int | None:
        """The column index holding `fieldname`, or None."""
        for column, name in self.fields.items():
            if name == fieldname:
                return column
        return None

    @property
    def columns(self) -> dict[str, int]:
        """Field → column index."""
        return {name: column for column, name in self.fields.items()}


def _assign(mapping: Mapping, column: int, fieldname: str) -> None:
    held = mapping.column_of(fieldname)
    if held is None:
        mapping.fields[column] = fieldname
    else:
        mapping.duplicates.append(Duplicate(column, mapping.headers[column], fieldname, held))


def guess_mapping(headers: list[str]) -> Mapping:
    """Map each header to a field by name and alias; report ignored, unknown and duplicate columns."""
    mapping = Mapping(headers=[str(h) if h is not None else "" for h in headers])
    for column, header in enumerate(mapping.headers):
        key = normalise_header(header)
        if not key:
            continue  # a blank header: nothing to map and nothing worth reporting
        if key not in _LOOKUP:
            mapping.unknown.append(header)
        elif _LOOKUP[key] is None:
            mapping.ignored.append(header)
        else:
            _assign(mapping, column, _LOOKUP[key])
    return mapping


def apply_overrides(headers: list[str], overrides: dict[str, str | None], *, exact: bool = False) -> Mapping:
    """The guessed mapping corrected by the user's choices, keyed by header text (a value of None
    or "" ignores that column). With exact=True the overrides are the whole mapping: columns they
    do not name are left unmapped. An override wins over a guess for the same field; between two
    overrides of one field the leftmost column wins and the other is reported as a duplicate.
    ValueError for an unknown field or a header that is not in the file."""
    texts = [str(h) if h is not None else "" for h in headers]
    by_text: dict[str, list[int]] = {}
    by_key: dict[str, list[int]] = {}
    for column, header in enumerate(texts):
        by_text.setdefault(header, []).append(column)
        by_key.setdefault(normalise_header(header), []).append(column)
    chosen: dict[int, str | None] = {}
    for header, fieldname in overrides.items():
        if fieldname and fieldname not in FIELD_LABELS:
            raise ValueError(f"'{fieldname}' is not a field Branchline can import.")
        columns = by_text.get(header) or by_key.get(normalise_header(header))
        if not columns:
            raise ValueError(f"The file has no column headed '{header}'.")
        for column in columns:
            chosen[column] = fieldname or None

    guessed = guess_mapping(texts)
    mapping = Mapping(headers=texts)
    for column in sorted(chosen):
        if chosen[column]:
            _assign(mapping, column, chosen[column])
        else:
            mapping.ignored.append(texts[column])
    overridden = set(chosen)
    if not exact:
        for column, fieldname in sorted(guessed.fields.items()):
            if column not in overridden:
                _assign(mapping, column, fieldname)
        for dup in guessed.duplicates:
            if dup.column not in overridden:
                _assign(mapping, dup.column, dup.field)
    for column, header in enumerate(texts):
        if column in overridden or column in mapping.fields:
            continue
        if any(d.column == column for d in mapping.duplicates):
            continue
        key = normalise_header(header)
        if not key:
            continue
        if key in _LOOKUP:
            mapping.ignored.append(header)
        else:
            mapping.unknown.append(header)
    return mapping


def header_signature(headers: list[str]) -> str:
    """A stable hash of the normalised header row, to remember a mapping for files of this shape."""
    joined = "\x1f".join(normalise_header(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def mapping_problems(mapping: Mapping) -> list[str]:
    """Reasons the mapping cannot be used for an import (empty when it can)."""
    problems = []
    mapped = set(mapping.fields.values())
    if not mapped & set(REQUIRED_ANY_OF):
        problems.append(
            "No column holds the membership number, email or mobile: nothing can identify a person."
        )
    return problems


def mapping_notes(mapping: Mapping) -> list[str]:
    """Things worth telling the user about a usable mapping, in plain sentences."""
    notes = []
    mapped = set(mapping.fields.values())
    if not mapped & {"first_name", "last_name", "full_name"}:
        notes.append("No column holds a name: people will be imported without names.")
    if "full_name" in mapped and mapped & {"first_name", "last_name"}:
        notes.append("The full name column is used only where the first and last name are empty.")
    for dup in mapping.duplicates:
        notes.append(
            f"Column '{dup.header}' also looks like {FIELD_LABELS[dup.field].lower()}; "
            f"using column '{mapping.headers[dup.kept_column]}' instead."
        )
    if mapping.ignored:
        notes.append("Ignored unless you map it: " + ", ".join(f"'{h}'" for h in mapping.ignored) + ".")
    if mapping.unknown:
        notes.append("Not recognised, so not imported: " + ", ".join(f"'{h}'" for h in mapping.unknown) + ".")
    return notes
