"""Spreadsheet cells that are data, never formulas: the one guard every CSV and Excel export uses.

A spreadsheet takes a cell starting with =, +, -, @, a tab or a carriage return as a formula (or a
DDE call), so a name or a description someone typed could run in a coordinator's Excel. Text is
written inert; numbers and dates stay numbers and dates.
- CSV, as OWASP recommends: such a text gets a leading apostrophe and every text field is quoted
  (numbers are not, so they stay numbers). `from_csv` undoes the apostrophe, so a file we wrote
  reads back to the same texts.
- Excel: text cells are typed as strings (never "f") and marked with the quote prefix, the flag
  Excel itself sets when someone types '=..., so the cell holds exactly the text and editing it
  does not turn it into a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def _needs_apostrophe(text: str) -> bool:
    # Apostrophes before a would-be formula are escaped too (one more), so `from_csv` is exact.
    return text.lstrip("'").startswith(FORMULA_START)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would evaluate `text` typed into a cell."""
    return text.startswith(FORMULA_START)


def csv_text(text: str) -> str:
    """`text` as a CSV cell that a spreadsheet shows and never evaluates (a leading apostrophe if needed)."""
    return "'" + text if _needs_apostrophe(text) else text


def from_csv(text: str) -> str:
    """A CSV cell as it was before `csv_text` (hand-made cells pass unchanged)."""
    return text[1:] if text.startswith("'") and _needs_apostrophe(text[1:]) else text


def write_csv(rows: Iterable[Iterable[Cell]]) -> str:
    """Rows as CSV text: text fields inert and quoted, numbers bare, empty cells empty."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue()


def _csv_cell(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):  # a bool is an int to Python; a spreadsheet shows it as text
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    return csv_text(str(value))


def excel_text(sheet: Any, text: str) -> WriteOnlyCell:
    """A write-only Excel cell holding exactly `text`, typed as a string; quote-prefixed where it looks like a formula."""
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl types a text starting with "=" as a formula
    if is_formula_like(text):
        cell.quotePrefix = True
    return cell
