"""A deferred statement that fails is logged, leaves the write it rode along with standing, and surfaces."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from storage.db import Database, DeferredWriteError

GOOD = "INSERT INTO log (what) VALUES (?)"
BAD = "INSERT INTO log (what) VALUES (NULL)"  # log.what is NOT NULL: SQLite undoes this statement alone


async def _opened(tmp_path) -> Database:
    db = await Database.open(tmp_path / "deferred.sqlite3")
    await db.write(lambda conn: conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, what TEXT NOT NULL)"))
    return db


def _on_disk(db: Database) -> list[str]:
    conn = sqlite3.connect(db.path)
    try:
        return [row[0] for row in conn.execute("SELECT what FROM log ORDER BY id")]
    finally:
        conn.close()


async def test_a_failing_deferred_statement_is_logged_counted_and_raised_once(tmp_path, caplog) -> None:
    db = await _opened(tmp_path)
    try:
        db.defer(GOOD, ("before",))
        db.defer(BAD, ())
        db.defer(GOOD, ("after",))
        with caplog.at_level(logging.ERROR, logger="storage.db"):
            await db.write(lambda conn: conn.execute(GOOD, ("the write itself",)))
        # The write and the other deferred statements committed; the failing one alone is missing.
        assert _on_disk(db) == ["the write itself", "before", "after"]
        assert db.deferred_failures == 1
        assert [r.getMessage() for r in caplog.records if r.name == "storage.db"] == [
            f"a deferred statement failed: NOT NULL constraint failed: log.what ({BAD})"
        ]
        with pytest.raises(DeferredWriteError, match="1 deferred statement") as raised:
            await db.write_deferred()
        assert raised.value.failures[0][0] == BAD
        assert isinstance(raised.value.__cause__, sqlite3.IntegrityError)
        await db.write_deferred()  # raised once: nothing new failed since
        assert db.deferred_failures == 1
    finally:
        await db.close()


async def test_close_raises_a_failure_nobody_collected_after_closing(tmp_path) -> None:
    db = await _opened(tmp_path)
    db.defer(BAD, ())
    db.defer(GOOD, ("kept",))
    with pytest.raises(DeferredWriteError):
        await db.close()
    assert _on_disk(db) == ["kept"]
    with pytest.raises(ValueError, match="closed"):
        await db.fetchone("SELECT 1")


async def test_without_a_failure_nothing_is_raised(tmp_path) -> None:
    """The control: the same statements, all valid, raise nothing anywhere."""
    db = await _opened(tmp_path)
    db.defer(GOOD, ("one",))
    await db.write_deferred()
    db.defer(GOOD, ("two",))
    await db.close()
    assert _on_disk(db) == ["one", "two"]
    assert db.deferred_failures == 0
