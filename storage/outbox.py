"""The notification outbox: rows written inside event transactions, sent afterwards, in order."""

from __future__ import annotations

import json
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
        rows = await self._db.fetchall(
            "SELECT id, chat_id, appeal_id, event_id, template, params, status, attempts FROM outbox"
            " WHERE status = 'pending' AND not_before <= ? ORDER BY id LIMIT ?",
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

    async def mark_sent(self, message_id: int, now: datetime) -> None:
        """Record that Telegram accepted the message."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?",
                (to_ts(now), message_id),
            )
        )

    async def retry_later(self, message_id: int, not_before: datetime, error: str) -> None:
        """Keep the message pending, to try again at `not_before`."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, not_before = ?, last_error = ? WHERE id = ?",
                (to_ts(not_before), error[:500], message_id),
            )
        )

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Give up on a message Telegram refuses for good, keeping the reason."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:500], message_id),
            )
        )
