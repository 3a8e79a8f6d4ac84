"""Turns across worker processes: one chat's updates (and presses about one appeal) handled one at a time.

Within a process bot/ordering.py queues an update behind the earlier ones that share a key with it.
With several workers on one PostgreSQL database, two updates of one chat may reach two processes;
here each update also takes a session-level advisory lock per key before it is handled, and gives
them back after its record is written. A process that dies gives its locks back with its session.

The locks are taken with pg_try_advisory_lock on one connection of the process's own, never waited
for inside PostgreSQL: an update that finds a key taken steps back (giving back what it took, so two
updates never hold each other's keys) and asks again a few milliseconds later. Such a wait is rare
(a double tap that two workers took side by side) and short (one update's handling).
"""

from __future__ import annotations

import asyncio
import logging
import random
import zlib
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import psycopg

log = logging.getLogger(__name__)

# The two-int advisory lock space (apart from the one-bigint space of the write and sender locks).
TURN_CLASS = 0x7475726E  # "turn"
FIRST_WAIT_S = 0.002
LONGEST_WAIT_S = 0.05
CONNECT_TIMEOUT_S = 5


def key_id(key: str) -> int:
    """The lock's int4 for an ordering key: two keys that share one only take turns needlessly."""
    value = zlib.crc32(key.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


class ChatTurns:
    """Advisory locks per ordering key, on a connection of this process's own."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None
        # One thread: the connection's statements run one after another, off the database thread's queue.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turns")
        self.waits = 0  # times an update found one of its keys taken by another process

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Hold every key in `keys` (waiting while another process holds one) until the block ends."""
        ids = sorted({key_id(key) for key in keys})
        if not ids:
            yield
            return
        loop = asyncio.get_running_loop()
        wait = FIRST_WAIT_S
        while not await loop.run_in_executor(self._executor, self._take, ids):
            self.waits += 1
            await asyncio.sleep(wait * (0.5 + random.random()))
            wait = min(wait * 2, LONGEST_WAIT_S)
        try:
            yield
        finally:
            await loop.run_in_executor(self._executor, self._give_back, ids)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        return self._conn

    def _take(self, ids: list[int]) -> bool:
        """Take all of `ids` or none of them; whether they were taken."""
        try:
            conn = self._connection()
            rows = conn.execute(
                "SELECT k, pg_try_advisory_lock(%s, k) FROM unnest(%s::int[]) AS k", (TURN_CLASS, ids)
            ).fetchall()
            taken = [k for k, ok in rows if ok]
            if len(taken) == len(ids):
                return True
            if taken:
                conn.execute("SELECT pg_advisory_unlock(%s, k) FROM unnest(%s::int[]) AS k", (TURN_CLASS, taken))
            return False
        except psycopg.Error:
            # The update cannot be handled in turn: it fails, and Telegram delivers it again.
            self._drop()
            raise

    def _give_back(self, ids: list[int]) -> None:
        try:
            if self._conn is not None:
                self._conn.execute("SELECT pg_advisory_unlock(%s, k) FROM unnest(%s::int[]) AS k", (TURN_CLASS, ids))
        except psycopg.Error as error:
            # The session is gone, and every lock it held with it.
            log.warning("the turns connection failed: %s", error.diag.message_primary or type(error).__name__)
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def close(self) -> None:
        """Close the connection, which gives back any lock still held."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._drop)
        self._executor.shutdown(wait=False)
