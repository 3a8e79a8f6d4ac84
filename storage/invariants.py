"""What must hold in any bot database, whatever happened to it: the checker every test and `restore` use.

`check_invariants(where_or_connection)` reads the database, SQLite or PostgreSQL (it never
writes), and returns one line per violation, each starting with its kind (`ledger:`, `appeal:`,
`timers:`, `orphan:`, `outbox:`, `merge:`, `links:`, `schema:`, `value:`); an empty list means
everything holds:

- every stored state, outcome, priority, event, actor role, timer kind and stage is a member of
  its enum in the code (the schema no longer lists them: storage/migrations.py);

- every appeal agrees with a replay of its ledger through `domain.lifecycle` from `collecting`:
  each row is a legal transition for its actor's role, in order, with matching from/to states;
  the replay's state, outcome, accepted / awaiting / send-backs / reopens and unit are the
  appeal's, and its `version` is the number of its events;
- nothing points at a missing appeal, event, person, unit or station;
- the timers match the state (see `_expected_timers`), and next_due is the nearest of their deadlines;
- outbox rows have a known status, and sent_at exactly when sent; dead ones keep a reason;
- a merged appeal points at another existing appeal that is not itself merged;
- each extension row (延期) is the request event of its appeal, decided by an approve, a refuse or a
  lapse of that appeal; an appeal's pending request and its approved count are its row's;
- each co-handling part (协办) was added by an add_cohandler event of its appeal and finished by a
  finish_part event of it; an appeal's co_units are its parts' units, in the order added.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from domain import lifecycle
from domain.deadlines import Priority, Timer
from domain.ladder import Stage
from domain.lifecycle import Event, Facts, Outcome, Role, State
from storage.dialect import distinct, is_postgresql, table_names
from storage.locations import Location, parse_location

# (child table, column, parent table, parent column): every non-NULL child value must exist.
_REFERENCES = (
    ("events", "appeal_id", "appeals", "id"),
    ("timers", "appeal_id", "appeals", "id"),
    ("outbox", "appeal_id", "appeals", "id"),
    ("outbox", "event_id", "events", "id"),
    ("attachments", "appeal_id", "appeals", "id"),
    ("attachments", "event_id", "events", "id"),
    ("appeal_links", "parent_id", "appeals", "id"),
    ("appeal_links", "child_id", "appeals", "id"),
    ("prompts", "appeal_id", "appeals", "id"),
    ("prompts", "telegram_id", "people", "telegram_id"),
    ("drafts", "courier_id", "people", "telegram_id"),
    ("last_locations", "telegram_id", "people", "telegram_id"),
    ("appeals", "courier_id", "people", "telegram_id"),
    ("appeals", "unit_id", "units", "id"),
    ("appeals", "station_id", "stations", "id"),
    ("appeals", "merged_into", "appeals", "id"),
    ("people", "unit_id", "units", "id"),
    ("stations", "unit_id", "units", "id"),
    ("invites", "unit_id", "units", "id"),
    ("extensions", "appeal_id", "appeals", "id"),
    ("extensions", "request_id", "events", "id"),
    ("extensions", "decision_id", "events", "id"),
    ("cohandlers", "appeal_id", "appeals", "id"),
    ("cohandlers", "unit_id", "units", "id"),
    ("cohandlers", "added_id", "events", "id"),
    ("cohandlers", "done_id", "events", "id"),
)
# (table, column, its enum): every stored value is one of the enum's (NULL is the schema's to allow or refuse).
_VALUES = (
    ("appeals", "state", State),
    ("appeals", "outcome", Outcome),
    ("appeals", "priority", Priority),
    ("events", "event", Event),
    ("events", "actor_role", Role),
    ("events", "from_state", State),
    ("events", "to_state", State),
    ("timers", "kind", Timer),
    ("timers", "stage", Stage),
)
_DEADLINES = ("triage", "accept", "handle", "feedback")
_OUTBOX_STATUSES = ("pending", "sent", "dead")
_FOLLOWUP_OUTCOMES = (Outcome.RESOLVED, Outcome.AUTO_CLOSED)


def check_invariants(database: str | Path | Any) -> list[str]:
    """Every invariant violation in the database; [] if all hold. `database` is where it is (a SQLite
    file's path, `sqlite:///…` or `postgresql://…`) or an open connection of either backend."""
    if isinstance(database, Path):
        database = Location("sqlite", str(database))
    elif isinstance(database, str):
        database = parse_location(database)
    if not isinstance(database, Location):
        return _consistent(database)
    if database.backend == "postgresql":
        from storage.postgres import read_only  # psycopg is the postgresql extra's: only when asked

        with read_only(database.target) as conn:
            return _consistent(conn)
    conn = sqlite3.connect(f"file:{Path(database.target)}?mode=ro", uri=True)
    try:
        return _check(conn)
    finally:
        conn.close()


async def check_database(db) -> list[str]:
    """`check_invariants` on an open `storage.db.Database` of either backend, on its own connection and thread."""
    return await db.run(check_invariants)


def _consistent(conn: Any) -> list[str]:
    """The check on an open connection; on PostgreSQL in one snapshot (other workers may be writing)."""
    if not is_postgresql(conn):
        return _check(conn)
    from storage.postgres import snapshot

    with snapshot(conn):
        return _check(conn)


def _rows(conn: Any, sql: str, params: tuple = ()) -> list[Any]:
    if is_postgresql(conn):  # its rows are read by name already
        return conn.execute(sql, params).fetchall()
    # A cursor of our own: the caller's connection keeps its row factory.
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def _tables(conn: Any) -> set[str]:
    return {r["name"] for r in _rows(conn, table_names(conn))}


def _check(conn: Any) -> list[str]:
    tables = _tables(conn)
    missing = {"appeals", "events", "timers", "outbox", "people", "units"} - tables
    if missing:
        return [f"schema: tables missing: {', '.join(sorted(missing))}"]
    problems: list[str] = []
    problems += _values(conn, tables)
    problems += _orphans(conn, tables)
    appeals = {r["id"]: r for r in _rows(conn, "SELECT * FROM appeals ORDER BY id")}
    events: dict[int, list[Any]] = defaultdict(list)
    for row in _rows(conn, "SELECT * FROM events ORDER BY appeal_id, id"):
        events[row["appeal_id"]].append(row)
    timers: dict[int, dict[str, Any]] = defaultdict(dict)
    for row in _rows(conn, "SELECT * FROM timers"):
        timers[row["appeal_id"]][row["kind"]] = row
    for appeal_id, appeal in appeals.items():
        problems += _replay(appeal, events.get(appeal_id, []))
        problems += _timers(appeal, timers.get(appeal_id, {}))
        problems += _merge(appeal, appeals)
    problems += _outbox(conn)
    if "appeal_links" in tables:
        problems += _links(conn, appeals)
    if "extensions" in tables:
        problems += _extensions(conn, appeals)
    if "cohandlers" in tables:
        problems += _cohandlers(conn, appeals)
    if "activity_signups" in tables:
        problems += _activities(conn)
    return problems


def _activities(conn: Any) -> list[str]:
    """No activity has more people with a place than it has places, nor anyone waiting while a place is free
    and it has not started (a freed place goes to the first waiting)."""
    rows = _rows(
        conn,
        "SELECT a.id, a.places, count(*) FILTER (WHERE s.state = 'in') AS taken,"
        " count(*) FILTER (WHERE s.state = 'waiting') AS waiting"
        " FROM activities a JOIN activity_signups s ON s.activity_id = a.id GROUP BY a.id",
    )
    problems = [
        f"activity {r['id']}: {r['taken']} places taken of {r['places']}" for r in rows if r["taken"] > r["places"]
    ]
    problems += [
        f"activity {r['id']}: {r['waiting']} waiting with {r['places'] - r['taken']} places free"
        for r in rows
        if r["waiting"] and r["taken"] < r["places"]
    ]
    return problems


def _cohandlers(conn: Any, appeals: dict[int, Any]) -> list[str]:
    """Each co-handling part is its appeal's add event, finished (if done) by its finish event."""
    problems = []
    rows = _rows(
        conn,
        "SELECT c.*, a.event AS added_by, a.appeal_id AS added_to, d.event AS done_by, d.appeal_id AS done_in"
        " FROM cohandlers c JOIN events a ON a.id = c.added_id LEFT JOIN events d ON d.id = c.done_id"
        " ORDER BY c.added_id",
    )
    units: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        where = f"cohandlers: {row['unit_id']} on appeal #{row['appeal_id']}"
        units[row["appeal_id"]].append(row["unit_id"])
        if row["added_by"] != Event.ADD_COHANDLER or row["added_to"] != row["appeal_id"]:
            problems.append(f"{where} was not added by that appeal's add_cohandler")
        if row["done_id"] is not None and (row["done_by"] != Event.FINISH_PART or row["done_in"] != row["appeal_id"]):
            problems.append(f"{where} was finished by {row['done_by']!r}")
    for number, appeal in appeals.items():
        if appeal["co_units"].split() != units[number]:
            problems.append(
                f"cohandlers: appeal #{number} has co_units {appeal['co_units']!r} but parts {units[number]}"
            )
    return problems


_DECIDED_BY = {
    "approved": {Event.APPROVE_EXTENSION},
    "refused": {Event.REFUSE_EXTENSION},
    "lapsed": set(Event) - {Event.APPROVE_EXTENSION, Event.REFUSE_EXTENSION, Event.REQUEST_EXTENSION},
}


def _extensions(conn: Any, appeals: dict[int, Any]) -> list[str]:
    """Each request for more time is its appeal's request event; its decision, an event of the same appeal."""
    problems = []
    rows = _rows(
        conn,
        "SELECT x.*, r.event AS asked_by, r.appeal_id AS request_appeal, d.event AS decided_by,"
        " d.appeal_id AS decision_appeal FROM extensions x JOIN events r ON r.id = x.request_id"
        " LEFT JOIN events d ON d.id = x.decision_id ORDER BY x.request_id",
    )
    pending: dict[int, int] = defaultdict(int)
    approved: dict[int, int] = defaultdict(int)
    for row in rows:
        where = f"extensions: request {row['request_id']} of appeal #{row['appeal_id']}"
        if row["asked_by"] != Event.REQUEST_EXTENSION or row["request_appeal"] != row["appeal_id"]:
            problems.append(f"{where} is not that appeal's request for more time")
        if row["state"] == "pending":
            pending[row["appeal_id"]] += 1
            if row["decision_id"] is not None:
                problems.append(f"{where} is pending yet decided")
            continue
        approved[row["appeal_id"]] += row["state"] == "approved"
        if row["decision_appeal"] != row["appeal_id"] or Event(row["decided_by"]) not in _DECIDED_BY[row["state"]]:
            problems.append(f"{where} is {row['state']} by {row['decided_by']!r}")
    for number, appeal in appeals.items():
        if pending[number] != appeal["extension_pending"]:
            problems.append(
                f"extensions: appeal #{number} has {pending[number]} pending but extension_pending = {appeal['extension_pending']}"
            )
        if approved[number] != appeal["extensions"]:
            problems.append(
                f"extensions: appeal #{number} has {approved[number]} approved but extensions = {appeal['extensions']}"
            )
    return problems


def _values(conn: Any, tables: set[str]) -> list[str]:
    problems = []
    for table, column, enum in _VALUES:
        if table not in tables:
            continue
        known = [member.value for member in enum]
        marks = ", ".join("?" * len(known))
        for row in _rows(
            conn,
            f"SELECT {column} AS v, count(*) AS n FROM {table} WHERE {column} NOT IN ({marks}) GROUP BY {column}",
            tuple(known),
        ):
            problems.append(f"value: {row['n']} {table} rows have {column} = {row['v']!r}, unknown to {enum.__name__}")
    return problems


def _orphans(conn: Any, tables: set[str]) -> list[str]:
    problems = []
    for child, column, parent, key in _REFERENCES:
        if child not in tables or parent not in tables:
            continue
        # WITHOUT ROWID tables have no rowid, nor has PostgreSQL: name the row by the column instead.
        name = column if child in ("timers", "appeal_links") or is_postgresql(conn) else "rowid"
        for row in _rows(
            conn,
            f"SELECT {name} AS r, {column} AS v FROM {child} c WHERE {column} IS NOT NULL"
            f" AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = c.{column})",
        ):
            problems.append(f"orphan: {child}.{column} = {row['v']!r} has no {parent} row (row {row['r']})")
    # Whatever the explicit list above does not name, SQLite's own foreign keys still say (PostgreSQL
    # enforces its foreign keys on every write: nothing to look for).
    named = {(child, parent) for child, _, parent, _ in _REFERENCES}
    for row in [] if is_postgresql(conn) else _rows(conn, "PRAGMA foreign_key_check"):
        if (row[0], row[2]) not in named:
            problems.append(f"orphan: {row[0]} row {row[1]} points at a missing {row[2]} row")
    for row in _rows(
        conn,
        "SELECT o.id, o.appeal_id, e.appeal_id AS event_appeal FROM outbox o JOIN events e ON e.id = o.event_id"
        f" WHERE {distinct(conn, 'o.appeal_id', 'e.appeal_id')}",
    ):
        problems.append(
            f"orphan: outbox row {row['id']} is about appeal {row['appeal_id']} but its event is of appeal {row['event_appeal']}"
        )
    if "attachments" in tables:
        for row in _rows(
            conn,
            "SELECT a.id, a.appeal_id, e.appeal_id AS event_appeal FROM attachments a JOIN events e ON e.id = a.event_id"
            " WHERE a.appeal_id != e.appeal_id",
        ):
            problems.append(
                f"orphan: attachment {row['id']} is of appeal {row['appeal_id']} but its event is of appeal {row['event_appeal']}"
            )
    return problems


def _replay(appeal: Any, ledger: list[Any]) -> list[str]:
    """Replay the ledger from `collecting`; the appeal row must be where the replay ends."""
    number = appeal["id"]
    problems: list[str] = []
    if appeal["version"] != len(ledger):
        problems.append(f"ledger: appeal #{number} has version {appeal['version']} but {len(ledger)} events")
    facts = Facts(State.COLLECTING)
    outcome: Outcome | None = None
    reopens = extensions = 0
    unit = None
    for row in ledger:
        where = f"ledger: appeal #{number} event {row['id']} ({row['event']} by {row['actor_role']})"
        try:
            event, role = Event(row["event"]), Role(row["actor_role"])
        except ValueError:
            return [*problems, f"{where}: unknown event or role"]
        if row["from_state"] != facts.state:
            problems.append(f"{where}: recorded from {row['from_state']} but the appeal was {facts.state}")
        try:
            # The send-back window is a deadline, not a fact of the ledger: only the count is replayed.
            # The redo limit (feedback.max_redos) is the config's: the ledger's own "Not solved" says
            # whether the unit had a redo left, and the count of redos is replayed.
            redo_left = facts.redos + 1 if event is Event.RATE_UNSATISFIED else facts.redos
            transition = lifecycle.decide(
                replace(facts, send_back_window_open=True, max_redos=redo_left), event, {role}
            )
        except lifecycle.LifecycleError as error:
            return [*problems, f"{where}: the lifecycle refuses it in {facts.state}: {error.reason}"]
        if row["to_state"] != transition.to:
            problems.append(f"{where}: recorded to {row['to_state']} but the table goes to {transition.to}")
        problems += _actor(appeal, row, role, where)
        facts = lifecycle.after(facts, transition)
        outcome = transition.outcome if transition.to is State.CLOSED else None
        reopens += event is Event.RATE_UNSATISFIED
        extensions += event is Event.APPROVE_EXTENSION
        unit = row["unit_id"]
    if facts.state is State.COLLECTING:
        problems.append(f"appeal: #{number} is still collecting (an appeal exists only once submitted)")
    expected = {
        "state": facts.state.value,
        "outcome": outcome.value if outcome else None,
        "accepted": int(facts.accepted),
        "awaiting_courier": int(facts.awaiting_courier),
        "send_backs": facts.send_backs,
        "reopens": reopens,
    }
    if "extensions" in appeal.keys():  # a database before extensions has neither column
        expected["extension_pending"] = int(facts.extension_pending)
        expected["extensions"] = extensions
    if "parts_open" in appeal.keys():  # co-handling (协办): the parts its ledger opened, signed and finished
        expected["parts_open"] = facts.parts_open
        expected["parts_unsigned"] = facts.parts_unsigned
        expected["parts_waived"] = int(facts.parts_waived)
    if ledger:
        expected["unit_id"] = unit
    for column, value in expected.items():
        if appeal[column] != value:
            problems.append(f"ledger: appeal #{number} has {column} = {appeal[column]!r} but its ledger says {value!r}")
    return problems


def _actor(appeal: Any, row: Any, role: Role, where: str) -> list[str]:
    actor = row["actor_id"]
    if role is Role.SYSTEM and actor is not None:
        return [f"{where}: the system acted, yet actor {actor} is recorded"]
    if role in (Role.STAFF, Role.COORDINATOR) and actor is None:
        return [f"{where}: no actor recorded"]
    # A courier's id is blanked when their data is erased or anonymised.
    if role is Role.COURIER and actor is not None and actor != appeal["courier_id"]:
        return [f"{where}: actor {actor} is not the appeal's courier {appeal['courier_id']}"]
    return []


def _expected_timers(appeal: Any) -> tuple[set[str], set[str]]:
    """(timers that must exist, timers that may exist) for the appeal's state and flags."""
    match appeal["state"]:
        case "assessing":
            return {"triage"}, {"triage"}
        case "handling":
            needed = {"handle"} | (set() if appeal["accepted"] else {"accept"})
            return needed, needed
        case "feedback":
            return {"feedback"}, {"feedback"}
        case "closed" if appeal["outcome"] in _FOLLOWUP_OUTCOMES:
            return set(), {"followup"}
    return set(), set()


def _timers(appeal: Any, timers: dict[str, Any]) -> list[str]:
    number, state = appeal["id"], appeal["state"]
    needed, allowed = _expected_timers(appeal)
    flags = ", accepted" if state == State.HANDLING and appeal["accepted"] else ""
    problems = [
        f"timers: appeal #{number} ({state}{flags}) has no {kind} timer" for kind in sorted(needed - timers.keys())
    ]
    problems += [
        f"timers: appeal #{number} ({state}, {appeal['outcome'] or 'open'}) has a {kind} timer it should not have"
        for kind in sorted(timers.keys() - allowed)
    ]
    for kind, timer in timers.items():
        paused = timer["due_at"] is None
        if kind == "handle" and state == State.HANDLING and paused != bool(appeal["awaiting_courier"]):
            said = "paused" if paused else "running"
            problems.append(
                f"timers: appeal #{number}'s handle timer is {said} while the unit is"
                f"{'' if appeal['awaiting_courier'] else ' not'} waiting for the courier"
            )
        elif paused and kind != "handle":
            problems.append(f"timers: appeal #{number}'s {kind} timer is paused; only the handle timer pauses")
    dues = [timer["due_at"] for timer in timers.values() if timer["due_at"] is not None]
    nearest = min(dues) if dues else None
    if "next_due" in appeal.keys() and appeal["next_due"] != nearest:
        # The queues read next_due from an index instead of the timers: a stale one misorders them.
        problems.append(f"timers: appeal #{number}'s next_due is {appeal['next_due']}, its nearest deadline {nearest}")
    return problems


def _merge(appeal: Any, appeals: dict[int, Any]) -> list[str]:
    number, target_id = appeal["id"], appeal["merged_into"]
    if (appeal["outcome"] == Outcome.MERGED) != (target_id is not None):
        return [f"merge: appeal #{number} has outcome {appeal['outcome']} and merged_into {target_id}"]
    if target_id is None:
        return []
    target = appeals.get(target_id)
    if target is None:
        return [f"merge: appeal #{number} is merged into #{target_id}, which does not exist"]
    if target_id == number:
        return [f"merge: appeal #{number} is merged into itself"]
    if target["outcome"] == Outcome.MERGED:
        return [
            f"merge: appeal #{number} is merged into #{target_id}, which is itself merged into #{target['merged_into']}"
        ]
    return []


def _outbox(conn: Any) -> list[str]:
    problems = []
    for row in _rows(conn, "SELECT id, status, sent_at, last_error FROM outbox ORDER BY id"):
        status = row["status"]
        if status not in _OUTBOX_STATUSES:
            problems.append(f"outbox: row {row['id']} has status {status!r}")
        elif (status == "sent") != (row["sent_at"] is not None):
            problems.append(f"outbox: row {row['id']} is {status} with sent_at {row['sent_at']}")
        elif status == "dead" and not row["last_error"]:
            problems.append(f"outbox: row {row['id']} is dead with no reason")
    return problems


def _links(conn: Any, appeals: dict[int, Any]) -> list[str]:
    problems = []
    for row in _rows(conn, "SELECT parent_id, child_id, kind FROM appeal_links"):
        parent, child = appeals.get(row["parent_id"]), appeals.get(row["child_id"])
        if row["parent_id"] == row["child_id"]:
            problems.append(f"links: appeal #{row['parent_id']} is linked to itself")
        elif row["kind"] == "followup" and parent is not None and child is not None:
            # "Not solved again" files a new appeal after a closed one.
            # (Either may have lost its courier to anonymisation.)
            couriers = (parent["courier_id"], child["courier_id"])
            if parent["state"] != State.CLOSED or (None not in couriers and couriers[0] != couriers[1]):
                problems.append(
                    f"links: follow-up #{row['child_id']} of #{row['parent_id']} is not a closed appeal of the same courier"
                )
    return problems
