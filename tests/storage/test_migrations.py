"""Migrations: from empty and from every earlier version to the same schema, each atomic."""

import sqlite3

import pytest

from storage import migrations
from storage.db import Database
from storage.migrations import LATEST, MIGRATIONS, migrate, schema_version


def schema(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every schema object's name and SQL."""
    return conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()


def test_from_empty_to_latest(tmp_path) -> None:
    """An empty file reaches the latest version with every table."""
    conn = sqlite3.connect(tmp_path / "a.sqlite3", isolation_level=None)
    assert migrate(conn) == LATEST
    tables = {name for name, _ in schema(conn)}
    for table in ("people", "units", "stations", "appeals", "drafts", "attachments", "events", "outbox", "timers"):
        assert table in tables


@pytest.mark.parametrize("start", range(LATEST))
def test_from_every_earlier_version(tmp_path, start: int) -> None:
    """A file left at any earlier version migrates to exactly the schema of a fresh one."""
    fresh = sqlite3.connect(tmp_path / "fresh.sqlite3", isolation_level=None)
    migrate(fresh)
    old = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    assert migrate(old, start) == start
    assert migrate(old) == LATEST
    assert schema(old) == schema(fresh)
    assert migrate(old) == LATEST  # running again changes nothing


def test_a_failing_migration_leaves_the_previous_version(tmp_path, monkeypatch) -> None:
    """A broken script rolls back whole: no half-made table, no version bump."""
    broken = [*migrations.MIGRATIONS, ("broken", "CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);")]
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    conn = sqlite3.connect(tmp_path / "b.sqlite3", isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, len(broken))
    assert schema_version(conn) == LATEST
    assert "half" not in {name for name, _ in schema(conn)}


def test_a_newer_database_is_refused(tmp_path) -> None:
    """An old bot never writes into a schema it does not know."""
    conn = sqlite3.connect(tmp_path / "c.sqlite3", isolation_level=None)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        migrate(conn)


async def test_database_pragmas(tmp_path) -> None:
    """WAL, foreign keys and a busy timeout are on for the bot's connection."""
    db = await Database.open(tmp_path / "d.sqlite3")
    try:
        row = await db.fetchone("SELECT * FROM pragma_journal_mode, pragma_foreign_keys, pragma_busy_timeout")
        assert tuple(row) == ("wal", 1, 5000)
    finally:
        await db.close()


def test_prompts_name_the_event_they_complete(tmp_path) -> None:
    """Prompts stored with a button's old private verb are renamed to the event; unknown ones dropped."""
    conn = sqlite3.connect(tmp_path / "p.sqlite3", isolation_level=None)
    renaming = next(i for i, (name, _) in enumerate(MIGRATIONS) if name.startswith("prompts name what they ask"))
    migrate(conn, renaming)  # every migration before it
    conn.execute("INSERT INTO people (telegram_id, created_at) VALUES (1, 0)")
    old = ("sb", "res", "rej", "mrg", "ans", "ru", "ask", "note", "zzz")
    for person, verb in enumerate(old, start=1):
        conn.execute("INSERT OR IGNORE INTO people (telegram_id, created_at) VALUES (?, 0)", (person,))
        conn.execute("INSERT INTO prompts (telegram_id, verb, created_at) VALUES (?, ?, 0)", (person, verb))
    migrate(conn)
    rows = conn.execute("SELECT verb FROM prompts ORDER BY telegram_id").fetchall()
    assert [r[0] for r in rows] == [
        "send_back", "resolve", "reject", "merge", "answer", "rate_unsatisfied", "ask", "note"
    ]
