"""Station files: read a CSV or JSON file, check every row, report every problem; write them back.

Pure code: text in, records or problems out. The JSON shape is
    {"stations": [{"id", "name", "address", "lat", "lon", "grade", "amenities": [...],
                   "hours": {"mon": "07:00-22:00", ..., "sun": "closed"}, "unit", "active",
                   "name_en", "address_en"}]}
(other top-level keys are comments and are ignored). A CSV file has the same columns, amenities
separated by ";" and the hours as seven columns mon..sun. `name_en` and `address_en`, the English
forms English readers see, are optional. The same row check serves a coordinator's one-line form
in the bot.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import math
import re
import shlex
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any, Literal

from domain.cells import from_csv, write_csv
from domain.file_fields import unknown_fields
from domain.hours import WEEKDAYS, HoursError, normalise_day

# The order is fixed: the station index stores amenities as bits in this order (migration 3).
AMENITIES = ("water", "charging", "rest", "microwave", "toilet", "first_aid")
GRADES = ("A", "B", "C")
MAX_NAME = 100
MAX_ADDRESS = 200
MAX_ID = 40  # station ids travel in callback data (64 bytes at most)
_STATION_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# A station's fields, in the file's order; the English forms come last: files written before them
# keep their columns' places.
_FIELDS = (
    "id",
    "name",
    "address",
    "lat",
    "lon",
    "grade",
    "amenities",
    "hours",
    "unit",
    "active",
    "name_en",
    "address_en",
)
# The CSV's columns: the fields, with the hours as one column for each weekday.
COLUMNS = tuple(column for field in _FIELDS for column in (WEEKDAYS if field == "hours" else (field,)))
REQUIRED = ("id", "name", "lat", "lon", "grade")
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")

Format = Literal["csv", "json"]

# Checked before a file is parsed, so a large or hostile file is refused quickly and clearly. A
# district has a few thousand stations; a row of either format is well under 500 bytes.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_DEPTH = 6  # {"stations": [{"hours": {...}}]} is 3 deep; json.loads recurses once per level
SHOWN_PROBLEMS = 15  # a problem report lists these, then how many more there are


@dataclass(frozen=True)
class StationRecord:
    """One station as a file describes it, checked."""

    id: str
    name: str
    lat: float
    lon: float
    grade: str
    address: str = ""
    amenities: tuple[str, ...] = ()
    hours: dict[str, str] = field(default_factory=dict)  # all seven days, or empty when not known
    unit: str | None = None
    active: bool | None = None  # None: a new station opens, an existing one stays as it is
    # None: not given (a new station has none, an existing one keeps its own); "" clears it.
    name_en: str | None = None
    address_en: str | None = None


@dataclass(frozen=True)
class FileProblem:
    """One thing wrong with a station file: where (line, column) and why."""

    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (f"line {self.line}" if self.line else "", f"column {self.column}" if self.column else "")
            if part
        )
        return f"{where}: {self.reason}" if where else self.reason


class StationFileError(ValueError):
    """A station file that cannot be imported; `problems` lists every reason."""

    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(map(str, problems[:5])))
        self.problems = problems

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a worker process and sent back whole (pickle would otherwise pass only the message).
        return (type(self), (self.problems,))


Limit = Literal["bytes", "rows", "depth"]


class FileLimitError(StationFileError):
    """A station file over a limit, found before parsing it: which limit, what it allows, what the file has."""

    def __init__(self, limit: Limit, allowed: int, found: int, line: int | None = None) -> None:
        reasons = {
            "bytes": f"the file is {found:,} bytes; at most {allowed:,}",
            "rows": f"the file has {found:,} rows; at most {allowed:,}",
            "depth": f'lists and objects are nested more than {allowed} deep; a station file is {{"stations": [{{...}}]}}',
        }
        super().__init__([FileProblem(line, None, reasons[limit])])
        self.limit, self.allowed, self.found, self.line = limit, allowed, found, line

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.limit, self.allowed, self.found, self.line))


def first_problems(problems: list[FileProblem], shown: int = SHOWN_PROBLEMS) -> tuple[list[FileProblem], int]:
    """The problems a report lists (the first `shown`) and how many more it only counts."""
    return problems[:shown], max(0, len(problems) - shown)


def format_of(file_name: str) -> Format | None:
    """The format a file name says (.csv or .json), or None."""
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    return suffix if suffix in ("csv", "json") else None  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Checking one row


def _text(value: Any, column: str, problems: list[tuple[str, str]], *, limit: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append((column, "must be text"))
        return ""
    value = value.strip()
    if required and not value:
        problems.append((column, "is missing"))
    elif len(value) > limit:
        problems.append((column, f"is {len(value)} characters long; at most {limit}"))
    elif _CONTROL.search(value):
        problems.append((column, "must be one line of text, without control characters"))
    return value


def _number(value: Any, column: str, low: float, high: float, problems: list[tuple[str, str]]) -> float:
    name = "latitude" if column == "lat" else "longitude"
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        problems.append((column, f"is missing; give the {name} in decimal degrees"))
        return 0.0
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        problems.append((column, f"{value!r} is not a number; give the {name} in decimal degrees, like 31.2317"))
        return 0.0
    if not math.isfinite(number) or not low <= number <= high:
        problems.append((column, f"{value} is not a {name} ({low:g} to {high:g})"))
    return number


def _amenities(value: Any, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        problems.append(("amenities", 'must be a list of names, like ["water", "charging"]'))
        return ()
    names = [a.strip() for a in value if a.strip()]
    unknown = [a for a in names if a not in AMENITIES]
    if unknown:
        problems.append(("amenities", f"unknown {', '.join(map(repr, unknown))}; known: {', '.join(AMENITIES)}"))
    repeated = sorted({a for a in names if names.count(a) > 1})
    if repeated:
        problems.append(("amenities", f"{', '.join(map(repr, repeated))} given twice"))
    return tuple(a for a in AMENITIES if a in names)


def _hours(value: Any, problems: list[tuple[str, str]]) -> dict[str, str]:
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict):
        problems.append(("hours", "must be an object with the days mon..sun"))
        return {}
    hours: dict[str, str] = {}
    for day in value:
        if day not in WEEKDAYS:
            problems.append((f"hours.{day}", f"is not a day; the days are {', '.join(WEEKDAYS)}"))
    for day in WEEKDAYS:
        column = f"hours.{day}"
        if day not in value or value[day] is None or value[day] == "":
            problems.append((column, "is missing; give all seven days (HH:MM-HH:MM or closed), or none"))
        elif not isinstance(value[day], str):
            problems.append((column, "must be text like 09:00-18:00 or closed"))
        else:
            try:
                hours[day] = normalise_day(value[day])
            except HoursError as error:
                problems.append((column, str(error)))
    return hours


def _active(value: Any, problems: list[tuple[str, str]]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if not word:
            return None
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    problems.append(("active", f"{value!r} is not true or false"))
    return None


def check_row(
    raw: Mapping[str, Any], known_units: Collection[str]
) -> tuple[StationRecord | None, list[tuple[str, str]]]:
    """Check one station given as JSON-shaped fields; the record, or None and (column, reason) pairs."""
    problems = unknown_fields(raw, _FIELDS, "a station")
    station_id = _text(raw.get("id"), "id", problems, limit=MAX_ID, required=True)
    if station_id and not any(c == "id" for c, _ in problems) and not _STATION_ID.match(station_id):
        problems.append(("id", f"{station_id!r}: use 1-{MAX_ID} lowercase letters, digits, '.', '-' or '_'"))
    name = _text(raw.get("name"), "name", problems, limit=MAX_NAME, required=True)
    address = _text(raw.get("address"), "address", problems, limit=MAX_ADDRESS, required=False)
    lat = _number(raw.get("lat"), "lat", -90, 90, problems)
    lon = _number(raw.get("lon"), "lon", -180, 180, problems)
    grade = raw.get("grade")
    grade = grade.strip() if isinstance(grade, str) else grade
    if grade not in GRADES:
        problems.append(("grade", f"{grade!r} is not a grade; use A, B or C" if grade else "is missing; use A, B or C"))
    amenities = _amenities(raw.get("amenities"), problems)
    hours = _hours(raw.get("hours"), problems)
    unit = _text(raw.get("unit"), "unit", problems, limit=64, required=False) or None
    if unit is not None and unit not in known_units:
        problems.append(("unit", f"no unit has the id {unit!r} (units come from the config; see `units list`)"))
    active = _active(raw.get("active"), problems)
    name_en = _optional_text(raw, "name_en", problems, MAX_NAME)
    address_en = _optional_text(raw, "address_en", problems, MAX_ADDRESS)
    if problems:
        return None, problems
    record = StationRecord(
        station_id, name, lat, lon, str(grade), address, amenities, hours, unit, active, name_en, address_en
    )
    return record, []


def _optional_text(raw: Mapping[str, Any], column: str, problems: list[tuple[str, str]], limit: int) -> str | None:
    """A text field that may be left out (None: keep what is stored) or given empty (clear it)."""
    if column not in raw or raw[column] is None:
        return None
    return _text(raw[column], column, problems, limit=limit, required=False)


def record_fields(record: StationRecord) -> dict[str, Any]:
    """A record as JSON-shaped fields (what check_row reads)."""
    return {
        "id": record.id,
        "name": record.name,
        "address": record.address,
        "lat": record.lat,
        "lon": record.lon,
        "grade": record.grade,
        "amenities": list(record.amenities),
        "hours": dict(record.hours),
        "unit": record.unit,
        "active": record.active,
        "name_en": record.name_en,
        "address_en": record.address_en,
    }


def edited(record: StationRecord, changes: Mapping[str, Any]) -> dict[str, Any]:
    """A station's fields with some changed; days of the week change one by one."""
    fields = {**record_fields(record), **changes}
    if "hours" in changes and record.hours:
        fields["hours"] = {**record.hours, **changes["hours"]}
    return fields


# ---------------------------------------------------------------------------------------------
# Reading files


def _duplicates(records: list[tuple[int, StationRecord]], line_of: Any) -> list[FileProblem]:
    seen: dict[str, int] = {}
    problems = []
    for index, record in records:
        if record.id in seen:
            problems.append(
                FileProblem(line_of(index), "id", f"{record.id!r} is also on line {line_of(seen[record.id])}")
            )
        else:
            seen[record.id] = index
    return problems


def _csv_shape(row: dict[str, str], names: list[str]) -> dict[str, Any]:
    raw: dict[str, Any] = {k: v for k, v in row.items() if k not in WEEKDAYS}
    if "amenities" in raw:
        raw["amenities"] = [a for a in raw["amenities"].split(";") if a.strip()]
    if WEEKDAYS[0] in names:
        days = {day: row[day].strip() for day in WEEKDAYS}
        raw["hours"] = {} if not any(days.values()) else days
    return raw


def _csv_column(column: str) -> str:
    return column.removeprefix("hours.")


def read_csv(text: str, known_units: Collection[str]) -> list[StationRecord]:
    """Every station of a CSV file, or StationFileError listing every problem."""
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[FileProblem] = []
    try:
        header = next(reader, None)
        if header is None:
            raise StationFileError([FileProblem(1, None, "the file is empty; the first line names the columns")])
        names = [h.strip().lower() for h in header]
        for name in names:
            if name not in COLUMNS:
                problems.append(
                    FileProblem(1, name or "(empty)", f"is not a column; the columns are {', '.join(COLUMNS)}")
                )
            elif names.count(name) > 1:
                problems.append(FileProblem(1, name, "is named twice"))
        for name in REQUIRED:
            if name not in names:
                problems.append(FileProblem(1, name, "is missing from the header"))
        given_days = [d for d in WEEKDAYS if d in names]
        if given_days and len(given_days) != len(WEEKDAYS):
            missing = [d for d in WEEKDAYS if d not in names]
            problems.append(FileProblem(1, ", ".join(missing), "is missing: give all seven day columns or none"))
        if problems:
            raise StationFileError(sorted(set(problems), key=lambda p: (p.line or 0, str(p.column))))
        records: list[tuple[int, StationRecord]] = []
        next_line = reader.line_num + 1
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(names):
                problems.append(FileProblem(line, None, f"has {len(cells)} cells; the header has {len(names)}"))
                continue
            # A text our export made inert ('=...) reads back as it was.
            cells = [from_csv(c) for c in cells]
            record, row_problems = check_row(_csv_shape(dict(zip(names, cells, strict=False)), names), known_units)
            problems += [FileProblem(line, _csv_column(column), reason) for column, reason in row_problems]
            if record is not None:
                records.append((line, record))
    except csv.Error as error:
        problems.append(FileProblem(reader.line_num or 1, None, f"cannot be read as CSV: {error}"))
        raise StationFileError(problems) from None
    problems += _duplicates(records, lambda line: line)
    if problems:
        raise StationFileError(sorted(problems, key=lambda p: p.line or 0))
    return [record for _, record in records]


_WS = re.compile(r"[ \t\n\r]*")


def json_positions(text: str, i: int, decoder: json.JSONDecoder) -> tuple[Any, int]:
    """Where each value of valid JSON starts: objects map key -> (offset, tree), arrays list (offset, tree)."""
    skip = lambda j: _WS.match(text, j).end()  # noqa: E731
    if text[i] == "{":
        tree: dict[str, tuple[int, Any]] = {}
        i = skip(i + 1)
        while text[i] != "}":
            key_at = i
            key, i = scanstring(text, i + 1)
            i = skip(skip(i) + 1)  # past the colon
            sub, i = json_positions(text, i, decoder)
            tree[key] = (key_at, sub)
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
        return tree, i + 1
    if text[i] == "[":
        items: list[tuple[int, Any]] = []
        i = skip(i + 1)
        while text[i] != "]":
            start = i
            sub, i = json_positions(text, i, decoder)
            items.append((start, sub))
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
        return items, i + 1
    _, end = decoder.raw_decode(text, i)
    return None, end


class _JsonLines:
    """Line numbers of stations and their fields, worked out only when a file has problems."""

    def __init__(self, text: str) -> None:
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        top, _ = json_positions(text, _WS.match(text, 0).end(), json.JSONDecoder())
        stations = top.get("stations") if isinstance(top, dict) else None
        self._stations = stations[1] if stations and isinstance(stations[1], list) else []
        self._stations_at = stations[0] if stations else 0

    def line(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def of(self, index: int | None, column: str | None = None) -> int:
        if index is None or index >= len(self._stations):
            return self.line(self._stations_at)
        offset, tree = self._stations[index]
        for part in (column or "").split(".") if column else ():
            if not isinstance(tree, dict) or part not in tree:
                break
            offset, tree = tree[part]
        return self.line(offset)


def read_json(text: str, known_units: Collection[str]) -> list[StationRecord]:
    """Every station of a JSON file, or StationFileError listing every problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise StationFileError(
            [FileProblem(error.lineno, None, f"not valid JSON: {error.msg} (character {error.colno})")]
        ) from None
    shape = 'the file must be a JSON object with a "stations" list: {"stations": [{"id": ...}, ...]}'
    if not isinstance(data, dict) or not isinstance(data.get("stations"), list):
        if isinstance(data, dict) and "stations" in data:
            raise StationFileError([FileProblem(_JsonLines(text).of(None), "stations", shape)])
        raise StationFileError([FileProblem(1, None, shape)])
    if len(data["stations"]) > MAX_ROWS:
        raise FileLimitError("rows", MAX_ROWS, len(data["stations"]))
    found: list[tuple[int | None, str | None, str]] = []
    records: list[tuple[int, StationRecord]] = []
    for index, raw in enumerate(data["stations"]):
        if not isinstance(raw, dict):
            found.append((index, None, "each station must be an object with id, name, lat, lon, grade..."))
            continue
        record, row_problems = check_row(raw, known_units)
        found += [(index, column, reason) for column, reason in row_problems]
        if record is not None:
            records.append((index, record))
    seen: dict[str, int] = {}
    duplicates = []
    for index, record in records:
        if record.id in seen:
            duplicates.append((index, seen[record.id], record.id))
        seen.setdefault(record.id, index)
    if not found and not duplicates:
        return [record for _, record in records]
    lines = _JsonLines(text)
    problems = [FileProblem(lines.of(index, column), column, reason) for index, column, reason in found]
    problems += [
        FileProblem(lines.of(index, "id"), "id", f"{station_id!r} is also on line {lines.of(first, 'id')}")
        for index, first, station_id in duplicates
    ]
    raise StationFileError(sorted(problems, key=lambda p: p.line or 0))


def decode(data: bytes) -> str:
    """A file's bytes as text (UTF-8, with or without a byte-order mark), or StationFileError."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StationFileError(
            [FileProblem(line, None, f"is not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8")]
        ) from None


# A JSON string (escapes included) or a bracket: strings are skipped whole, so brackets inside them do not count.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{}]')


def check_limits(data: bytes, fmt: Format) -> str:
    """A file's text once its size, row count and (for JSON) nesting are within the limits; FileLimitError if not.

    Cheap scans only: nothing is parsed before the limits hold (json.loads recurses once per level)."""
    if len(data) > MAX_FILE_BYTES:
        raise FileLimitError("bytes", MAX_FILE_BYTES, len(data))
    text = decode(data)
    if fmt == "csv":
        rows = len(text.splitlines()) - 1  # less the header; a line break in a cell is refused anyway
        if rows > MAX_ROWS:
            raise FileLimitError("rows", MAX_ROWS, rows)
        return text
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise FileLimitError("depth", MAX_DEPTH, depth, text.count("\n", 0, token.start()) + 1)
        elif bracket in ("]", "}"):
            depth -= 1
    return text


def read_stations(data: bytes, fmt: Format, known_units: Collection[str]) -> list[StationRecord]:
    """Every station of a CSV or JSON file's bytes; StationFileError lists every problem, else nothing is wrong.

    CPU work for a large file: callers on the event loop run it in a thread (asyncio.to_thread)."""
    text = check_limits(data, fmt)
    return read_csv(text, known_units) if fmt == "csv" else read_json(text, known_units)


# ---------------------------------------------------------------------------------------------
# The one-line form: id=hp-040 name="..." lat=31.2 lon=121.4 grade=B amenities=water;charging hours=07:00-22:00


def parse_form(text: str) -> tuple[dict[str, Any], list[FileProblem]]:
    """key=value pairs of a one-line form as JSON-shaped fields; `hours=` sets all seven days."""
    problems: list[FileProblem] = []
    try:
        tokens = shlex.split(text)
    except ValueError as error:
        return {}, [FileProblem(None, None, f"cannot be read: {error} (close every quote)")]
    fields: dict[str, Any] = {}
    days: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            problems.append(FileProblem(None, None, f"{token!r} is not key=value"))
        elif key == "hours":
            days.update({day: value for day in WEEKDAYS})
        elif key in WEEKDAYS:
            days[key] = value
        elif key == "amenities":
            fields[key] = [a for a in value.split(";") if a.strip()]
        elif key in COLUMNS:
            fields[key] = value
        else:
            problems.append(FileProblem(None, key, f"is not a station field; use {', '.join(COLUMNS)} or hours"))
    if days:
        fields["hours"] = days
    return fields, problems


# ---------------------------------------------------------------------------------------------
# Writing files


def to_json(records: Iterable[StationRecord]) -> str:
    """Stations as the JSON file the importer reads."""
    stations = [
        {
            "id": r.id,
            "name": r.name,
            "address": r.address,
            "lat": r.lat,
            "lon": r.lon,
            "grade": r.grade,
            "amenities": list(r.amenities),
            "hours": {day: r.hours[day] for day in WEEKDAYS} if r.hours else {},
            "unit": r.unit,
            "active": True if r.active is None else r.active,
            "name_en": r.name_en or "",
            "address_en": r.address_en or "",
        }
        for r in records
    ]
    return json.dumps({"stations": stations}, ensure_ascii=False, indent=1) + "\n"


def to_csv(records: Iterable[StationRecord]) -> str:
    """Stations as the CSV file the importer reads; texts never formulas, coordinates numbers (domain.cells)."""

    def row(r: StationRecord) -> list[str | float]:
        hours = [r.hours.get(day, "") for day in WEEKDAYS]
        active = "true" if r.active is None or r.active else "false"
        return [
            r.id,
            r.name,
            r.address,
            r.lat,
            r.lon,
            r.grade,
            ";".join(r.amenities),
            *hours,
            r.unit or "",
            active,
            r.name_en or "",
            r.address_en or "",
        ]

    return write_csv([COLUMNS, *map(row, records)])


def write_stations(records: Iterable[StationRecord], fmt: Format) -> str:
    """Stations in the format asked for."""
    return to_csv(records) if fmt == "csv" else to_json(records)
