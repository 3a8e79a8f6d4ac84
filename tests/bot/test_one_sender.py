"""Two bots on one PostgreSQL database: one sends the outbox at a time, and another takes over when it dies."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from storage.postgres import SENDER_LOCK
from tests import harness
from tests.harness import running_bot

pytestmark = pytest.mark.slow

PEOPLE = range(5000, 5012)


@pytest.fixture
def shared_database(postgres_migrated_url, monkeypatch):
    """One PostgreSQL database that every bot in the test opens, as processes of one district do."""
    monkeypatch.setattr(harness, "postgres_database_for", lambda path: postgres_migrated_url)
    return postgres_migrated_url


async def queue_notices(bot, round_number: int) -> None:
    """One notice to each person, in the outbox both bots read."""
    for person in PEOPLE:
        await bot.services.storage.outbox.add(
            person, "notice.unreachable.coordinators", bot.clock(), {"person": round_number}
        )


def received(bot) -> int:
    """How many messages this bot's Telegram delivered to the people."""
    return sum(len(bot.core.bot_messages(person)) for person in PEOPLE)


def end_the_lock_session(url: str) -> None:
    """End the session that holds the sender's lock, as PostgreSQL does when its process is killed."""
    with psycopg.connect(url, autocommit=True) as conn:
        (ended,) = conn.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s AND objsubid = 1",
            (SENDER_LOCK,),
        ).fetchall()
        assert ended == (True,)


async def test_one_bot_sends_each_message_and_another_takes_over_when_it_dies(tmp_path, shared_database) -> None:
    """Flushing at the same moment, one bot sends every row once and the other none; with the sender's
    session gone, the other sends the next rows and the old sender, asking again, sends nothing."""
    path = tmp_path / "district.sqlite3"
    async with running_bot(path) as first, running_bot(path) as second:
        for bot in (first, second):
            for person in PEOPLE:
                bot.user(person, f"Courier {person}")
        await queue_notices(first, 1)
        sent = await asyncio.gather(first.app.bot_data.sender.flush(), second.app.bot_data.sender.flush())
        assert sorted(sent) == [0, len(PEOPLE)]
        leader, other = (first, second) if sent[0] else (second, first)
        assert (received(leader), received(other)) == (len(PEOPLE), 0)
        assert await other.app.bot_data.sender.flush() == 0  # asked again: still not its turn

        await asyncio.get_running_loop().run_in_executor(None, end_the_lock_session, shared_database)
        await queue_notices(leader, 2)
        assert await other.app.bot_data.sender.flush() == len(PEOPLE)
        await queue_notices(leader, 3)
        assert await leader.app.bot_data.sender.flush() == 0  # its session is gone, and the turn is taken
        assert await other.app.bot_data.sender.flush() == len(PEOPLE)
        assert (received(leader), received(other)) == (len(PEOPLE), 2 * len(PEOPLE))
        rows = await leader.services.storage.db.fetchall("SELECT status, count(*) FROM outbox GROUP BY status")
        assert [tuple(row) for row in rows] == [("sent", 3 * len(PEOPLE))]
