"""Loading the ONS postcode directory and the MPs file: streaming, reporting, boundary generations."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.campaigns import loaders
from crm.campaigns.geography import BoundaryGeneration, Constituency, GenerationStatus, PostcodeConstituency
from crm.campaigns.lookup import LookupStatus, find_constituency

# The NSPL's real header (abridged to its first columns and the ones we read).
NSPL_HEADER = ["pcd", "pcd2", "pcds", "dointr", "doterm", "usertype", "oseast1m", "osnrth1m", "oa21", "laua",
               "ward", "ctry", "rgn", "pcon", "lat", "long", "icb"]


def nspl_row(postcode: str, pcon: str, doterm: str = "") -> list[str]:
    outward, _, inward = postcode.rpartition(" ") if " " in postcode else (postcode, "", "")
    return [f"{outward:<4}{inward}", f"{outward:<4} {inward}", postcode, "198001", doterm, "0", "334000", "389000",
            "E00033000", "E08000012", "E05015300", "E92000001", "E12000002", pcon, "53.39", "-2.96", "E54000008"]


def write_nspl(path: Path, rows: list[list[str]], header: list[str] | None = None, *, bom: bool = False) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(header or NSPL_HEADER)
        writer.writerows(rows)
    return path


def write_mps(path: Path, rows: list[list[str]],
              header=("Constituency code", "Constituency name", "Name", "Party", "Email")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    from crm.extensions import db

    return db.session.execute(query).scalar_one()


# ------------------------------------------------------------------------------------ postcodes

def test_terminated_postcodes_are_skipped_and_live_ones_loaded(tmp_path):
    path = write_nspl(tmp_path / "nspl.csv", [
        nspl_row("L8 7SS", "E14001345"),
        nspl_row("L8 7ST", "E14001345", doterm="200012"),
        nspl_row("L1 8JQ", "E14001346"),
    ])

    report = loaders.load_postcodes(path, generation="2024", label="2024 constituencies")

    assert (report.rows_read, report.loaded, report.skipped_terminated, report.bad) == (3, 2, 1, 0)
    assert report.is_current
    assert find_constituency("L8 7SS").constituency.code == "E14001345"
    assert find_constituency("L8 7ST").status is LookupStatus.NOT_FOUND
    assert report.constituencies == 2


def test_bad_rows_are_reported_with_their_line_numbers_and_good_rows_kept(tmp_path):
    path = write_nspl(tmp_path / "nspl.csv", [
        nspl_row("L8 7SS", "E14001345"),          # line 2
        nspl_row("NOT A PC", "E14001345"),        # line 3
        nspl_row("L1 8JQ", "X123"),               # line 4
        nspl_row("L8 7SS", "E14001345"),          # line 5: a second row for the same postcode
        ["L9 1AA", "L9  1AA"],                    # line 6: cut short
        nspl_row("L9 1AE", "E14001347"),          # line 7
    ])

    report = loaders.load_postcodes(path, generation="2024")

    assert report.loaded == 2 and report.bad == 4
    assert [(b.line, b.reason) for b in report.bad_rows] == [
        (3, "postcode 'NOT A PC' is not a valid UK postcode"),
        (4, "pcon 'X123' is not an ONS constituency code (like E14001234)"),
        (5, "postcode L8 7SS appears earlier in the file; the first row was kept"),
        (6, f"has 2 fields; the header has at least {NSPL_HEADER.index('pcon') + 1}"),
    ]
    assert find_constituency("L9 1AE").constituency.code == "E14001347"


def test_only_the_first_bad_rows_are_listed_but_all_are_counted(tmp_path):
    path = write_nspl(tmp_path / "nspl.csv", [nspl_row("BAD", "E14001345") for _ in range(30)]
                      + [nspl_row("L8 7SS", "E14001345")])

    report = loaders.load_postcodes(path, generation="2024", max_bad_reported=5)

    assert report.bad == 30 and [b.line for b in report.bad_rows] == [2, 3, 4, 5, 6]
    assert "Bad rows (first 5 of 30):" in report.summary_lines()


def test_header_names_are_read_in_any_case_and_a_bom_is_ignored(tmp_path):
    header = [h.upper() for h in NSPL_HEADER]
    path = write_nspl(tmp_path / "nspl.csv", [nspl_row("L8 7SS", "E14001345")], header=header, bom=True)

    report = loaders.load_postcodes(path, generation="2024")

    assert report.loaded == 1 and report.bad == 0


def test_postcodes_in_other_spellings_are_normalised(tmp_path):
    # An extract with only the 7-character pcd column and a pcon24cd-style constituency column.
    path = write_nspl(tmp_path / "extract.csv", [["L8  7SS", "E14001345"], ["l87st", "E14001345"]],
                      header=["PCD", "PCON24CD"])

    report = loaders.load_postcodes(path, generation="2024")

    assert report.loaded == 2
    assert "No doterm column: every row was taken as a live postcode." in report.notes
    assert find_constituency("L8 7ST").found is False  # no MP yet, but the constituency is known
    assert find_constituency("L8 7ST").constituency.code == "E14001345"


def test_crown_dependency_and_pseudo_constituency_rows_are_skipped_not_bad(tmp_path):
    path = write_nspl(tmp_path / "nspl.csv", [
        nspl_row("GY1 1AA", "L99999999"), nspl_row("IM1 1AA", "M99999999"), nspl_row("L8 7SS", ""),
        nspl_row("L8 7ST", "E14001345"),
    ])

    report = loaders.load_postcodes(path, generation="2024")

    assert (report.loaded, report.skipped_no_constituency, report.bad) == (1, 3, 0)


def test_undecodable_bytes_spoil_only_their_own_row(tmp_path):
    path = write_nspl(tmp_path / "nspl.csv", [nspl_row("L8 7SS", "E14001345")])
    with open(path, "ab") as out:
        out.write(b'"L8 7S\xff","","L8 7S\xff","","","","","","","","","","","E14001345","","",""\r\n')

    report = loaders.load_postcodes(path, generation="2024")

    assert report.loaded == 1 and report.bad == 1 and report.bad_rows[0].line == 3


def test_small_batches_load_the_same_rows(tmp_path):
    rows = [nspl_row(f"L{d} {n}AB", f"E1400{d:04d}") for d in range(1, 11) for n in range(10)]
    path = write_nspl(tmp_path / "nspl.csv", rows)
    seen = []

    report = loaders.load_postcodes(path, generation="2024", batch_size=7, progress=lambda r: seen.append(r.loaded))

    assert report.loaded == 100 and _count(PostcodeConstituency) == 100
    assert seen[:2] == [7, 14]


def test_a_file_without_the_columns_is_refused_and_changes_nothing(tmp_path):
    path = write_mps(tmp_path / "mps.csv", [["E14001345", "Somewhere", "Jo Example", "Party", "jo@example.org"]])

    with pytest.raises(loaders.LoadError, match="no pcds or pcon column"):
        loaders.load_postcodes(path, generation="2024")

    assert _count(BoundaryGeneration) == 0


def test_missing_empty_or_zipped_files_are_refused(tmp_path):
    with pytest.raises(loaders.LoadError, match="could not be read"):
        loaders.load_postcodes(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(loaders.LoadError, match="the file is empty"):
        loaders.load_postcodes(tmp_path / "empty.csv")
    (tmp_path / "nspl.zip").write_bytes(b"PK\x03\x04rest of a zip")
    with pytest.raises(loaders.LoadError, match="unzip it"):
        loaders.load_postcodes(tmp_path / "nspl.zip")


def test_a_load_that_fails_half_way_leaves_the_previous_boundaries_in_place(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "old.csv", [nspl_row("L8 7SS", "E14000001")]), generation="2024")
    rows = [nspl_row(f"L8 {n}AB", "E14000002") for n in range(10)] + [nspl_row("L8 7SS", "E14000002" + "x" * 200_000)]
    path = write_nspl(tmp_path / "broken.csv", rows)

    with pytest.raises(loaders.LoadError, match="line 12 could not be read as CSV"):
        loaders.load_postcodes(path, generation="2024", batch_size=3)

    assert find_constituency("L8 7SS").constituency.code == "E14000001"
    assert _count(BoundaryGeneration) == 1 and _count(PostcodeConstituency) == 1


def test_lookups_never_see_a_generation_while_it_loads(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "old.csv", [nspl_row("L8 7SS", "E14000001")]), generation="2024")
    rows = [nspl_row("L8 7SS", "E14000002")] + [nspl_row(f"L9 {n}AB", "E14000002") for n in range(10)]
    during = []

    loaders.load_postcodes(write_nspl(tmp_path / "new.csv", rows), generation="2024", batch_size=2,
                           progress=lambda r: during.append(find_constituency("L8 7SS").constituency.code))

    assert during and set(during) == {"E14000001"}
    assert find_constituency("L8 7SS").constituency.code == "E14000002"
    assert _count(BoundaryGeneration) == 1  # the replaced load is gone
    assert _count(PostcodeConstituency) == 11


def test_a_reload_of_the_same_generation_keeps_its_mps_and_names(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "may.csv", [nspl_row("L8 7SS", "E14001345")]),
                           generation="2024", label="2024 constituencies")
    loaders.load_representatives(write_mps(tmp_path / "mps.csv", [
        ["E14001345", "Liverpool Riverside", "Jo Example", "Harbour Party", "jo.example@example.org"]]))

    report = loaders.load_postcodes(write_nspl(tmp_path / "june.csv", [
        nspl_row("L8 7SS", "E14001345"), nspl_row("L8 9ZZ", "E14001345")]), generation="2024")

    assert report.replaced_earlier_load and report.label == "2024 constituencies"
    found = find_constituency("L8 9ZZ")
    assert found.found and found.representative.name == "Jo Example"
    assert found.constituency.name == "Liverpool Riverside"


def test_new_boundaries_become_current_and_the_old_stay_queryable_by_code(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "2019.csv", [nspl_row("L8 7SS", "E14000793")]),
                           generation="2019", label="2019 constituencies")
    loaders.load_representatives(write_mps(tmp_path / "2019mps.csv", [
        ["E14000793", "Liverpool, Riverside", "Old Example", "Harbour Party", "old@example.org"]]))

    loaders.load_postcodes(write_nspl(tmp_path / "2024.csv", [nspl_row("L8 7SS", "E14001345")]),
                           generation="2024", label="2024 constituencies")

    assert find_constituency("L8 7SS").constituency.code == "E14001345"
    assert find_constituency("L8 7SS").status is LookupStatus.NO_REPRESENTATIVE  # new MPs not loaded yet
    old = find_constituency("L8 7SS", generation="2019")
    assert old.found and old.representative.name == "Old Example" and old.generation == "2019"
    assert [g.code for g in loaders.generations()] == ["2024", "2019"]


def test_keep_current_loads_beside_and_switching_later_changes_lookups(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "2019.csv", [nspl_row("L8 7SS", "E14000793")]), generation="2019")

    report = loaders.load_postcodes(write_nspl(tmp_path / "2024.csv", [nspl_row("L8 7SS", "E14001345")]),
                                    generation="2024", make_current=False)

    assert not report.is_current
    assert find_constituency("L8 7SS").constituency.code == "E14000793"
    loaders.set_current_generation("2024")
    assert find_constituency("L8 7SS").constituency.code == "E14001345"
    with pytest.raises(loaders.LoadError):
        loaders.set_current_generation("2031")


def test_the_first_load_is_current_even_with_keep_current(tmp_path):
    report = loaders.load_postcodes(write_nspl(tmp_path / "nspl.csv", [nspl_row("L8 7SS", "E14001345")]),
                                    make_current=False)

    assert report.is_current and report.generation == loaders.DEFAULT_GENERATION
    assert "there were no current boundaries" in report.notes[-1]


def test_a_reload_with_no_code_reloads_the_current_generation(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "a.csv", [nspl_row("L8 7SS", "E14001345")]), generation="2024")

    report = loaders.load_postcodes(write_nspl(tmp_path / "b.csv", [nspl_row("L8 7SS", "E14001345")]))

    assert report.generation == "2024" and report.replaced_earlier_load
    from crm.extensions import db

    assert db.session.execute(select(BoundaryGeneration.status)).scalars().all() == [GenerationStatus.READY]


# ------------------------------------------------------------------------------------ MPs

@pytest.fixture
def boundaries(tmp_path):
    return loaders.load_postcodes(write_nspl(tmp_path / "nspl.csv", [
        nspl_row("L8 7SS", "E14001345"), nspl_row("L1 8JQ", "E14001346"), nspl_row("L9 1AE", "E14001347"),
    ]), generation="2024")


def test_representatives_are_loaded_with_names_and_bad_rows_reported(boundaries, tmp_path):
    path = write_mps(tmp_path / "mps.csv", [
        ["E14001345", "Liverpool Riverside", "Jo Example", "Harbour Party", "Jo.Example@Example.org"],  # 2
        ["E14001346", "Liverpool Central", "Sam Example", "Moorland Alliance", "not-an-email"],         # 3
        ["E14009999", "Nowhere", "Ash Example", "Independent", "ash@example.org"],                     # 4
        ["E14001347", "Liverpool Walton", "", "", ""],                                                 # 5: vacant
        ["E14001345", "Liverpool Riverside", "Twice Example", "Party", "twice@example.org"],           # 6
        ["", "", "Nobody", "", "nobody@example.org"],                                                  # 7
    ])

    report = loaders.load_representatives(path)

    assert (report.rows_read, report.loaded, report.vacant, report.bad, report.names_set) == (6, 1, 1, 4, 3)
    assert [(b.line, b.reason) for b in report.bad_rows] == [
        (3, "email 'not-an-email' is not a valid email address"),
        (4, "constituency E14009999 is not in the boundaries '2024'"),
        (6, "constituency E14001345 already has a row (line 2)"),
        (7, "has no constituency code"),
    ]
    found = find_constituency("L8 7SS")
    assert found.representative.email == "Jo.Example@example.org" and found.representative.title == "MP"
    vacant = find_constituency("L9 1AE")
    assert vacant.status is LookupStatus.NO_REPRESENTATIVE and vacant.constituency.name == "Liverpool Walton"


def test_a_new_mps_file_replaces_the_old_one(boundaries, tmp_path):
    loaders.load_representatives(write_mps(tmp_path / "a.csv", [
        ["E14001345", "", "Jo Example", "Harbour Party", "jo@example.org"],
        ["E14001346", "", "Sam Example", "Harbour Party", "sam@example.org"]]))

    report = loaders.load_representatives(write_mps(tmp_path / "b.csv", [
        ["E14001345", "", "Kim Example", "Moorland Alliance", "kim@example.org"]]))

    assert report.replaced == 2 and report.loaded == 1
    assert find_constituency("L8 7SS").representative.name == "Kim Example"
    assert find_constituency("L1 8JQ").status is LookupStatus.NO_REPRESENTATIVE


def test_an_mps_file_with_other_headers_and_a_title_column_is_understood(boundaries, tmp_path):
    path = write_mps(tmp_path / "mps.csv", [["Jo Example", "jo@example.org", "e14001345", "Rt Hon", "Harbour"]],
                     header=("MP name", "E-mail", "PCON24CD", "Title", "Party"))

    loaders.load_representatives(path)

    rep = find_constituency("L8 7SS").representative
    assert (rep.name, rep.title, rep.party) == ("Jo Example", "Rt Hon", "Harbour")


def test_an_mps_file_with_no_usable_row_keeps_the_mps_already_loaded(boundaries, tmp_path):
    loaders.load_representatives(write_mps(tmp_path / "a.csv", [
        ["E14001345", "", "Jo Example", "Harbour Party", "jo@example.org"]]))

    with pytest.raises(loaders.LoadError, match="no usable rows.*line 2: email 'x' is not a valid"):
        loaders.load_representatives(write_mps(tmp_path / "b.csv", [["E14001345", "", "Kim", "P", "x"]]))

    assert find_constituency("L8 7SS").representative.name == "Jo Example"


def test_mps_need_boundaries_and_the_right_columns(tmp_path):
    path = write_mps(tmp_path / "mps.csv", [["E14001345", "", "Jo Example", "Harbour Party", "jo@example.org"]])
    with pytest.raises(loaders.LoadError, match="run `crm load-postcodes` first"):
        loaders.load_representatives(path)
    loaders.load_postcodes(write_nspl(tmp_path / "nspl.csv", [nspl_row("L8 7SS", "E14001345")]), generation="2024")
    with pytest.raises(loaders.LoadError, match="no loaded boundaries with code '2019'"):
        loaders.load_representatives(path, generation="2019")
    with pytest.raises(loaders.LoadError, match="has no email column"):
        loaders.load_representatives(write_mps(tmp_path / "x.csv", [["E14001345", "Jo"]], header=("code", "name")))
    assert _count(Constituency) == 1


# ------------------------------------------------------------------------------------ CLI

def test_cli_load_postcodes_prints_the_summary_and_bad_lines(runner, tmp_path):
    path = write_nspl(tmp_path / "nspl.csv", [nspl_row("L8 7SS", "E14001345"), nspl_row("XX", "E14001345"),
                                              nspl_row("L8 7ST", "E14001345", doterm="201001")])

    result = runner.invoke(args=["crm", "load-postcodes", str(path), "--generation", "2024",
                                 "--label", "2024 constituencies"])

    assert result.exit_code == 0, result.output
    assert "Loaded boundaries '2024' (2024 constituencies) from nspl.csv: now current." in result.output
    assert ("Rows read 3; postcodes loaded 1; terminated (skipped) 1; no constituency (skipped) 0; bad 1."
            in result.output)
    assert "rows/s" in result.output
    assert "  line 3: postcode 'XX' is not a valid UK postcode" in result.output


def test_cli_load_postcodes_exits_non_zero_for_an_unreadable_file(runner, tmp_path):
    result = runner.invoke(args=["crm", "load-postcodes", str(tmp_path / "missing.csv")])

    assert result.exit_code == 1
    assert "Nothing was loaded:" in result.output and "could not be read" in result.output


def test_cli_load_representatives_and_boundaries(runner, tmp_path):
    runner.invoke(args=["crm", "load-postcodes", str(write_nspl(tmp_path / "n.csv", [nspl_row("L8 7SS", "E14001345")])),
                        "--generation", "2024"])
    path = write_mps(tmp_path / "mps.csv", [["E14001345", "Liverpool Riverside", "Jo Example", "Harbour Party",
                                             "jo@example.org"], ["E14001345", "", "Two", "", "two@example.org"]])

    result = runner.invoke(args=["crm", "load-representatives", str(path)])

    assert result.exit_code == 0, result.output
    assert "Loaded 1 MPs for boundaries '2024' from mps.csv (replacing 0)." in result.output
    assert "  line 3: constituency E14001345 already has a row (line 2)" in result.output
    listing = runner.invoke(args=["crm", "boundaries"])
    assert listing.exit_code == 0 and "* 2024" in listing.output
    assert runner.invoke(args=["crm", "boundaries", "--make-current", "1999"]).exit_code == 1
    bad = runner.invoke(args=["crm", "load-representatives", str(tmp_path / "nope.csv")])
    assert bad.exit_code == 1 and "Nothing was changed" in bad.output


def test_a_file_with_no_live_postcodes_never_replaces_working_boundaries(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "good.csv", [nspl_row("L8 7SS", "E14001345")]), generation="2024")

    with pytest.raises(loaders.LoadError, match="no live postcodes with a constituency"):
        loaders.load_postcodes(write_nspl(tmp_path / "header-only.csv", []), generation="2024")
    with pytest.raises(loaders.LoadError, match="1 terminated"):
        loaders.load_postcodes(write_nspl(tmp_path / "all-gone.csv", [nspl_row("L8 7SS", "E14001345", "201001")]),
                               generation="2024")

    assert find_constituency("L8 7SS").constituency.code == "E14001345"
    assert _count(BoundaryGeneration) == 1


def test_a_reload_much_smaller_than_the_load_it_replaces_is_pointed_out(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "full.csv", [nspl_row(f"L8 {n}AB", "E14001345") for n in range(10)]),
                           generation="2024")

    report = loaders.load_postcodes(write_nspl(tmp_path / "part.csv", [nspl_row("L8 1AB", "E14001345")]),
                                    generation="2024")

    assert "Check the file: it has 1 postcodes; the load it replaced had 10." in report.summary_lines()


def test_the_rows_of_a_load_that_never_finished_are_cleared_by_the_next(tmp_path):
    from crm.database import bulk_insert
    from crm.extensions import db

    crashed = BoundaryGeneration(code="2024", label="2024", status=GenerationStatus.LOADING)
    db.session.add(crashed)
    db.session.flush()
    bulk_insert("postcode_constituency", ["generation_id", "postcode", "constituency_code"],
                [(crashed.id, "L8 7SS", "E14000001"), (crashed.id, "L8 7ST", "E14000001")])
    db.session.commit()

    report = loaders.load_postcodes(write_nspl(tmp_path / "nspl.csv", [nspl_row("L8 7SS", "E14001345")]),
                                    generation="2024")

    assert "Removed the rows of an earlier load of this generation that did not finish." in report.notes
    assert _count(BoundaryGeneration) == 1 and _count(PostcodeConstituency) == 1
    assert find_constituency("L8 7SS").constituency.code == "E14001345"
