"""Where a unit of database work runs: short work inline on the loop when the thread is idle, else in order behind it."""

from __future__ import annotations

import asyncio
import threading
import time

from storage.db import Database


async def test_short_work_runs_on_the_loop_when_the_thread_is_idle(tmp_path) -> None:
    db = await Database.open(tmp_path / "inline.sqlite3")
    try:
        where = await db.run(lambda conn: threading.get_ident())
        assert where == threading.get_ident()
        elsewhere = await db.run(lambda conn: threading.get_ident(), long=True)
        assert elsewhere != threading.get_ident()
    finally:
        await db.close()


async def test_while_long_work_runs_short_work_waits_behind_it_in_order(tmp_path) -> None:
    db = await Database.open(tmp_path / "order.sqlite3")
    await db.write(lambda conn: conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, what TEXT)"))
    started = threading.Event()

    def long_work(conn):
        started.set()
        time.sleep(0.2)  # a digest over a big database, say
        conn.execute("INSERT INTO log (what) VALUES ('long')")
        return threading.get_ident()

    def short_work(name):
        def work(conn):
            conn.execute("INSERT INTO log (what) VALUES (?)", (name,))
            return threading.get_ident()

        return work

    try:
        long_task = asyncio.create_task(db.write(long_work, long=True))
        assert await asyncio.to_thread(started.wait, 10)
        first = await db.write(short_work("short 1"))  # queued behind the long work, not beside it
        second = await db.write(short_work("short 2"))  # the thread is idle again: inline
        thread = await long_task
        assert first == thread != threading.get_ident()
        assert second == threading.get_ident()
        rows = [r[0] for r in await db.fetchall("SELECT what FROM log ORDER BY id")]
        assert rows == ["long", "short 1", "short 2"]
    finally:
        await db.close()


async def test_a_long_run_of_inline_work_lets_the_loop_turn(tmp_path) -> None:
    """Many short reads in a row (a tick's due deadlines, say) do not keep other tasks waiting until they end."""
    db = await Database.open(tmp_path / "turns.sqlite3")
    turns = 0

    async def other_update() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    task = asyncio.create_task(other_update())
    try:
        await asyncio.sleep(0)
        before = turns
        started = time.monotonic()
        # A hundred times the longest stretch allowed without a turn: a loaded machine that takes the
        # process off its core for a while still sees far more than five turns.
        while time.monotonic() - started < 0.5:
            await db.fetchone("SELECT 1")
        assert turns - before >= 5
    finally:
        task.cancel()
        await db.close()
