"""GET /healthz and GET /metrics on the webhook's server, over real HTTP on 127.0.0.1, against a real database."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import psycopg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.ops import SENDER_STALE_S
from bot.webhook import webhook_app
from storage.migrations import LATEST
from storage.models import to_ts
from tests import harness
from tests.harness import running_bot
from tests.helpers import submit_appeal, until
from tests.postgres import away

SECRET = "s3cret-Token_1"
LI = 7
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def _samples(text: str) -> dict[tuple[str, str], float]:
    """Each sample of a Prometheus text exposition by (name, worker label)."""
    return {
        (sample.name, sample.labels.get("worker", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if "le" not in sample.labels
    }


@contextlib.asynccontextmanager
async def _sender_loop(bot):
    """The outbox sender's real background loop, as `run` starts it (the harness runs without it)."""
    data = bot.app.bot_data
    data.outbox_loop = asyncio.create_task(data.sender.run_forever())
    try:
        yield
    finally:
        loop, data.outbox_loop = data.outbox_loop, None
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_healthz_is_ready_only_while_database_schema_and_sender_are(tmp_path: Path, monkeypatch) -> None:
    """200 when all three checks pass; 503 naming the one that fails: no sender, a hung sender, a newer schema."""
    database = tmp_path / "ops.sqlite3"
    async with running_bot(database, ops={"worker": "w1"}) as bot:
        async with TestClient(TestServer(webhook_app(bot.app, SECRET, "telegram"), host="127.0.0.1")) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            body = await response.json()
            assert body["failing"] == ["sender"] and body["checks"]["sender"] == "not running"
            assert body["checks"]["database"] == body["checks"]["schema"] == "ok"

            async with _sender_loop(bot):
                response = await client.get("/healthz")
                assert response.status == 200, await response.text()
                assert await response.json() == {
                    "status": "ready",
                    "worker": "w1",
                    "checks": {"database": "ok", "schema": "ok", "sender": "ok"},
                }

                # A sender stuck in a read that never returns: its loop stops ticking.
                outbox = bot.services.storage.outbox
                entered, release = asyncio.Event(), asyncio.Event()
                real_due = outbox.due

                async def hung_due(*args, **kwargs):
                    entered.set()
                    await release.wait()
                    return await real_due(*args, **kwargs)

                monkeypatch.setattr(outbox, "due", hung_due)
                bot.app.bot_data.sender.kick()
                await asyncio.wait_for(entered.wait(), 20)
                bot.pacer_time.now += SENDER_STALE_S + 1
                response = await client.get("/healthz")
                assert response.status == 503
                body = await response.json()
                assert body["failing"] == ["sender"] and body["checks"]["sender"].startswith("no loop tick for 121 s")
                monkeypatch.setattr(outbox, "due", real_due)
                release.set()
                await until(lambda: bot.app.bot_data.sender.idle_seconds() < SENDER_STALE_S, "the sender ticks again")
                assert (await client.get("/healthz")).status == 200

                # A database whose schema is newer than the code (a downgrade, or a restore of a newer copy).
                with contextlib.closing(sqlite3.connect(database)) as conn:
                    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
                response = await client.get("/healthz")
                assert response.status == 503
                body = await response.json()
                assert body["failing"] == ["schema"] and "newer than this code's" in body["checks"]["schema"]
                with contextlib.closing(sqlite3.connect(database)) as conn:
                    conn.execute(f"PRAGMA user_version = {LATEST}")
                assert (await client.get("/healthz")).status == 200


async def test_healthz_says_the_database_is_unreachable(tmp_path: Path) -> None:
    """A database that cannot be read (here: its file gone from under a fresh reader) fails the database check."""
    database = tmp_path / "gone" / "ops.sqlite3"
    async with running_bot(database) as bot:
        async with TestClient(TestServer(webhook_app(bot.app, SECRET, "telegram"), host="127.0.0.1")) as client:
            await bot.services.storage.db._readers.close()  # the next read opens a new read-only connection
            for path in database.parent.iterdir():
                path.rename(tmp_path / path.name)
            response = await client.get("/healthz")
            assert response.status == 503
            body = await response.json()
            assert "database" in body["failing"] and body["checks"]["database"].startswith("unreachable:")
            for path in tmp_path.glob("ops.sqlite3*"):
                path.rename(database.parent / path.name)


async def test_metrics_count_updates_and_read_the_gauges_from_the_database(tmp_path: Path, monkeypatch) -> None:
    """Updates handled and failed, their latency, the outbox, overdue appeals and timer lag, per worker."""
    database = tmp_path / "metrics.sqlite3"
    async with running_bot(database, ops={"worker": "w1"}) as bot:
        bot.user(LI, "Li")
        async with TestClient(TestServer(webhook_app(bot.app, SECRET, "telegram"), host="127.0.0.1")) as client:
            bot.core.send_text(LI, "/start")
            (update,) = bot.core.take_updates()
            assert (await client.post("/telegram", json=update, headers=HEADERS)).status == 200
            people = bot.services.storage.people
            real_get = people.get

            calls = {"n": 0}

            async def failing_get(telegram_id):
                calls["n"] += 1
                if calls["n"] == 1:
                    raise OSError("database unavailable")
                return await real_get(telegram_id)

            monkeypatch.setattr(people, "get", failing_get)
            bot.core.send_text(LI, "/help")
            (update,) = bot.core.take_updates()
            assert (await client.post("/telegram", json=update, headers=HEADERS)).status == 500
            monkeypatch.setattr(people, "get", real_get)

            # Two appeals routed to a unit, their notices not sent yet; one of them given up as dead.
            await submit_appeal(bot, LI)
            await submit_appeal(bot, LI)
            storage = bot.services.storage
            with contextlib.closing(sqlite3.connect(database)) as conn:
                pending_ids = [r[0] for r in conn.execute("SELECT id FROM outbox WHERE status = 'pending'")]
            assert len(pending_ids) >= 2
            await storage.outbox.mark_dead(pending_ids[0], "Forbidden: bot was blocked by the user")
            # A month on, without the timer job: the signing deadline has passed, its steps not yet fired.
            bot.clock.advance(days=30)
            with contextlib.closing(sqlite3.connect(database)) as conn:
                oldest_step = conn.execute("SELECT min(fire_at) FROM timers").fetchone()[0]

            response = await client.get("/metrics")
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            samples = _samples(await response.text())

    assert samples[("appeals_bot_updates_handled_total", "w1")] == 2
    assert samples[("appeals_bot_updates_failed_total", "w1")] == 1
    assert samples[("appeals_bot_update_seconds_count", "w1")] == 2
    assert samples[("appeals_bot_update_seconds_sum", "w1")] > 0
    assert samples[("appeals_bot_outbox_pending", "w1")] == len(pending_ids) - 1
    assert samples[("appeals_bot_outbox_dead", "w1")] == 1
    assert samples[("appeals_bot_appeals_overdue", "w1")] == 2
    assert samples[("appeals_bot_timer_lag_seconds", "w1")] == to_ts(bot.clock.now) - oldest_step > 0


@pytest.mark.slow  # a real PostgreSQL server
async def test_healthz_and_metrics_answer_on_postgresql(tmp_path: Path, postgres_migrated_url, monkeypatch) -> None:
    """The same checks and gauges on PostgreSQL: its schema version is read the PostgreSQL way, and a
    newer one is refused there too."""
    monkeypatch.setattr(harness, "postgres_database_for", lambda path: postgres_migrated_url)
    async with running_bot(tmp_path / "ops.sqlite3", ops={"worker": "pg"}) as bot:
        bot.user(LI, "Li")
        await bot.start(LI)
        async with TestClient(TestServer(webhook_app(bot.app, SECRET, "telegram"), host="127.0.0.1")) as client:
            async with _sender_loop(bot):
                response = await client.get("/healthz")
                assert response.status == 200, await response.text()
                assert (await response.json())["checks"] == {"database": "ok", "schema": "ok", "sender": "ok"}
                metrics = _samples(await (await client.get("/metrics")).text())
                assert metrics[("appeals_bot_outbox_dead", "pg")] == 0
                assert metrics[("appeals_bot_updates_failed_total", "pg")] == 0  # shown before any failure
                with psycopg.connect(postgres_migrated_url, autocommit=True) as conn:
                    conn.execute("UPDATE schema_version SET version = version + 1")
                response = await client.get("/healthz")
                assert response.status == 503
                assert (await response.json())["failing"] == ["schema"]
                # A server restarting: unreachable at once, every time, not "no answer within 5 s" (a
                # connection pool waiting for a new session once its old one was found ended).
                away(postgres_migrated_url, True)
                try:
                    for _ in range(2):
                        response = await client.get("/healthz")
                        assert response.status == 503
                        database = (await response.json())["checks"]["database"]
                        assert database.startswith("unreachable"), database
                finally:
                    away(postgres_migrated_url, False)
