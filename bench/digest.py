"""The weekly digest over a million appeals, beside the bare aggregate SQL it needs.

    python bench/digest.py            # the 1,000,000-appeal fixture, 15 runs each
    python bench/digest.py --quick    # the 20,000-appeal fixture, 5 runs each

The figure is `await Reports.digest(week_start, now, now, with_days=False)`: every count, average,
rate, the overdue list and the hot spots of the week, as the bot builds them before drawing (the
chart's per-day counts are left out, as the target says); its two halves run side by side on
read-only connections of their own (storage/readers.py). The baseline is the same SQL, recorded
from one digest and replayed with plain sqlite3 on this thread, one statement after another, with
every row fetched, and nothing else. Both run on a copy of the fixture with a warm cache,
alternately; the p50 is reported, and judged by its ratio to the SQL's p50. As in the running bot
(bot.app), the heap built at start-up is frozen out of the garbage collector's full passes first.
"""

from __future__ import annotations

import gc
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NOW, bench_config, copy_database, header, percentile, quick_cli, result  # noqa: E402
from fixtures import FULL_APPEALS, QUICK_APPEALS, ensure, sizes  # noqa: E402
from recording import Recorder  # noqa: E402

from bot.app import open_storage  # noqa: E402
from storage.reports import Reports  # noqa: E402

TARGET = 1.3  # the digest at most 1.3 times as long as its own SQL alone


class RecordingDatabase:
    """Runs a repository's work on this thread against a recording connection."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def run(self, work: Any, **options: Any) -> Any:
        return work(self.recorder)

    async def read_side_by_side(self, parts: list[Any]) -> list[Any]:
        return [part(self.recorder) for part in parts]


def _plain(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


async def run(quick: bool) -> None:
    appeals = QUICK_APPEALS if quick else FULL_APPEALS
    runs = 5 if quick else 15
    header(f"digest: the weekly digest over {appeals:,} appeals, {runs} runs", quick)
    fixture = ensure(sizes(appeals))
    start, end = NOW - timedelta(days=7), NOW
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as folder:
        path = copy_database(fixture, Path(folder) / "digest.sqlite3")
        config = bench_config(path)
        storage = await open_storage(config, NOW)
        plain = _plain(path)
        try:
            record_conn = sqlite3.connect(path, isolation_level=None)
            record_conn.row_factory = sqlite3.Row  # what the repository's code reads its rows with
            recorder = Recorder(record_conn)
            recording = Reports(
                RecordingDatabase(recorder), config.zone(), config.hotspots.min_appeals, config.hotspots.radius_m
            )
            data = await recording.digest(start, end, NOW, with_days=False)
            statements = recorder.log
            record_conn.close()

            gc.collect()
            gc.freeze()
            bot_ms: list[float] = []
            plain_ms: list[float] = []
            per_statement = [0.0] * len(statements)
            for _ in range(runs):
                started = time.perf_counter()
                await storage.reports.digest(start, end, NOW, with_days=False)
                bot_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                for index, (sql, params) in enumerate(statements):
                    began = time.perf_counter()
                    plain.execute(sql, params).fetchall()
                    per_statement[index] += time.perf_counter() - began
                plain_ms.append((time.perf_counter() - started) * 1000)
        finally:
            plain.close()
            await storage.close()

    print(
        f"# the week: {data.new:,} new, {data.accepted:,} accepted, {data.resolved:,} resolved,"
        f" {data.closed:,} closed, {len(data.reopened):,} reopened, {len(data.overdue)} overdue listed,"
        f" {len(data.hotspots)} hot spots; {len(statements)} statements"
    )
    slowest = sorted(range(len(statements)), key=lambda i: -per_statement[i])[:3]
    for index in slowest:
        sql = " ".join(statements[index][0].split())
        print(f"#   {per_statement[index] / runs * 1000:8.2f} ms  {sql[:110]}")
    bot_p50, plain_p50 = percentile(bot_ms, 50), percentile(plain_ms, 50)
    print(
        f"# Reports.digest p50 {bot_p50:.1f} ms (max {max(bot_ms):.1f}); bare SQL p50 {plain_p50:.1f} ms (max {max(plain_ms):.1f})"
    )
    result(
        "digest",
        f"{bot_p50:.1f} ms p50 (Reports.digest, no chart)",
        f"{plain_p50:.1f} ms p50 (its SQL alone, plain sqlite3)",
        bot_p50 / plain_p50,
        f"<= {TARGET:.1f}",
        bot_p50 / plain_p50 <= TARGET,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (--quick for a small run)."""
    return quick_cli(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
