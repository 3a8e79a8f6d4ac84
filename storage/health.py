"""What an operator asks the database: is it reachable, is its schema the code's, and a few cheap figures.

Every question here reads an index or a single row, on a read-only connection of its own (not the
writer's thread: a long import there must not make the bot look dead), so /healthz and /metrics can
ask on each request. Another backend answers the same three questions its own way.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.models import to_ts
from storage.reports import OVERDUE_KINDS


class Unreachable(Exception):
    """The database did not answer (its error's kind is the message: never its parameters)."""


@dataclass(frozen=True)
class Schema:
    """The schema version the database is at, and the one this code migrates to."""

    database: int
    code: int

    @property
    def current(self) -> bool:
        """Whether the database is at the code's version (older is migrated at start, newer refused)."""
        return self.database == self.code


@dataclass(frozen=True)
class Figures:
    """The gauges /metrics shows, read in one go."""

    outbox_pending: int
    outbox_dead: int
    appeals_overdue: int
    timer_lag_s: float  # how late the oldest due ladder step is; 0 when none is due


class Health:
    """The database's answers to /healthz and /metrics."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def schema(self) -> Schema:
        """The database's schema version beside the code's; Unreachable if it cannot be read."""
        try:
            return Schema(*await self._db.schema_versions())
        except self._db.failures as error:
            raise Unreachable(type(error).__name__) from error

    async def figures(self, now: datetime) -> Figures:
        """Outbox pending and dead, appeals past a deadline, and the lag of the oldest due timer step;
        Unreachable if the database does not answer."""
        ts = to_ts(now)

        def read(conn: sqlite3.Connection) -> Figures:
            def one(sql: str, params: tuple = ()) -> int:
                return conn.execute(sql, params).fetchone()[0] or 0

            oldest = conn.execute("SELECT min(fire_at) FROM timers WHERE fire_at IS NOT NULL").fetchone()[0]
            return Figures(
                outbox_pending=one("SELECT count(*) FROM outbox WHERE status = 'pending'"),
                outbox_dead=one("SELECT count(*) FROM outbox WHERE status = 'dead'"),
                # The digest's "overdue": a routing, signing or handling deadline passed.
                appeals_overdue=one(
                    f"SELECT count(DISTINCT appeal_id) FROM timers WHERE due_at < ? AND kind IN ({OVERDUE_KINDS})",
                    (ts,),
                ),
                timer_lag_s=float(max(0, ts - oldest)) if oldest is not None else 0.0,
            )

        try:
            (figures,) = await self._db.read_side_by_side([read])
        except self._db.failures as error:
            raise Unreachable(type(error).__name__) from error
        return figures
