"""Stream the rows of a membership export (CSV or XLSX) without loading the file into memory.

`open_table(path)` looks at the file's first bytes (not its name) to tell an Excel workbook from
a CSV, and gives a `Table`: its `headers`, and an iterator of `(line_number, values)` where the
line number is where the record starts in the original file (header = line 1; the sheet row for
XLSX), so a report can point the user at the exact line. A file that cannot be read at all raises
`UnreadableFile` with one plain sentence for the user.

CSV text is UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode text"), or
Windows-1252. The choice is made per file from a sample; a UTF-8 file with a stray Windows-1252
byte further down still reads, that byte decoded as Windows-1252, because the UTF-8 decoder's
error handler does it as it streams. The csv module (C) does the parsing. Pure Python: no Flask,
no database.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import warnings
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

__all__ = ["UnreadableFile", "Table", "CsvTable", "XlsxTable", "open_table"]

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
# A quoted field spanning more physical lines than this is an unclosed quote, not an address.
MAX_RECORD_LINES = 100
_KEEP_LINES = 1000  # line numbers kept for rows with values beyond the last header


class UnreadableFile(Exception):
    """The file cannot be read as a table at all; the message is one sentence for the user."""


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 refused as Windows-1252 (the other encoding exports come in)."""
    if isinstance(exc, UnicodeDecodeError):
        bad = exc.object[exc.start:exc.end]
        return bad.decode("cp1252", errors="replace"), exc.end
    raise exc


_FALLBACK = "branchline.cp1252-fallback"
codecs.register_error(_FALLBACK, _cp1252_fallback)


# ---------------------------------------------------------------------------------------------
# Telling what a file is

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_WORD_DOCUMENT = "WordDocument".encode("utf-16-le")


def _not_a_table(head: bytes, path: Path) -> str | None:
    """The reason a file whose first bytes are `head` is plainly not a CSV or workbook, or None."""
    if head.startswith(b"%PDF"):
        return "This looks like a PDF, not a CSV or Excel file."
    if head.startswith(_OLE2):
        return _ole2_reason(path)
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")):
        return "This looks like an image, not a CSV or Excel file."
    if head.startswith(b"\x1f\x8b"):
        return "This is a compressed (gzip) file: unzip it and upload the CSV or Excel file inside."
    if head.startswith((b"Rar!", b"7z\xbc\xaf")):
        return "This is a compressed archive: unpack it and upload the CSV or Excel file inside."
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return ("This looks like a web page (HTML), not a CSV or Excel file: "
                "open it in Excel and save it as .xlsx or CSV.")
    if start.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            return "This is an Excel 2003 XML spreadsheet: open it in Excel and save it as .xlsx or CSV."
        return "This is an XML file, not a CSV or Excel file."
    if start.startswith(b"{\\rtf"):
        return "This looks like a Word (RTF) document, not a CSV or Excel file."
    return None


def _ole2_reason(path: Path) -> str:
    # Password-protected .xlsx files are OLE2 containers holding an "EncryptedPackage" stream;
    # the stream names sit in the directory sectors, near the start or the end of the file.
    size = path.stat().st_size
    with open(path, "rb") as f:
        data = f.read(1 << 20)
        if size > len(data):
            f.seek(max(size - (1 << 20), len(data)))
            data += f.read()
    if _ENCRYPTED_PACKAGE in data:
        return ("This Excel file is protected with a password: open it in Excel, remove the password, "
                "save it and upload it again.")
    if _WORD_DOCUMENT in data:
        return "This looks like a Word document, not a CSV or Excel file."
    return "This is an old-style Excel file (.xls): open it in Excel and save it as .xlsx or CSV."


def _zip_reason(path: Path) -> str | None:
    """Why a zip file is not an XLSX workbook we can read, or None when it looks like one."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return "This Excel file is damaged and cannot be opened: save it again from Excel and upload it."
    if b"opendocument.spreadsheet" in mimetype:
        return "This is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV and upload that."
    if "word/document.xml" in names:
        return "This looks like a Word document, not a CSV or Excel file."
    if "ppt/presentation.xml" in names:
        return "This looks like a PowerPoint presentation, not a CSV or Excel file."
    if "xl/workbook.bin" in names:
        return "This is an Excel binary workbook (.xlsb): save it as .xlsx or CSV and upload that."
    if not any(name.startswith("xl/") for name in names):
        return "This is a zip archive, not an Excel workbook: unzip it and upload the CSV or Excel file inside."
    return None


def open_table(path: str | os.PathLike) -> Table:
    """Open a CSV or XLSX export for streaming (use as a context manager); UnreadableFile if it
    cannot be read as a table at all."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(SAMPLE_BYTES)
    except OSError:
        raise UnreadableFile("The file could not be opened.") from None
    if not head.strip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00"):
        raise UnreadableFile("The file is empty.")
    reason = _not_a_table(head, path)
    if reason:
        raise UnreadableFile(reason)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        reason = _zip_reason(path)
        if reason:
            raise UnreadableFile(reason)
        return XlsxTable(path)
    return CsvTable(path, head)


# ---------------------------------------------------------------------------------------------
# Tables

def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def _header_cells(row) -> list[str]:
    cells = ["" if v is None else " ".join(str(v).split()) for v in row]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _check_header(headers: list[str], line: int) -> None:
    looks_like_data = not any(any(c.isalpha() for c in h) for h in headers) or any(
        "@" in h and "." in h.split("@")[-1] for h in headers
    )
    if looks_like_data:
        raise UnreadableFile(
            f"Line {line} should hold the column names (like Membership No, Forename, Surname) "
            "but looks like data: add a header row and upload the file again."
        )


class Table(ABC):
    """Rows of one export: `headers`, and iteration yielding (line_number, values)."""

    kind: str = ""
    headers: list[str]
    header_line: int
    encoding: str | None = None
    delimiter: str | None = None

    def __init__(self) -> None:
        self._iterated = False
        # Lines whose records had values to the right of the last header (cut off): a sign of an
        # unquoted delimiter inside a value, which the import may want to warn about.
        self.overlong_lines: list[int] = []
        self.overlong_count = 0

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Release the open file."""

    def __iter__(self) -> Iterator[tuple[int, list]]:
        if self._iterated:
            raise RuntimeError("A table can be read once; open the file again to read it again.")
        self._iterated = True
        return self._rows()

    @abstractmethod
    def _rows(self) -> Iterator[tuple[int, list]]:
        """(line, values) of each data record."""

    @abstractmethod
    def count_rows(self) -> int:
        """The number of records iteration will yield (a separate pass, for a progress bar)."""

    def _overlong(self, line: int) -> None:
        self.overlong_count += 1
        if len(self.overlong_lines) < _KEEP_LINES:
            self.overlong_lines.append(line)


def _sniff_delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that gives a wide header and rows of the same width."""
    # Only whole lines: the sample may end in the middle of one.
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    if cut > 0:
        sample = sample[:cut]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            records = [r for r in islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), 50)
                       if any(v.strip() for v in r)]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        consistency = sum(len(r) == width for r in records) / len(records)
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class CsvTable(Table):
    kind = "csv"

    def __init__(self, path: Path, head: bytes):
        super().__init__()
        self.path = path
        self.encoding, self._errors = self._choose_encoding(head)
        sample = head.decode(self.encoding, errors=self._errors) if self.encoding != "utf-16" else \
            head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
        if self.encoding != "utf-16":
            controls = sum(1 for c in sample[:4096] if c < " " and c not in "\t\r\n\f")
            if "\x00" in sample or controls > len(sample[:4096]) // 20:
                raise UnreadableFile("This file doesn't look like text, so it isn't a CSV or Excel file we can read.")
        self.delimiter = _sniff_delimiter(sample.lstrip("\ufeff"))
        self._stream = self._open()
        try:
            self._reader = csv.reader(self._stream, delimiter=self.delimiter)
            self._read_header()
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _choose_encoding(head: bytes) -> tuple[str, str]:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", "replace"
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", _FALLBACK
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SAMPLE_BYTES)
        except UnicodeDecodeError:
            return "cp1252", "replace"
        return "utf-8", _FALLBACK

    def _open(self) -> io.TextIOWrapper:
        raw = open(self.path, "rb")
        try:
            return io.TextIOWrapper(raw, encoding=self.encoding, errors=self._errors, newline="")
        except BaseException:
            raw.close()
            raise

    def close(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None:
            stream.close()
            self._stream = None

    def _records(self, reader) -> Iterator[tuple[int, list[str]]]:
        """(first physical line, values) for each non-blank record; UnreadableFile on a broken quote."""
        end = reader.line_num
        try:
            for row in reader:
                start = end + 1
                end = reader.line_num
                if not row:
                    continue
                first = row[0]
                if (not first or first.isspace()) and not "".join(row).strip():
                    continue
                if end - start >= MAX_RECORD_LINES:
                    raise UnreadableFile(
                        f"Line {start} has a quote mark (\") that is not closed until line {end}, "
                        "so the lines in between cannot be read: fix the quote and upload the file again."
                    )
                yield start, row
        except csv.Error as exc:
            raise UnreadableFile(
                f"Line {end + 1} cannot be read ({exc}): probably a quote mark (\") that is never closed."
            ) from None

    def _read_header(self) -> None:
        for line, row in self._records(self._reader):
            if line == 1 and row[0].startswith("\ufeff"):
                row[0] = row[0][1:]
            self.headers = _header_cells(row)
            self.header_line = line
            _check_header(self.headers, line)
            return
        raise UnreadableFile("The file is empty.")

    def _rows(self) -> Iterator[tuple[int, list]]:
        width = len(self.headers)
        padding = [""] * width
        for line, row in self._records(self._reader):
            if len(row) != width:
                if len(row) > width:
                    if any(row[width:]):
                        self._overlong(line)
                    row = row[:width]
                else:
                    row = row + padding[len(row):]
            yield line, row

    def count_rows(self) -> int:
        with self._open() as stream:
            reader = csv.reader(stream, delimiter=self.delimiter)
            records = self._records(reader)
            next(records, None)  # the header
            return sum(1 for _ in records)


_ROW_XML = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.DOTALL)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_CELL_VALUE = re.compile(rb"<v>[^<]|<t(?:\s[^>]*)?>[^<]")


class XlsxTable(Table):
    kind = "xlsx"

    def __init__(self, path: Path):
        super().__init__()
        from openpyxl import load_workbook

        self.path = path
        self._file = open(path, "rb")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # A file object, not the name: openpyxl would judge by the extension.
                self._book = load_workbook(self._file, read_only=True, data_only=True)
        except Exception:
            self._file.close()
            raise UnreadableFile(
                "This Excel file is damaged and cannot be opened: save it again from Excel and upload it."
            ) from None
        try:
            if not self._book.worksheets:
                raise UnreadableFile("The workbook has no sheets.")
            self._sheet = self._book.worksheets[0]
            # The stored dimensions can be wrong (some writers never update them); read everything.
            self._sheet.reset_dimensions()
            self._read_header()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        book = getattr(self, "_book", None)
        if book is not None:
            book.close()
            self._book = None
        if getattr(self, "_file", None) is not None:
            self._file.close()
            self._file = None

    def _chunks(self, rows) -> Iterator[list]:
        """Rows pulled in chunks with openpyxl's warnings silenced only while it parses."""
        while True:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    chunk = list(islice(rows, 512))
            except UnreadableFile:
                raise
            except Exception:
                raise UnreadableFile(
                    "Part of this Excel file is damaged and cannot be read: save it again from Excel and upload it."
                ) from None
            if not chunk:
                return
            yield chunk

    def _read_header(self) -> None:
        rows = self._sheet.iter_rows(min_row=1, values_only=True)
        number = 0
        for chunk in self._chunks(rows):
            for row in chunk:
                number += 1
                if row and not all(_blank(v) for v in row):
                    self.headers = _header_cells(row)
                    self.header_line = number
                    _check_header(self.headers, number)
                    return
        raise UnreadableFile("The first sheet of the workbook is empty.")

    def _data_rows(self) -> Iterator[tuple[int, tuple]]:
        width = len(self.headers)
        rows = self._sheet.iter_rows(min_row=self.header_line + 1, max_col=width, values_only=True)
        number = self.header_line
        for chunk in self._chunks(rows):
            for row in chunk:
                number += 1
                for v in row:
                    if not _blank(v):
                        yield number, row
                        break

    def _rows(self) -> Iterator[tuple[int, list]]:
        width = len(self.headers)
        for number, row in self._data_rows():
            values = ["" if v is None else v for v in row]
            if len(values) < width:
                values += [""] * (width - len(values))
            yield number, values

    def count_rows(self) -> int:
        """Rows below the header holding any value, counted from the sheet's XML without parsing
        cells (openpyxl would take as long as the import itself). A row of only empty strings
        counts here though iteration skips it: close enough for a progress bar."""
        sheet_path = getattr(self._sheet, "_worksheet_path", None)
        if sheet_path is None:  # pragma: no cover - an openpyxl without the attribute
            return sum(1 for _ in self._data_rows())
        count = 0
        number = 0
        tail = b""
        with zipfile.ZipFile(self.path) as archive, archive.open(sheet_path) as xml:
            while True:
                chunk = xml.read(1 << 20)
                buffer = tail + chunk
                # Whole rows only: up to the last </row>, or everything once the sheet has ended.
                cut = len(buffer) if not chunk else buffer.rfind(b"</row>") + 6
                if chunk and cut < 6:
                    tail = buffer
                    continue
                tail = buffer[cut:]
                for m in _ROW_XML.finditer(buffer, 0, cut):
                    r = _ROW_NUMBER.search(m.group(1))
                    number = int(r.group(1)) if r else number + 1
                    if number > self.header_line and m.group(2) and _CELL_VALUE.search(m.group(2)):
                        count += 1
                if not chunk:
                    return count
