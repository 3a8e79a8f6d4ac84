"""Read-only connections on threads of their own, for reports whose queries can run side by side.

SQLite lets any number of readers work beside the writer in WAL mode, and sqlite3 lets go of the
GIL while a statement runs, so a report split into independent parts takes about as long as its
longest part instead of the sum (bench/digest.py). Each part sees its own snapshot: a report's
parts may be a few writes apart, which a digest of a week can afford.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

READERS = 2  # the machines this runs on have two cores or more


class Readers:
    """A small pool of read-only connections to the database at `path`, one per pool thread."""

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so that close() can close them all from the loop's thread,
            # once the pool's threads have finished; until then each is used by its own thread only.
            conn = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    async def run_all(self, parts: list[Callable[[sqlite3.Connection], Any]]) -> list[Any]:
        """Run each part on a read-only connection, side by side; their results in order."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="reader")
        loop = asyncio.get_running_loop()
        futures = [loop.run_in_executor(self._executor, lambda part=part: part(self._connection())) for part in parts]
        return list(await asyncio.gather(*futures))

    async def close(self) -> None:
        """Let running parts finish, then close every connection."""
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)
            self._executor = None
        for conn in self._opened:
            conn.close()
        self._opened.clear()
