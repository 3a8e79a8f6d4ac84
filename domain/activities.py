"""Activity files: activities with sign-up (a childcare class, a free clinic) as TOML or JSON, checked whole.

Pure code: bytes in, records or every problem out. The TOML shape is

    [[activities]]
    title = "暑期爱心托管班"              # one line, at most 60 characters
    title_en = "Summer childcare class"  # optional: what English readers see (else the title)
    details = "为快递员子女开设……"          # optional, at most 600 characters (details_en likewise)
    starts = "2026-11-30 09:00"         # district time
    station = "st1"                     # a station's id, or
    address = "长宁路100号"               # an address (optionally with lat and lon for a Navigate button;
                                        # address_en for English readers)
    places = 20
    who = "couriers"                    # optional: "couriers" (the default) or "everyone"
    language = "zh"                     # optional: only people who read this language may sign up
    signup_until = "2026-11-29 18:00"   # optional: the sign-up deadline; left out, until it starts

and a JSON file is {"activities": [{...}, ...]}. A file publishes every activity it holds, or none.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from domain.file_fields import text_field
from domain.stations_file import FileProblem, StationFileError

MAX_FILE_BYTES = 256 * 1024
MAX_ACTIVITIES = 200
MAX_TITLE = 60
MAX_DETAILS = 600
MAX_ADDRESS = 120
MAX_PLACES = 10_000
AUDIENCES = ("couriers", "everyone")
LANGUAGES = ("zh", "en")
FIELDS = (
    "title",
    "title_en",
    "details",
    "details_en",
    "starts",
    "station",
    "address",
    "address_en",
    "lat",
    "lon",
    "places",
    "who",
    "language",
    "signup_until",
)
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")

Format = Literal["toml", "json"]


class ActivityFileError(StationFileError):
    """An activity file that cannot be published; `problems` lists every reason."""


@dataclass(frozen=True)
class ActivityRecord:
    """One activity as a file or the dialog gives it, checked."""

    title: str
    starts: datetime
    places: int
    signup_until: datetime
    station_id: str | None = None
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    details: str = ""
    audience: str = "couriers"
    language: str | None = None
    # English readers' forms (as stations' name_en): empty where the file or the dialog gave none.
    title_en: str = ""
    details_en: str = ""
    address_en: str = ""


def in_language(main: str, english: str, lang: str) -> str:
    """An activity's text as a reader of `lang` sees it: the English one for English readers where there is one."""
    return english if lang == "en" and english else main


def format_of(file_name: str) -> Format | None:
    """The format an activity file's name says: activities….toml or activities….json, else None."""
    name = file_name.lower()
    if not name.startswith("activit"):
        return None
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    return suffix if suffix in ("toml", "json") else None  # type: ignore[return-value]


def parse_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """A district-time moment written like 2026-11-30 09:00 (TOML's own local date-times too), or None."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value
    if not isinstance(value, str):
        return None
    text = value.strip()
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    return None


def _coordinate(raw: Mapping[str, Any], field: str, bound: float, problems: list[tuple[str, str]]) -> float | None:
    value = raw.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append((field, "must be a number in decimal degrees, like 31.2317"))
        return None
    if not -bound <= value <= bound:
        problems.append((field, f"{value} is out of range (-{bound:g} to {bound:g})"))
        return None
    return float(value)


def check_activity(
    raw: Any, zone: ZoneInfo, now: datetime, stations: Collection[str]
) -> tuple[ActivityRecord | None, list[tuple[str, str]]]:
    """One activity checked: the record, or None and every (field, reason) wrong with it."""
    if not isinstance(raw, Mapping):
        return None, [("", "must be a table of fields, like title = …, starts = …")]
    problems: list[tuple[str, str]] = []
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        problems.append((", ".join(map(str, unknown)), f"unknown field; known: {', '.join(FIELDS)}"))
    title = text_field(raw, "title", problems, MAX_TITLE, lines=False, required=False)
    if not title and "title" not in {p[0] for p in problems}:
        problems.append(("title", "is missing"))
    title_en = text_field(raw, "title_en", problems, MAX_TITLE, lines=False, required=False)
    details = text_field(raw, "details", problems, MAX_DETAILS, lines=True, required=False)
    details_en = text_field(raw, "details_en", problems, MAX_DETAILS, lines=True, required=False)
    starts = parse_time(raw.get("starts"), zone)
    if starts is None:
        problems.append(("starts", "is missing or not a time like 2026-11-30 09:00 (district time)"))
    elif starts <= now:
        problems.append(("starts", "is in the past"))
    until = starts
    if raw.get("signup_until") is not None:
        until = parse_time(raw.get("signup_until"), zone)
        if until is None:
            problems.append(("signup_until", "is not a time like 2026-11-29 18:00 (district time)"))
        elif starts is not None and until > starts:
            problems.append(("signup_until", "is after the activity starts"))
    station = raw.get("station")
    if station is not None and (not isinstance(station, str) or station.strip() not in stations):
        problems.append(("station", f"{station!r} is not a known station id"))
        station = None
    station = station.strip() if isinstance(station, str) else None
    address = text_field(raw, "address", problems, MAX_ADDRESS, lines=False, required=False)
    address_en = text_field(raw, "address_en", problems, MAX_ADDRESS, lines=False, required=False)
    if address_en and not address:
        problems.append(("address_en", "is the English form of an address: give address = … too"))
    if station is None and not address and "station" not in raw:
        problems.append(("station", "where is it? give a station's id (station = …) or an address (address = …)"))
    lat = _coordinate(raw, "lat", 90, problems)
    lon = _coordinate(raw, "lon", 180, problems)
    if (lat is None) != (lon is None):
        problems.append(("lat, lon", "give both or neither"))
    places = raw.get("places")
    if isinstance(places, bool) or not isinstance(places, int) or not 1 <= places <= MAX_PLACES:
        problems.append(("places", f"must be a whole number from 1 to {MAX_PLACES}"))
    audience = raw.get("who", "couriers")
    if audience not in AUDIENCES:
        problems.append(("who", f"must be one of {', '.join(AUDIENCES)}"))
    language = raw.get("language")
    if language is not None and language not in LANGUAGES:
        problems.append(("language", f"must be one of {', '.join(LANGUAGES)}, or left out"))
    if problems:
        return None, problems
    assert starts is not None and until is not None
    return (
        ActivityRecord(
            title=title,
            starts=starts,
            places=places,
            signup_until=until,
            station_id=station,
            address=address,
            lat=lat if lon is not None else None,
            lon=lon if lat is not None else None,
            details=details,
            audience=audience,
            language=language,
            title_en=title_en,
            details_en=details_en,
            address_en=address_en,
        ),
        [],
    )


def _parse(data: bytes, fmt: Format) -> list[Any]:
    if len(data) > MAX_FILE_BYTES:
        raise ActivityFileError(
            [FileProblem(None, None, f"the file is {len(data):,} bytes; at most {MAX_FILE_BYTES:,}")]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ActivityFileError([FileProblem(None, None, "the file is not UTF-8 text")]) from error
    try:
        tree = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ActivityFileError(
            [FileProblem(None, None, f"the file cannot be read as {fmt.upper()}: {error}")]
        ) from None
    items = tree.get("activities") if isinstance(tree, dict) else None
    if not isinstance(items, list) or not items:
        shape = "[[activities]] tables" if fmt == "toml" else '{"activities": [{...}]}'
        raise ActivityFileError([FileProblem(None, None, f"the file holds no activities; write them as {shape}")])
    if len(items) > MAX_ACTIVITIES:
        raise ActivityFileError(
            [FileProblem(None, None, f"the file has {len(items)} activities; at most {MAX_ACTIVITIES}")]
        )
    return items


def read_activities(
    data: bytes, fmt: Format, zone: ZoneInfo, now: datetime, stations: Collection[str]
) -> list[ActivityRecord]:
    """Every activity of a file, checked; ActivityFileError with every problem if any is wrong."""
    records: list[ActivityRecord] = []
    problems: list[FileProblem] = []
    for number, raw in enumerate(_parse(data, fmt), 1):
        record, wrong = check_activity(raw, zone, now, stations)
        problems += [
            FileProblem(None, f"activity {number}: {field}" if field else f"activity {number}", why)
            for field, why in wrong
        ]
        if record is not None:
            records.append(record)
    if problems:
        raise ActivityFileError(problems)
    return records
