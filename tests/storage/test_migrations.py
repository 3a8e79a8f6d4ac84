"""Migrations: from empty and from every earlier version to the same schema, each atomic."""

import sqlite3

import pytest

from storage import migrations
from storage.db import Database
from storage.migrations import LATEST, migrate, schema_version


def schema(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every schema object's name and SQL."""
    return conn.execute("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()


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
    # The schema just before that migration (later ones are appended after it).
    migrate(conn, next(i for i, (name, _) in enumerate(migrations.MIGRATIONS) if name.startswith("prompts name")))
    conn.execute("INSERT INTO people (telegram_id, created_at) VALUES (1, 0)")
    old = ("sb", "res", "rej", "mrg", "ans", "ru", "ask", "note", "zzz")
    for person, verb in enumerate(old, start=1):
        conn.execute("INSERT OR IGNORE INTO people (telegram_id, created_at) VALUES (?, 0)", (person,))
        conn.execute("INSERT INTO prompts (telegram_id, verb, created_at) VALUES (?, ?, 0)", (person, verb))
    migrate(conn)
    rows = conn.execute("SELECT verb FROM prompts ORDER BY telegram_id").fetchall()
    assert [r[0] for r in rows] == [
        "send_back",
        "resolve",
        "reject",
        "merge",
        "answer",
        "rate_unsatisfied",
        "ask",
        "note",
    ]


def _before(name: str) -> int:
    """The version just before the migration named `name` (later ones are appended after it)."""
    return next(i for i, (n, _) in enumerate(migrations.MIGRATIONS) if n.startswith(name))


_REBUILT = ("appeals", "events", "timers")
_POINTING = ("attachments", "outbox", "appeal_links", "prompts", "appeal_messages")


def _rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


def _with_rows(path) -> sqlite3.Connection:
    """A file at the version before the value sets left the schema, with rows in every rebuilt table
    and in the tables that point at them, written with foreign keys on as the bot writes."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, _before("value sets that grow"))
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(
        """
        INSERT INTO units (id, kind, name_zh, name_en) VALUES ('st1', 'station', '一号驿站', 'Station 1');
        INSERT INTO people (telegram_id, role, unit_id, created_at) VALUES (11, 'courier', NULL, 0), (21, 'staff', 'st1', 0);
        INSERT INTO appeals (id, courier_id, category, priority, state, outcome, unit_id, description, language,
                             accepted, version, created_at, updated_at, next_due, place, merged_into)
        VALUES (1, 11, 'pay', 'urgent', 'handling', NULL, 'st1', 'late pay', 'zh', 1, 3, 10, 20, 500, 'gate 2', NULL),
               (2, 11, 'pay', 'normal', 'closed', 'merged', 'st1', 'again', 'en', 0, 2, 11, 21, NULL, NULL, 1),
               (3, 11, 'road', 'normal', 'assessing', NULL, NULL, 'a hole', 'en', 0, 1, 12, 22, 900, NULL, NULL);
        INSERT INTO events (id, appeal_id, event, actor_id, actor_role, from_state, to_state, unit_id, note, on_time, at)
        VALUES (1, 1, 'submit', 11, 'courier', 'collecting', 'assessing', NULL, NULL, NULL, 10),
               (2, 1, 'assign', NULL, 'system', 'assessing', 'handling', 'st1', NULL, NULL, 11),
               (3, 1, 'accept', 21, 'staff', 'handling', 'handling', 'st1', 'on it', 1, 12),
               (4, 2, 'submit', 11, 'courier', 'collecting', 'assessing', NULL, NULL, NULL, 13),
               (5, 3, 'submit', 11, 'courier', 'collecting', 'assessing', NULL, NULL, NULL, 14);
        INSERT INTO timers (appeal_id, kind, due_at, remaining_s, set_at, stage, fire_at)
        VALUES (1, 'handle', 500, NULL, 12, 'remind', 400), (3, 'triage', 900, NULL, 14, 'due', 900);
        INSERT INTO attachments (appeal_id, event_id, kind, file_id, file_unique_id, created_at)
        VALUES (1, 1, 'photo', 'f', 'u', 10);
        INSERT INTO outbox (chat_id, appeal_id, event_id, template, not_before, created_at) VALUES (11, 1, 3, 'accepted', 0, 12);
        INSERT INTO appeal_links (parent_id, child_id, kind) VALUES (1, 3, 'hotspot');
        INSERT INTO prompts (telegram_id, appeal_id, verb, created_at) VALUES (21, 1, 'note', 0);
        INSERT INTO appeal_messages (chat_id, message_id, appeal_id, kind, version, sent_at) VALUES (11, 7, 1, 'card', 3, 12);
        """
    )
    return conn


def _objects(conn: sqlite3.Connection, tables: tuple[str, ...]) -> list[tuple]:
    marks = ", ".join("?" * len(tables))
    return conn.execute(
        f"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN ({marks}) AND type != 'table'"
        " ORDER BY name",
        tables,
    ).fetchall()


def test_value_sets_leave_the_schema_and_every_row_stays(tmp_path) -> None:
    """The rebuild keeps every row, index and trigger, and the rows pointing at the rebuilt tables."""
    conn = _with_rows(tmp_path / "v.sqlite3")
    before = {table: _rows(conn, table) for table in (*_REBUILT, *_POINTING)}
    indexes_and_triggers = _objects(conn, _REBUILT)
    assert len(indexes_and_triggers) == 13
    migrate(conn, _before("extensions (延期)"))  # this migration alone (the next adds columns to appeals)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)  # as the caller had it
    assert {table: _rows(conn, table) for table in before} == before
    assert _objects(conn, _REBUILT) == indexes_and_triggers
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # A state, outcome, priority, event, role, timer kind and stage the code may add later need no migration.
    conn.executescript(
        """
        INSERT INTO appeals (id, courier_id, category, priority, state, outcome, description, language, created_at, updated_at)
        VALUES (4, 11, 'pay', 'critical', 'closed', 'expired', 'x', 'en', 0, 0);
        INSERT INTO events (appeal_id, event, actor_role, from_state, to_state, at)
        VALUES (4, 'extension_requested', 'auditor', 'paused', 'closed', 0);
        INSERT INTO timers (appeal_id, kind, due_at, set_at, stage) VALUES (4, 'extension', 1, 0, 'snooze');
        """
    )
    # The fixed shapes still hold.
    for broken in (
        "UPDATE appeals SET accepted = 2 WHERE id = 1",
        "UPDATE appeals SET outcome = NULL WHERE id = 2",
        "UPDATE appeals SET unit_id = NULL WHERE id = 1",
        (
            "INSERT INTO events (appeal_id, event, actor_role, from_state, to_state, on_time, at)"
            " VALUES (1, 'note', 'staff', 'handling', 'handling', 5, 0)"
        ),
        "UPDATE timers SET remaining_s = 5 WHERE appeal_id = 1",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(broken)
    # The ledger is still append-only, notes and actors still erasable; foreign keys still point at the new tables.
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET event = 'note' WHERE id = 3")
    conn.execute("UPDATE events SET note = NULL, actor_id = NULL WHERE id = 3")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        conn.execute("INSERT INTO timers (appeal_id, kind, due_at, set_at) VALUES (99, 'handle', 1, 0)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        conn.execute("DELETE FROM appeals WHERE id = 3")  # a link and a timer point at it


def test_before_it_the_schema_refused_new_values(tmp_path) -> None:
    """The control for the test above: at the previous version the same new state is refused."""
    conn = _with_rows(tmp_path / "control.sqlite3")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE appeals SET state = 'paused' WHERE id = 1")


def test_a_migration_that_leaves_a_dangling_reference_rolls_back(tmp_path, monkeypatch) -> None:
    """Foreign keys are off while a migration runs; they are all checked before it commits."""
    orphan = "INSERT INTO timers (appeal_id, kind, due_at, set_at) VALUES (99, 'handle', 1, 0);"
    dangling = [*migrations.MIGRATIONS, ("dangling", orphan)]
    monkeypatch.setattr(migrations, "MIGRATIONS", dangling)
    conn = sqlite3.connect(tmp_path / "fk.sqlite3", isolation_level=None)
    migrate(conn, LATEST)
    conn.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(RuntimeError, match="pointing at missing"):
        migrate(conn, len(dangling))
    assert schema_version(conn) == LATEST
    assert conn.execute("SELECT count(*) FROM timers").fetchone() == (0,)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
