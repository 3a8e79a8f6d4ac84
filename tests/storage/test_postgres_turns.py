"""Turns across workers (storage/postgres_turns.py): one chat's updates one at a time, other chats side by side."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import pytest

from storage.postgres_turns import TURN_CLASS, ChatTurns, key_id

pytestmark = pytest.mark.slow  # a real PostgreSQL server

WAIT_S = 10


class Watched(ChatTurns):
    """ChatTurns that says when it found a key taken (it asks on its own thread)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.refused = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def _take(self, ids: list[int]) -> bool:
        taken = super()._take(ids)
        if not taken:
            self._loop.call_soon_threadsafe(self.refused.set)
        return taken


async def test_a_key_held_by_one_worker_waits_in_another_until_given_back(postgres_url) -> None:
    first, second = ChatTurns(postgres_url), Watched(postgres_url)
    try:
        order: list[str] = []
        held, release = asyncio.Event(), asyncio.Event()

        async def one() -> None:
            async with first.hold({"chat:7", "user:7"}):
                order.append("first in")
                held.set()
                await release.wait()
                order.append("first out")

        async def other() -> None:
            await held.wait()
            async with second.hold({"chat:7", "user:7", "appeal:3"}):
                order.append("second in")

        async def elsewhere() -> None:
            await held.wait()
            async with second.hold({"chat:8", "user:8"}):  # another chat: no wait for the first
                order.append("elsewhere")

        tasks = [asyncio.create_task(f()) for f in (one, other, elsewhere)]
        await asyncio.wait_for(held.wait(), WAIT_S)
        await asyncio.wait_for(tasks[2], WAIT_S)
        await asyncio.wait_for(second.refused.wait(), WAIT_S)  # the second asked and found the chat taken
        assert order == ["first in", "elsewhere"]
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT_S)
        assert order == ["first in", "elsewhere", "first out", "second in"]
        # The one that stepped back kept none of its keys meanwhile: nothing is left held.
        assert _held(postgres_url) == []
    finally:
        await first.close()
        await second.close()


async def test_a_worker_that_dies_gives_its_keys_back(postgres_url) -> None:
    """A killed process's session ends, and with it its locks: the next worker takes the chat at once."""
    first, second = ChatTurns(postgres_url), ChatTurns(postgres_url)
    try:
        entered = asyncio.Event()

        async def dies() -> None:
            async with first.hold({"chat:9"}):
                entered.set()
                await asyncio.Event().wait()

        dying = asyncio.create_task(dies())
        await asyncio.wait_for(entered.wait(), WAIT_S)
        assert _held(postgres_url) == [key_id("chat:9")]
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s",
                (TURN_CLASS,),
            )
        async with asyncio.timeout(WAIT_S):
            async with second.hold({"chat:9"}):
                assert _held(postgres_url) == [key_id("chat:9")]
        dying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dying
    finally:
        await first.close()
        await second.close()


def test_keys_map_to_int4_lock_ids() -> None:
    ids = {key_id(f"chat:{n}") for n in range(10_000)}
    assert all(-(1 << 31) <= i < 1 << 31 for i in ids)
    assert len(ids) > 9_990  # a few collisions would only make two chats take turns


def _held(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT objid::int FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (TURN_CLASS,),
        ).fetchall()
    return sorted(row[0] for row in rows)
