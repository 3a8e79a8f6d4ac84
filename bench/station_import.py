"""A station import's rows a second on PostgreSQL beside SQLite, for stations in a line and scattered.

    python bench/station_import.py            # 20,000 stations each way
    python bench/station_import.py --quick    # 2,000

Stations go through `Stations.import_records` (its batches, triggers and index) into a fresh
database on each backend: first a file of stations a metre apart along one street, in order (as
test_heavy_work's file, and as a file sorted by address comes), then as many scattered at random
over the country. On PostgreSQL the stations' GiST index once split a page of points one entry off
at each insert of stations in a line (about 10 rows a second at 20,000; storage/postgres_migrations.py
has why): the figure judged is the line's rows a second on PostgreSQL over SQLite's, in the same run.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import header, quick_cli, result  # noqa: E402
from postgres_server import postgresql_database  # noqa: E402

from domain.stations_file import StationRecord  # noqa: E402
from storage.stations import Stations  # noqa: E402
from storage.store import open_database  # noqa: E402

SEED = 20261207
TARGET = (
    0.1  # PostgreSQL's import at least a tenth of SQLite's rate (each row is a round trip's share, and a trigger's)
)


def in_a_line(count: int) -> list[StationRecord]:
    """Stations a metre apart along one line, in order."""
    return [StationRecord(f"line-{i}", f"驿站 {i}", 31 + i / 1e5, 121 + i / 1e5, "A") for i in range(count)]


def scattered(count: int) -> list[StationRecord]:
    """Stations at random over mainland China."""
    rnd = random.Random(SEED)
    return [
        StationRecord(f"spot-{i}", f"驿站 {i}", rnd.uniform(20, 45), rnd.uniform(75, 130), "B") for i in range(count)
    ]


async def rates(where: str, files: dict[str, list[StationRecord]]) -> dict[str, float]:
    """Each file's rows a second, imported one after the other into the database `where` names (a file or a URL)."""
    db = await open_database(where)
    try:
        stations = Stations(db)
        measured = {}
        for name, records in files.items():
            started = time.perf_counter()
            imported = await stations.import_records(records)
            assert imported.added == len(records), imported
            measured[name] = len(records) / (time.perf_counter() - started)
        return measured
    finally:
        await db.close()


async def run(quick: bool) -> None:
    """Import both files on SQLite, then on PostgreSQL; print each rate and the judged ratio."""
    header("station import", quick)
    count = 2_000 if quick else 20_000
    files = {"line": in_a_line(count), "scattered": scattered(count)}
    with tempfile.TemporaryDirectory() as folder:
        sqlite = await rates(str(Path(folder) / "stations.sqlite3"), files)
    for name, rate in sqlite.items():
        print(f"SQLite, {count:,} stations {name}: {rate:,.0f} rows/s")
    with postgresql_database() as url:
        if url is None:
            return
        postgresql = await rates(url, files)
    for name, rate in postgresql.items():
        print(f"PostgreSQL, {count:,} stations {name}: {rate:,.0f} rows/s")
    ratio = postgresql["line"] / sqlite["line"]
    result(
        "station-import-postgresql",
        f"{postgresql['line']:,.0f} rows/s",
        f"{sqlite['line']:,.0f} rows/s (SQLite)",
        ratio,
        f">= {TARGET}",
        ratio >= TARGET,
    )


if __name__ == "__main__":
    sys.exit(quick_cli(run, __doc__))
