"""Co-handling (协办): the units beside an appeal's lead (主办), each with its own part, deadlines and reminders.

The events (add a unit, sign for a part, finish it, allow the lead to resolve without it) are declared
in domain/events.py and applied by storage/appeals.py; this module keeps the `cohandlers` rows they
change. The appeal's own timers are keyed by (appeal, kind), one of each: a part's deadlines are
per (appeal, unit), so they live on its row here, and `remind_due` (run with the timers' tick) tells a
unit whose signing or part is overdue, once each.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.calendar import WorkingCalendar
from domain.durations import WorkSpan, parse_span
from domain.events import Event, EventRule
from domain.names import Role, State
from storage.db import Database
from storage.desks import desk_chat
from storage.dialect import join_in_order
from storage.literals import literal
from storage.models import Appeal, from_ts, to_ts

_HANDLING = literal(State.HANDLING)
# The notices a late part sends (catalog keys of the [cohandle] table).
REMIND_SIGN = "cohandle.remind_sign"
REMIND_PART = "cohandle.remind_part"


@dataclass(frozen=True)
class Part:
    """One co-handling unit's part of an appeal."""

    unit_id: str
    state: str  # open (not signed for), accepted (signed, 签收) or done (办结)
    accept_due: datetime
    part_due: datetime


def staff_ids(conn: sqlite3.Connection, unit_id: str, courier_id: int | None) -> list[int]:
    """The Telegram ids of a co-handling unit's staff (never the appeal's own courier), or its group's chat
    when the unit works from one (storage/desks.py)."""
    if (desk := desk_chat(conn, unit_id)) is not None:
        return [desk]
    sql = (
        "SELECT telegram_id FROM people WHERE role = 'staff' AND unit_id = ? AND telegram_id IS NOT ?"
        " ORDER BY telegram_id"
    )
    return [r[0] for r in conn.execute(sql, (unit_id, courier_id))]


def part_unit(conn: sqlite3.Connection, rule: EventRule, *, actor_id: int | None, unit: str | None) -> str | None:
    """The unit whose part the event is about: the one added, or the presser's own (any event only a
    co-handling unit's staff fire); None for other events."""
    if rule.adds_part:
        return unit
    if all(step.roles == {Role.COHANDLER} for step in rule.steps):
        person = conn.execute("SELECT unit_id FROM people WHERE telegram_id = ?", (actor_id,)).fetchone()
        return person["unit_id"] if person else None
    return None


def part_refusal(conn: sqlite3.Connection, row: sqlite3.Row, rule: EventRule, unit: str | None) -> str | None:
    """Why the event may not happen to this unit's part (a reason of BadEventArguments), or None."""
    if rule.adds_part:
        if unit is None:
            return "unit_required"
        found = conn.execute("SELECT active FROM units WHERE id = ?", (unit,)).fetchone()
        if found is None or not found["active"]:
            return "unknown_unit"
        if unit == row["unit_id"]:
            return "cohandle_lead"
        return "cohandle_already" if unit in row["co_units"].split() else None
    if not (rule.signs_part or rule.finishes_part):
        return None
    part = conn.execute(
        "SELECT state FROM cohandlers WHERE appeal_id = ? AND unit_id = ?", (row["id"], unit)
    ).fetchone()
    if part is None:
        return "cohandle_not_yours"
    if rule.signs_part:
        return None if part["state"] == "open" else "cohandle_signed"
    return {"open": "cohandle_not_signed", "done": "cohandle_done"}.get(part["state"])


def on_time(conn: sqlite3.Connection, rule: EventRule, *, appeal_id: int, unit: str | None, now: int) -> bool | None:
    """Whether a part's signing or finishing came before its deadline (None for other events)."""
    if not (rule.signs_part or rule.finishes_part):
        return None
    part = conn.execute(
        "SELECT accept_due, part_due FROM cohandlers WHERE appeal_id = ? AND unit_id = ?", (appeal_id, unit)
    ).fetchone()
    return now <= part["accept_due" if rule.signs_part else "part_due"]


def record(
    conn: sqlite3.Connection,
    rule: EventRule,
    *,
    appeal_id: int,
    unit: str | None,
    event_id: int,
    now: datetime,
    dues: tuple[datetime, datetime] | None = None,
) -> None:
    """Keep the part's row as the event left it (`dues`: a new part's signing and part deadlines)."""
    ts = to_ts(now)
    if rule.adds_part and dues is not None:
        conn.execute(
            "INSERT INTO cohandlers (appeal_id, unit_id, added_id, added_at, accept_due, part_due)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (appeal_id, unit, event_id, ts, to_ts(dues[0]), to_ts(dues[1])),
        )
    elif rule.signs_part:
        conn.execute(
            "UPDATE cohandlers SET state = 'accepted', accepted_at = ?, accept_on_time = CASE WHEN ? <= accept_due THEN 1 ELSE 0 END"
            " WHERE appeal_id = ? AND unit_id = ?",
            (ts, ts, appeal_id, unit),
        )
    elif rule.finishes_part:
        conn.execute(
            "UPDATE cohandlers SET state = 'done', done_id = ?, done_at = ? WHERE appeal_id = ? AND unit_id = ?",
            (event_id, ts, appeal_id, unit),
        )


# The events whose ledger line names a co-handling unit (协办单位).
_PART_EVENTS = (Event.ADD_COHANDLER, Event.SIGN_PART, Event.CO_NOTE, Event.FINISH_PART)


def remind_due_in(conn: sqlite3.Connection, now: datetime) -> int:
    """Tell each co-handling unit whose signing or part is overdue on an appeal still being handled, and the
    coordinators (督办), once per deadline; the number of reminders."""
    ts = to_ts(now)
    rows = conn.execute(
        "SELECT c.appeal_id, c.unit_id, c.state, c.reminded, c.accept_due, c.part_due, a.courier_id"
        " FROM cohandlers c JOIN appeals a ON a.id = c.appeal_id"
        f" WHERE c.state != 'done' AND c.reminded < 2 AND a.state = {_HANDLING}"
        " AND ((c.state = 'open' AND c.reminded = 0 AND c.accept_due <= ?) OR c.part_due <= ?)"
        " ORDER BY c.appeal_id, c.unit_id",
        (ts, ts),
    ).fetchall()
    coordinators = [r[0] for r in conn.execute("SELECT telegram_id FROM people WHERE role = 'coordinator'")]
    for row in rows:
        late_part = row["part_due"] <= ts
        template = REMIND_PART if late_part else REMIND_SIGN
        due = row["part_due"] if late_part else row["accept_due"]
        params = json.dumps({"part_unit": row["unit_id"], "due": due}, ensure_ascii=False)
        for chat_id in (*staff_ids(conn, row["unit_id"], row["courier_id"]), *coordinators):
            if chat_id == row["courier_id"]:
                continue
            conn.execute(
                "INSERT INTO outbox (chat_id, appeal_id, event_id, template, params, not_before, created_at)"
                " VALUES (?, ?, NULL, ?, ?, ?, ?)",
                (chat_id, row["appeal_id"], template, params, ts, ts),
            )
        conn.execute(
            "UPDATE cohandlers SET reminded = ? WHERE appeal_id = ? AND unit_id = ?",
            (2 if late_part else 1, row["appeal_id"], row["unit_id"]),
        )
    return len(rows)


class Cohandling:
    """The co-handling parts of appeals: their deadlines, what they say, their reminders."""

    def __init__(self, db: Database, calendar: WorkingCalendar) -> None:
        self._db = db
        self._calendar = calendar
        # deadlines.cohandle_accept and deadlines.cohandle_part: from when a unit is added.
        self.accept_span: WorkSpan = parse_span("1wd")
        self.part_span: WorkSpan = parse_span("3wd")

    def dues(self, now: datetime) -> tuple[datetime, datetime]:
        """A part added at `now`: when it must be signed for, and when it must be done."""
        return self.accept_span.due_from(self._calendar, now), self.part_span.due_from(self._calendar, now)

    async def parts(self, appeal_id: int) -> list[Part]:
        """The appeal's co-handling parts, in the order their units were added."""
        rows = await self._db.fetchall(
            "SELECT unit_id, state, accept_due, part_due FROM cohandlers WHERE appeal_id = ? ORDER BY added_id",
            (appeal_id,),
        )
        return [Part(r["unit_id"], r["state"], from_ts(r["accept_due"]), from_ts(r["part_due"])) for r in rows]

    async def open_for(self, unit_id: str, limit: int) -> list[tuple[Appeal, datetime | None]]:
        """Appeals still being handled where `unit_id` co-handles a part not yet done, its part's deadline first."""

        def read(conn: sqlite3.Connection) -> list[Any]:
            # The unit's own parts first (the index of the migration "co-handling parts by unit"): SQLite
            # would otherwise walk every appeal in hand to find a unit with none.
            return conn.execute(
                f"SELECT a.*, c.part_due AS part_due FROM cohandlers c {join_in_order(conn)} appeals a"
                f" ON a.id = c.appeal_id WHERE c.unit_id = ? AND c.state != 'done' AND a.state = {literal(State.HANDLING)}"
                " ORDER BY c.part_due, a.id LIMIT ?",
                (unit_id, limit),
            ).fetchall()

        rows = await self._db.run(read)
        return [(Appeal.from_row({k: r[k] for k in r.keys() if k != "part_due"}), from_ts(r["part_due"])) for r in rows]

    async def units_of_events(self, appeal_id: int) -> dict[int, str]:
        """For each co-handling event of the appeal (by event id), the co-handling unit it was about: the unit
        added, or the unit of the worker who signed, wrote or finished."""
        events = ", ".join(literal(e) for e in _PART_EVENTS)
        rows = await self._db.fetchall(
            "SELECT e.id, coalesce(c.unit_id, p.unit_id) AS unit_id FROM events e"
            " LEFT JOIN cohandlers c ON c.appeal_id = e.appeal_id AND e.id IN (c.added_id, c.done_id)"
            " LEFT JOIN people p ON p.telegram_id = e.actor_id"
            f" WHERE e.appeal_id = ? AND e.event IN ({events})",
            (appeal_id,),
        )
        return {r["id"]: r["unit_id"] for r in rows if r["unit_id"] is not None}

    async def remind_due(self, now: datetime) -> int:
        """Queue the reminders of overdue parts (see `remind_due_in`)."""
        return await self._db.write(lambda conn: remind_due_in(conn, now))
