"""crm.imports.reader (CSV/XLSX streaming) and crm.imports.exportgen (generated exports)."""
from __future__ import annotations

import re
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from crm.imports.exportgen import (
    HEADERS,
    MALFORMED_KINDS,
    UNKNOWN_BRANCH_CODE,
    ExportChanges,
    mutate_export,
    write_export,
)
from crm.imports.mapping import guess_mapping
from crm.imports.reader import MAX_RECORD_LINES, SAMPLE_BYTES, UnreadableFile, open_table
from crm.normalise import (
    FieldError,
    normalise_email,
    normalise_membership_number,
    normalise_mobile,
    normalise_postcode,
    parse_date,
)

BRANCHES = ["NW-0101", "NW-0102", "NW-0103"]


def write(tmp_path, data: bytes, name: str = "export.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(path):
    with open_table(path) as table:
        return table.headers, list(table)


# ---------------------------------------------------------------------------------------------
# CSV text

def test_utf8_without_a_bom_is_read(tmp_path):
    path = write(tmp_path, "Membership No,Forename\n1001,Zoë\n".encode())
    assert read_all(path) == (["Membership No", "Forename"], [(2, ["1001", "Zoë"])])


def test_utf8_with_a_bom_loses_the_bom(tmp_path):
    path = write(tmp_path, "\ufeffMembership No,Forename\r\n1001,Siân\r\n".encode())
    headers, rows = read_all(path)
    assert headers == ["Membership No", "Forename"]
    assert rows == [(2, ["1001", "Siân"])]


def test_windows_1252_is_recognised(tmp_path):
    text = "Membership No,Surname,Employer,Subs\r\n1001,O’Brien,Café Ltd,£12\r\n1002,Renée,Crèche,£3\r\n"
    path = write(tmp_path, text.encode("cp1252"))
    with open_table(path) as table:
        assert table.encoding == "cp1252"
        assert list(table) == [(2, ["1001", "O’Brien", "Café Ltd", "£12"]), (3, ["1002", "Renée", "Crèche", "£3"])]


def test_a_stray_windows_1252_byte_after_the_sample_does_not_stop_the_file(tmp_path):
    filler = "".join(f"{n},Smith\r\n" for n in range(1000, 1000 + SAMPLE_BYTES // 8))
    data = ("Membership No,Surname\r\n" + filler).encode() + "9999,O’Brien £\r\n".encode("cp1252") + b"10000,Zo\xc3\xab\r\n"
    path = write(tmp_path, data)
    with open_table(path) as table:
        assert table.encoding == "utf-8"
        rows = list(table)
    assert rows[-2][1] == ["9999", "O’Brien £"]
    assert rows[-1][1] == ["10000", "Zoë"]
    assert rows[-1][0] == filler.count("\n") + 3


def test_excel_unicode_text_is_read_as_utf16_tab_separated(tmp_path):
    path = write(tmp_path, "Membership No\tSurname\r\n1001\tWiśniewska\r\n".encode("utf-16"), "export.txt")
    with open_table(path) as table:
        assert table.delimiter == "\t"
        assert list(table) == [(2, ["1001", "Wiśniewska"])]


def test_quoted_commas_and_line_breaks_keep_the_original_line_numbers(tmp_path):
    data = (
        'Membership No,Address,Employer\r\n'
        '1001,"Flat 2, 14 Park Road",Council\r\n'
        '1002,"Flat 3\r\n14 Park Road\r\nBootle",Council\r\n'
        '\r\n'
        '1003,"She said ""hello""",NHS\r\n'
        ',,\r\n'
        '1004,"Line\nbreak",NHS\n'
    ).encode()
    headers, rows = read_all(write(tmp_path, data))
    assert rows == [
        (2, ["1001", "Flat 2, 14 Park Road", "Council"]),
        (3, ["1002", "Flat 3\r\n14 Park Road\r\nBootle", "Council"]),
        (7, ["1003", 'She said "hello"', "NHS"]),
        (9, ["1004", "Line\nbreak", "NHS"]),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_the_delimiter_is_sniffed_from_the_first_lines(tmp_path, delimiter):
    lines = [["Membership No", "Surname", "Employer"], ["1001", "Smith, Jones", "Council"], ["1002", "Khan", "NHS"]]
    text = "\n".join(delimiter.join(f'"{v}"' if "," in v and delimiter == "," else v for v in line) for line in lines)
    with open_table(write(tmp_path, text.encode())) as table:
        assert table.delimiter == delimiter
        assert table.headers == lines[0]
        assert [values for _, values in table] == lines[1:]


def test_short_rows_are_padded_and_long_rows_cut_and_noted(tmp_path):
    data = b"Membership No,Surname,Email\n1001,Smith\n1002,Khan,k@x.org,extra,more\n1003,Lee,l@x.org,,\n"
    with open_table(write(tmp_path, data)) as table:
        rows = list(table)
        assert rows == [(2, ["1001", "Smith", ""]), (3, ["1002", "Khan", "k@x.org"]), (4, ["1003", "Lee", "l@x.org"])]
        assert table.overlong_lines == [3]
        assert table.overlong_count == 1


def test_trailing_blank_headers_are_dropped(tmp_path):
    headers, rows = read_all(write(tmp_path, b"Membership No,Surname,,\n1001,Smith,,\n"))
    assert headers == ["Membership No", "Surname"]
    assert rows == [(2, ["1001", "Smith"])]


def test_blank_lines_before_the_header_are_skipped(tmp_path):
    with open_table(write(tmp_path, b"\n,,\nMembership No,Surname\n1001,Smith\n")) as table:
        assert table.header_line == 3
        assert list(table) == [(4, ["1001", "Smith"])]


def test_count_rows_counts_records_not_lines(tmp_path):
    data = b'Membership No,Address\n1001,"a\nb"\n\n1002,c\n1003,d'
    with open_table(write(tmp_path, data)) as table:
        assert table.count_rows() == 3
        assert len(list(table)) == 3


def test_a_table_is_read_once(tmp_path):
    with open_table(write(tmp_path, b"Email\na@b.org\n")) as table:
        list(table)
        with pytest.raises(RuntimeError):
            list(table)


def test_an_unclosed_quote_makes_the_file_unreadable_from_that_line(tmp_path):
    body = "".join(f"{n},x\n" for n in range(1001, 1001 + MAX_RECORD_LINES + 5))
    data = f'Membership No,Surname\n1000,"Smith\n{body}'.encode()
    with open_table(write(tmp_path, data)) as table:
        with pytest.raises(UnreadableFile, match=r"^Line 2 has a quote mark"):
            table.count_rows()
        with pytest.raises(UnreadableFile, match=r"^Line 2 has a quote mark"):
            list(table)


# ---------------------------------------------------------------------------------------------
# XLSX

def make_xlsx(path, rows, *, sheet_title="Export"):
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_is_streamed_from_the_first_sheet_with_sheet_row_numbers(tmp_path):
    path = make_xlsx(tmp_path / "export.xlsx", [
        ["Membership No", "Forename", "Join Date", None],
        [12345678.0, "Jo", datetime(2024, 3, 1)],
        [None, None, None],
        ["00012345", "Sam", "01/03/2024"],
        [87654321, None, 45352],
    ])
    with open_table(path) as table:
        assert table.kind == "xlsx"
        assert table.headers == ["Membership No", "Forename", "Join Date"]
        assert table.count_rows() == 3
        rows = list(table)
    assert [line for line, _ in rows] == [2, 4, 5]
    (_, first), (_, second), (_, third) = rows
    assert normalise_membership_number(first[0]) == "12345678"
    assert first[1] == "Jo" and parse_date(first[2]) == date(2024, 3, 1)
    assert second == ["00012345", "Sam", "01/03/2024"]
    assert third[1] == "" and parse_date(third[2]) == date(2024, 3, 1)


def test_xlsx_is_recognised_by_its_bytes_not_its_name(tmp_path):
    path = make_xlsx(tmp_path / "export.csv", [["Email"], ["jo@example.org"]])
    with open_table(path) as table:
        assert table.kind == "xlsx"
        assert list(table) == [(2, ["jo@example.org"])]


def test_xlsx_rows_are_counted_and_the_header_may_start_lower(tmp_path):
    path = make_xlsx(tmp_path / "export.xlsx", [[], ["Membership No", "Email"], [1, "a@b.org"], [2, "c@d.org"]])
    with open_table(path) as table:
        assert table.header_line == 2
        assert table.count_rows() == 2
        assert [line for line, _ in table] == [3, 4]


def test_xlsx_with_wrong_stored_dimensions_is_read_in_full(tmp_path):
    path = make_xlsx(tmp_path / "export.xlsx", [["Membership No"], [1], [2], [3]])
    # Some writers never update <dimension>; openpyxl would trust it and stop early.
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(r'<dimension ref="A1:A4"\s*/>', '<dimension ref="A1:A2"/>', sheet).encode()
    assert parts["xl/worksheets/sheet1.xml"] != sheet.encode()
    with zipfile.ZipFile(path, "w") as out:
        for name, data in parts.items():
            out.writestr(name, data)
    with open_table(path) as table:
        assert [values for _, values in table] == [[1], [2], [3]]


# ---------------------------------------------------------------------------------------------
# Files that cannot be read at all

def _zip(path, files: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("data, message", [
    (b"", "The file is empty."),
    (b"  \r\n\r\n", "The file is empty."),
    (b"\xef\xbb\xbf", "The file is empty."),
    (b",,,\r\n,,\r\n", "The file is empty."),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "This looks like a PDF, not a CSV or Excel file."),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "This looks like an image, not a CSV or Excel file."),
    (b"\x1f\x8b\x08\x00", "This is a compressed (gzip) file: unzip it and upload the CSV or Excel file inside."),
    (bytes(range(256)) * 20, "This file doesn't look like text, so it isn't a CSV or Excel file we can read."),
    (b"<!DOCTYPE html><html><table>", "This looks like a web page (HTML), not a CSV or Excel file: "
                                      "open it in Excel and save it as .xlsx or CSV."),
    (b"10012345,Jo,Smith,jo@example.org\n10012346,Sam,Khan,sam@example.org\n",
     "Line 1 should hold the column names (like Membership No, Forename, Surname) but looks like data: "
     "add a header row and upload the file again."),
])
def test_unreadable_files_get_one_clear_sentence(tmp_path, data, message):
    path = write(tmp_path, data)
    with pytest.raises(UnreadableFile) as excinfo:
        open_table(path)
    assert str(excinfo.value) == message


def test_an_old_xls_file_is_refused_with_what_to_do(tmp_path):
    path = write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "Workbook".encode("utf-16-le"), "a.xls")
    with pytest.raises(UnreadableFile, match=r"^This is an old-style Excel file \(\.xls\): open it in Excel"):
        open_table(path)


def test_a_password_protected_xlsx_is_named_as_such(tmp_path):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64
    with pytest.raises(UnreadableFile, match=r"^This Excel file is protected with a password"):
        open_table(write(tmp_path, data, "export.xlsx"))


@pytest.mark.parametrize("files, message", [
    ({"members.csv": b"Email\na@b.org\n"}, "This is a zip archive, not an Excel workbook"),
    ({"word/document.xml": b"<w/>"}, "This looks like a Word document"),
    ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}, "This is an OpenDocument spreadsheet"),
    ({"xl/workbook.xml": b"not xml at all"}, "This Excel file is damaged and cannot be opened"),
])
def test_a_zip_that_is_not_a_readable_workbook_is_refused(tmp_path, files, message):
    path = _zip(tmp_path / "export.xlsx", files)
    with pytest.raises(UnreadableFile) as excinfo:
        open_table(path)
    assert str(excinfo.value).startswith(message)


def test_an_xlsx_whose_first_sheet_is_empty_is_refused(tmp_path):
    path = make_xlsx(tmp_path / "export.xlsx", [])
    with pytest.raises(UnreadableFile, match="^The first sheet of the workbook is empty.$"):
        open_table(path)


# ---------------------------------------------------------------------------------------------
# Generated exports read back exactly

def _normalise_kind(kind, values, columns):
    """Apply the normaliser for a malformed kind to the row; True if it refuses the value."""
    fn, column = {
        "mobile": (normalise_mobile, "Mobile"), "email": (normalise_email, "Email"),
        "postcode": (normalise_postcode, "Home Postcode"), "joined_on": (parse_date, "Join Date"),
    }[kind]
    try:
        fn(values[columns[column]])
    except FieldError:
        return True
    return False


def test_a_generated_export_reads_back_with_its_malformed_rows_on_the_reported_lines(tmp_path):
    info = write_export(tmp_path / "export.csv", 2000, seed=7, malformed_share=0.03, branch_codes=BRANCHES)
    assert info.rows == 2000
    assert sum(len(v) for v in info.warnings.values()) + sum(len(v) for v in info.rejected.values()) == 60
    assert all(info.warnings[k] for k in MALFORMED_KINDS[:4]) and all(info.rejected[k] for k in MALFORMED_KINDS[4:])
    columns = {h: i for i, h in enumerate(HEADERS)}
    with open_table(info.path) as table:
        assert table.headers == HEADERS
        assert table.count_rows() == 2000
        rows = dict(table)
    assert len(rows) == 2000
    assert max(rows) == info.last_line > 2001  # some addresses span two lines
    for line, (kind, bad) in info.bad_values.items():
        values = rows[line]
        if kind in ("mobile", "email", "postcode", "joined_on"):
            assert bad in values
            assert _normalise_kind(kind, values, columns), (line, kind, bad)
            assert normalise_membership_number(values[columns["Membership No"]])
        elif kind == "no_identity":
            assert not any(values[columns[c]] for c in ("Membership No", "Email", "Mobile"))
        else:
            assert values[columns["Branch Code"]] == UNKNOWN_BRANCH_CODE
    # Every other row is clean: the identity, contact and date fields all normalise.
    for line, values in rows.items():
        if line in info.bad_values:
            continue
        assert normalise_membership_number(values[columns["Membership No"]])
        assert values[columns["Branch Code"]] in BRANCHES
        normalise_mobile(values[columns["Mobile"]])
        normalise_email(values[columns["Email"]])
        normalise_postcode(values[columns["Home Postcode"]])
        parse_date(values[columns["Join Date"]])


def test_a_generated_export_is_the_same_every_time(tmp_path):
    a = write_export(tmp_path / "a.csv", 300, seed=3, branch_codes=BRANCHES, malformed_share=0.05)
    b = write_export(tmp_path / "b.csv", 300, seed=3, branch_codes=BRANCHES, malformed_share=0.05)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.bad_values == b.bad_values


def test_a_generated_windows_1252_export_reads_back(tmp_path):
    info = write_export(tmp_path / "export.csv", 500, branch_codes=BRANCHES, encoding="cp1252")
    with open_table(info.path) as table:
        assert table.encoding == "cp1252"
        surnames = {values[3] for _, values in table}
    assert "O’Connor" in surnames or "O’CONNOR" in surnames


def test_a_generated_xlsx_export_reads_back_with_sheet_rows(tmp_path):
    info = write_export(tmp_path / "export.xlsx", 300, fmt="xlsx", malformed_share=0.04, branch_codes=BRANCHES)
    columns = {h: i for i, h in enumerate(HEADERS)}
    with open_table(info.path) as table:
        assert table.count_rows() == 300
        rows = dict(table)
    assert sorted(rows) == list(range(2, 302)) and info.last_line == 301
    for line, (kind, _bad) in info.bad_values.items():
        if kind in ("mobile", "email", "postcode", "joined_on"):
            assert _normalise_kind(kind, rows[line], columns)
    clean = next(v for line, v in rows.items() if line not in info.bad_values)
    assert isinstance(clean[columns["Join Date"]], datetime)
    assert isinstance(clean[columns["Membership No"]], int)


def test_next_months_export_has_the_joiners_leavers_and_changes_it_reports(tmp_path):
    columns = {h: i for i, h in enumerate(HEADERS)}
    first = write_export(tmp_path / "jan.csv", 1000, seed=5, branch_codes=BRANCHES)
    second = mutate_export(tmp_path / "feb.csv", first, ExportChanges(leavers=0.02, joiners=0.03, changed=0.04,
                                                                       docas_ended=0.02, seed=9))

    def by_number(info):
        with open_table(info.path) as table:
            return {values[0]: values for _, values in table if values[0]}

    before, after = by_number(first), by_number(second)
    assert len(second.leavers) == 20 and len(second.joiners) == 30
    assert len(second.changed) == 40 and len(second.docas_ended) == 20
    assert set(before) - set(after) == set(second.leavers)
    assert set(after) - set(before) == set(second.joiners)
    watched = ("Employer", "Workplace", "Job Title")
    for number in set(before) & set(after):
        moved = any(before[number][columns[c]] != after[number][columns[c]] for c in watched)
        assert moved == (number in second.changed), number
        off_docas = parse_date(after[number][columns["DOCAS End Date"]]) is not None
        assert off_docas == (number in second.docas_ended), number
        if off_docas:
            assert after[number][columns["Payment Method"]] in ("Direct Debit", "DD", "direct debit")
        unchanged = [i for i, h in enumerate(HEADERS) if h not in (*watched, "Payment Method", "DOCAS End Date")]
        assert [before[number][i] for i in unchanged] == [after[number][i] for i in unchanged]
    # The malformed rows are the same members, on their new lines.
    assert len(second.bad_values) == len(first.bad_values)

    third = mutate_export(tmp_path / "mar.csv", second)
    assert set(by_number(second)) - set(by_number(third)) == set(third.leavers)
    assert not set(third.joiners) & set(second.joiners)


def test_the_generated_headers_are_mapped_without_help():
    assert len(guess_mapping(HEADERS).fields) == 14
