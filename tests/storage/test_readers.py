"""Read-only connections for a report's parts: each part on a connection of its own, seeing what was committed."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from storage.db import Database
from storage.store import open_database

try:
    import psycopg

    READ_ONLY_ERRORS: tuple[type[Exception], ...] = (sqlite3.OperationalError, psycopg.errors.ReadOnlySqlTransaction)
except ImportError:
    READ_ONLY_ERRORS = (sqlite3.OperationalError,)


async def test_parts_run_on_read_only_connections_of_their_own(database) -> None:
    db = await open_database(database)
    try:
        await db.write(lambda conn: conn.execute("CREATE TABLE t (x INTEGER)"))
        await db.write(lambda conn: conn.executemany("INSERT INTO t (x) VALUES (?)", [(1,), (2,), (3,)]))
        both_running = threading.Barrier(2, timeout=10)

        def part(conn: sqlite3.Connection) -> tuple[int, int]:
            both_running.wait()  # only passes if the two parts really run side by side
            return threading.get_ident(), conn.execute("SELECT sum(x) FROM t").fetchone()[0]

        (first_thread, first_sum), (second_thread, second_sum) = await db.read_side_by_side([part, part])
        assert first_sum == second_sum == 6  # committed writes are seen
        assert len({first_thread, second_thread, threading.get_ident()}) == 3

        def writes(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO t (x) VALUES (4)")

        with pytest.raises(READ_ONLY_ERRORS, match="read-?only"):
            await db.read_side_by_side([writes])
    finally:
        await db.close()


async def test_an_in_memory_database_runs_the_parts_one_after_another() -> None:
    db = await Database.open(":memory:")
    try:
        await db.write(lambda conn: conn.execute("CREATE TABLE t (x INTEGER)"))
        assert await db.read_side_by_side(
            [lambda conn: 1, lambda conn: conn.execute("SELECT count(*) FROM t").fetchone()[0]]
        ) == [1, 0]
    finally:
        await db.close()
