"""Stations at national scale: import 200,000 through the real command, then time the nearest-five lookup.

    python bench/stations.py            # 200,000 stations, 2,000 lookups
    python bench/stations.py --quick    # 20,000 stations, 300 lookups
    APPEALS_BOT_BENCH_POSTGRESQL=postgresql://... python bench/stations.py   # a PostgreSQL server of your own

Everything goes to a temporary folder (generated CSV files, a config and the SQLite file) that is
removed afterwards. The import goes through `python -m bot stations import`, one file of at most
domain.stations_file.MAX_ROWS stations at a time (the limit of one file). Then, point by point and
alternately in one process, the lookup (Python, a search circle grown until five stations are
certainly inside, rows to models) and its baseline: the lookup's own box statement
(storage.stations._IN_BOX), run once with plain sqlite3 on the bounding box that holds the same
five stations. The lookup's p99 over the box query's p99 is the figure judged, without and with an
amenity filter. Every point is measured in several passes and keeps its best time on each side:
another process taking the core for a moment must not pass for the lookup's cost, while a point
that is slow by nature (a sparse area, several circles) is slow in every pass. The same box on a
(lat, lon) B-tree, which is what the R*Tree was chosen over, is printed beside them.

Then the same files are imported into PostgreSQL (the server APPEALS_BOT_BENCH_POSTGRESQL names, or
one started in a temporary directory as the tests start one, tests/postgres.py; skipped, saying so,
where there is neither) and the same points looked up there: its lookup's p99 over SQLite's lookup
p99 from this run is judged too (at most 2x).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import header, percentile, result  # noqa: E402
from postgres_server import postgresql_database  # noqa: E402

from bot.cli import main as cli  # noqa: E402
from bot.config import load_config  # noqa: E402
from domain.geo import EARTH_RADIUS_M  # noqa: E402
from domain.hours import WEEKDAYS  # noqa: E402
from domain.stations_file import AMENITIES, MAX_ROWS, StationRecord, to_csv  # noqa: E402
from storage.stations import _IN_BOX, amenity_bits  # noqa: E402

SEED = 20261123
UNITS = [f"unit-{i:02d}" for i in range(10)]
# Mainland China, roughly: where a national network of stations would be.
LAT, LON = (20.0, 45.0), (75.0, 130.0)
TARGET = 10.0  # the lookup's p99 at most this many times one bare R*Tree box query's p99
POSTGRESQL_TARGET = 2.0  # the lookup's p99 on PostgreSQL at most this many times its p99 on SQLite
AMENITY = "first_aid"
BTREE_SQL = (
    "SELECT rowid, lat, lon FROM stations INDEXED BY bench_lat_lon WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
)


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


def _config(folder: Path, postgresql_url: str | None = None) -> Path:
    units = "".join(f'[[units]]\nid = "{u}"\nkind = "station"\nzh = "驿站{u}"\nen = "Station {u}"\n' for u in UNITS)
    where = f'url = "{postgresql_url}"' if postgresql_url else f'path = "{folder / "stations.sqlite3"}"'
    path = folder / ("config-postgresql.toml" if postgresql_url else "config.toml")
    path.write_text(f"[database]\n{where}\n{units}", encoding="utf-8")
    return path


def _import(config: Path, files: list[Path]) -> float:
    """Import every file through the real command; the seconds it took."""
    start = time.perf_counter()
    for csv_file in files:
        status = cli(["stations", "--config", str(config), "import", str(csv_file)])
        assert status == 0, f"the import of {csv_file.name} failed"
    return time.perf_counter() - start


def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / math.cos(math.radians(abs(lat) + dlat))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def _ms(samples: list[float], p: float) -> float:
    return percentile(samples, p) * 1000


async def _measure(
    config: Path, database: Path, points: list[tuple[float, float]], amenity: str | None, passes: int
) -> dict[str, list[float]]:
    """At each point in turn: the lookup, the bare R*Tree box query of its five, the same box on the
    B-tree; each point's best of `passes` on each side."""
    from bot.app import open_storage

    mask = amenity_bits([amenity]) if amenity else 0
    storage = await open_storage(load_config(config), datetime.now(UTC))
    plain = sqlite3.connect(database)
    figures: dict[str, list[float]] = {"lookup": [math.inf] * len(points), "rtree": [math.inf] * len(points)}
    figures |= {"btree": [math.inf] * len(points), "radius": [], "rows": []}

    def best(side: str, index: int, seconds: float) -> None:
        figures[side][index] = min(figures[side][index], seconds)

    try:
        # One of each first, untimed: the statements prepared, the first pages read.
        found = await storage.stations.nearest(*points[0], 5, amenity)
        plain.execute(_IN_BOX, (*_box(*points[0], found[-1][1]), mask, mask)).fetchall()
        plain.execute(BTREE_SQL, _box(*points[0], found[-1][1])).fetchall()
        for round_ in range(passes):
            for index, (lat, lon) in enumerate(points):
                start = time.perf_counter()
                found = await storage.stations.nearest(lat, lon, 5, amenity)
                best("lookup", index, time.perf_counter() - start)
                assert len(found) == 5
                box = _box(lat, lon, found[-1][1])
                start = time.perf_counter()
                rows = plain.execute(_IN_BOX, (*box, mask, mask)).fetchall()
                best("rtree", index, time.perf_counter() - start)
                start = time.perf_counter()
                plain.execute(BTREE_SQL, box).fetchall()
                best("btree", index, time.perf_counter() - start)
                if round_ == 0:
                    figures["radius"].append(found[-1][1])
                    figures["rows"].append(len(rows))
    finally:
        plain.close()
        await storage.close()
    return figures


async def _measure_lookup(
    config: Path, points: list[tuple[float, float]], amenity: str | None, passes: int
) -> list[float]:
    """The lookup alone at each point, each point's best of `passes`."""
    from bot.app import open_storage

    storage = await open_storage(load_config(config), datetime.now(UTC))
    times = [math.inf] * len(points)
    try:
        await storage.stations.nearest(*points[0], 5, amenity)
        for _ in range(passes):
            for index, (lat, lon) in enumerate(points):
                start = time.perf_counter()
                found = await storage.stations.nearest(lat, lon, 5, amenity)
                times[index] = min(times[index], time.perf_counter() - start)
                assert len(found) == 5
    finally:
        await storage.close()
    return times


def _on_postgresql(
    folder: Path,
    files: list[Path],
    points: list[tuple[float, float]],
    passes: int,
    sqlite: dict[str | None, list[float]],
) -> None:
    """Import the same files into PostgreSQL, look up the same points; print p99 beside SQLite's and judge it."""
    with postgresql_database() as url:
        if url is None:
            return
        config = _config(folder, url)
        seconds = _import(config, files)
        print(f"# PostgreSQL: import {seconds:.2f} s ({len(files)} file(s) through the same command)")
        for amenity, on_sqlite in sqlite.items():
            lookup = asyncio.run(_measure_lookup(config, points, amenity, passes))
            ratio = _ms(lookup, 99) / _ms(on_sqlite, 99)
            label = "" if amenity is None else " with " + amenity
            print(
                f"#   nearest 5{label} on PostgreSQL  p50 {_ms(lookup, 50):7.3f} ms   p99 {_ms(lookup, 99):7.3f} ms"
                f"   on SQLite p99 {_ms(on_sqlite, 99):7.3f} ms   PostgreSQL/SQLite: {ratio:.2f}x p99"
            )
            result(
                "stations-postgresql" + ("" if amenity is None else f"-{amenity.replace('_', '-')}"),
                f"{_ms(lookup, 99):.3f} ms p99 (nearest 5{label}, the bot's lookup on PostgreSQL)",
                f"{_ms(on_sqlite, 99):.3f} ms p99 (the same lookups on SQLite, this run)",
                ratio,
                f"<= {POSTGRESQL_TARGET:.0f}x",
                ratio <= POSTGRESQL_TARGET,
            )


def main(argv: list[str] | None = None) -> int:
    """Generate, import, look up; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 stations and 300 lookups")
    args = parser.parse_args(argv)
    count, queries, passes = (20_000, 300, 3) if args.quick else (200_000, 2_000, 5)
    header(
        f"stations: the nearest five among {count:,} stations, {queries:,} lookups, best of {passes} passes each",
        args.quick,
    )
    rnd = random.Random(SEED)
    cities = [(rnd.uniform(*LAT), rnd.uniform(*LON)) for _ in range(300)]

    with tempfile.TemporaryDirectory(prefix="bench-stations-") as tmp:
        folder = Path(tmp)
        config = _config(folder)
        stations = generate(count, rnd, cities)
        files = []
        for index, first in enumerate(range(0, count, MAX_ROWS)):
            files.append(folder / f"stations-{index:02d}.csv")
            files[-1].write_text(to_csv(stations[first : first + MAX_ROWS]), encoding="utf-8")
        size = sum(f.stat().st_size for f in files) / 2**20
        print(
            f"# stations: {count:,} generated (seed {SEED}), {len(files)} CSV file(s) of at most {MAX_ROWS:,}, {size:.1f} MiB"
        )
        first, again = _import(config, files), _import(config, files)
        database = folder / "stations.sqlite3"
        print(
            f"# import (python -m bot stations import, every row checked): {first:.2f} s ({count / first:,.0f} stations/s);"
            f" again, updating all: {again:.2f} s; database {database.stat().st_size / 2**20:.1f} MiB"
        )

        points = [_point(rnd, cities) for _ in range(queries)]
        with sqlite3.connect(database) as conn:
            conn.execute("CREATE INDEX bench_lat_lon ON stations(lat, lon)")
        print(f"# lookups: {queries:,} points, 80% near a city, 20% anywhere")
        sqlite_lookups: dict[str | None, list[float]] = {}
        for amenity in (None, AMENITY):
            f = asyncio.run(_measure(config, database, points, amenity, passes))
            lookup, rtree, btree = f["lookup"], f["rtree"], f["btree"]
            sqlite_lookups[amenity] = lookup
            print(
                f"# {'any station' if amenity is None else 'with ' + amenity}: the five within"
                f" {statistics.median(f['radius']) / 1000:.1f} km (median), {statistics.median(f['rows']):.0f} rows in that box"
            )
            print(
                f"#   nearest 5 (the bot's lookup)      p50 {_ms(lookup, 50):7.3f} ms   p99 {_ms(lookup, 99):7.3f} ms"
            )
            print(
                f"#   bare SQL box, R*Tree             p50 {_ms(rtree, 50):7.3f} ms   p99 {_ms(rtree, 99):7.3f} ms"
                f"   lookup/bare: {_ms(lookup, 50) / _ms(rtree, 50):.1f}x p50"
            )
            print(
                f"#   bare SQL box, (lat, lon) B-tree  p50 {_ms(btree, 50):7.3f} ms   p99 {_ms(btree, 99):7.3f} ms"
                f"   B-tree/R*Tree: {_ms(btree, 50) / _ms(rtree, 50):.1f}x p50, {_ms(btree, 99) / _ms(rtree, 99):.1f}x p99"
            )
            ratio = _ms(lookup, 99) / _ms(rtree, 99)
            result(
                "stations" if amenity is None else f"stations-{amenity.replace('_', '-')}",
                f"{_ms(lookup, 99):.3f} ms p99 (nearest 5{'' if amenity is None else ' with ' + amenity}, the bot's lookup)",
                f"{_ms(rtree, 99):.3f} ms p99 (its box query once, on the box of the same five, plain sqlite3)",
                ratio,
                f"<= {TARGET:.0f}x",
                ratio <= TARGET,
            )
        _on_postgresql(folder, files, points, passes, sqlite_lookups)
    return 0


if __name__ == "__main__":
    sys.exit(main())
