"""WAL checkpoints run on their own connection and thread; the writer's commits do not pay for them."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from storage import checkpoints
from storage.db import Database


async def _fill(db: Database, rows: int) -> None:
    await db.write(lambda conn: conn.execute("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, blob BLOB)"))
    for index in range(rows):
        await db.write(
            lambda conn, i=index: conn.execute("INSERT INTO filler (id, blob) VALUES (?, ?)", (i, os.urandom(3000)))
        )
        await asyncio.sleep(0)  # as the bot does between updates: a finished checkpoint is noticed then


async def test_the_writer_leaves_checkpoints_to_the_background(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY", 20)
    path = tmp_path / "wal.sqlite3"
    db = await Database.open(path)
    try:
        assert (await db.fetchone("PRAGMA wal_autocheckpoint"))[0] == checkpoints.FALLBACK_PAGES
        await _fill(db, 600)  # about 600 pages: far past 20, far below the writer's own 16,000
        await db._checkpointer.close()  # waits for a running checkpoint  # noqa: SLF001
        assert db._checkpointer.checkpoints >= 1  # noqa: SLF001
        # A busy thread may have skipped the later turns (one checkpoint runs at a time): the next 20
        # commits start one that finds all 600 rows' pages in the WAL, whatever happened before.
        await db.write(lambda conn: conn.execute("CREATE TABLE more (id INTEGER PRIMARY KEY)"))
        for index in range(checkpoints.CHECKPOINT_EVERY):
            await db.write(lambda conn, i=index: conn.execute("INSERT INTO more (id) VALUES (?)", (i,)))
        await db._checkpointer.close()  # noqa: SLF001
        # The checkpoints copied the new pages from the WAL into the database file itself.
        assert os.stat(path).st_size // 4096 >= 500
    finally:
        await db.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM filler").fetchone() == (600,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


async def test_without_checkpointing_the_wal_would_have_grown(tmp_path, monkeypatch) -> None:
    """The control for the test above: with the background threshold out of reach, nothing checkpoints."""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY", 10**9)
    path = tmp_path / "control.sqlite3"
    db = await Database.open(path)
    try:
        await _fill(db, 600)
        assert db._checkpointer.checkpoints == 0  # noqa: SLF001
        assert os.stat(path).st_size // 4096 < 100  # every new page is still only in the WAL
    finally:
        await db.close()


async def test_an_in_memory_database_has_no_checkpointer() -> None:
    db = await Database.open(":memory:")
    try:
        assert db._checkpointer is None  # noqa: SLF001
        await _fill(db, 3)
    finally:
        await db.close()


async def test_secure_delete_is_set_and_a_truncating_checkpoint_empties_the_wal(tmp_path) -> None:
    """Every writer connection zeroes what it deletes (not left to SQLite's build), and after
    checkpoint_truncate the WAL holds no page at all, so deleted words are in neither file."""
    db = await Database.open(tmp_path / "secure.sqlite3")
    try:
        assert await db.run(lambda conn: conn.execute("PRAGMA secure_delete").fetchone()[0]) == 1
        secret = "a courier's words that must go " * 20
        await db.write(lambda conn: conn.execute("CREATE TABLE scratch (t TEXT)"))
        await db.write(lambda conn: conn.execute("INSERT INTO scratch VALUES (?)", (secret,)))
        await db.write(lambda conn: conn.execute("DELETE FROM scratch"))
        assert Path(f"{db.path}-wal").stat().st_size > 0
        assert await db.checkpoint_truncate()
        assert Path(f"{db.path}-wal").stat().st_size == 0
        assert secret.encode()[:31] not in Path(db.path).read_bytes()
    finally:
        await db.close()


async def test_a_truncation_held_off_by_a_reader_is_owed_to_the_background(tmp_path, monkeypatch) -> None:
    """A report reading meanwhile holds the truncation off for a moment only; the background
    checkpoints then truncate instead of copying, until the WAL is empty."""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY", 5)
    path = tmp_path / "held.sqlite3"
    db = await Database.open(path)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        secret = b"erased words of a courier"
        await _fill(db, 3)
        await db.write(lambda conn: conn.execute("INSERT INTO filler (id, blob) VALUES (99, ?)", (secret,)))
        await db.write(lambda conn: conn.execute("DELETE FROM filler WHERE id = 99"))
        assert secret in Path(f"{path}-wal").read_bytes()
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM filler").fetchall()  # a read snapshot, held until COMMIT
        assert not await db.checkpoint_truncate()
        assert db._checkpointer.truncate_owed  # noqa: SLF001
        reader.execute("COMMIT")
        checkpointer = db._checkpointer  # noqa: SLF001
        if checkpointer._running is not None:  # noqa: SLF001  (a passive one started before)
            await asyncio.wait([checkpointer._running])  # noqa: SLF001
            await asyncio.sleep(0)  # its done-callback runs
        before = db.checkpoints
        while checkpointer._running is None:  # noqa: SLF001  (writes until one starts, as a bot would)
            await db.write(lambda conn: conn.execute("INSERT INTO filler (blob) VALUES (x'00')"))
        await db._checkpointer.close()  # noqa: SLF001
        assert db.checkpoints == before + 1
        assert not db._checkpointer.truncate_owed  # noqa: SLF001
        # Only what was written after the truncation is in the WAL now.
        assert secret not in Path(f"{path}-wal").read_bytes() and secret not in path.read_bytes()
    finally:
        reader.close()
        await db.close()
