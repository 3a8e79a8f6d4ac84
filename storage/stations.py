"""Rest stations and the nearest-station lookup on indexed coordinates."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from domain.geo import EARTH_RADIUS_M, distance_m
from storage.db import Database

AMENITIES = ("water", "charging", "rest", "microwave", "toilet", "first_aid")


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

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Station:
        """Build from a `stations` row."""
        data = dict(row)
        data["amenities"] = tuple(json.loads(data["amenities"]))
        data["hours"] = json.loads(data["hours"])
        return cls.model_validate(data)


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


def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, list[tuple[float, float]]]:
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    low, high = lat - dlat, lat + dlat
    if low <= -90 or high >= 90:
        return max(low, -90.0), min(high, 90.0), [(-180.0, 180.0)]
    # The widest longitude span of the circle is at the latitude nearest a pole.
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(max(abs(low), abs(high))))))
    return low, high, _lon_ranges(lon, dlon)


class Stations:
    """The stations repository."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, stations: Iterable[Station]) -> int:
        """Insert or update stations by id; return how many."""
        rows = [
            (
                s.id, s.name, s.address, s.lat, s.lon, s.grade, json.dumps(list(s.amenities)),
                json.dumps(s.hours, ensure_ascii=False), s.unit_id, int(s.active),
            )
            for s in stations
        ]
        await self._db.write(
            lambda conn: conn.executemany(
                "INSERT INTO stations (id, name, address, lat, lon, grade, amenities, hours, unit_id, active)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " address = excluded.address, lat = excluded.lat, lon = excluded.lon, grade = excluded.grade,"
                " amenities = excluded.amenities, hours = excluded.hours, unit_id = excluded.unit_id,"
                " active = excluded.active",
                rows,
            )
        )
        return len(rows)

    async def get(self, station_id: str) -> Station | None:
        """One station by id."""
        row = await self._db.fetchone("SELECT * FROM stations WHERE id = ?", (station_id,))
        return None if row is None else Station.from_row(row)

    async def nearest(
        self, lat: float, lon: float, limit: int = 5, amenity: str | None = None
    ) -> list[tuple[Station, float]]:
        """The `limit` nearest open stations (with `amenity`) and their distance in metres."""

        def work(conn: sqlite3.Connection) -> list[tuple[Station, float]]:
            radius = 2_000.0
            while True:
                low, high, ranges = _box(lat, lon, radius)
                found: list[tuple[Station, float]] = []
                for west, east in ranges:
                    rows = conn.execute(
                        "SELECT * FROM stations WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
                        " AND active = 1",
                        (low, high, west, east),
                    )
                    for row in rows:
                        station = Station.from_row(row)
                        if amenity and amenity not in station.amenities:
                            continue
                        found.append((station, distance_m(lat, lon, station.lat, station.lon)))
                # Only stations inside the circle are certainly nearer than any outside the box.
                inside = sorted((f for f in found if f[1] <= radius), key=lambda f: (f[1], f[0].id))
                whole_earth = radius >= math.pi * EARTH_RADIUS_M
                if len(inside) >= limit or whole_earth:
                    return inside[:limit]
                radius *= 4

        return await self._db.run(work)
