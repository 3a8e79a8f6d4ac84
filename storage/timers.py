"""Firing due timers: each ladder step happens once, in its own transaction, with its notices."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from domain.calendar import WorkingCalendar
from domain.commands import ActOnAppeal
from domain.deadlines import Timer
from domain.ladder import AUDIENCE, LadderPolicy, Stage, step_after, template
from domain.lifecycle import Event
from storage.appeals import Appeals, audience_ids
from storage.db import Database
from storage.dialect import is_postgresql
from storage.models import from_ts, to_ts


@dataclass(frozen=True)
class Fired:
    """One ladder step that happened."""

    appeal_id: int
    timer: Timer
    stage: Stage


class Timers:
    """Due ladder steps, read from the indexed fire_at column."""

    def __init__(self, db: Database, appeals: Appeals, calendar: WorkingCalendar, policy: LadderPolicy) -> None:
        self._db = db
        self._appeals = appeals
        self._calendar = calendar
        self._policy = policy

    async def next_fire_at(self) -> datetime | None:
        """When the earliest pending step is due."""
        row = await self._db.fetchone("SELECT min(fire_at) FROM timers WHERE fire_at IS NOT NULL")
        return from_ts(row[0]) if row and row[0] is not None else None

    async def fire_due(self, now: datetime, limit: int = 500) -> list[Fired]:
        """Take every step due by `now` (at most `limit`), oldest first; return what fired."""
        due = await self._db.fetchall(
            "SELECT appeal_id, kind, stage, fire_at FROM timers WHERE fire_at <= ? ORDER BY fire_at LIMIT ?",
            (to_ts(now), limit),
        )
        fired: list[Fired] = []
        for row in due:
            step = await self._db.write(lambda conn, row=row: self._fire_one(conn, row, now))
            if step is not None:
                fired.append(step)
        return fired

    def _fire_one(self, conn: sqlite3.Connection, due: sqlite3.Row, now: datetime) -> Fired | None:
        key = (due["appeal_id"], due["kind"])
        # Compare-and-set: if an event re-armed or cleared the timer meanwhile, or another process fired
        # this step, it is void. On PostgreSQL the row is claimed for this transaction, and one another
        # worker is firing now is skipped, not waited for (SQLite has one process, behind BEGIN IMMEDIATE).
        claim = " FOR UPDATE SKIP LOCKED" if is_postgresql(conn) else ""
        row = conn.execute(
            "SELECT * FROM timers WHERE appeal_id = ? AND kind = ? AND stage = ? AND fire_at = ?" + claim,
            (*key, due["stage"], due["fire_at"]),
        ).fetchone()
        if row is None:
            return None
        timer, stage = Timer(row["kind"]), Stage(row["stage"])
        if (timer, stage) == (Timer.FEEDBACK, Stage.DUE):
            self._appeals.apply_in(conn, ActOnAppeal(row["appeal_id"], Event.AUTO_CLOSE, None), now=now)
            return Fired(row["appeal_id"], timer, stage)
        appeal = conn.execute("SELECT * FROM appeals WHERE id = ?", (row["appeal_id"],)).fetchone()
        ts = to_ts(now)
        params = json.dumps({"due": row["due_at"]})
        for chat_id in audience_ids(conn, AUDIENCE[(timer, stage)], appeal, appeal["unit_id"]):
            conn.execute(
                "INSERT INTO outbox (chat_id, appeal_id, template, params, not_before, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, row["appeal_id"], template(timer, stage), params, ts, ts),
            )
        following, at = step_after(timer, stage, from_ts(row["due_at"]), self._calendar, self._policy)
        conn.execute(
            "UPDATE timers SET stage = ?, fire_at = ? WHERE appeal_id = ? AND kind = ?",
            (following.value, to_ts(at) if at else None, *key),
        )
        return Fired(row["appeal_id"], timer, stage)
