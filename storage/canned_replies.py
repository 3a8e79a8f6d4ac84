"""Canned replies (常用回复): each unit's short reply templates, from the config or added by its staff."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.canned_replies import MAX_REPLIES
from storage.db import Database
from storage.models import to_ts


class Source(StrEnum):
    """Where a reply came from: the config (changed only there) or a worker of the unit (/replies)."""

    CONFIG = "config"
    STAFF = "staff"


@dataclass(frozen=True)
class CannedReply:
    """One reply template of a unit."""

    id: int
    unit_id: str
    text: str
    source: Source


class AddRefused(StrEnum):
    """Why a reply was not added."""

    FULL = "full"
    DUPLICATE = "duplicate"


_COLUMNS = "id, unit_id, text, source"
# The config's first, in its order, then the staff's, oldest first.
_ORDER = " ORDER BY source = 'staff', id"


def _reply(row: sqlite3.Row | tuple) -> CannedReply:
    return CannedReply(row[0], row[1], row[2], Source(row[3]))


class CannedReplies:
    """The canned_replies table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def of_unit(self, unit_id: str) -> list[CannedReply]:
        """The unit's replies, in the order they are offered."""
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM canned_replies WHERE unit_id = ?" + _ORDER, (unit_id,))
        return [_reply(r) for r in rows]

    async def get(self, reply_id: int) -> CannedReply | None:
        """One reply by id, of whichever unit."""
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM canned_replies WHERE id = ?", (reply_id,))
        return _reply(row) if row else None

    async def add(self, unit_id: str, text: str, now: datetime) -> CannedReply | AddRefused:
        """Add a worker's reply to the unit's, unless it has MAX_REPLIES already or this very text."""

        def work(conn: sqlite3.Connection) -> CannedReply | AddRefused:
            count = conn.execute("SELECT count(*) FROM canned_replies WHERE unit_id = ?", (unit_id,)).fetchone()[0]
            if count >= MAX_REPLIES:
                return AddRefused.FULL
            added = conn.execute(
                "INSERT INTO canned_replies (unit_id, text, source, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (unit_id, text) DO NOTHING RETURNING id",
                (unit_id, text, Source.STAFF.value, to_ts(now)),
            ).fetchone()
            if added is None:
                return AddRefused.DUPLICATE
            return CannedReply(added[0], unit_id, text, Source.STAFF)

        return await self._db.write(work)

    async def delete(self, reply_id: int, unit_id: str) -> bool:
        """Delete a reply the unit's staff added; False if there is no such one (gone, another unit's, or the config's)."""
        return await self._db.write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM canned_replies WHERE id = ? AND unit_id = ? AND source = ?",
                    (reply_id, unit_id, Source.STAFF.value),
                ).rowcount
                == 1
            )
        )

    async def sync_config(self, replies: Mapping[str, Sequence[str]], now: datetime) -> None:
        """Make the config's replies of each unit what `replies` lists; a reply kept keeps its id (a button
        offered before a restart still works); staff's replies stay, but one the config now lists is the config's."""
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> None:
            for unit_id, row_id, text in conn.execute(
                "SELECT unit_id, id, text FROM canned_replies WHERE source = ?", (Source.CONFIG.value,)
            ).fetchall():
                if text not in replies.get(unit_id, ()):
                    conn.execute("DELETE FROM canned_replies WHERE id = ?", (row_id,))
            for unit_id, texts in replies.items():
                conn.executemany(
                    "INSERT INTO canned_replies (unit_id, text, source, created_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (unit_id, text) DO UPDATE SET source = excluded.source",
                    [(unit_id, text, Source.CONFIG.value, ts) for text in texts],
                )

        await self._db.write(work)
