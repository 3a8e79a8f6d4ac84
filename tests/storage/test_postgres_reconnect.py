"""A PostgreSQL server that ends the bot's sessions (a restart, a failover) costs at most the unit of
work that met it, never the process: the next one runs on a new session (storage/postgres.py)."""

from __future__ import annotations

import logging

import psycopg
import pytest

from storage.postgres import PostgresDatabase

pytestmark = pytest.mark.slow  # a real PostgreSQL server


def _end_session(url: str, pid: int) -> None:
    """End one session as a server restart would, waiting until it is gone."""
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]


async def test_a_unit_of_work_after_the_session_ended_runs_on_a_new_one(postgres_migrated_url) -> None:
    """The server ended the idle session (and said so on its socket): the next unit, a write's transaction
    included, runs on a new session rather than failing on the old one."""
    db = await PostgresDatabase.open(postgres_migrated_url)
    try:
        pid = await db.run(lambda conn: conn.raw.info.backend_pid)
        _end_session(postgres_migrated_url, pid)
        assert await db.write(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone()[0]) != pid
    finally:
        await db.close()


async def test_a_unit_of_work_the_end_meets_midway_fails_and_the_next_goes_on(postgres_migrated_url) -> None:
    """A session ended in the middle of a unit of work fails that unit (its transaction undone by the
    server; its update is sent again by Telegram); the next runs on a new session."""
    db = await PostgresDatabase.open(postgres_migrated_url)

    def ended_midway(conn):
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        _end_session(postgres_migrated_url, pid)
        conn.execute("SELECT 1")

    try:
        pid = await db.run(lambda conn: conn.raw.info.backend_pid)
        with pytest.raises(psycopg.OperationalError):
            await db.write(ended_midway)
        assert await db.run(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone()[0]) != pid
    finally:
        await db.close()


async def test_a_read_is_asked_again_on_a_new_session(postgres_migrated_url) -> None:
    """A one-statement read (the loop's own connection) that finds its session ended reads again on a
    new one: the caller sees its rows, not the failure."""
    db = await PostgresDatabase.open(postgres_migrated_url)
    try:
        first = (await db.fetchone("SELECT pg_backend_pid() AS pid"))["pid"]
        _end_session(postgres_migrated_url, first)
        assert (await db.fetchone("SELECT pg_backend_pid() AS pid"))["pid"] != first
        assert [tuple(row) for row in await db.fetchall("SELECT count(*) AS n FROM appeals")] == [(0,)]
    finally:
        await db.close()


async def test_reads_cannot_write(postgres_migrated_url) -> None:
    """What goes through fetchall skips the write lock, so it must not write: the server refuses."""
    db = await PostgresDatabase.open(postgres_migrated_url)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            await db.fetchall("CREATE TABLE sneaked (x INTEGER)")
    finally:
        await db.close()


async def test_a_reports_pooled_reader_whose_session_ended_is_replaced(postgres_migrated_url) -> None:
    """A report's parts take pooled connections; one left idle in the pool when the server ended its session
    is checked and replaced, not handed to the first report after a restart to fail."""
    db = await PostgresDatabase.open(postgres_migrated_url)

    def pid(conn):
        return conn.execute("SELECT pg_backend_pid()").fetchone()[0]

    try:
        (first,) = await db.read_side_by_side([pid])
        _end_session(postgres_migrated_url, first)
        (second,) = await db.read_side_by_side([pid])
        assert second != first
    finally:
        await db.close()


def test_a_background_connection_says_once_that_it_fails_and_once_that_it_answers(caplog) -> None:
    """The outbox sender's lock asks every round (2 s): while the server is away, one warning, not one a
    round; the first answer after says so."""
    from storage.connection_trouble import ConnectionTrouble
    from storage.postgres import SenderLease

    lease = SenderLease("postgresql://bot@/appeals?host=/nonexistent-socket-folder")
    with caplog.at_level(logging.INFO, logger="storage.connection_trouble"):
        assert [lease.holds() for _ in range(3)] == [False, False, False]
        trouble = ConnectionTrouble("a connection")
        trouble.failed(psycopg.OperationalError("gone"))
        trouble.answered()
        trouble.answered()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == [logging.WARNING, logging.WARNING, logging.INFO], lines
    assert lines[0][1].startswith("the outbox sender's lock connection failed:")
    assert lines[2][1] == "a connection answers again"
