"""The notification outbox: rows written inside event transactions, sent afterwards, in order."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.models import OutboxMessage, to_ts


class Outbox:
    """Pending, sent and dead notifications."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(self, now: datetime, limit: int = 100) -> list[OutboxMessage]:
        """Pending messages whose time has come, oldest first."""
        # The ids come from the partial index of pending rows: asked directly, with ORDER BY id,
        # SQLite walked the whole table, sent notices included, on every flush (bench/throughput.py).
        rows = await self._db.fetchall(
            "SELECT id, chat_id, appeal_id, event_id, template, params, status, attempts FROM outbox"
            " WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND not_before <= ?) ORDER BY id LIMIT ?",
            (to_ts(now), limit),
        )
        return [OutboxMessage.model_validate(dict(r)) for r in rows]

    async def add(
        self, chat_id: int, template: str, now: datetime, params: dict[str, Any] | None = None,
        appeal_id: int | None = None,
    ) -> None:
        """Queue a notice that no lifecycle event caused (an alert to coordinators)."""
        ts = to_ts(now)
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO outbox (chat_id, appeal_id, template, params, not_before, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, appeal_id, template, json.dumps(params or {}, ensure_ascii=False), ts, ts),
            )
        )

    async def queue_digest(
        self, kind: str, slot: datetime, start: datetime, now: datetime, end: datetime | None = None
    ) -> int:
        """Queue the digest of [start, end) (end: the slot, unless given) for every reachable coordinator, once per slot.

        The first slot a database sees is only recorded, so a new install does not send a digest
        for a time before it started. Returns how many digests were queued.
        """
        ts = to_ts(now)
        params = json.dumps({"kind": kind, "start": to_ts(start), "end": to_ts(end or slot)})

        def work(conn: sqlite3.Connection) -> int:
            last = conn.execute("SELECT max(slot) FROM digest_slots WHERE kind = ?", (kind,)).fetchone()[0]
            if last is not None and last >= to_ts(slot):
                return 0
            conn.execute(
                "INSERT INTO digest_slots (kind, slot, queued) VALUES (?, ?, ?)",
                (kind, to_ts(slot), int(last is not None)),
            )
            if last is None:
                return 0
            return conn.execute(
                "INSERT INTO outbox (chat_id, template, params, not_before, created_at)"
                " SELECT telegram_id, ?, ?, ?, ? FROM people WHERE role = 'coordinator' AND reachable = 1"
                " ORDER BY telegram_id",
                (f"digest.{kind}", params, ts, ts),
            ).rowcount

        return await self._db.write(work)

    async def mark_sent(self, accepted: list[tuple[int, datetime]]) -> None:
        """Record that Telegram accepted these messages, each (id, when), in one transaction."""
        rows = [(to_ts(at), message_id) for message_id, at in accepted]
        await self._db.write(
            lambda conn: conn.executemany(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?", rows
            )
        )

    async def retry_later(self, message_id: int, not_before: datetime, error: str, count: bool = True) -> None:
        """Keep the message pending, to try again at `not_before` (flood control does not count as a try)."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET attempts = attempts + ?, not_before = ?, last_error = ? WHERE id = ?",
                (int(count), to_ts(not_before), error[:500], message_id),
            )
        )

    async def tell_coordinators_unreachable(self, chat_id: int, appeal_id: int | None, now: datetime) -> None:
        """Queue a notice to every coordinator that messages no longer reach `chat_id`."""
        ts = to_ts(now)
        params = json.dumps({"person": chat_id})
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO outbox (chat_id, appeal_id, template, params, not_before, created_at)"
                " SELECT telegram_id, ?, 'notice.unreachable.coordinators', ?, ?, ? FROM people"
                " WHERE role = 'coordinator' AND telegram_id != ? AND reachable = 1",
                (appeal_id, params, ts, ts, chat_id),
            )
        )

    async def dead_letters(self, limit: int = 20) -> list[tuple[OutboxMessage, str]]:
        """The newest messages given up on, with the reason."""
        rows = await self._db.fetchall(
            "SELECT id, chat_id, appeal_id, event_id, template, params, status, attempts, last_error"
            " FROM outbox WHERE status = 'dead' ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            (OutboxMessage.model_validate({k: r[k] for k in r.keys() if k != "last_error"}), r["last_error"] or "")
            for r in rows
        ]

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Give up on a message Telegram refuses for good, keeping the reason."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:500], message_id),
            )
        )
