"""The schema leaves states, events and the like to the code's enums: the invariant checker holds stored values to them."""

from __future__ import annotations

import sqlite3

from storage.invariants import check_invariants
from storage.migrations import migrate


def _database(tmp_path, state: str, event: str, role: str, kind: str, stage: str, priority: str) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "values.sqlite3", isolation_level=None)
    migrate(conn)
    conn.execute("INSERT INTO people (telegram_id, created_at) VALUES (11, 0)")
    conn.execute(
        "INSERT INTO appeals (id, courier_id, category, priority, state, description, language, version, created_at,"
        " updated_at, next_due) VALUES (1, 11, 'pay', ?, ?, 'x', 'en', 1, 0, 0, 60)",
        (priority, state),
    )
    conn.execute(
        "INSERT INTO events (appeal_id, event, actor_id, actor_role, from_state, to_state, at)"
        " VALUES (1, ?, 11, ?, 'collecting', ?, 0)",
        (event, role, state),
    )
    conn.execute("INSERT INTO timers (appeal_id, kind, due_at, set_at, stage) VALUES (1, ?, 60, 0, ?)", (kind, stage))
    return conn


def _values(conn: sqlite3.Connection) -> list[str]:
    return [line for line in check_invariants(conn) if line.startswith("value:")]


def test_values_outside_the_enums_are_reported(tmp_path) -> None:
    conn = _database(tmp_path, "paused", "extension_requested", "auditor", "extension", "snooze", "critical")
    assert _values(conn) == [
        "value: 1 appeals rows have state = 'paused', unknown to State",
        "value: 1 appeals rows have priority = 'critical', unknown to Priority",
        "value: 1 events rows have event = 'extension_requested', unknown to Event",
        "value: 1 events rows have actor_role = 'auditor', unknown to Role",
        "value: 1 events rows have to_state = 'paused', unknown to State",
        "value: 1 timers rows have kind = 'extension', unknown to Timer",
        "value: 1 timers rows have stage = 'snooze', unknown to Stage",
    ]


def test_values_of_the_enums_pass(tmp_path) -> None:
    """The control: the same rows with the code's values raise no value line (and a consistent appeal, none at all)."""
    conn = _database(tmp_path, "assessing", "submit", "courier", "triage", "remind", "normal")
    assert _values(conn) == []
    assert check_invariants(conn) == []
