"""The demo region's samples of the ONS postcode directory and of an MPs file, in the real layouts.

So `make run` looks up MPs offline: the demo build writes an NSPL-layout CSV holding every postcode
its contacts and workplaces use (plus a few terminated and Crown-dependency rows, as the real file
has) and an MPs CSV of fictional constituencies (codes E149xxxxx, which the ONS does not use),
fictional MPs and parties and example.org addresses, then loads both through the same loaders as
`crm load-postcodes` and `crm load-representatives`.
"""
from __future__ import annotations

import csv
import tempfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy import select, union

from ..campaigns import loaders
from ..contacts.models import Contact
from ..extensions import db
from ..region.models import Workplace
from . import data

DEMO_GENERATION = "demo"
DEMO_LABEL = "Demo constituencies (fictional MPs)"
DISTRICTS_PER_CONSTITUENCY = 5
_SUFFIXES = ("North", "South", "East", "West", "Central", "Riverside", "Outer")
_PARTIES = ("Harbour Party", "Moorland Alliance", "Pennine Co-operative", "Estuary Greens", "Independent")
_FIRST = ("Alex", "Bernie", "Cal", "Dana", "Eden", "Frankie", "Gale", "Harper", "Indy", "Jules", "Kit",
          "Lee", "Morgan", "Noor", "Ollie", "Pat", "Quinn", "Robin", "Sam", "Toni", "Val", "Wren")
_LAST = ("Ashdown", "Brookfield", "Carrow", "Dunmere", "Elderby", "Fellgate", "Greystone", "Hollinwood",
         "Inglemere", "Juniper", "Kestrel", "Lowfield", "Marlowe", "Northam", "Oakhurst", "Pendle",
         "Quarry", "Ridgeway", "Saltmarsh", "Thornbury", "Underhill", "Vale", "Westbrook")
# The NSPL's columns up to pcon (the loader ignores all but pcds, doterm and pcon).
NSPL_COLUMNS = ("pcd", "pcd2", "pcds", "dointr", "doterm", "usertype", "oseast1m", "osnrth1m", "osgrdind",
                "oa21", "cty", "ced", "laua", "ward", "nhser", "ctry", "rgn", "pcon", "ttwa", "itl", "lat", "long")
MPS_COLUMNS = ("Constituency code", "Constituency name", "Name", "Party", "Email", "Title")


@dataclass(frozen=True)
class DemoConstituency:
    code: str
    name: str
    districts: tuple[str, ...]
    mp_name: str
    party: str

    @property
    def email(self) -> str:
        return self.mp_name.lower().replace(" ", ".") + ".mp@example.org"


def demo_constituencies() -> list[DemoConstituency]:
    """The fictional constituencies: each demo area's postcode districts split into groups of about five."""
    out: list[DemoConstituency] = []
    for places, districts in data.AREAS.values():
        count = max(1, round(len(districts) / DISTRICTS_PER_CONSTITUENCY))
        size = -(-len(districts) // count)
        for i in range(count):
            n = len(out)
            name = places[0] if count == 1 else f"{places[0]} {_SUFFIXES[i]}"
            out.append(DemoConstituency(
                code=f"E149{n + 1:05d}", name=name, districts=tuple(districts[i * size:(i + 1) * size]),
                mp_name=f"{_FIRST[n % len(_FIRST)]} {_LAST[(n * 7) % len(_LAST)]}", party=_PARTIES[n % len(_PARTIES)]))
    return out


def write_representatives_csv(out: TextIO, constituencies: list[DemoConstituency]) -> None:
    """An MPs file in the layout `crm load-representatives` reads."""
    writer = csv.writer(out)
    writer.writerow(MPS_COLUMNS)
    for c in constituencies:
        writer.writerow([c.code, c.name, c.mp_name, c.party, c.email, "MP"])


def write_postcode_directory_csv(out: TextIO, postcodes: Iterable[str], constituencies: list[DemoConstituency]) -> None:
    """An NSPL-layout file for these postcodes, with terminated and Crown-dependency rows like the real one."""
    by_district = {d: c.code for c in constituencies for d in c.districts}
    codes = [c.code for c in constituencies]
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(NSPL_COLUMNS)
    live = sorted(set(postcodes))
    taken = set(live)
    for postcode in live:
        outward = postcode.split(" ")[0]
        # A district outside the demo areas (a hand-edited contact) still gets a stable constituency.
        code = by_district.get(outward) or codes[zlib.crc32(outward.encode()) % len(codes)]
        writer.writerow(_nspl_row(postcode, code))
    for district, code in list(by_district.items())[::10]:
        gone = f"{district} 9ZZ"
        if gone not in taken:
            writer.writerow(_nspl_row(gone, code, doterm="201712"))
    writer.writerow(_nspl_row("GY1 1AA", "L99999999", ctry="L93000001"))
    writer.writerow(_nspl_row("IM1 1AA", "M99999999", ctry="M83000003"))


def _nspl_row(postcode: str, pcon: str, *, doterm: str = "", ctry: str = "E92000001") -> list[str]:
    outward, inward = postcode.split(" ")
    return [f"{outward:<4}{inward}", f"{outward:<5}{inward}", postcode, "198001", doterm, "0", "", "", "1",
            "", "", "", "", "", "", ctry, "", pcon, "", "", "", ""]


def demo_postcodes() -> list[str]:
    """Every postcode the demo's contacts and workplaces use."""
    query = union(select(Contact.postcode).where(Contact.postcode.is_not(None)),
                  select(Workplace.postcode).where(Workplace.postcode.is_not(None)))
    return list(db.session.execute(query).scalars())


def load_demo_lookups(postcodes: Iterable[str] | None = None) -> tuple[loaders.PostcodeLoadReport,
                                                                      loaders.RepresentativeLoadReport]:
    """Write both sample files for the demo's postcodes and load them as the current boundaries; commits."""
    constituencies = demo_constituencies()
    postcodes = demo_postcodes() if postcodes is None else postcodes
    with tempfile.TemporaryDirectory(prefix="branchline-demo-lookups-") as folder:
        nspl, mps = Path(folder) / "NSPL_demo_UK.csv", Path(folder) / "demo_mps.csv"
        with open(nspl, "w", newline="", encoding="utf-8") as out:
            write_postcode_directory_csv(out, postcodes, constituencies)
        with open(mps, "w", newline="", encoding="utf-8") as out:
            write_representatives_csv(out, constituencies)
        postcode_report = loaders.load_postcodes(nspl, generation=DEMO_GENERATION, label=DEMO_LABEL)
        mps_report = loaders.load_representatives(mps, generation=DEMO_GENERATION)
    return postcode_report, mps_report


def ensure_demo_lookups() -> bool:
    """Load the samples into a demo database built before they existed (no boundaries yet); True if it did."""
    from ..auth.models import User
    from ..campaigns.geography import BoundaryGeneration
    from .service import DEMO_EMAIL_DOMAIN

    if db.session.execute(select(BoundaryGeneration.id).limit(1)).first() is not None:
        return False
    if db.session.execute(select(User.id).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}")).limit(1)).first() is None:
        return False  # a real installation: its operators load the real files
    load_demo_lookups()
    return True
