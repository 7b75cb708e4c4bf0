"""Realistic national membership exports, for tests and benchmarks.

`write_export` writes a CSV or XLSX file shaped like the national membership system's monthly
export (its headers, its value shapes: mobiles typed every way people type them, UK dates,
upper-case surnames, addresses with commas and the odd line break), with a known share of
malformed rows. `ExportInfo` says exactly which lines are malformed and how, so a test can check
an import report line by line. `mutate_export` writes "next month's" export of the same
membership: leavers gone, joiners added, some members with a new employer, workplace or job
title, some moved off DOCAS to direct debit; `ExportInfo` lists their membership numbers.

Same arguments → byte-identical file. Pure Python; no Flask, no database.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ..normalise import mobile_fast_path

__all__ = ["HEADERS", "MALFORMED_KINDS", "UNKNOWN_BRANCH_CODE", "ExportChanges", "ExportInfo",
           "write_export", "mutate_export"]

HEADERS = [
    "Membership No", "Title", "Forename", "Surname", "DOB", "Email", "Mobile", "Home Phone",
    "Address 1", "Town", "Home Postcode", "Branch Code", "Employer", "Workplace", "Job Title",
    "Membership Status", "Payment Method", "Join Date", "DOCAS End Date",
]
(C_NUMBER, C_TITLE, C_FIRST, C_LAST, C_DOB, C_EMAIL, C_MOBILE, C_PHONE, C_ADDRESS, C_TOWN,
 C_POSTCODE, C_BRANCH, C_EMPLOYER, C_WORKPLACE, C_JOB, C_STATUS, C_PAYMENT, C_JOINED,
 C_DOCAS_END) = range(len(HEADERS))

# Malformed kinds, in the order rows are assigned to them. The first four keep their membership
# number, so the import keeps the member and reports the field (a warning); the last two are
# rejected: nothing identifies the person, or the branch is not one Branchline knows.
MALFORMED_KINDS = ("mobile", "email", "postcode", "joined_on", "no_identity", "unknown_branch")
WARNING_KINDS = MALFORMED_KINDS[:4]
REJECT_KINDS = MALFORMED_KINDS[4:]
UNKNOWN_BRANCH_CODE = "ZZ-9999"

BAD_VALUES = {
    "mobile": ["07123", "0151 706 2000", "12345", "07911 12345", "+44 7911 1234567", "phone me",
               "0800 123 4567", "07700 900123"],
    "email": ["jo@", "jo.smith@@nhs.net", "jo smith@nhs.net", "jo.smith.nhs.net", "jo@nhs",
              "@nhs.net", "jo..smith@nhs.net"],
    "postcode": ["XYZ", "L3 8CI", "SW1A 1AAA", "12345", "L99", "L3-8EN", "Liverpool"],
    "joined_on": ["31/02/2023", "30/02/2020", "00/01/2020", "32/12/2019", "29/02/2023", "2019-13-01"],
}

DEFAULT_EMPLOYERS: list[tuple[str, list[str]]] = [
    ("Liverpool University Hospitals NHS Foundation Trust",
     ["Royal Liverpool University Hospital", "Aintree University Hospital", "Broadgreen Hospital"]),
    ("Alder Hey Children's NHS Foundation Trust", ["Alder Hey in the Park", "Sunflower House"]),
    ("Mersey Care NHS Foundation Trust", ["Ashworth Hospital", "Mossley Hill Hospital", "Broadoak Unit"]),
    ("Liverpool City Council", ["Cunard Building", "Millennium House", "Municipal Buildings",
                                "Croxteth Park Depot"]),
    ("Wirral Council", ["Wallasey Town Hall", "Cheshire Lines Building"]),
    ("Sefton Council", ["Bootle Town Hall", "Magdalen House", "Southport Town Hall"]),
    ("Warrington and Halton Teaching Hospitals NHS Foundation Trust",
     ["Warrington Hospital", "Halton Hospital"]),
    ("Northern Care Alliance NHS Foundation Trust", ["Salford Royal", "Royal Oldham Hospital"]),
    ("Dimensions Care Ltd", ["Head Office", "Kirkby Supported Living"]),
    ("Liverpool John Moores University", ["Byrom Street", "Mount Pleasant", "IM Marsh"]),
    ("Bolton Council", ["Bolton Town Hall", "Wellsprings"]),
    ("Wigan Council", ["Wigan Life Centre", "Leigh Town Hall"]),
]

FORENAMES = [
    "Jo", "Sarah", "Mohammed", "Aisha", "David", "Siobhan", "Kwame", "Priya", "Tomasz", "Agnieszka",
    "Chloe", "Ryan", "Emma", "Liam", "Olivia", "Jack", "Amelia", "Noah", "Isla", "Oliver", "Grace",
    "Daniel", "Hannah", "James", "Fatima", "Ahmed", "Zainab", "Patrick", "Niamh", "Ciarán", "Renée",
    "Zoë", "José", "Chidi", "Ngozi", "Wei", "Mei", "Rajesh", "Sunita", "Paul", "Karen", "Lorraine",
    "Tracey", "Gary", "Wayne", "Michelle", "Joanne", "Lee", "Dean", "Stacey", "Claire", "Mark",
    "Susan", "John", "Margaret", "Anne-Marie", "Mary-Kate", "Jean-Luc", "Bartosz", "Ewa", "Ioana",
]
SURNAMES = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Roberts",
    "Johnson", "Lewis", "Walker", "Robinson", "Wood", "Thompson", "White", "Hughes", "Edwards", "Green",
    "O'Brien", "O’Connor", "McDonald", "McCarthy", "MacLeod", "Smith-Jones", "Taylor-Wood", "Okafor",
    "Adeyemi", "Mensah", "Patel", "Khan", "Ahmed", "Hussain", "Begum", "Siddiqui", "Nowak",
    "Kowalski", "Wiśniewska", "Popescu", "Nguyen", "Chen", "Wong", "van der Berg", "de Souza",
    "Fitzgerald", "Doherty", "Kelly", "Murphy", "Byrne", "Gallagher", "Quinn", "Lloyd", "Parry",
    "Rimmer", "Molyneux", "Heseltine", "Gerrard", "Carragher", "Fowler", "Dalglish", "Rush",
]
TITLES = ["Mr", "Mrs", "Ms", "Miss", "Dr", "Mx", ""]
JOB_TITLES = [
    "Healthcare Assistant", "Staff Nurse", "Porter", "Domestic", "Receptionist", "Medical Secretary",
    "Ward Clerk", "Catering Assistant", "Cleaner", "Pharmacy Technician", "Paramedic",
    "Occupational Therapist", "Physiotherapist", "Social Worker", "Care Worker", "Senior Care Worker",
    "Teaching Assistant", "School Cook", "Caretaker", "Librarian", "Refuse Collector",
    "Street Cleansing Operative", "Housing Officer", "Customer Services Adviser", "Admin Assistant",
    "Finance Officer", "IT Support Analyst", "Security Officer", "Lab Technician", "Midwife",
    "Support Worker", "Team Leader", "Youth Worker", "Library Assistant", "Road Worker",
]
TOWNS = ["Liverpool", "Bootle", "Birkenhead", "Wallasey", "Warrington", "St Helens", "Wigan", "Bolton",
         "Southport", "Runcorn", "Widnes", "Kirkby", "Huyton", "Chester", "Ormskirk", "Salford"]
STREETS = ["Park Road", "Church Street", "Derby Road", "Queens Drive", "Smithdown Road", "Lodge Lane",
           "Borough Road", "Stanley Road", "Walton Lane", "Menlove Avenue", "Prescot Road",
           "Scotland Road", "County Road", "Rice Lane", "Aigburth Road", "Mill Lane"]
OUTWARD = ["L1", "L3", "L4", "L6", "L7", "L8", "L9", "L11", "L13", "L15", "L17", "L18", "L20", "L24",
           "L25", "L36", "CH41", "CH44", "CH62", "WA1", "WA5", "WA8", "WA10", "WN1", "WN5", "BL1",
           "PR8", "M5", "M6", "SW1A", "EC1A", "W1A"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
EMAIL_DOMAINS = ["gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "nhs.net", "btinternet.com",
                 "icloud.com", "live.co.uk", "sky.com", "Hotmail.com", "GMAIL.COM"]
PAYMENT_DOCAS = ["DOCAS", "DOCAS", "DOCAS", "Check-off", "Payroll", "docas"]
PAYMENT_DD = ["Direct Debit", "Direct Debit", "Direct Debit", "DD", "direct debit"]
STATUSES = ["Current", "Current", "Current", "Member", "Full Member", "Active"]


def _valid_mobile_prefixes() -> list[str]:
    """Four-digit 7xxx prefixes phonenumbers accepts as GB mobiles (whatever the last six digits)."""
    return [str(p) for p in range(7000, 8000)
            if all(mobile_fast_path(f"0{p}{s}") for s in ("000000", "999999", "123456", "500000"))]


def _mobile_shapes():
    return [
        lambda n: f"0{n[:4]} {n[4:]}",            # 07911 123456
        lambda n: f"0{n[:4]} {n[4:]}",
        lambda n: f"0{n[:4]} {n[4:]}",
        lambda n: f"0{n}",                        # 07911123456
        lambda n: f"0{n}",
        lambda n: f"+44 {n[:4]} {n[4:]}",         # +44 7911 123456
        lambda n: f"+44{n}",                      # +447911123456
        lambda n: f"44{n}",                       # 447911123456 (Excel ate the plus)
        lambda n: f"0{n[:4]}-{n[4:7]}-{n[7:]}",   # 07911-123-456
        lambda n: f"(0{n[:4]}) {n[4:]}",          # (07911) 123456
        lambda n: f"0044 {n[:4]} {n[4:]}",        # 0044 7911 123456
        lambda n: f"0{n[:3]} {n[3:6]} {n[6:]}",   # 0791 112 3456
        lambda n: n,                              # 7911123456 (Excel ate the zero)
        lambda n: f"+44 (0){n[:4]} {n[4:]}",      # +44 (0)7911 123456
        lambda n: f"0{n[:4]}.{n[4:7]}.{n[7:]}",   # 07911.123.456
    ]


def _postcodes(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        pc = f"{rng.choice(OUTWARD)} {rng.randrange(10)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        shape = rng.random()
        if shape < 0.1:
            pc = pc.lower()
        elif shape < 0.2:
            pc = pc.replace(" ", "")
        out.append(pc)
    return out


def _addresses(rng: random.Random, count: int) -> list[str]:
    out = []
    for i in range(count):
        street = f"{rng.randrange(1, 300)} {rng.choice(STREETS)}"
        shape = i % 50
        if shape < 8:
            street = f"Flat {rng.randrange(1, 40)}, {street}"     # a comma: must be quoted
        elif shape == 8:
            street = f"Flat {rng.randrange(1, 40)}\n{street}"     # a line break inside the field
        elif shape == 9:
            street = f'"{rng.choice(["The Cottage", "Rose Villa", "Ty Nant"])}", {street}'
        out.append(street)
    return out


def _uk_dates(start: date, end: date) -> list[date]:
    days = (end - start).days
    return [start + timedelta(days=d) for d in range(days + 1)]


def _ascii_slug(name: str) -> str:
    table = str.maketrans({"á": "a", "é": "e", "ë": "e", "í": "i", "ó": "o", "ś": "s", "ą": "a"})
    return "".join(c for c in name.lower().translate(table) if c.isascii() and c.isalnum())


def _mix(i: int, salt: int) -> int:
    """A cheap, well-spread hash of a member index (structure decided without the value stream)."""
    x = (i * 0x9E3779B1 + salt * 0x85EBCA77) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    return x


@dataclass(frozen=True)
class ExportChanges:
    """What changes between one month's export and the next (shares of the membership)."""

    leavers: float = 0.02
    joiners: float = 0.03
    changed: float = 0.02  # new employer, workplace or job title
    docas_ended: float = 0.01  # DOCAS → direct debit, with a DOCAS end date
    seed: int = 2


@dataclass
class ExportInfo:
    """What was written, with the line numbers a correct import report must name."""

    path: Path
    fmt: str
    encoding: str
    headers: list[str]
    rows: int  # data records written (excluding the header)
    last_line: int  # physical line (CSV) or sheet row (XLSX) of the last record
    warnings: dict[str, list[int]]  # field → lines imported with that field left empty
    rejected: dict[str, list[int]]  # "no_identity" / "unknown_branch" → lines rejected
    bad_values: dict[int, tuple[str, str]]  # line → (kind, the malformed value as written)
    joiners: list[str] = field(default_factory=list)  # membership numbers new this month
    leavers: list[str] = field(default_factory=list)  # gone from the export this month
    changed: list[str] = field(default_factory=list)  # employer / workplace / job title changed
    docas_ended: list[str] = field(default_factory=list)  # moved off DOCAS this month
    # How to write it again (and the month after): arguments of write_export and the months applied.
    params: dict = field(default_factory=dict, repr=False)
    history: tuple[ExportChanges, ...] = ()

    @property
    def warning_lines(self) -> list[int]:
        return sorted(line for lines in self.warnings.values() for line in lines)

    @property
    def rejected_lines(self) -> list[int]:
        return sorted(line for lines in self.rejected.values() for line in lines)

    @property
    def members(self) -> int:
        """Rows that should end up as contacts (everything but the rejects)."""
        return self.rows - len(self.rejected_lines)


class _Pools:
    """Values drawn from by index, so a change can be expressed as an index shift."""

    def __init__(self, seed: int, employers: list[tuple[str, list[str]]], branch_codes: list[str]):
        rng = random.Random(f"{seed}:pools")
        self.employers = employers
        self.branch_codes = branch_codes
        self.postcodes = _postcodes(rng, 5000)
        self.addresses = _addresses(rng, 1000)
        self.address_breaks = [a.count("\n") for a in self.addresses]
        self.join_dates = _uk_dates(date(1985, 1, 1), date(2024, 12, 31))
        self.dobs = _uk_dates(date(1950, 1, 1), date(2005, 12, 31))
        self.join_dates_uk = [d.strftime("%d/%m/%Y") for d in self.join_dates]
        self.dobs_uk = [d.strftime("%d/%m/%Y") for d in self.dobs]
        self.mobile_prefixes = _valid_mobile_prefixes()
        self.mobile_shapes = _mobile_shapes()
        upper_surnames = [s.upper() for s in SURNAMES]
        self.surnames = SURNAMES * 3 + upper_surnames  # a quarter of exports shout the surname
        self.slugs_first = [_ascii_slug(f) for f in FORENAMES]
        self.slugs_last = [_ascii_slug(s) for s in self.surnames]


class _Member:
    """One member's cosmetic choices as pool indices (a month's changes shift them)."""

    __slots__ = ("i", "title", "first", "last", "dob", "email", "mobile", "phone", "address", "town",
                 "postcode", "branch", "employer", "workplace", "job", "status", "payment", "joined",
                 "docas_ended_on")


def _draw_member(r, pools: _Pools, i: int) -> _Member:
    """One member's values from the value stream `r` (random.random of a seeded generator)."""
    m = _Member()
    m.i = i
    m.title = int(r() * len(TITLES))
    m.first = int(r() * len(FORENAMES))
    m.last = int(r() * len(pools.surnames))
    m.dob = int(r() * len(pools.dobs))
    m.email = r()
    m.mobile = r()
    m.phone = r()
    m.address = int(r() * len(pools.addresses))
    m.town = int(r() * len(TOWNS))
    m.postcode = int(r() * len(pools.postcodes))
    m.branch = int(r() * len(pools.branch_codes))
    m.employer = int(r() * len(pools.employers))
    m.workplace = int(r() * 1000)
    m.job = int(r() * len(JOB_TITLES))
    m.status = int(r() * len(STATUSES))
    m.payment = r()
    m.joined = int(r() * len(pools.join_dates))
    m.docas_ended_on = None
    return m


def _is_docas(i: int) -> bool:
    return _mix(i, 7) % 100 < 60


def _row(m: _Member, number: str, pools: _Pools, kind: str | None, xlsx: bool) -> tuple[list, str | None]:
    """The export row for one member, and the malformed value written (if any)."""
    i = m.i
    first = FORENAMES[m.first]
    last = pools.surnames[m.last]
    # Unique per member: prefix and (permuted) suffix are a bijection of the index.
    prefixes = pools.mobile_prefixes
    k, q = i % len(prefixes), i // len(prefixes)
    national = prefixes[k] + f"{(q * 7919 + k * 104729 + 123457) % 1_000_000:06d}"
    mobile = pools.mobile_shapes[_mix(i, 3) % len(pools.mobile_shapes)](national) if m.mobile < 0.88 else ""
    email = ""
    if m.email < 0.8:
        domain = EMAIL_DOMAINS[_mix(i, 4) % len(EMAIL_DOMAINS)]
        email = f"{pools.slugs_first[m.first]}.{pools.slugs_last[m.last]}{i}@{domain}"
    phone = f"0151 {200 + _mix(i, 5) % 700} {_mix(i, 6) % 10000:04d}" if m.phone < 0.3 else ""
    employer, workplaces = pools.employers[m.employer]
    workplace = workplaces[m.workplace % len(workplaces)] if workplaces else ""
    docas = _is_docas(i) and m.docas_ended_on is None
    payment = (PAYMENT_DOCAS if docas else PAYMENT_DD)[int(m.payment * (6 if docas else 5))]
    joined: object = (pools.join_dates if xlsx else pools.join_dates_uk)[m.joined]
    dob: object = (pools.dobs if xlsx else pools.dobs_uk)[m.dob]
    docas_end: object = m.docas_ended_on or ""
    branch = pools.branch_codes[m.branch]
    membership: object = number
    bad = None
    if kind == "mobile":
        bad = mobile = BAD_VALUES["mobile"][i % len(BAD_VALUES["mobile"])]
    elif kind == "email":
        bad = email = BAD_VALUES["email"][i % len(BAD_VALUES["email"])]
    elif kind == "postcode":
        bad = BAD_VALUES["postcode"][i % len(BAD_VALUES["postcode"])]
    elif kind == "joined_on":
        bad = joined = BAD_VALUES["joined_on"][i % len(BAD_VALUES["joined_on"])]
    elif kind == "no_identity":
        membership, email, mobile = "", "", ""
        bad = ""
    elif kind == "unknown_branch":
        bad = branch = UNKNOWN_BRANCH_CODE
    if xlsx:
        if membership:
            membership = int(membership)
    else:
        if isinstance(docas_end, date):
            docas_end = docas_end.strftime("%d/%m/%Y")
    postcode = bad if kind == "postcode" else pools.postcodes[m.postcode]
    return [
        membership, TITLES[m.title], first, last, dob, email, mobile, phone,
        pools.addresses[m.address], TOWNS[m.town], postcode, branch, employer, workplace,
        JOB_TITLES[m.job], STATUSES[m.status], payment, joined, docas_end,
    ], bad


def _apply_change(m: _Member, change: tuple, pools: _Pools) -> None:
    what, shift = change
    if what == "workplace":
        workplaces = pools.employers[m.employer][1]
        if len(workplaces) >= 2:
            m.workplace = (m.workplace % len(workplaces) + 1 + shift % (len(workplaces) - 1)) % len(workplaces)
            return
        what = "job"
    if what == "employer" and len(pools.employers) >= 2:
        n = len(pools.employers)
        m.employer = (m.employer + 1 + shift % (n - 1)) % n
        return
    n = len(JOB_TITLES)
    m.job = (m.job + 1 + shift % (n - 1)) % n


class _Month:
    """One month's decisions, made before writing: who leaves, who joins, who changes."""

    def __init__(self, changes: ExportChanges, seed: int, month: int, population: list[int],
                 eligible, is_docas_now, next_joiner: int, export_date: date):
        rng = random.Random(f"{seed}:{changes.seed}:{month}:changes")
        self.export_date = export_date
        candidates = [i for i in population if eligible(i)]
        rng.shuffle(candidates)
        n = len(population)
        take_leavers = min(round(n * changes.leavers), len(candidates))
        self.leavers = set(candidates[:take_leavers])
        rest = candidates[take_leavers:]
        take_changed = min(round(n * changes.changed), len(rest))
        self.changed = {i: (("job", "workplace", "employer")[rng.randrange(3)], rng.randrange(1000))
                        for i in rest[:take_changed]}
        docas_pool = [i for i in rest[take_changed:] if is_docas_now(i)]
        self.docas_ended = set(docas_pool[: round(n * changes.docas_ended)])
        joiners = round(n * changes.joiners)
        self.joiners = list(range(next_joiner, next_joiner + joiners))
        # Joiners slot in at random places, as in an export sorted by something other than number.
        survivors = [i for i in population if i not in self.leavers]
        slots = sorted(rng.randrange(len(survivors) + 1) for _ in self.joiners)
        order: list[int] = []
        j = 0
        for pos, i in enumerate(survivors):
            while j < len(slots) and slots[j] == pos:
                order.append(self.joiners[j])
                j += 1
            order.append(i)
        order.extend(self.joiners[j:])
        self.order = order


def write_export(path, rows: int, *, seed: int = 1, malformed_share: float = 0.005, fmt: str = "csv",
                 branch_codes: list[str], employers: list[tuple[str, list[str]]] | None = None,
                 encoding: str = "utf-8", start_number: int = 10000000,
                 history: tuple[ExportChanges, ...] = ()) -> ExportInfo:
    """Write an export of `rows` members (then `history`'s months of changes applied, if any)."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError("fmt must be 'csv' or 'xlsx'")
    if not branch_codes:
        raise ValueError("branch_codes must name at least one branch")
    if UNKNOWN_BRANCH_CODE in branch_codes:
        raise ValueError(f"{UNKNOWN_BRANCH_CODE} is reserved for the unknown-branch rows")
    path = Path(path)
    params = dict(rows=rows, seed=seed, malformed_share=malformed_share, fmt=fmt,
                  branch_codes=list(branch_codes), employers=employers, encoding=encoding,
                  start_number=start_number)
    pools = _Pools(seed, list(employers or DEFAULT_EMPLOYERS), list(branch_codes))

    structure = random.Random(f"{seed}:structure")
    malformed_count = min(rows, round(rows * malformed_share))
    malformed = {i: MALFORMED_KINDS[k % len(MALFORMED_KINDS)]
                 for k, i in enumerate(structure.sample(range(rows), malformed_count))}

    # Months of changes: decided on member indices before anything is drawn or written.
    month_changes: dict[int, list[tuple]] = {}
    docas_ended_on: dict[int, date] = {}
    this_month: _Month | None = None
    population = None
    next_joiner = rows
    for month, changes in enumerate(history, start=1):
        if population is None:
            population = list(range(rows))
        export_date = date(2025, 1, 1) + timedelta(days=30 * month)
        this_month = _Month(
            changes, seed, month, population,
            eligible=lambda i: i not in malformed,
            is_docas_now=lambda i: _is_docas(i) and i not in docas_ended_on,
            next_joiner=next_joiner, export_date=export_date,
        )
        for i, change in this_month.changed.items():
            month_changes.setdefault(i, []).append(change)
        for i in this_month.docas_ended:
            docas_ended_on[i] = export_date - timedelta(days=3 + _mix(i, 8) % 20)
        next_joiner += len(this_month.joiners)
        population = this_month.order
    order = population if population is not None else range(rows)

    # Base members are drawn in index order as the file is written (memory stays flat); leavers
    # are still drawn, so everyone else keeps the same values month after month.
    draw = random.Random(f"{seed}:values").random
    drawn = 0

    def base_member(i: int) -> _Member:
        nonlocal drawn
        while drawn < i:
            _draw_member(draw, pools, drawn)
            drawn += 1
        drawn += 1
        return _draw_member(draw, pools, i)

    draw_joiner = random.Random(f"{seed}:joiners").random
    joiners = {i: _draw_member(draw_joiner, pools, i) for i in range(rows, next_joiner)}
    for m in joiners.values():
        # A joiner joined recently, whatever the draw said.
        m.joined = len(pools.join_dates) - 1 - (_mix(m.i, 9) % 60)

    info = ExportInfo(path=path, fmt=fmt, encoding=encoding, headers=list(HEADERS), rows=0, last_line=1,
                      warnings={k: [] for k in WARNING_KINDS}, rejected={k: [] for k in REJECT_KINDS},
                      bad_values={}, params=params, history=tuple(history))
    if this_month is not None:
        number = start_number.__add__
        info.joiners = [str(number(i)) for i in this_month.joiners]
        info.leavers = sorted(str(number(i)) for i in this_month.leavers)
        info.changed = sorted(str(number(i)) for i in this_month.changed)
        info.docas_ended = sorted(str(number(i)) for i in this_month.docas_ended)

    xlsx = fmt == "xlsx"
    line = 1

    def records():
        nonlocal line
        breaks = pools.address_breaks
        for i in order:
            m = base_member(i) if i < rows else joiners[i]
            for change in month_changes.get(i, ()):
                _apply_change(m, change, pools)
            m.docas_ended_on = docas_ended_on.get(i)
            kind = malformed.get(i)
            row, bad = _row(m, str(start_number + i), pools, kind, xlsx)
            line += 1
            if kind is not None:
                (info.warnings if kind in WARNING_KINDS else info.rejected)[kind].append(line)
                info.bad_values[line] = (kind, bad)
            if not xlsx:
                line += breaks[m.address]
            yield row

    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Members")
        sheet.append(HEADERS)
        for row in records():
            sheet.append(row)
        book.save(path)
    else:
        # A Windows-1252 export writes "?" for what the code page lacks, as such systems do.
        with open(path, "w", encoding=encoding, errors="replace", newline="") as f:
            writer = csv.writer(f, lineterminator="\r\n")
            writer.writerow(HEADERS)
            writer.writerows(records())
    info.rows = len(order)
    info.last_line = line
    return info


def mutate_export(path, previous: ExportInfo, changes: ExportChanges | None = None, *,
                  fmt: str | None = None, encoding: str | None = None) -> ExportInfo:
    """Write the export one month after `previous`: same members, seed and malformed rows, with
    `changes` applied (leavers, joiners, changed jobs, DOCAS → direct debit)."""
    params = dict(previous.params)
    if fmt:
        params["fmt"] = fmt
    if encoding:
        params["encoding"] = encoding
    changes = changes or ExportChanges(seed=len(previous.history) + 2)
    rows = params.pop("rows")
    return write_export(path, rows, history=previous.history + (changes,), **params)

