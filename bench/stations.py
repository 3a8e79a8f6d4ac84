"""Stations at national scale: import 200,000 through the real command, then time the nearest-five lookup.

    python bench/stations.py            # 200,000 stations, 2,000 lookups
    python bench/stations.py --quick    # 20,000 stations, 300 lookups

Everything goes to a temporary folder (a generated CSV file, a config and the SQLite file) that is
removed afterwards. Figures are printed beside same-run baselines: the lookup (Python, the thread
hop, a search circle grown until five stations are certainly inside, rows to models) against one
bare SQL query of the bounding box that holds the same five stations, on the R*Tree the bot uses
and on a (lat, lon) B-tree, which is what the R*Tree was chosen over.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cli import main as cli  # noqa: E402
from bot.config import load_config  # noqa: E402
from domain.geo import EARTH_RADIUS_M  # noqa: E402
from domain.hours import WEEKDAYS  # noqa: E402
from domain.stations_file import AMENITIES, StationRecord, to_csv  # noqa: E402

SEED = 20261123
UNITS = [f"unit-{i:02d}" for i in range(10)]
# Mainland China, roughly: where a national network of stations would be.
LAT, LON = (20.0, 45.0), (75.0, 130.0)


def _point(rnd: random.Random, cities: list[tuple[float, float]]) -> tuple[float, float]:
    if rnd.random() < 0.8:
        lat, lon = rnd.choice(cities)
        return round(lat + rnd.gauss(0, 0.1), 6), round(lon + rnd.gauss(0, 0.1), 6)
    return round(rnd.uniform(*LAT), 6), round(rnd.uniform(*LON), 6)


def generate(count: int, rnd: random.Random, cities: list[tuple[float, float]]) -> list[StationRecord]:
    """`count` stations clustered around cities, with amenities and hours (some overnight, some closed days)."""
    schedules = [
        {d: "07:00-22:00" for d in WEEKDAYS},
        {d: "00:00-24:00" for d in WEEKDAYS},
        {**{d: "09:00-18:00" for d in WEEKDAYS}, "sun": "closed"},
        {d: "22:00-06:00" for d in WEEKDAYS},
    ]
    stations = []
    for i in range(count):
        lat, lon = _point(rnd, cities)
        stations.append(
            StationRecord(
                id=f"cn-{i:06d}",
                name=f"爱心驿站 {i}",
                lat=lat,
                lon=lon,
                grade=rnd.choice("ABC"),
                address=f"{rnd.randrange(1, 999)}号",
                amenities=tuple(a for a in AMENITIES if rnd.random() < 0.5),
                hours=dict(rnd.choice(schedules)),
                unit=rnd.choice(UNITS),
            )
        )
    return stations


def _config(folder: Path) -> Path:
    units = "".join(
        f'[[units]]\nid = "{u}"\nkind = "station"\nzh = "驿站{u}"\nen = "Station {u}"\n' for u in UNITS
    )
    path = folder / "config.toml"
    path.write_text(f'[database]\npath = "{folder / "stations.sqlite3"}"\n{units}', encoding="utf-8")
    return path


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / math.cos(math.radians(abs(lat) + dlat))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


async def _lookups(
    config_path: Path, points: list[tuple[float, float]], amenity: str | None
) -> tuple[list[float], list[float]]:
    """Time the lookup at each point; also the distance of the fifth station found."""
    from bot.app import open_storage

    storage = await open_storage(load_config(config_path), datetime.now(UTC))
    try:
        await storage.stations.nearest(*points[0], 5, amenity)  # warm the cache
        timings, radii = [], []
        for lat, lon in points:
            start = time.perf_counter()
            found = await storage.stations.nearest(lat, lon, 5, amenity)
            timings.append(time.perf_counter() - start)
            assert len(found) == 5
            radii.append(found[-1][1])
        return timings, radii
    finally:
        await storage.close()


def _bare(database: Path, points: list[tuple[float, float]], radii: list[float], sql: str) -> tuple[list[float], list[int]]:
    """Time one SQL query of the box around each point that holds its five nearest; also the rows it read."""
    conn = sqlite3.connect(database)
    try:
        conn.execute(sql, _box(*points[0], radii[0])).fetchall()
        timings, rows = [], []
        for (lat, lon), radius in zip(points, radii):
            start = time.perf_counter()
            found = conn.execute(sql, _box(lat, lon, radius)).fetchall()
            timings.append(time.perf_counter() - start)
            rows.append(len(found))
        return timings, rows
    finally:
        conn.close()


def main() -> int:
    """Generate, import, look up; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 stations and 300 lookups")
    args = parser.parse_args()
    count, queries = (20_000, 300) if args.quick else (200_000, 2_000)
    rnd = random.Random(SEED)
    cities = [(rnd.uniform(*LAT), rnd.uniform(*LON)) for _ in range(300)]

    with tempfile.TemporaryDirectory(prefix="bench-stations-") as tmp:
        folder = Path(tmp)
        config = _config(folder)
        stations = generate(count, rnd, cities)
        csv_file = folder / "stations.csv"
        csv_file.write_text(to_csv(stations), encoding="utf-8")
        print(f"stations: {count:,} generated (seed {SEED}), CSV {csv_file.stat().st_size / 2**20:.1f} MiB")

        start = time.perf_counter()
        status = cli(["stations", "--config", str(config), "import", str(csv_file)])
        first = time.perf_counter() - start
        assert status == 0, "the import failed"
        start = time.perf_counter()
        status = cli(["stations", "--config", str(config), "import", str(csv_file)])
        again = time.perf_counter() - start
        assert status == 0, "the re-import failed"
        database = folder / "stations.sqlite3"
        print(f"import (python -m bot stations import, check every row, one transaction): {first:.2f} s"
              f" ({count / first:,.0f} stations/s); re-import updating all: {again:.2f} s;"
              f" database {database.stat().st_size / 2**20:.1f} MiB")

        points = [_point(rnd, cities) for _ in range(queries)]
        rtree_sql = (
            "SELECT index_key, lat, lon FROM station_index WHERE max_lat >= ? AND min_lat <= ?"
            " AND max_lon >= ? AND min_lon <= ?"
        )
        btree_sql = "SELECT rowid, lat, lon FROM stations INDEXED BY bench_lat_lon WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
        with sqlite3.connect(database) as conn:
            conn.execute("CREATE INDEX bench_lat_lon ON stations(lat, lon)")
        print(f"lookups: {queries:,} points, 80% near a city, 20% anywhere")
        for amenity in (None, "first_aid"):
            timings, radii = asyncio.run(_lookups(config, points, amenity))
            near = _percentiles(timings)
            rtree_times, rows = _bare(database, points, radii, rtree_sql + (f" AND (amenity_bits & {1 << AMENITIES.index(amenity)}) != 0" if amenity else ""))
            btree_times, _ = _bare(database, points, radii, btree_sql)
            rtree, btree = _percentiles(rtree_times), _percentiles(btree_times)
            print(f"  {'any station' if amenity is None else 'with ' + amenity}: the five within"
                  f" {statistics.median(radii) / 1000:.1f} km (median), {statistics.median(rows):.0f} rows in that box")
            print(f"    nearest 5 (the bot's lookup)      p50 {near[0]:7.3f} ms   p99 {near[1]:7.3f} ms")
            print(f"    bare SQL box, R*Tree             p50 {rtree[0]:7.3f} ms   p99 {rtree[1]:7.3f} ms"
                  f"   lookup/bare: {near[0] / rtree[0]:.1f}x p50, {near[1] / rtree[1]:.1f}x p99")
            print(f"    bare SQL box, (lat, lon) B-tree  p50 {btree[0]:7.3f} ms   p99 {btree[1]:7.3f} ms"
                  f"   B-tree/R*Tree: {btree[0] / rtree[0]:.1f}x p50, {btree[1] / rtree[1]:.1f}x p99")
    return 0


if __name__ == "__main__":
    sys.exit(main())
