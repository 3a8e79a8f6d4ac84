"""The SQLite connection: one long-lived writer, WAL, foreign keys, one thread hop per transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.migrations import migrate

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def _transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return result


class Database:
    """An open database file; every method makes exactly one trip to the database thread."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) and migrate the database at `path`."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE.
        conn = await aiosqlite.connect(path, isolation_level=None)
        db = cls(conn, path)
        try:
            await db.run(_configure)
            await db.run(migrate)
        except BaseException:
            await conn.close()
            raise
        return db

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with the raw connection on the database thread, in one hop."""
        # aiosqlite's public calls make one hop per statement; _execute queues a whole
        # function on its thread, which turns a four-statement transition into one hop.
        return await self._conn._execute(lambda: work(self._conn._conn))

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` inside BEGIN IMMEDIATE ... COMMIT; any exception rolls everything back."""
        return await self.run(lambda conn: _transaction(conn, work))

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """All rows of a read-only query."""
        return await self.run(lambda conn: conn.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        """The first row of a read-only query, or None."""
        return await self.run(lambda conn: conn.execute(sql, params).fetchone())

    async def close(self) -> None:
        """Close the connection, finishing queued work first."""
        await self._conn.close()
