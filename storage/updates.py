"""Updates already handled: Telegram may deliver one again (after a crash, a webhook retry).

Telegram delivers an update again only when the bot did not acknowledge it: over a webhook, when
the bot did not answer 200. So the record of a handled update does not need a transaction (and a
commit, about 40 µs) of its own: it rides along with the next write, and the webhook writes it
before it answers (`persist`). Polling acknowledges an update when it asks for the next ones, which
python-telegram-bot does before handling, so there a crash loses the update rather than repeats it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from storage.db import Database
from storage.models import to_ts

# Telegram picks update ids sequentially, but starts again at random after a quiet week, so an
# id alone is not enough: the digest of the update's content tells a redelivery from a new one.
KEEP = timedelta(days=8)
RECENT = 1024  # handled updates also remembered in memory: a quick redelivery is caught without a query


class HandledUpdates:
    """A small ledger of handled update ids; new ids above the highest seen skip the database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._highest: int | None = None
        self._recent: deque[tuple[int, str]] = deque(maxlen=RECENT)
        self._unrecorded: set[int] = set()

    async def _load(self) -> int:
        row = await self._db.fetchone("SELECT max(update_id) FROM handled_updates")
        self._highest = row[0] if row and row[0] is not None else -1
        return self._highest

    async def seen(self, update_id: int, digest: str) -> bool:
        """Whether this very update was handled before."""
        # With other workers on the database, one of them may have handled an id above this one's highest.
        if not self._db.shared:
            highest = self._highest if self._highest is not None else await self._load()
            if update_id > highest:
                return False
        if (update_id, digest) in self._recent:
            return True
        row = await self._db.fetchone(
            "SELECT 1 FROM handled_updates WHERE update_id = ? AND digest = ?", (update_id, digest)
        )
        return row is not None

    def leave_unrecorded(self, update_id: int) -> None:
        """Keep no record of this update: it erased its sender, and its digest names their chat.

        Delivered again, it is handled again, which an erasure allows (there is nothing left to erase).
        """
        self._unrecorded.add(update_id)

    async def record(self, update_id: int, digest: str, now: datetime) -> None:
        """Remember a handled update, written with the next transaction (and forget those older than KEEP)."""
        if update_id in self._unrecorded:
            self._unrecorded.discard(update_id)
            return
        ts = to_ts(now)
        if self._highest is None:
            await self._load()
        self._db.defer(
            "INSERT INTO handled_updates (update_id, digest, handled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (update_id, digest, ts),
        )
        if update_id % 1000 == 0:
            self._db.defer("DELETE FROM handled_updates WHERE handled_at < ?", (ts - int(KEEP.total_seconds()),))
        self._recent.append((update_id, digest))
        self._highest = max(self._highest, update_id)

    async def persist(self) -> None:
        """Write the records still waiting for a transaction (before acknowledging an update to Telegram)."""
        await self._db.write_deferred()
