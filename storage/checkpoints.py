"""WAL checkpoints on a connection and a thread of their own, so that no commit on the event loop pays for one.

By default the commit that fills the WAL past 1,000 pages copies them all into the database file
and syncs it: a few milliseconds, now on the event loop (short work runs there, see storage.db).
Here the writer's own checkpoints are put off to FALLBACK_PAGES, and a second connection on its
own thread checkpoints PASSIVE-ly every CHECKPOINT_EVERY commits: it never waits for the writer,
nor the writer for it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

# An event's transaction writes some 15 pages: about SQLite's own 1,000-page threshold. (The WAL's
# file size cannot tell: it is reused from its start after a checkpoint, and never shrinks.)
CHECKPOINT_EVERY = 64
FALLBACK_PAGES = 16_000  # the writer checkpoints itself only when the background has fallen this far behind


class Checkpointer:
    """Watches the WAL of the database at `path` and checkpoints it in the background."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._commits = 0
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # used on the executor's one thread only
        self._running: asyncio.Future | None = None
        self.checkpoints = 0
        # Set when a truncating checkpoint the writer asked for was held off by a reader: the
        # background ones truncate instead, until one completes (erased data must leave the WAL).
        self.truncate_owed = False

    def committed(self) -> None:
        """Count a commit; every CHECKPOINT_EVERY commits, start a checkpoint unless one is running."""
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY or self._running is not None:
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._running = asyncio.get_running_loop().run_in_executor(self._executor, self._checkpoint)
        self._running.add_done_callback(self._finished)

    async def truncate(self) -> bool:
        """Truncate the WAL on the checkpoint thread now, waiting up to its busy timeout for readers to
        finish; whether it completed (if not, the background keeps trying)."""
        self.truncate_owed = True
        if self._running is not None:
            await asyncio.wait([self._running])
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._running = asyncio.get_running_loop().run_in_executor(self._executor, self._checkpoint)
        self._running.add_done_callback(self._finished)
        await asyncio.wait([self._running])
        return not self.truncate_owed

    def _checkpoint(self) -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, isolation_level=None)
            self._conn.execute("PRAGMA busy_timeout = 1000")
        if self.truncate_owed:
            busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            self.truncate_owed = bool(busy)
        else:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _finished(self, future: asyncio.Future) -> None:
        self._running = None
        if future.cancelled():
            return
        if future.exception() is not None:
            # The writer's fallback checkpoints keep the WAL bounded meanwhile.
            log.warning("a background checkpoint failed", exc_info=future.exception())
        else:
            self.checkpoints += 1

    async def close(self) -> None:
        """Wait for a running checkpoint, then close the checkpoint connection and its thread."""
        if self._executor is None:
            return
        if self._running is not None:
            await asyncio.wait([self._running])
        if self._conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
            self._conn = None  # a later checkpoint opens its own, on its own thread
        self._executor.shutdown(wait=True)
        self._executor = None
