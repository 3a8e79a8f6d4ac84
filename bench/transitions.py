"""Lifecycle events applied per second through storage, beside plain sqlite3 doing the same statements.

    python bench/transitions.py            # 5,000 appeals x (accept, resolve, rate) on the 1,000,000-appeal fixture
    python bench/transitions.py --quick    # 250 appeals on the 20,000-appeal fixture

Three copies of the fixture start alike. On the first, each event is applied once through
`Appeals.apply_in` on a connection that records every statement and its parameters (not timed).
On the second the bot applies it for real: `await Appeals.apply(...)` (inline on the loop, as
storage.db runs short work), BEGIN IMMEDIATE, the lifecycle table, the compare-and-set, the ledger
row, the timers and the outbox; its WAL checkpoints run on a connection and thread of their own. On
the third, plain sqlite3 on this thread runs the recorded statements with the recorded parameters
inside BEGIN IMMEDIATE ... COMMIT, with the bot's pragmas, and nothing else: no Python rules, no
models; it checkpoints as sqlite3 does by default, inside the commit that fills the WAL. The two timed runs alternate in blocks, so a noisy neighbour slows both alike,
and they must leave identical rows behind (checked).

Where a PostgreSQL server is at hand (bench/postgres_server.py: APPEALS_BOT_BENCH_POSTGRESQL names an
empty database, or one is started as the tests start one; else "# PostgreSQL: skipped"), a fourth
copy of the fixture is moved into it by `migrate-data`'s code (storage/move_data.py), and the same
events are applied there through the same `Appeals.apply`, in the same alternating blocks; its
events/s is printed beside SQLite's from this run, and the appeals must end in the same states.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    NOW,
    bench_config,
    copy_database,
    header,
    percentile,
    quick_cli,
    result,
    staff_of,
)
from fixtures import FULL_APPEALS, QUICK_APPEALS, ensure, sizes  # noqa: E402
from postgres_server import postgresql_database  # noqa: E402
from recording import Recorder  # noqa: E402

from bot.app import open_storage  # noqa: E402
from domain.commands import ActOnAppeal, EventArgs  # noqa: E402
from domain.lifecycle import Event  # noqa: E402
from storage.db import _configure  # noqa: E402
from storage.locations import Location  # noqa: E402
from storage.move_data import move  # noqa: E402
from storage.store import Storage  # noqa: E402

TARGET = 0.80
# PostgreSQL pays a round trip to the server for each of an event's statements, where SQLite calls
# into the process: a quarter of SQLite's events/s still leaves a district's peaks far behind.
POSTGRESQL_TARGET = 0.25
BLOCK = 50  # appeals per alternation (three events each)
RESULT_NOTE = "已处理完毕，请查收"


def _steps(path: Path, count: int) -> list[ActOnAppeal]:
    """Accept, resolve and rate for `count` appeals that wait to be accepted."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT id, unit_id, courier_id FROM appeals WHERE state = 'handling' AND accepted = 0"
            " AND awaiting_courier = 0 ORDER BY id LIMIT ?",
            (count,),
        ).fetchall()
    finally:
        conn.close()
    if len(rows) < count:
        raise SystemExit(f"the fixture has only {len(rows)} appeals waiting to be accepted; {count} wanted")
    steps = []
    for appeal_id, unit, courier in rows:
        staff = staff_of(unit)[appeal_id % 3]
        steps += [
            ActOnAppeal(appeal_id, Event.ACCEPT, staff),
            ActOnAppeal(appeal_id, Event.RESOLVE, staff, EventArgs(note=RESULT_NOTE)),
            ActOnAppeal(appeal_id, Event.RATE_SATISFIED, courier),
        ]
    return steps


def _plain(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the bot's pragmas (and the default tuple rows)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _fingerprint(path: Path, appeal_ids: list[int]) -> str:
    """A digest of the rows the events wrote: the appeals, their ledger, timers and notices."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    digest = hashlib.sha256()
    marks = ",".join("?" * len(appeal_ids))
    try:
        for sql in (
            f"SELECT * FROM appeals WHERE id IN ({marks}) ORDER BY id",
            f"SELECT * FROM events WHERE appeal_id IN ({marks}) ORDER BY id",
            f"SELECT * FROM timers WHERE appeal_id IN ({marks}) ORDER BY appeal_id, kind",
            f"SELECT * FROM outbox WHERE appeal_id IN ({marks}) ORDER BY id",
        ):
            for row in conn.execute(sql, appeal_ids):
                digest.update(repr(row).encode())
    finally:
        conn.close()
    return digest.hexdigest()


def _states_on_sqlite(path: Path, appeal_ids: list[int]) -> list[tuple[int, str]]:
    """Each appeal's id and state in the SQLite file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    marks = ",".join("?" * len(appeal_ids))
    try:
        return conn.execute(f"SELECT id, state FROM appeals WHERE id IN ({marks}) ORDER BY id", appeal_ids).fetchall()
    finally:
        conn.close()


def _states_on_postgresql(url: str, appeal_ids: list[int]) -> list[tuple[int, str]]:
    """Each appeal's id and state in the PostgreSQL database."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT id, state FROM appeals WHERE id = ANY(%s) ORDER BY id", (appeal_ids,)).fetchall()
    return [tuple(row) for row in rows]


def _move_into(fixture: Path, folder: Path, url: str) -> float:
    """Copy a private copy of the fixture into the empty PostgreSQL database, as migrate-data does; seconds."""
    source = copy_database(fixture, folder / "to-postgresql.sqlite3")
    started = time.perf_counter()
    moved = move(Location("sqlite", str(source)), Location("postgresql", url))
    # The fixture has a few merge chains of its own (the checker finds them in the SQLite file too).
    new = sorted(set(moved.invariants) - set(moved.source_invariants))
    if new:
        raise SystemExit(f"the copy on PostgreSQL fails the invariant checker where the file does not: {new[:3]}")
    return time.perf_counter() - started


async def run(quick: bool) -> None:
    appeals = QUICK_APPEALS if quick else FULL_APPEALS
    cycles = 250 if quick else 5_000
    header(f"transitions: {cycles:,} appeals x accept, resolve, rate on {appeals:,} appeals", quick)
    fixture = ensure(sizes(appeals))
    steps = _steps(fixture, cycles)
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-transitions-"))
        postgresql_url = stack.enter_context(postgresql_database())
        await _run_in(Path(folder), fixture, steps, postgresql_url)


async def _run_in(folder: Path, fixture: Path, steps: list[ActOnAppeal], postgresql_url: str | None) -> None:
    """Apply the steps on each copy, alternating in blocks; print the figures."""
    record_path = copy_database(fixture, folder / "record.sqlite3")
    bot_path = copy_database(fixture, folder / "bot.sqlite3")
    plain_path = copy_database(fixture, folder / "plain.sqlite3")
    moving = None if postgresql_url is None else _move_into(fixture, folder, postgresql_url)

    config = bench_config(bot_path)
    storage: Storage = await open_storage(config, NOW)
    on_postgresql: Storage | None = None
    if postgresql_url is not None:
        on_postgresql = await open_storage(bench_config(postgresql_url), NOW)
    record_conn = sqlite3.connect(record_path, isolation_level=None)
    _configure(record_conn)
    plain = _plain(plain_path)

    bot_times: list[float] = []
    plain_times: list[float] = []
    postgresql_times: list[float] = []
    statements = 0
    checkpoints = 0
    try:
        for first in range(0, len(steps), BLOCK * 3):
            block = steps[first : first + BLOCK * 3]
            clocks = [NOW + timedelta(seconds=first + i) for i in range(len(block))]
            logs = []
            for step, now in zip(block, clocks, strict=True):
                recorder = Recorder(record_conn)
                record_conn.execute("BEGIN IMMEDIATE")
                # The same repository code, synchronously, on the recording copy.
                storage.appeals.apply_in(recorder, step, now=now)
                record_conn.execute("COMMIT")
                logs.append(recorder.log)
                statements += len(recorder.log)

            for step, now in zip(block, clocks, strict=True):
                started = time.perf_counter()
                await storage.appeals.apply(step, now)
                bot_times.append(time.perf_counter() - started)
                # Between two updates the bot's loop turns (it waits on Telegram): that is when a
                # finished background checkpoint is noticed and the next one can start.
                await asyncio.sleep(0)

            for log in logs:
                started = time.perf_counter()
                plain.execute("BEGIN IMMEDIATE")
                for sql, params in log:
                    plain.execute(sql, params).fetchall()
                plain.execute("COMMIT")
                plain_times.append(time.perf_counter() - started)

            if on_postgresql is not None:
                for step, now in zip(block, clocks, strict=True):
                    started = time.perf_counter()
                    await on_postgresql.appeals.apply(step, now)
                    postgresql_times.append(time.perf_counter() - started)
                    await asyncio.sleep(0)
    finally:
        checkpoints = storage.db.checkpoints
        await storage.close()
        if on_postgresql is not None:
            await on_postgresql.close()
        record_conn.close()
        plain.close()

    ids = sorted({s.appeal_id for s in steps})
    same = _fingerprint(bot_path, ids) == _fingerprint(plain_path, ids)
    if not same:
        raise SystemExit("the bot and the plain replay left different rows behind")
    if postgresql_url is not None and _states_on_postgresql(postgresql_url, ids) != _states_on_sqlite(bot_path, ids):
        raise SystemExit("the appeals ended in other states on PostgreSQL than on SQLite")

    bot_rate = len(bot_times) / sum(bot_times)
    plain_rate = len(plain_times) / sum(plain_times)
    ms = lambda seconds: f"{seconds * 1000:.3f} ms"  # noqa: E731
    print(f"# {len(steps):,} events, {statements / len(steps):.1f} statements each; identical rows afterwards: {same}")
    print(
        f"# the bot checkpointed its WAL {checkpoints} times on a connection and thread of its own"
        " (storage.checkpoints); plain sqlite3 checkpoints in its commits, at SQLite's default 1,000 pages"
    )
    print(f"# Appeals.apply   p50 {ms(percentile(bot_times, 50))}  p99 {ms(percentile(bot_times, 99))}")
    print(f"# plain sqlite3   p50 {ms(percentile(plain_times, 50))}  p99 {ms(percentile(plain_times, 99))}")
    if postgresql_times:
        print(
            f"# on PostgreSQL   p50 {ms(percentile(postgresql_times, 50))}  p99 {ms(percentile(postgresql_times, 99))}"
        )
    for event in (Event.ACCEPT, Event.RESOLVE, Event.RATE_SATISFIED):
        mine = [i for i, s in enumerate(steps) if s.event is event]
        bot_p50 = percentile([bot_times[i] for i in mine], 50)
        plain_p50 = percentile([plain_times[i] for i in mine], 50)
        also = f", on PostgreSQL {ms(percentile([postgresql_times[i] for i in mine], 50))}" if postgresql_times else ""
        print(f"#   {event:<15} p50 {ms(bot_p50)} beside {ms(plain_p50)}{also}")
    ratio = bot_rate / plain_rate
    result(
        "transitions",
        f"{bot_rate:,.0f} events/s (Appeals.apply)",
        f"{plain_rate:,.0f} events/s (plain sqlite3, same statements)",
        ratio,
        f">= {TARGET:.2f}",
        ratio >= TARGET,
    )
    if postgresql_times:
        postgresql_rate = len(postgresql_times) / sum(postgresql_times)
        print(
            f"# PostgreSQL: the fixture moved in by migrate-data's code in {moving:.1f} s; appeals end in the same states"
        )
        ratio = postgresql_rate / bot_rate
        result(
            "transitions-postgresql",
            f"{postgresql_rate:,.0f} events/s (Appeals.apply on PostgreSQL)",
            f"{bot_rate:,.0f} events/s (Appeals.apply on SQLite, this run)",
            ratio,
            f">= {POSTGRESQL_TARGET:.2f}",
            ratio >= POSTGRESQL_TARGET,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (--quick for a small run)."""
    return quick_cli(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
