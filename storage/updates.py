"""Updates already handled: Telegram may deliver one again (after a crash, a webhook retry)."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Database
from storage.models import to_ts

# Telegram picks update ids sequentially, but starts again at random after a quiet week, so an
# id alone is not enough: the digest of the update's content tells a redelivery from a new one.
KEEP = timedelta(days=8)


class HandledUpdates:
    """A small ledger of handled update ids; new ids above the highest seen skip the database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._highest: int | None = None

    async def _load(self) -> int:
        row = await self._db.fetchone("SELECT max(update_id) FROM handled_updates")
        self._highest = row[0] if row and row[0] is not None else -1
        return self._highest

    async def seen(self, update_id: int, digest: str) -> bool:
        """Whether this very update was handled before."""
        highest = self._highest if self._highest is not None else await self._load()
        if update_id > highest:
            return False
        row = await self._db.fetchone(
            "SELECT 1 FROM handled_updates WHERE update_id = ? AND digest = ?", (update_id, digest)
        )
        return row is not None

    async def record(self, update_id: int, digest: str, now: datetime) -> None:
        """Remember a handled update (and forget those older than a week and a day)."""
        ts = to_ts(now)

        def work(conn):
            conn.execute(
                "INSERT OR IGNORE INTO handled_updates (update_id, digest, handled_at) VALUES (?, ?, ?)",
                (update_id, digest, ts),
            )
            if update_id % 1000 == 0:
                conn.execute("DELETE FROM handled_updates WHERE handled_at < ?", (ts - int(KEEP.total_seconds()),))

        await self._db.write(work)
        self._highest = max(self._highest if self._highest is not None else -1, update_id)
