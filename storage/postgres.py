"""The PostgreSQL database: the same units of work as storage/db.py's, run with psycopg 3 on a thread.

A unit of work is a plain function of a connection (`work(conn)`), so it runs on PostgreSQL as it
does on SQLite: on the database thread, over psycopg's synchronous API, with a connection adapter
that speaks what the storage code writes (`?` placeholders, rows read by index or by name, a cursor
with `rowcount`). Every unit goes to the thread (a round trip to the server must never block the
event loop), one at a time and in the order asked, as on SQLite. `write` runs its work in one
transaction, holding an advisory lock that serializes writers as SQLite's BEGIN IMMEDIATE does; each deferred statement rides in a savepoint of its own, so one that fails is undone
alone, as SQLite undoes a failed statement. A report's side-by-side parts take connections from a
small pool. A read of one statement (`fetchall`, `fetchone`) skips the thread: it goes on an async
connection of the event loop's own (LoopReads). docs/design.md §6.4 says why psycopg's sync API
rather than asyncpg.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import select
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.adapt import Dumper, Loader
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from storage.connection_trouble import ConnectionTrouble
from storage.db import Database, Deferred, only_deferred
from storage.postgres_migrations import LATEST, migrate
from storage.postgres_turns import ChatTurns
from storage.postgres_wakeups import OutboxWakeups

T = TypeVar("T")

log = logging.getLogger(__name__)

READERS = 4  # side-by-side report parts at once, each on a pooled connection
# pg_advisory_xact_lock's key for writing (postgres_migrations.MIGRATION_LOCK is another).
WRITE_LOCK = 0x77726974657273  # "writers"
# pg_try_advisory_lock's key for the one outbox sender among the processes (a session-level lock).
SENDER_LOCK = 0x73656E646572  # "sender"
SCRUB_LOCK = 0x7363727562  # "scrub"
CONNECT_TIMEOUT_S = 5
# Reports' pooled readers and the loop's own reads: nothing they run may write past the write lock.
READ_ONLY_SESSION = "SET default_transaction_read_only = on"

# Outside quotes, comments and quoted names: `?` is a placeholder, and so is `:name` (with a mapping of
# parameters; `::` is PostgreSQL's cast); psycopg's are `%s` and `%(name)s`, and a literal `%` is `%%`.
# SQLite's `IS ?` and `IS NOT ?` compare any two values, NULL or not: PostgreSQL's `IS [NOT] DISTINCT
# FROM`. `INDEXED BY` is a hint to SQLite's planner only. SQLite takes `IN ()`, an empty list.
_TOKENS = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|::|\bIS\s+NOT\s+\?|\bIS\s+\?|\bINDEXED\s+BY\s+\w+|\b(?:NOT\s+)?IN\s*\(\s*\)"
    r"|\?|%|:[A-Za-z_][A-Za-z0-9_]*",
    re.IGNORECASE,
)
_REWRITTEN = {"is not ?": "IS DISTINCT FROM %s", "is ?": "IS NOT DISTINCT FROM %s"}


@lru_cache(maxsize=4096)
def translate(sql: str, named: bool = False) -> str:
    """`sql` with SQLite's placeholders as psycopg's (`:name` ones if `named`), and every other `%` doubled."""

    def one(match: re.Match[str]) -> str:
        token = match.group()
        spaced = " ".join(token.lower().split())
        if spaced in _REWRITTEN:
            return _REWRITTEN[spaced]
        if spaced.startswith("indexed by"):
            return ""
        if spaced.startswith("not in"):
            return "<> ALL ('{}')"  # SQLite's empty list: everything is outside it ('{}' takes the left side's type)
        if spaced.startswith("in"):
            return "= ANY ('{}')"  # ... and nothing is in it
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if named and token[0] == ":" and token != "::":
            return f"%({token[1:]})s"
        return token.replace("%", "%%")  # psycopg reads `%` even inside quotes

    return _TOKENS.sub(one, sql)


def _parameters(params: Any) -> tuple[bool, Any]:
    """Whether parameters are named (a mapping), and them as psycopg takes them."""
    return (True, params) if isinstance(params, Mapping) else (False, tuple(params))


class Row(Sequence[Any]):
    """A result row read by position or by column name (any case), like sqlite3.Row."""

    __slots__ = ("_values", "_names", "_index")

    def __init__(self, values: Sequence[Any], names: list[str], index: dict[str, int]) -> None:
        self._values = values
        self._names = names
        self._index = index

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._index[key.lower()]]
            except KeyError:
                raise IndexError(f"no column named {key}") from None
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return self._names == other._names and tuple(self._values) == tuple(other._values)

    def __hash__(self) -> int:
        return hash((tuple(self._names), tuple(self._values)))

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._names, self._values, strict=True))!r})"


def _returns_rows(cursor: Any) -> bool:
    """Whether the cursor's last statement gave a result set: `cursor.description is not None`, without
    building the description (a Column and a type lookup per column, about 0.1 ms a lookup's query)."""
    result = cursor.pgresult
    return result is not None and (result.nfields > 0 or result.status == psycopg.pq.ExecStatus.TUPLES_OK)


def _rows(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    """psycopg's row factory for Row: the names are read once per result, from the result itself."""
    result = cursor.pgresult
    encoding = cursor.connection.info.encoding
    names = [(result.fname(i) or b"").decode(encoding) for i in range(result.nfields)] if result is not None else []
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name.lower(), position)  # the first of two same-named columns, as SQLite
    return lambda values: Row(values, names, index)


class _IntFromBool(Dumper):
    """True and False are stored as 1 and 0, as SQLite stores them (flags are integer columns on both)."""

    oid = psycopg.postgres.types["int4"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _NumberFromNumeric(Loader):
    """sum() and avg() of integers are numeric on PostgreSQL: an int when whole, else a float, as SQLite gives."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEN") else int(text)


def _adapt(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_dumper(bool, _IntFromBool)
    conn.adapters.register_loader("numeric", _NumberFromNumeric)


class Cursor:
    """A statement's result, read as the storage code reads sqlite3's cursors."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    @property
    def row_factory(self) -> None:
        return None

    @row_factory.setter
    def row_factory(self, factory: None) -> None:
        # sqlite3's `cursor.row_factory = None`: plain tuples, for speed.
        self._cursor.row_factory = tuple_row if factory is None else factory

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement on this cursor."""
        # Parameters always go along, if none: psycopg then reads `%%` as the `%` that translate doubled.
        named, values = _parameters(params)
        self._cursor.execute(translate(sql, named), values)
        return self

    def fetchone(self) -> Any:
        """The next row, or None (also for a statement that returns no rows)."""
        return self._cursor.fetchone() if _returns_rows(self._cursor) else None

    def fetchall(self) -> list[Any]:
        """The remaining rows."""
        return self._cursor.fetchall() if _returns_rows(self._cursor) else []

    def fetchmany(self, size: int) -> list[Any]:
        """Up to `size` more rows."""
        return self._cursor.fetchmany(size) if _returns_rows(self._cursor) else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        """Rows the statement changed (or returned)."""
        return self._cursor.rowcount

    @property
    def description(self) -> Any:
        """The result's columns (name first in each), or None."""
        return self._cursor.description


class Connection:
    """What a unit of work is handed on PostgreSQL: execute and executemany as on a sqlite3 connection."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def cursor(self) -> Cursor:
        """A new cursor."""
        return Cursor(self.raw.cursor())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement."""
        return self.cursor().execute(sql, params)

    def executemany(self, sql: str, seq: Any) -> Cursor:
        """Run one statement for each set of parameters."""
        cursor = self.raw.cursor()
        batch = [_parameters(params) for params in seq]
        if batch:
            cursor.executemany(translate(sql, batch[0][0]), [values for _named, values in batch])
        return Cursor(cursor)


def _reader(conn: psycopg.Connection[Any]) -> None:
    """A pooled connection for a report's parts: read-only, as SQLite's readers are (storage/readers.py)."""
    _adapt(conn)
    conn.execute(READ_ONLY_SESSION)


def _connect(url: str) -> psycopg.Connection[Any]:
    # Autocommit: a read outside `write` is a statement of its own; `write` opens its transaction.
    # Parameters are bound server-side (a statement run often is prepared): client-side binding, which
    # types values as SQLite does, cost 80 µs more a unit of work (bench/postgres_drivers.py).
    conn = psycopg.connect(url, autocommit=True, row_factory=_rows, connect_timeout=CONNECT_TIMEOUT_S)
    _adapt(conn)
    return conn


def _ended(conn: psycopg.Connection[Any]) -> bool:
    """Whether an idle session has heard from its server unasked: on a connection that listens to nothing,
    only its end (a restart's or an operator's FATAL message, then EOF) arrives that way. A select of no
    time: a unit of work that would only have failed on the dead session runs on a new one instead."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    return bool(readable)


def unit_of_work_connection(conn: psycopg.Connection[Any]) -> Connection:
    """`conn` as a unit of work is handed it (the storage code's placeholders, rows and types)."""
    _adapt(conn)
    return Connection(conn)


def read_only_rows(url: str, sql: str) -> list[Row]:
    """All rows of a query, on a read-only connection of its own (a worker process's, say)."""
    with read_only(url) as conn:
        return conn.execute(sql).fetchall()


@contextmanager
def snapshot(conn: Connection) -> Iterator[Connection]:
    """`conn` inside one read-only transaction that sees the database as it was at its first read (so a
    check that reads table after table reads one state of it); as it is, if already inside a transaction."""
    if conn.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        yield conn
        return
    with conn.raw.transaction():
        conn.raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield conn


@contextmanager
def read_only(url: str) -> Iterator[Connection]:
    """A connection of its own to the database at `url`, read-only, closed after."""
    with psycopg.connect(url, autocommit=True, row_factory=_rows) as conn:
        _reader(conn)
        yield Connection(conn)


def _transaction(
    conn: Connection, work: Callable[[Connection], T], deferred: list[Deferred], failed: list[tuple[str, Any]]
) -> T:
    with conn.raw.transaction():
        # SQLite's BEGIN IMMEDIATE: one writer at a time, across every connection and process, so a
        # unit of work sees every write before it as SQLite's does (READ COMMITTED alone would let two
        # accepts of one appeal both read it unaccepted). Finer locks are for the several-worker bench to earn.
        # Deferred statements are blind bookkeeping writes (a handled update's record, a card's version):
        # alone they read nothing that another writer could change, so they need not hold every worker up.
        if work is not only_deferred:
            conn.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        result = work(conn)
        for sql, params in deferred:
            try:
                with conn.raw.transaction():  # a savepoint: a failed statement is undone alone
                    conn.execute(sql, params)
            except psycopg.Error as error:
                # A bookkeeping row must never cost the transaction it rides along with. Its
                # parameters may be people's data: the statement only.
                # Not str(error): PostgreSQL's DETAIL quotes the failing row.
                log.error("a deferred statement failed: %s (%s)", error.diag.message_primary, sql)
                failed.append((sql, error))
    return result


class PooledReaders:
    """A report's side-by-side parts on read-only connections from a small pool, opened at first use:
    storage.readers.Readers' counterpart."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: ConnectionPool | None = None

    async def run_all(self, parts: list[Callable[[Any], Any]]) -> list[Any]:
        """Run each part on a pooled connection of its own, side by side; their results in order."""
        if self._pool is None:
            self._pool = ConnectionPool(
                self._url,
                min_size=0,
                max_size=READERS,
                open=True,
                configure=_reader,
                kwargs=_POOLED,
            )
        pool = self._pool

        def one(part: Callable[[Any], Any]) -> Any:
            with pool.connection() as conn:
                if not _ended(conn):
                    return part(Connection(conn))
                # Left idle in the pool when the server ended its session (a restart): closed, the pool
                # drops it, and the part runs on a new one instead of failing the first report after.
                conn.close()
            with pool.connection() as conn:
                return part(Connection(conn))

        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(None, one, part) for part in parts)))

    async def close(self) -> None:
        """Close the pool's connections."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(None, pool.close)


class LoopReads:
    """One-statement reads on an async connection of the event loop's own, opened at first use.

    The trip to the database thread and back costs about 150 µs of waking threads, as much as a
    point read itself: the nearest-station lookup spent a third of its time on it (bench/stations.py,
    docs/performance.md §5). Here the wait is the loop's own select. The connection is read-only (a
    write slipped into a read fails loudly instead of passing the write lock) and autocommit, so each
    read sees every commit before it, by any worker. A read that finds the session ended (a restart, a
    failover) is asked again on a new one; a connection whose read was cancelled halfway is closed."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._opening: asyncio.Lock | None = None

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._conn is None or self._conn.closed:
                conn = await psycopg.AsyncConnection.connect(self._url, connect_timeout=CONNECT_TIMEOUT_S, **_POOLED)
                _adapt(conn)
                await conn.execute(READ_ONLY_SESSION)
                self._conn = conn
            return self._conn

    async def fetch(self, sql: str, params: Any, rows: int | None) -> list[Any]:
        """Up to `rows` rows (all, if None) of one read-only statement."""
        named, values = _parameters(params)
        statement = translate(sql, named)
        conn = await self._connection()
        try:
            return await self._read(conn, statement, values, rows)
        except psycopg.OperationalError:
            if not conn.closed:
                raise
        # The session had ended (a server restarted or failed over): a read is safe to ask again, on a new one.
        return await self._read(await self._connection(), statement, values, rows)

    async def _read(self, conn: psycopg.AsyncConnection[Any], statement: str, values: Any, rows: int | None) -> Any:
        try:
            cursor = await conn.execute(statement, values)
            if not _returns_rows(cursor):
                return []
            return await cursor.fetchall() if rows is None else await cursor.fetchmany(rows)
        except asyncio.CancelledError:
            await self.close()  # cancelled halfway: what the connection would read next is unknown
            raise

    async def close(self) -> None:
        """Close the connection, if one is open."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


class SenderLease:
    """The outbox sender's turn among processes: a session-level advisory lock on a connection of its own,
    held while that connection lives. When the process dies, PostgreSQL ends its session and frees the
    lock, and the next process to ask takes it."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None
        self._held = False
        self._trouble = ConnectionTrouble("the outbox sender's lock connection")

    def holds(self) -> bool:
        """Whether this process holds the lock now, taking it if it is free (blocking: run on a thread)."""
        try:
            if self._conn is None:
                # Named after this process: pg_stat_activity beside pg_locks tells an operator which worker sends.
                self._conn = psycopg.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    application_name=f"appeals-bot sender {os.getpid()}",
                )
            if self._held:
                self._conn.execute("SELECT 1")  # the session lives, so the lock is still ours
            else:
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (SENDER_LOCK,)).fetchone()
                self._held = bool(row and row[0])
            self._trouble.answered()
        except psycopg.Error as error:
            # The session is gone, or may be (and the lock with it, to whoever asks next): not this
            # process's turn; it asks again on a new session.
            self._trouble.failed(error)
            self.close()
        return self._held

    def close(self) -> None:
        """Let the lock go with its connection."""
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            conn.close()


class PostgresDatabase(Database):
    """A PostgreSQL database: every unit of work on the database thread, a one-statement read on the loop's own connection."""

    shared = True  # several workers may serve one database
    dialect = "postgresql"
    failures = (psycopg.Error, OSError, ValueError)
    outages = (psycopg.OperationalError,)  # a lost or refused session, a server shutting down or out of resources

    def __init__(self, conn: psycopg.Connection[Any], executor: ThreadPoolExecutor, url: str) -> None:
        super().__init__(conn, executor, url)  # type: ignore[arg-type]
        self._adapter = Connection(conn)
        self._lease = SenderLease(url)
        self.turns = ChatTurns(url)
        self._wakeups: OutboxWakeups | None = None
        self._loop_reads = LoopReads(url)

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:  # type: ignore[override]
        """Connect to the database at `url` and migrate it."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database")
        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, _connect, url)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        db = cls(conn, executor, url)
        try:
            await db.run(lambda adapter: migrate(adapter.raw), long=True)
        except BaseException:
            await db.close()
            raise
        db._readers = PooledReaders(url)  # type: ignore[assignment]
        return db

    async def run(self, work: Callable[[Any], T], *, long: bool = False) -> T:
        """Run `work` with the connection adapter on the database thread, after what is queued there."""
        if self._conn is None:
            raise ValueError("the database is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._on_thread, work)

    def _on_thread(self, work: Callable[[Any], T]) -> T:
        # A server restarted or failed over ends the session: the unit of work that met it failed (its
        # transaction undone by the server, its update left for Telegram to send again), and the next
        # one starts on a new session instead of failing for as long as the process lives.
        raw = self._adapter.raw
        if raw.closed or _ended(raw):
            log.warning("the database session had ended (a restart, a failover?); connecting again")
            raw.close()
            self._adapter.raw = self._conn = _connect(self.path)
        return work(self._adapter)

    def _in_transaction(self, work: Callable[[Any], T], deferred: list[Deferred], failed: list[Any]) -> Any:
        return lambda adapter: _transaction(adapter, work, deferred, failed)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """All rows of a read-only query, read on the loop's own connection (no trip to the thread)."""
        return await self._read(sql, params, None)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a read-only query, or None, read on the loop's own connection."""
        found = await self._read(sql, params, 1)
        return found[0] if found else None

    async def _read(self, sql: str, params: Sequence[Any], rows: int | None) -> list[Any]:
        if self._conn is None:
            raise ValueError("the database is closed")
        return await self._loop_reads.fetch(sql, params, rows)

    async def sender_lease(self) -> bool:
        """Whether this process is the outbox's one sender now (taking the turn if no process holds it)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._lease.holds)

    async def schema_versions(self) -> tuple[int, int]:
        """The schema version the database is at and the one this code migrates to, read on the loop's own
        connection: with the server away it fails at once, where a pooled reader waits for the pool."""
        row = await self.fetchone("SELECT version FROM schema_version")
        return (row[0] if row is not None else 0), LATEST

    def wake_on_outbox_rows(self, wake: Callable[[], None]) -> None:
        """Call `wake` on this loop whenever any worker commits outbox rows (storage.postgres_wakeups)."""
        if self._wakeups is None:
            self._wakeups = OutboxWakeups(self.path, wake, asyncio.get_running_loop())

    def turn(self, keys: Iterable[str]) -> AbstractAsyncContextManager[None]:
        """Hold `keys` against the other workers on this database while a block runs (storage.postgres_turns)."""
        return self.turns.hold(keys)

    async def close(self) -> None:
        """Let the sender's turn and any held keys go, then close as Database does."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._lease.close)
        await self.turns.close()
        await self._loop_reads.close()
        if self._wakeups is not None:
            self._wakeups.close()
        await super().close()

    async def checkpoint_truncate(self) -> bool:
        """Nothing to empty on our side: PostgreSQL recycles its own WAL (an erasure's tables: scrub)."""
        return True

    async def scrub(self, tables: Collection[str]) -> bool:
        """Rewrite each table with its live rows only (VACUUM FULL: its TOAST table and indexes too), on a
        connection of its own; whether every one was. A deleted or updated row's old version stays in the
        table's pages until then, and plain VACUUM only marks its space free (docs/deploy.md)."""
        if not tables:
            return True

        def work() -> bool:
            done, started = True, time.monotonic()
            with psycopg.connect(self.path, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                # Every worker runs the night's retention: one rewrites, the others leave it to it.
                if not conn.execute("SELECT pg_try_advisory_lock(%s)", (SCRUB_LOCK,)).fetchone()[0]:
                    log.info("another worker is rewriting the tables erasures left old rows in")
                    return False
                for table in sorted(tables):
                    try:
                        conn.execute(sql.SQL("VACUUM FULL {}").format(sql.Identifier(table)))
                    except psycopg.Error as error:
                        log.warning(
                            "VACUUM FULL %s failed: %s", table, error.diag.message_primary or type(error).__name__
                        )
                        done = False
            log.info(
                "VACUUM FULL of %d tables erasures and retention left old rows in: %.1f s",
                len(tables),
                time.monotonic() - started,
            )
            return done

        try:
            return await asyncio.get_running_loop().run_in_executor(None, work)
        except psycopg.Error as error:
            log.warning("the scrub's connection failed: %s", error.diag.message_primary or type(error).__name__)
            return False


_POOLED = {"autocommit": True, "row_factory": _rows}
