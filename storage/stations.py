"""Rest stations: import by id, close and reopen, and the nearest-station lookup on an R*Tree.

The lookup searches `station_index`, an R*Tree of the open stations kept by triggers (migrations 3
and 16): a box per station, and in each entry's id the station's index_key and its amenity bits, so
the tree itself answers "near here, with first aid" without a read per row. bench/stations.py
measured it against a bounding box on a (lat, lon) B-tree: the B-tree scans the whole latitude
band, the R*Tree only the box, which matters most for sparse areas and amenity filters. On
PostgreSQL the same table of boxes has a GiST index that hands out the nearest entries first
(storage/postgres_migrations.py), so one statement answers what the circles answer here.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from domain.geo import EARTH_RADIUS_M, distances_from
from domain.stations_file import (
    AMENITIES,
    Format,
    StationRecord,
    check_row,
    edited,
    read_stations,
    record_fields,
    to_csv,
)
from storage.db import Database
from storage.dialect import is_postgresql
from storage.locations import parse_location
from storage.models import from_ts, to_ts

__all__ = [
    "AMENITIES",
    "Edited",
    "Station",
    "Stations",
    "Imported",
    "LastLocation",
    "amenity_bits",
    "station_name",
    "checked_rows",
    "stations_csv",
]

FIRST_RADIUS_M = 2_000.0  # the widest first circle, and the first one before any search
MIN_FIRST_RADIUS_M = 250.0
REACH_HEADROOM = 1.5  # a circle 1.5 times as wide as the last ones' reach holds about twice their stations
GROWTH = 4.0  # the widest step from a circle with too few stations: 16 times the area
MIN_GROWTH = 1.5
# A circle grown out of a sparse area may take in a city: hundreds of stations read and measured for
# five. Counting a box's stations costs a tenth of reading them, so a grown circle is counted first
# and drawn in towards holding CROWDED if it holds many more (bench/stations.py's slowest lookups).
CROWDED = 64
# An entry of station_index is index_key << ENTRY_SHIFT | amenity bits (migration 16).
ENTRY_SHIFT = 16
# The tree keeps 32-bit floats rounded outwards: a station lies within a few of their steps of its
# box's corner, under 5 m anywhere on Earth, so a distance measured from the corner is off by less.
BOX_SLACK_M = 10.0
_HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M
# Rows per import transaction: each holds the database thread a few milliseconds, so other people's
# reads and writes queued meanwhile go between two batches instead of after the whole file.
IMPORT_BATCH = 100


class Station(BaseModel):
    """A rest station as stored."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    address: str = ""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    grade: str = Field(pattern="^[ABC]$")
    amenities: tuple[str, ...] = ()
    hours: dict[str, str] = Field(default_factory=dict)
    unit_id: str | None = None
    active: bool = True
    name_en: str = ""  # the English forms, where the station file gives them
    address_en: str = ""

    def name_for(self, lang: str) -> str:
        """The name a reader of `lang` sees: the English one for English readers where there is one."""
        return self.name_en if lang == "en" and self.name_en else self.name

    def address_for(self, lang: str) -> str:
        """The address a reader of `lang` sees (English where there is one; may be empty)."""
        return self.address_en if lang == "en" and self.address_en else self.address

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Station:
        """Build from a `stations` row (a row read before, column for column, gives the same object)."""
        return _parsed(tuple(row.keys()), tuple(row))

    def record(self) -> StationRecord:
        """The station as a station file writes it."""
        return StationRecord(
            self.id,
            self.name,
            self.lat,
            self.lon,
            self.grade,
            self.address,
            self.amenities,
            dict(self.hours),
            self.unit_id,
            self.active,
            self.name_en,
            self.address_en,
        )


def station_name(station: Station, lang: str) -> str:
    """A station's name in the reader's language (English where the data has it, else the Chinese)."""
    return station.name_for(lang)


# Every listing reads the same few stations near the couriers again, and parsing a row (two JSON
# columns, validation) was a fifth of a search: kept, a search went from 150 to 123 µs. The key is
# the whole row as read, so a station changed since is a new key and never a stale one; nothing
# mutates a Station. A city's couriers see a few thousand stations at most; 2,048 of them, keys
# included, hold 5.4 MiB.
@lru_cache(maxsize=2048)
def _parsed(columns: tuple[str, ...], values: tuple[object, ...]) -> Station:
    data = {k: v for k, v in zip(columns, values, strict=True) if k != "index_key"}
    data["amenities"] = tuple(json.loads(data["amenities"]))
    data["hours"] = json.loads(data["hours"])
    return Station.model_validate(data)


@dataclass(frozen=True)
class Imported:
    """What an import did."""

    added: int
    updated: int


@dataclass(frozen=True)
class Edited:
    """What a one-line edit did: the station as stored, or the problems that kept it out."""

    station: Station | None
    problems: list[tuple[str, str]]
    existed: bool


@dataclass(frozen=True)
class LastLocation:
    """The last location a person shared for the station lookup."""

    lat: float
    lon: float
    accuracy_m: float | None
    at: datetime


def amenity_bits(amenities: Iterable[str]) -> int:
    """The index's bit mask for amenities (bit i is AMENITIES[i])."""
    wanted = set(amenities)
    return sum(1 << i for i, name in enumerate(AMENITIES) if name in wanted)


def _lon_ranges(lon: float, delta: float) -> list[tuple[float, float]]:
    """Longitude intervals covering lon ± delta, split where they cross the antimeridian."""
    if delta >= 180:
        return [(-180.0, 180.0)]
    low, high = lon - delta, lon + delta
    if low < -180:
        return [(low + 360, 180.0), (-180.0, high)]
    if high > 180:
        return [(low, 180.0), (-180.0, high - 360)]
    return [(low, high)]


def search_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, list[tuple[float, float]]]:
    """A latitude range and longitude ranges that contain every point within `radius_m` of (lat, lon)."""
    angle = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angle)
    low, high = lat - dlat, lat + dlat
    if low <= -90 or high >= 90 or angle >= math.pi / 2:
        # The circle holds a pole: every longitude.
        return max(low, -90.0), min(high, 90.0), [(-180.0, 180.0)]
    # The circle's widest longitude span (Matuschek's bounding coordinates on a sphere).
    ratio = math.sin(angle) / math.cos(math.radians(lat))
    if ratio >= 1:
        return low, high, [(-180.0, 180.0)]
    return low, high, _lon_ranges(lon, math.degrees(math.asin(ratio)))


_UPSERT = (
    "INSERT INTO stations (id, name, address, lat, lon, grade, amenities, hours, unit_id, active, name_en,"
    " address_en, index_key)"
    " VALUES (:id, :name, :address, :lat, :lon, :grade, :amenities, :hours, :unit_id, coalesce(:active, 1),"
    " coalesce(:name_en, ''), coalesce(:address_en, ''),"
    # The insert trigger would number it too, with a second write per row.
    " (SELECT coalesce(max(index_key), 0) + 1 FROM stations))"
    " ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, lat = excluded.lat,"
    " lon = excluded.lon, grade = excluded.grade, amenities = excluded.amenities, hours = excluded.hours,"
    " unit_id = excluded.unit_id, active = coalesce(:active, stations.active),"
    # A file without the English columns leaves the English forms as they were.
    " name_en = coalesce(:name_en, stations.name_en), address_en = coalesce(:address_en, stations.address_en)"
)

# Overlap, not containment: the tree stores 32-bit floats, rounded outwards. Every column read here
# is in the tree's node (an auxiliary column would cost a lookup in another table per row).
_IN_BOX = (
    "SELECT entry, min_lat, min_lon FROM station_index WHERE max_lat >= ? AND min_lat <= ?"
    " AND max_lon >= ? AND min_lon <= ? AND (entry & ?) = ?"
)
_COUNT_IN_BOX = _IN_BOX.replace("entry, min_lat, min_lon", "count(*)", 1)

# On PostgreSQL the index orders by the straight line through the Earth to a box reaching 0.06 mm around
# each station (storage/postgres_migrations.py says why a box), which is a little off the great-circle
# distance measured afterwards: the stations up to TIE_CHORD (about 6 mm on the ground, a hundred
# times the box) beyond the `rows`-th come along too, so that two at (nearly) one distance come out
# as on SQLite. At most TIE_ROOM of them: more rows than needed are more stations read for nothing.
TIE_ROOM = 4
TIE_CHORD = 1e-9  # on the unit sphere


def nearest_on_postgresql(rows: int) -> str:
    """PostgreSQL's lookup: the `rows` nearest entries with the amenity bits, straight from the GiST
    index (and those tied with the last), and their stations by index_key, in one round trip.
    Parameters: latitude, longitude, amenity bits, amenity bits."""
    # The LIMITs are written in, not bound: bound, PostgreSQL judged the prepared statement's generic
    # plan dearer and planned every lookup afresh (0.2 ms of a 0.4 ms lookup, bench/stations.py).
    return (
        "WITH nearest AS MATERIALIZED (SELECT entry, station_box(min_lat, min_lon) <-> station_point(?, ?) AS chord"
        f" FROM station_index WHERE (entry & ?) = ? ORDER BY chord LIMIT {int(rows) + TIE_ROOM})"
        f" SELECT stations.* FROM nearest JOIN stations ON stations.index_key = nearest.entry >> {ENTRY_SHIFT}"
        f" WHERE nearest.chord <= (SELECT max(chord) FROM (SELECT chord FROM nearest ORDER BY chord LIMIT {int(rows)})"
        f" first) + {TIE_CHORD}"
    )


def _uncrowded(conn: sqlite3.Connection, lat: float, lon: float, *, radius: float, least: float, mask: int) -> float:
    """`radius`, or a smaller one (not below `least`) if its box holds many more than CROWDED stations."""
    low, high, ranges = search_box(lat, lon, radius)
    count = sum(conn.execute(_COUNT_IN_BOX, (low, high, west, east, mask, mask)).fetchone()[0] for west, east in ranges)
    return max(least, radius * math.sqrt(CROWDED / count)) if count > CROWDED else radius


def _row(record: StationRecord) -> dict[str, object]:
    """A record as the stations table's columns (the file's fields, stored as JSON and integers)."""
    fields = record_fields(record)
    fields["unit_id"] = fields.pop("unit")
    fields["amenities"] = json.dumps(fields["amenities"])
    fields["hours"] = json.dumps(fields["hours"], ensure_ascii=False)
    fields["active"] = None if record.active is None else int(record.active)
    return fields


def checked_rows(data: bytes, fmt: Format, known_units: Collection[str]) -> list[dict[str, object]]:
    """A station file's stations, checked, as the rows `Stations.import_rows` writes; StationFileError if any is wrong.

    Run in the worker process (handlers.worker): rows of plain values are cheap to send back, and the
    garbage collector never has to walk them."""
    return [_row(r) for r in read_stations(data, fmt, known_units)]


def stations_csv(path: str) -> tuple[int, bytes]:
    """How many stations there are and the CSV file of them all (UTF-8 with a byte-order mark, for Excel),
    read from the database at `path` (Database.path: a file, or a PostgreSQL URL) on a read-only
    connection of its own: run in the worker process."""
    if parse_location(path).backend == "postgresql":
        from storage.postgres import read_only_rows

        rows = read_only_rows(path, "SELECT * FROM stations ORDER BY id")
    else:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM stations ORDER BY id").fetchall()
        finally:
            conn.close()
    stations = [Station.from_row(r) for r in rows]
    return len(stations), to_csv(s.record() for s in stations).encode("utf-8-sig")


class Stations:
    """The stations repository."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # How far recent searches had to reach for their last station, per amenity filter: in a
        # dense city a 2 km circle holds scores of stations, each read and measured for nothing.
        self._reach: dict[int, float] = {}

    def _first_radius(self, mask: int) -> float:
        reach = self._reach.get(mask, FIRST_RADIUS_M)
        return min(FIRST_RADIUS_M, max(MIN_FIRST_RADIUS_M, REACH_HEADROOM * reach))

    def _reached(self, mask: int, metres: float) -> None:
        before = self._reach.get(mask, FIRST_RADIUS_M)
        self._reach[mask] = before + 0.25 * (metres - before)

    async def upsert(self, stations: Iterable[Station]) -> int:
        """Insert or update stations by id (open or closed as given); return how many."""
        imported = await self.import_records([s.record() for s in stations])
        return imported.added + imported.updated

    async def import_records(self, records: Iterable[StationRecord]) -> Imported:
        """Insert or update checked stations by id; nothing is ever deleted (see import_rows)."""
        return await self.import_rows([_row(r) for r in records])

    async def import_rows(self, rows: list[dict[str, object]]) -> Imported:
        """Write rows of checked stations (checked_rows), IMPORT_BATCH to a transaction.

        A large file is written in batches so the bot keeps answering meanwhile; an import cut short
        (the process stopped) is finished by sending the same file again, since stations match by id."""

        def work(conn: sqlite3.Connection, batch: list[dict[str, object]]) -> int:
            before = conn.execute("SELECT count(*) FROM stations").fetchone()[0]
            conn.executemany(_UPSERT, batch)
            return conn.execute("SELECT count(*) FROM stations").fetchone()[0] - before

        added = 0
        for start in range(0, len(rows), IMPORT_BATCH):
            batch = rows[start : start + IMPORT_BATCH]
            added += await self._db.write(lambda conn, batch=batch: work(conn, batch), long=True)
            # Whoever waited behind this batch goes on now, while the database thread is idle (their
            # short work then runs at once instead of queueing behind the next batch).
            await asyncio.sleep(0)
        return Imported(added, len(rows) - added)

    async def edit(self, station_id: str, changes: Mapping[str, object]) -> Edited:
        """Add a station or change some of its fields, read, merged, checked and written in one transaction:
        two coordinators changing different fields of one station at the same moment both keep their change."""

        def work(conn: sqlite3.Connection) -> Edited:
            row = conn.execute("SELECT * FROM stations WHERE id = ?", (station_id,)).fetchone()
            merged = edited(Station.from_row(row).record(), changes) if row is not None else dict(changes)
            units = {r[0] for r in conn.execute("SELECT id FROM units WHERE active = 1")}
            record, problems = check_row(merged, units)
            if record is None:
                return Edited(None, problems, row is not None)
            conn.execute(_UPSERT, _row(record))
            stored = conn.execute("SELECT * FROM stations WHERE id = ?", (record.id,)).fetchone()
            return Edited(Station.from_row(stored), [], row is not None)

        return await self._db.write(work)

    async def get(self, station_id: str) -> Station | None:
        """One station by id."""
        row = await self._db.fetchone("SELECT * FROM stations WHERE id = ?", (station_id,))
        return None if row is None else Station.from_row(row)

    async def all(self) -> list[Station]:
        """Every station, open and closed, by id; read and parsed on a reader's thread, beside the writer."""
        work = lambda conn: [Station.from_row(r) for r in conn.execute("SELECT * FROM stations ORDER BY id")]  # noqa: E731
        (stations,) = await self._db.read_side_by_side([work])
        return stations

    async def set_active(self, station_id: str, active: bool) -> Station | None:
        """Close or reopen a station; the station as it now is, or None if there is none with that id."""

        def work(conn: sqlite3.Connection) -> Station | None:
            # Only a station not already so is written: a double tap or two coordinators change it once.
            conn.execute(
                "UPDATE stations SET active = ? WHERE id = ? AND active != ?", (int(active), station_id, int(active))
            )
            row = conn.execute("SELECT * FROM stations WHERE id = ?", (station_id,)).fetchone()
            return None if row is None else Station.from_row(row)

        return await self._db.write(work)

    async def counts(self) -> tuple[int, int]:
        """How many stations are open and how many closed."""
        row = await self._db.fetchone("SELECT coalesce(sum(active), 0), coalesce(sum(1 - active), 0) FROM stations")
        return row[0], row[1]

    async def closed(self, limit: int = 20) -> list[Station]:
        """Closed stations, by id."""
        rows = await self._db.fetchall("SELECT * FROM stations WHERE active = 0 ORDER BY id LIMIT ?", (limit,))
        return [Station.from_row(r) for r in rows]

    async def nearest(
        self, lat: float, lon: float, limit: int = 5, amenity: str | None = None
    ) -> list[tuple[Station, float]]:
        """The `limit` nearest open stations (offering `amenity`) and their distance in metres."""
        mask = amenity_bits([amenity]) if amenity else 0
        if amenity and not mask:
            raise ValueError(f"unknown amenity {amenity!r}")

        distance_to = distances_from(lat, lon)

        def measured(rows: Iterable[sqlite3.Row]) -> list[tuple[Station, float]]:
            # Equal distances (two stations at one address) come out in id order, every time.
            by_distance = sorted((distance_to(row["lat"], row["lon"]), row["id"], row) for row in rows)[:limit]
            return [(Station.from_row(row), metres) for metres, _, row in by_distance]

        if is_postgresql(self._db):
            return measured(await self._db.fetchall(nearest_on_postgresql(limit), (lat, lon, mask, mask)))

        def work(conn: sqlite3.Connection) -> list[tuple[Station, float]]:
            radius = self._first_radius(mask)
            while True:
                low, high, ranges = search_box(lat, lon, radius)
                # (distance from the box's corner, index_key): within BOX_SLACK_M of the true distance.
                found = [
                    (distance_to(s_lat, s_lon), entry >> ENTRY_SHIFT)
                    for west, east in ranges
                    for entry, s_lat, s_lon in conn.execute(_IN_BOX, (low, high, west, east, mask, mask))
                ]
                found.sort()
                # Only stations certainly inside the circle are certainly nearer than any outside the box.
                if radius >= _HALF_CIRCUMFERENCE_M or (
                    len(found) >= limit and found[limit - 1][0] <= radius - BOX_SLACK_M
                ):
                    break
                if len(found) >= limit:
                    # The box's corners already hold enough: a circle through the limit-th of them
                    # takes them all, in one more query instead of several growing ones.
                    radius = max(radius * 1.01, found[limit - 1][0] + BOX_SLACK_M)
                else:
                    # A few found say how sparse it is here: a circle about twice as likely to hold
                    # the rest, instead of one 16 times the area.
                    grown = radius * (
                        min(GROWTH, max(MIN_GROWTH, math.sqrt(2 * limit / len(found)))) if found else GROWTH
                    )
                    radius = _uncrowded(conn, lat, lon, radius=grown, least=radius * MIN_GROWTH, mask=mask)
            if not found:
                return []
            # Any of the `limit` nearest is within twice the slack of the limit-th corner distance.
            cut = found[min(limit, len(found)) - 1][0] + 2 * BOX_SLACK_M
            keys = [key for metres, key in found if metres <= cut]
            rows = conn.execute(
                f"SELECT * FROM stations WHERE index_key IN ({','.join('?' * len(keys))})", keys
            ).fetchall()
            found_here = measured(rows)
            if len(found_here) == limit:
                self._reached(mask, found_here[-1][1])
            return found_here

        return await self._db.run(work)

    async def remember_location(
        self, telegram_id: int, *, lat: float, lon: float, accuracy_m: float | None, now: datetime
    ) -> None:
        """Keep the location a person just shared, so amenity buttons can search around it again."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO last_locations (telegram_id, lat, lon, accuracy_m, at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon,"
                " accuracy_m = excluded.accuracy_m, at = excluded.at",
                (telegram_id, lat, lon, accuracy_m, to_ts(now)),
            )
        )

    async def last_location(self, telegram_id: int) -> LastLocation | None:
        """The last location this person shared, if it is still kept."""
        row = await self._db.fetchone(
            "SELECT lat, lon, accuracy_m, at FROM last_locations WHERE telegram_id = ?", (telegram_id,)
        )
        return None if row is None else LastLocation(row["lat"], row["lon"], row["accuracy_m"], from_ts(row["at"]))
