"""The ledger as files: one row per appeal, headers in the reader's language, times in district time.

Both /export and `python -m bot export` build their CSV and Excel files here.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from domain.cells import excel_text, write_csv
from domain.names import State
from handlers.i18n import Catalog
from storage.ledger import LedgerLine

COLUMNS = (
    "number",
    "category",
    "unit",
    "station",
    "place",
    "priority",
    "state",
    "outcome",
    "submitted",
    "accepted",
    "sent_back",
    "resolved",
    "rated",
    "closed",
    "accept_on_time",
    "resolve_on_time",
    "rating",
    "reopens",
    "extensions",
    "cohandlers",
    "description",
    "results",
)
# Columns whose headers live in the catalog's [evidence] table.
_EVIDENCE_COLUMNS = frozenset({"description", "results"})
# Columns whose headers live in the catalog's [place] table.
_PLACE_COLUMNS = frozenset({"place"})
# Columns whose headers live in the catalog's [extension] table.
_EXTENSION_COLUMNS = frozenset({"extensions"})
_TIMES = frozenset({"submitted", "accepted", "resolved", "rated", "closed"})
TIME_FORMAT = "%Y-%m-%d %H:%M"
EXCEL_TIME_FORMAT = "yyyy-mm-dd hh:mm"
MIN_WIDTH, MAX_WIDTH = 6, 40
# A row's bytes in the CSV besides people's texts: numbers, names, states, five times, quotes. The
# CSV is the larger of the two files (the workbook is compressed).
ROW_BYTES = 400
FILE_BYTES = 8 * 1024  # the workbook's own parts, before any row

Value = int | str | datetime | None


def _state(catalog: Catalog, lang: str, line: LedgerLine) -> str:
    key = f"state.{line.state}"
    if line.state == State.HANDLING and line.awaiting_courier:
        key = "state.awaiting_courier"
    elif line.state == State.HANDLING and line.accepted:
        key = "state.accepted"
    return catalog.text(lang, key)


def _table_of(column: str) -> str:
    """The catalog table that holds a column's header."""
    if column in _EVIDENCE_COLUMNS:
        return "evidence"
    if column in _PLACE_COLUMNS:
        return "place"
    if column == "cohandlers":
        return "cohandle"
    return "extension" if column in _EXTENSION_COLUMNS else "export"


def table(
    lines: Sequence[LedgerLine], catalog: Catalog, lang: str, zone: ZoneInfo, category_name: Callable[[str], str]
) -> tuple[list[str], list[list[Value]]]:
    """Headers and rows; times are naive local datetimes, empty cells None."""
    t = lambda key: catalog.text(lang, key)  # noqa: E731
    yes_no = lambda flag: None if flag is None else t("export.yes" if flag else "export.no")  # noqa: E731
    local = lambda moment: None if moment is None else moment.astimezone(zone).replace(tzinfo=None)  # noqa: E731
    headers = [t(f"{_table_of(c)}.col_{c}") for c in COLUMNS]
    rows: list[list[Value]] = []
    for line in lines:
        unit = (line.unit_zh if lang == "zh" else line.unit_en) or line.unit_id
        rows.append(
            [
                line.number,
                category_name(line.category),
                unit,
                (line.station_name_en if lang == "en" else None) or line.station_name or line.station_id,
                line.place or None,
                t(f"button.{line.priority}"),
                _state(catalog, lang, line),
                t(f"export.outcome_{line.outcome}") if line.outcome else None,
                local(line.submitted),
                local(line.accepted_at),
                "; ".join(local(m).strftime(TIME_FORMAT) for m in line.send_backs) or None,
                local(line.resolved),
                local(line.rated),
                local(line.closed),
                yes_no(line.accept_on_time),
                yes_no(line.resolve_on_time),
                t(f"export.rating_{line.rating}") if line.rating else None,
                line.reopens,
                line.extensions,
                _cohandlers(catalog, lang, line),
                line.description or None,
                "\n".join(f"{local(at).strftime(TIME_FORMAT)} {note}" for at, note in line.results) or None,
            ]
        )
    return headers, rows


def _cohandlers(catalog: Catalog, lang: str, line: LedgerLine) -> str | None:
    """Each co-handling unit (协办) and where its part stands: "一号驿站（已签收）、财务科（已办结）"."""
    parts = [
        catalog.text(lang, f"export.cohandler_{state}", unit=(zh if lang == "zh" else en) or unit_id)
        for unit_id, zh, en, state in line.cohandlers
    ]
    return catalog.text(lang, "digest2.list_sep").join(parts) or None


def estimated_bytes(appeals: int, text_bytes: int) -> int:
    """About how large the ledger's CSV will be, from its row count and its texts' bytes, before building it."""
    return FILE_BYTES + appeals * ROW_BYTES + text_bytes


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    return str(value)


def to_csv(headers: list[str], rows: list[list[Value]]) -> bytes:
    """The table as CSV in UTF-8 with a byte-order mark, so that Excel reads the Chinese right; text is
    never a formula (domain.cells)."""
    timed = ([v.strftime(TIME_FORMAT) if isinstance(v, datetime) else v for v in row] for row in rows)
    return write_csv([headers, *timed]).encode("utf-8-sig")


def _width(text: str) -> int:
    # East Asian wide characters take two columns in Excel's default font.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def to_xlsx(headers: list[str], rows: list[list[Value]], sheet_title: str) -> bytes:
    """The table as an Excel workbook: bold frozen header row, real date cells, columns sized to fit."""
    return to_workbook([(sheet_title, headers, rows)])


def to_workbook(tables: Sequence[tuple[str, list[str], list[list[Value]]]]) -> bytes:
    """Tables as one Excel workbook, a sheet each (title, headers, rows), made as `to_xlsx` makes its one."""
    book = Workbook(write_only=True)
    for sheet_title, headers, rows in tables:
        _sheet(book, headers, rows, sheet_title)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: Workbook, headers: list[str], rows: list[list[Value]], sheet_title: str) -> None:
    widths = [_width(h) for h in headers]
    for row in rows:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], _width(_text(value)))
    sheet = book.create_sheet(sheet_title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    bold, wrap = Font(bold=True), Alignment(vertical="top", wrap_text=True)

    def header_cell(text: str) -> WriteOnlyCell:
        cell = excel_text(sheet, text)
        cell.font, cell.alignment = bold, wrap
        return cell

    def cell(value: Value) -> WriteOnlyCell | Value:
        if isinstance(value, datetime):
            dated = WriteOnlyCell(sheet, value=value)
            dated.number_format = EXCEL_TIME_FORMAT
            return dated
        if isinstance(value, str):
            text = excel_text(sheet, value)
            if "\n" in value:
                text.alignment = wrap
            return text
        return value

    sheet.append([header_cell(h) for h in headers])
    for row in rows:
        sheet.append([cell(v) for v in row])


def build_files(
    lines: Sequence[LedgerLine],
    catalog: Catalog,
    lang: str,
    zone: ZoneInfo,
    category_names: dict[str, str],
    sheet_title: str,
) -> tuple[bytes, bytes]:
    """The ledger as CSV and as Excel, in one call for the worker process (handlers.worker)."""
    headers, rows = table(lines, catalog, lang, zone, lambda category: category_names.get(category, category))
    return to_csv(headers, rows), to_xlsx(headers, rows, sheet_title)


def file_name(first: object, last: object, suffix: str) -> str:
    """ledger-2026-11-01-2026-11-30.csv"""
    return f"ledger-{first}-{last}.{suffix}"
