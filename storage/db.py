"""The SQLite connection: one long-lived writer, WAL, foreign keys; short work inline, long work on its thread.

The writer is a plain `sqlite3` connection and one worker thread of its own (a single-thread
executor). A trip to that thread costs about 100 µs of waking threads: more than the point reads
and small transactions a button press needs (bench/throughput.py). So short work runs on the event
loop, on the same connection, whenever the thread is idle; while the thread has work queued, short
work queues behind it (the executor runs its queue in order), so everything still happens in the
order it was asked for; and a long run of inline work lets the loop turn every few milliseconds,
so other updates are not held up. Work that reads a large part of the database (a digest, an
export, an import, a migration) says `long=True` and always goes to the thread, so the bot keeps
answering meanwhile. WAL checkpoints run on a thread and a connection of their own
(storage.checkpoints), reports' side-by-side parts on read-only ones (storage.readers).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from storage.checkpoints import FALLBACK_PAGES, Checkpointer
from storage.migrations import LATEST, migrate, schema_version
from storage.readers import Readers

T = TypeVar("T")
Deferred = tuple[str, tuple[Any, ...]]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
TRUNCATE_WAIT_MS = 250
# Inline work never gives the loop a turn by itself: a loop of it (500 due deadlines in a tick,
# say) would hold every update back until it ended. Past this long without one, `run` yields first.
TURN_EVERY_S = 0.005


def first_line(error: BaseException) -> str:
    """A database error's message for a log: PostgreSQL's primary message only, as its DETAIL may quote
    a row (people's data)."""
    primary = getattr(getattr(error, "diag", None), "message_primary", None)
    return str(primary or error)


class DeferredWriteError(Exception):
    """Statements handed to `Database.defer` failed since the last flush; the writes they rode along with stand."""

    def __init__(self, failures: list[tuple[str, sqlite3.Error]]) -> None:
        self.failures = failures
        first_sql, first_error = failures[0]
        super().__init__(
            f"{len(failures)} deferred statement(s) failed; the first: {first_line(first_error)} ({first_sql})"
        )


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted rows and freed pages are overwritten with zeros, whatever SQLite was built with: an
    # erased courier's words must not linger in free space (see storage.privacy).
    conn.execute("PRAGMA secure_delete = ON")


def _transaction(
    conn: sqlite3.Connection,
    work: Callable[[sqlite3.Connection], T],
    deferred: list[Deferred],
    failed: list[tuple[str, sqlite3.Error]],
) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        for sql, params in deferred:
            try:
                conn.execute(sql, params)
            except sqlite3.Error as error:
                if not conn.in_transaction:
                    raise  # SQLite rolled the whole transaction back (a full disk, say): the write fails
                # A bookkeeping row must never cost the transaction it rides along with; SQLite undid
                # the statement alone. Its parameters may be people's data: the statement only.
                log.error("a deferred statement failed: %s (%s)", error, sql)
                failed.append((sql, error))
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    conn.execute("COMMIT")  # a cached statement: commit() prepares COMMIT afresh every time
    return result


def only_deferred(conn: Any) -> None:
    """The unit of work of a transaction that writes deferred statements alone (write_deferred, close)."""


class Database:
    """An open database file; every call is one unit of work, inline or on the database thread."""

    # Whether other processes may write this database while this one runs: then nothing another
    # process writes may be kept in memory (SQLite: one process has the file, `serving` sees to it).
    shared = False
    dialect = "sqlite"  # storage.dialect.is_postgresql tells a database by it, as it tells a connection
    # What a database that is away or broken raises (health checks answer "unreachable" for these).
    failures: tuple[type[Exception], ...] = (sqlite3.Error, OSError, ValueError)
    # What a database that is away for a while raises (a server restarting): none of SQLite's errors,
    # whose OperationalError is also what a misspelt statement raises.
    outages: tuple[type[Exception], ...] = ()

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor, path: str) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._executor = executor  # one thread: the queue it runs in order is the order of the work
        self.path = path
        # Written by one thread each (the loop, the database thread): the thread is idle when they match.
        self._queued = 0
        self._finished = 0
        self._deferred: list[Deferred] = []
        # Deferred statements that failed and are not yet raised (write_deferred, close); all ever counted.
        self._failed: list[tuple[str, sqlite3.Error]] = []
        self.deferred_failures = 0
        self._checkpointer: Checkpointer | None = None
        self._readers: Readers | None = None
        self._turned = 0.0  # time.monotonic() when run last let the loop turn

    def unavailable(self, error: BaseException) -> bool:
        """Whether `error` says the database is away for a while rather than that the code is wrong."""
        return isinstance(error, self.outages)

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) and migrate the database at `path`."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database")
        try:
            # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE.
            # check_same_thread=False: short work uses the connection from the loop's thread, never
            # while the database thread is using it (see run).
            conn = await asyncio.get_running_loop().run_in_executor(
                executor, lambda: sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        db = cls(conn, executor, path)
        try:
            await db.run(_configure)
            await db.run(migrate, long=True)
            if path != ":memory:":
                await db.run(lambda conn: conn.execute(f"PRAGMA wal_autocheckpoint = {FALLBACK_PAGES}"))
                db._checkpointer = Checkpointer(path)
                db._readers = Readers(path, BUSY_TIMEOUT_MS)
        except BaseException:
            await db._close_connection()
            raise
        return db

    async def run(self, work: Callable[[sqlite3.Connection], T], *, long: bool = False) -> T:
        """Run `work` with the raw connection: inline if it is short and the thread is idle, else on the thread."""
        conn = self._conn
        if conn is None:
            raise ValueError("the database is closed")
        if not long:
            if time.monotonic() - self._turned > TURN_EVERY_S:
                await asyncio.sleep(0)
                self._turned = time.monotonic()
            if self._queued == self._finished:
                return work(conn)
        self._queued += 1

        def on_thread() -> T:
            try:
                return work(conn)
            finally:
                self._finished += 1

        # The whole unit (a many-statement transaction, say) is one hop to the thread.
        return await asyncio.get_running_loop().run_in_executor(self._executor, on_thread)

    async def write(self, work: Callable[[sqlite3.Connection], T], *, long: bool = False) -> T:
        """Run `work` inside BEGIN IMMEDIATE ... COMMIT; any exception rolls everything back.

        Statements handed to `defer` since the last write are written in the same transaction; one
        that fails is logged, left out (the rest commit) and raised from `write_deferred` or `close`.
        """
        deferred, self._deferred = self._deferred, []
        failed: list[tuple[str, sqlite3.Error]] = []
        try:
            result = await self.run(self._in_transaction(work, deferred, failed), long=long)
        except BaseException:
            self._deferred[:0] = deferred
            raise
        if failed:
            self._failed.extend(failed)
            self.deferred_failures += len(failed)
        if self._checkpointer is not None:
            self._checkpointer.committed()
        return result

    def _in_transaction(
        self, work: Callable[[sqlite3.Connection], T], deferred: list[Deferred], failed: list[Any]
    ) -> Callable[[sqlite3.Connection], T]:
        return lambda conn: _transaction(conn, work, deferred, failed)

    def defer(self, sql: str, params: tuple[Any, ...]) -> None:
        """Write this statement with the next transaction instead of in one of its own (a commit saved)."""
        self._deferred.append((sql, params))

    async def write_deferred(self) -> None:
        """Write what `defer` holds now, in a transaction of its own if no other came along; raise
        DeferredWriteError if any deferred statement failed since the last time this raised."""
        if self._deferred:
            await self.write(only_deferred)
        self._raise_failures()

    def _raise_failures(self) -> None:
        if self._failed:
            failures, self._failed = self._failed, []
            raise DeferredWriteError(failures) from failures[0][1]

    async def read_side_by_side(self, parts: list[Callable[[sqlite3.Connection], Any]]) -> list[Any]:
        """Run read-only parts of a report side by side, each on a connection of its own; their results in order."""
        if self._readers is None:  # an in-memory database has no other connections
            return [await self.run(part, long=True) for part in parts]
        return await self._readers.run_all(parts)

    async def scrub(self, tables: Collection[str]) -> bool:
        """After an erasure, leave no old copy of what it removed in the database's files (SQLite's
        secure_delete has overwritten the pages' freed space: the WAL is left to empty); whether it did."""
        return await self.checkpoint_truncate()

    async def checkpoint_truncate(self) -> bool:
        """Copy the whole WAL into the database file and empty it (after an erasure: no old page
        images stay in the log); whether it completed (a reader in the middle of a read can hold it off)."""
        if self.path == ":memory:":
            return True

        def work(conn: sqlite3.Connection) -> bool:
            # Waiting out a long report would hold every write back: a short wait, then the background.
            conn.execute(f"PRAGMA busy_timeout = {TRUNCATE_WAIT_MS}")
            try:
                busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            return not busy

        done = await self.run(work, long=True)
        if not done and self._checkpointer is not None:
            # A reader in the middle of a read: the checkpoint thread waits for it, off the writer's thread.
            done = await self._checkpointer.truncate()
            if not done:
                log.warning(
                    "a truncating checkpoint was held off by a reader; the background checkpoints will truncate"
                )
        return done

    def turn(self, keys: Iterable[str]) -> AbstractAsyncContextManager[None]:
        """Hold `keys` (bot/ordering.order_keys) against other processes while a block runs: none on SQLite."""
        return nullcontext()

    async def schema_versions(self) -> tuple[int, int]:
        """The schema version the database is at and the one this code migrates to, read on a reader."""
        (version,) = await self.read_side_by_side([schema_version])
        return version, LATEST

    def wake_on_outbox_rows(self, wake: Callable[[], None]) -> None:
        """Call `wake` when another process commits outbox rows: none does on SQLite (one process has the file)."""

    async def sender_lease(self) -> bool:
        """Whether this process may send the outbox now: always, on SQLite (one process has the file)."""
        return True

    @property
    def checkpoints(self) -> int:
        """WAL checkpoints made in the background so far."""
        return self._checkpointer.checkpoints if self._checkpointer is not None else 0

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """All rows of a read-only query."""
        return await self.run(lambda conn: conn.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        """The first row of a read-only query, or None."""
        return await self.run(lambda conn: conn.execute(sql, params).fetchone())

    async def close(self) -> None:
        """Close the connection, finishing queued and deferred work first; raise DeferredWriteError
        (after closing) if a deferred statement failed and was not raised yet."""
        try:
            if self._conn is not None and self._deferred:
                await self.write(only_deferred)
            if self._checkpointer is not None:
                await self._checkpointer.close()
            if self._readers is not None:
                await self._readers.close()
        finally:
            await self._close_connection()
        self._raise_failures()

    async def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # On the thread, behind whatever is queued there; then the thread ends.
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)
