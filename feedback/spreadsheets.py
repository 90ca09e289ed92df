"""Writing tables as XLSX and CSV that spreadsheet programs open safely, row by row.

Text is always text: in XLSX every string cell is typed as a string (never a
formula, whatever it starts with), and in CSV a text that a spreadsheet would
take for a formula gets an apostrophe in front (see ``csv_text``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# A cell holds text, a whole number, a calendar date (already in the bureau's
# zone: spreadsheets have no time zones) or nothing.
Value = str | int | date | None

DATE_FORMAT = "yyyy-mm-dd"
# Excel keeps at most this many characters in a cell.
CELL_MAX = 32767
# OWASP "CSV injection": a cell starting with one of these may run as a
# formula. The apostrophe is in the list so that the guard can be undone
# exactly: strip one leading apostrophe from any CSV text to get it back.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
CSV_CHUNK = 64 * 1024

# SpreadsheetML writes characters XML cannot carry as _xHHHH_ (and a literal
# "_xHHHH_" with its underscore escaped, so that it is not decoded). Carriage
# returns are escaped too: XML parsers turn them into line feeds.
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")
_LOOKS_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


@dataclass(frozen=True)
class Column:
    """A column's heading and its width in the XLSX, in characters."""

    header: str
    width: int = 12


@dataclass(frozen=True)
class Table:
    """A sheet: a name, its columns and its rows (read once, as they come)."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Value]]


def _escape(text: str) -> str:
    text = _LOOKS_ESCAPED.sub("_x005F_", text)
    return _XML_UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def xlsx_text(text: str) -> str:
    """Return ``text`` as SpreadsheetML stores it, at most ``CELL_MAX`` long.

    A longer text is cut, between characters rather than inside an escape,
    and ends with "…".
    """
    escaped = _escape(text)
    if len(escaped) <= CELL_MAX:
        return escaped
    # The longest start of the text whose escaped form leaves room for "…".
    low, high = 0, min(len(text), CELL_MAX - 1)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_escape(text[:middle])) <= CELL_MAX - 1:
            low = middle
        else:
            high = middle - 1
    return _escape(text[:low]) + "…"


def csv_text(text: str) -> str:
    """Return ``text`` with an apostrophe in front if it could run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text_cell(sheet: WriteOnlyWorksheet, text: str) -> Cell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Value) -> Cell | Value:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, date):
        # openpyxl's stub leaves date out of WriteOnlyCell's values; Cell takes it.
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
        cell.number_format = DATE_FORMAT
        return cell
    text = xlsx_text(value)
    # openpyxl types a text starting with "=" as a formula and one like
    # "#N/A" as an error: such text gets a cell typed as a string. Other text
    # is typed as a string anyway, and passing it bare saves making a cell.
    if text.startswith("=") or text in ERROR_CODES:
        return _text_cell(sheet, text)
    return text


def write_xlsx(tables: Iterable[Table], out: BinaryIO, *, title: str = "") -> None:
    """Write ``tables`` as the sheets of one workbook to the binary file ``out``.

    openpyxl's write-only mode keeps each sheet's rows in a temporary file as
    they are appended, so memory stays flat however many rows there are; the
    ZIP container is put together at the end.
    """
    workbook = Workbook(write_only=True)
    workbook.properties.title = title or None
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.title)
        for index, column in enumerate(table.columns, 1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A2"
        header = [
            _text_cell(sheet, xlsx_text(column.header)) for column in table.columns
        ]
        for cell in header:
            cell.font = bold
        sheet.append(header)
        for row in table.rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(out)


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_chunks(table: Table) -> Iterator[bytes]:
    """Yield ``table`` as CSV in UTF-8 with a byte-order mark, a chunk at a time.

    The mark is what makes Excel read the file as UTF-8 (and show Chinese).
    """
    encoder = codecs.getincrementalencoder("utf-8-sig")()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(value) for value in row])
        if buffer.tell() >= CSV_CHUNK:
            yield encoder.encode(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    yield encoder.encode(buffer.getvalue(), final=True)
