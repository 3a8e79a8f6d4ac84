"""Outbox rows another worker commits wake this process's sender (storage/postgres_wakeups.py)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from storage.postgres_wakeups import OutboxWakeups

pytestmark = pytest.mark.slow  # a real PostgreSQL server

WAIT_S = 10


def add_rows(url: str, chats: list[int]) -> None:
    """Outbox rows written by another process's transaction."""
    with psycopg.connect(url) as conn:
        for chat in chats:
            conn.execute(
                "INSERT INTO outbox (chat_id, template, params, not_before, created_at) VALUES (%s, 'x', '{}', 0, 0)",
                (chat,),
            )


async def test_each_commit_with_outbox_rows_wakes_the_sender(postgres_migrated_url) -> None:
    woken = asyncio.Queue()
    wakeups = OutboxWakeups(postgres_migrated_url, lambda: woken.put_nowait(1), asyncio.get_running_loop())
    try:
        assert await asyncio.to_thread(wakeups.listening.wait, WAIT_S)
        for chats in ([1, 2, 3], [4]):  # three rows in one commit, one in the next
            await asyncio.to_thread(add_rows, postgres_migrated_url, chats)
            assert await asyncio.wait_for(woken.get(), WAIT_S) == 1
    finally:
        wakeups.close()
        await asyncio.to_thread(wakeups.join, WAIT_S)
