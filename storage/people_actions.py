"""The ledger of people actions: filing limits lifted and applied again, people muted and unmuted.

Every update asks whether its sender is muted, so the active mutes are kept in memory: read once,
and read again after any write here (a mute, an unmute, an erasure). Most updates cost a dict lookup.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from storage.db import Database
from storage.models import from_ts, to_ts


class PeopleAction(StrEnum):
    """What a coordinator did to a person; each has its reverse."""

    LIFT = "lift"
    RESTORE = "restore"
    MUTE = "mute"
    UNMUTE = "unmute"


@dataclass(frozen=True)
class ActionRow:
    """One line of the ledger: who did what to whom (named by an appeal of theirs), when, until when."""

    id: int
    person_id: int
    appeal_id: int | None
    action: PeopleAction
    actor_id: int | None
    at: datetime
    until: datetime | None
    noticed: bool


def record_in(
    conn: sqlite3.Connection,
    action: PeopleAction,
    person_id: int,
    *,
    actor_id: int | None,
    now: datetime,
    appeal_id: int | None = None,
    until: datetime | None = None,
) -> int:
    """Write one action into the ledger inside the caller's transaction; its id."""
    return conn.execute(
        "INSERT INTO people_actions (person_id, appeal_id, action, actor_id, at, until_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (person_id, appeal_id, action.value, actor_id, to_ts(now), to_ts(until) if until else None),
    ).fetchone()[0]


_COLUMNS = "id, person_id, appeal_id, action, actor_id, at, until_at, noticed_at"
# The latest mute or unmute of each person, when it is a mute: the mutes in force (if not yet over).
_ACTIVE = (
    f"SELECT {_COLUMNS} FROM people_actions m WHERE m.action = 'mute' AND m.until_at > ?"
    " AND NOT EXISTS (SELECT 1 FROM people_actions u WHERE u.person_id = m.person_id"
    " AND u.action IN ('mute', 'unmute') AND u.id > m.id)"
)


def _row(row: sqlite3.Row | tuple) -> ActionRow:
    return ActionRow(
        row[0], row[1], row[2], PeopleAction(row[3]), row[4], from_ts(row[5]), from_ts(row[6]), row[7] is not None
    )


def _active_in(conn: sqlite3.Connection, person_id: int, now: datetime) -> ActionRow | None:
    row = conn.execute(_ACTIVE + " AND m.person_id = ?", (to_ts(now), person_id)).fetchone()
    return _row(row) if row else None


class Refused(Exception):
    """A mute that may not be: the person is a coordinator, or the coordinator themself."""


class PeopleActions:
    """The ledger of people actions, and the mutes in force."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._mutes: dict[int, ActionRow] | None = None  # person -> their mute; None: read again

    def forget_cache(self) -> None:
        """Read the mutes again at the next update (after rows were written or erased elsewhere)."""
        self._mutes = None

    async def mute_of(self, person_id: int, now: datetime) -> ActionRow | None:
        """The mute in force for `person_id` now, if any (asked for every update: from memory, when no other process shares the database)."""
        if self._db.shared:
            # Another worker may have muted or unmuted them: ask the database (one indexed row).
            row = await self._db.fetchone(_ACTIVE + " AND m.person_id = ?", (to_ts(now), person_id))
            mute = _row(row) if row else None
        else:
            mutes = self._mutes
            if mutes is None:
                rows = await self._db.fetchall(_ACTIVE, (to_ts(now),))
                mutes = self._mutes = {row[1]: _row(row) for row in rows}
            mute = mutes.get(person_id)
        return mute if mute is not None and mute.until is not None and mute.until > now else None

    async def mark_noticed(self, mute: ActionRow, now: datetime) -> bool:
        """Record that the muted person was told; whether this was the first time (only then tell them)."""
        changed = await self._db.write(
            lambda conn: (
                conn.execute(
                    "UPDATE people_actions SET noticed_at = ? WHERE id = ? AND noticed_at IS NULL",
                    (to_ts(now), mute.id),
                ).rowcount
            )
        )
        if self._mutes is not None and mute.person_id in self._mutes:
            self._mutes[mute.person_id] = replace(mute, noticed=True)
        return changed == 1

    async def mute(
        self, person_id: int, *, appeal_id: int, actor_id: int, now: datetime, until: datetime
    ) -> ActionRow | None:
        """Mute `person_id` until `until`; None if they are muted already (a second tap).

        Raises Refused for a coordinator, or for the coordinator themself.
        """

        def work(conn: sqlite3.Connection) -> ActionRow | None:
            role = conn.execute("SELECT role FROM people WHERE telegram_id = ?", (person_id,)).fetchone()
            if person_id == actor_id or (role is not None and role[0] == "coordinator"):
                raise Refused(person_id)
            if _active_in(conn, person_id, now) is not None:
                return None
            record_in(conn, PeopleAction.MUTE, person_id, actor_id=actor_id, now=now, appeal_id=appeal_id, until=until)
            return _active_in(conn, person_id, now)

        try:
            return await self._db.write(work)
        finally:
            self._mutes = None

    async def unmute(self, person_id: int, *, appeal_id: int, actor_id: int, now: datetime) -> ActionRow | None:
        """End the mute of `person_id` now; the mute that was ended, or None if none was in force."""

        def work(conn: sqlite3.Connection) -> ActionRow | None:
            active = _active_in(conn, person_id, now)
            if active is not None:
                record_in(conn, PeopleAction.UNMUTE, person_id, actor_id=actor_id, now=now, appeal_id=appeal_id)
            return active

        try:
            return await self._db.write(work)
        finally:
            self._mutes = None

    async def courier_of(self, appeal_id: int) -> int | None:
        """Who filed appeal `appeal_id`, however long ago; None if no one known did (or no such appeal)."""
        row = await self._db.fetchone(
            "SELECT courier_id FROM appeals WHERE id = ? AND courier_id IS NOT NULL", (appeal_id,)
        )
        return row[0] if row else None

    async def active(self, now: datetime) -> list[ActionRow]:
        """Every mute in force, the latest first."""
        rows = await self._db.fetchall(_ACTIVE + " ORDER BY m.id DESC", (to_ts(now),))
        return [_row(row) for row in rows]

    async def recent(self, limit: int) -> list[ActionRow]:
        """The latest actions of the ledger, the latest first."""
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM people_actions ORDER BY id DESC LIMIT ?", (limit,))
        return [_row(row) for row in rows]

    async def of(self, person_id: int) -> list[ActionRow]:
        """Every action about `person_id`, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM people_actions WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return [_row(row) for row in rows]
