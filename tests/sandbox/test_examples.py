"""The sandbox's example appeals (sandbox/examples.py): a new sample district starts with them, made through the
real use cases, once, never on a database that has appeals; the personas' chats show their notices as they were
when each step happened."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import build_application
from bot.cli import _parser
from bot.config import Config
from bot.outbox_sender import Pacer
from bot.sandbox_run import DISTRICT, district_config, load_sample_stations
from domain.commands import NewAppeal
from domain.names import Timer
from handlers.callbacks import AppealVerb, decode
from handlers.text_prompts import days_text
from sandbox import examples
from sandbox.core import BotApiCore
from sandbox.inprocess import InProcessRequest
from storage.invariants import check_invariants
from storage.models import from_ts
from tests.harness import START, Bot, Clock, PacerTime, catalog
from tests.helpers import bot_environment, start_bot_process


def sandbox_config(database: Path) -> Config:
    """The sample district's own config, on a test database."""
    config = district_config(None)
    return config.model_copy(update={"database": config.database.model_copy(update={"path": str(database)})})


def rows(database: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def counts(database: Path) -> dict[str, int]:
    """How many rows the tables an example writes to hold."""
    tables = ("appeals", "events", "timers", "extensions", "outbox", "people")
    return {table: rows(database, f"SELECT count(*) AS n FROM {table}")[0]["n"] for table in tables}


@asynccontextmanager
async def sandbox_bot(database: Path) -> AsyncIterator[Bot]:
    """The sandbox as run_sandbox starts it, on a test database: the sample stations, then the bot on the
    district's config with its personas as Telegram users (time stands still at START)."""
    config = sandbox_config(database)
    await load_sample_stations(config)
    clock = Clock(START)
    core = BotApiCore(clock=lambda: clock.now.timestamp())
    for persona in json.loads((DISTRICT / "people.json").read_text(encoding="utf-8"))["personas"]:
        core.add_user(persona["id"], persona["name"], language_code=persona["language"])
    pacer_time = PacerTime()
    app = build_application(
        config,
        request=InProcessRequest(core),
        clock=clock,
        pacer=Pacer(monotonic=pacer_time.monotonic, sleep=pacer_time.sleep),
        background=False,
        catalog=catalog(config.default_language),
    )
    async with app:
        await app.post_init(app)
        try:
            yield Bot(app, core, clock, config, pacer_time)
        finally:
            await app.post_shutdown(app)


async def test_a_new_district_starts_with_each_example_made_through_the_lifecycle(tmp_path: Path) -> None:
    """Five appeals, in the states their stories say, with a ledger the invariant checker replays."""
    database = tmp_path / "sandbox.sqlite3"
    async with sandbox_bot(database) as bot:
        assert await examples.seed_running(bot.app) == 5 and len(examples.EXAMPLES) == 6
    appeals = {
        row["id"]: dict(row)
        for row in rows(
            database,
            "SELECT id, state, unit_id, accepted, awaiting_courier, reopens, extension_pending, extensions FROM appeals",
        )
    }
    common = {"state": "handling", "accepted": 1, "awaiting_courier": 0}
    assert appeals == {
        1: {**common, "id": 1, "unit_id": "hrss", "reopens": 0, "extension_pending": 1, "extensions": 0},
        2: {**common, "id": 2, "unit_id": "station-renmin", "reopens": 1, "extension_pending": 0, "extensions": 0},
        3: {**common, "id": 3, "unit_id": "union", "reopens": 0, "extension_pending": 0, "extensions": 0},
        4: {**common, "id": 4, "unit_id": "civil", "reopens": 0, "extension_pending": 0, "extensions": 1},
        5: {**common, "id": 5, "unit_id": "union", "reopens": 0, "extension_pending": 0, "extensions": 0},
    }
    # The fifth is co-handled (协办): the Legal Aid Centre signed for its part, which is still open.
    parts = rows(database, "SELECT appeal_id, unit_id, state FROM cohandlers")
    assert [tuple(r) for r in parts] == [(5, "legal", "accepted")]
    couriers = [row["courier_id"] for row in rows(database, "SELECT courier_id FROM appeals ORDER BY id")]
    assert couriers == [examples.COURIER_WANG, examples.COURIER_ZHAO, examples.COURIER_WANG, examples.COURIER_ZHAO] + [
        examples.COURIER_ZHAO
    ]
    extensions = rows(database, "SELECT appeal_id, asked_days, state, granted_days FROM extensions ORDER BY request_id")
    assert [tuple(r) for r in extensions] == [(1, 2, "pending", None), (4, 3, "approved", 3)]
    # Every event happened before the sandbox started, in order; every handling deadline is still ahead.
    stamps = [r["at"] for r in rows(database, "SELECT at FROM events ORDER BY id")]
    assert stamps == sorted(stamps) and START.timestamp() - examples.TIMELINE.total_seconds() < stamps[0]
    assert stamps[-1] <= START.timestamp()
    handle = rows(database, "SELECT appeal_id, due_at FROM timers WHERE kind = ?", (Timer.HANDLE.value,))
    assert sorted(r["appeal_id"] for r in handle) == [1, 2, 3, 4, 5]
    assert all(r["due_at"] > START.timestamp() for r in handle)
    # Every notice went out while the examples were made.
    # Appeals' notices all went; outreach (the wish's courier hears it was approved) may wait out quiet hours.
    assert [r["status"] for r in rows(database, "SELECT DISTINCT status FROM outbox WHERE lane = 0")] == ["sent"]
    assert check_invariants(database) == []
    # The sixth: a micro-wish (微心愿) posted and approved, waiting for a unit to claim it.
    wishes = rows(database, "SELECT courier_id, category, state FROM wishes")
    assert [tuple(r) for r in wishes] == [(examples.COURIER_ZHAO, "childrens_books", "approved")]
    steps = rows(database, "SELECT step, at FROM wish_events ORDER BY id")
    assert [r["step"] for r in steps] == ["post", "approve"] and steps[-1]["at"] <= START.timestamp()


async def test_a_second_start_adds_nothing(tmp_path: Path) -> None:
    """The examples are made once: a restart finds appeals and leaves everything as it is."""
    database = tmp_path / "sandbox.sqlite3"
    async with sandbox_bot(database) as bot:
        await examples.seed_running(bot.app)
    before = counts(database)
    assert before["appeals"] == 5  # the sixth example is a micro-wish, not an appeal
    async with sandbox_bot(database) as bot:
        assert await examples.seed_running(bot.app) == 0
    assert counts(database) == before


async def test_a_district_with_appeals_is_left_alone(tmp_path: Path) -> None:
    """Someone's own appeal is there (the first start had --no-examples): no example joins it."""
    database = tmp_path / "sandbox.sqlite3"
    async with sandbox_bot(database) as bot:
        storage = bot.services.storage
        await storage.people.seen(300001, "zh", START)
        await storage.appeals.submit(
            NewAppeal(courier_id=300001, category="work", description="工资两个月没发了", language="zh"), "hrss", START
        )
        assert await examples.seed_running(bot.app) == 0
    assert [r["description"] for r in rows(database, "SELECT description FROM appeals")] == ["工资两个月没发了"]


def test_no_examples_is_the_sandbox_commands_flag() -> None:
    """`python -m bot sandbox --no-examples` turns them off; they are on by default."""
    assert _parser().parse_args(["sandbox"]).examples is True
    assert _parser().parse_args(["sandbox", "--no-examples"]).examples is False


async def test_the_personas_chats_show_the_notices_and_the_coordinator_can_answer_the_request(tmp_path: Path) -> None:
    """The coordinator has the pending request with Approve and Refuse, and the approved one without; the
    station worker the redo, the union's worker the courier's answer, the courier the new deadline; and the
    coordinator's Approve works on the example as on any request."""
    async with sandbox_bot(tmp_path / "sandbox.sqlite3") as bot:
        await examples.seed_running(bot.app)
        t = lambda key, **kw: bot.services.text("zh", key, **kw)  # noqa: E731
        coordinator = bot.core.bot_messages(examples.COORDINATOR)
        (asked,) = [m for m in coordinator if "诉求 #1 延期" in m.get("text", "")]
        assert "2个工作日" in asked["text"] and "劳动保障监察大队" in asked["text"]
        buttons = {label: decode(data) for label, data in bot.core.inline_buttons(asked)}
        assert list(buttons) == [t("button.approve_extension"), t("button.refuse_extension")]
        assert [(p.appeal_id, p.verb) for p in buttons.values()] == [
            (1, AppealVerb.APPROVE_EXTENSION),
            (1, AppealVerb.REFUSE_EXTENSION),
        ]
        # The request for #4 was approved: its notice is there, its buttons gone; it names the deadline of then.
        (approved,) = [m for m in coordinator if "诉求 #4 延期" in m.get("text", "")]
        assert bot.core.inline_buttons(approved) == []
        (granted,) = rows(bot.config.database.path, "SELECT due_before FROM extensions WHERE state = 'approved'")
        assert bot.services.local(from_ts(granted["due_before"]), "zh") in approved["text"]
        assert any("第1次重办" in text for text in bot.texts(examples.RENMIN_STATION_WORKER))
        assert any("2611230045" in text for text in bot.texts(examples.UNION_WORKER))
        assert any("经批准延期办理" in text for text in bot.texts(examples.COURIER_ZHAO))

        await bot.press(examples.COORDINATOR, t("button.approve_extension"))
        await bot.press(examples.COORDINATOR, t("extension.button_grant_asked", days=days_text(bot.services, "zh", 2)))
        assert bot.last_text(examples.COORDINATOR).startswith("已同意诉求 #1 延期，现承办单位应于")
        assert (await bot.services.storage.appeals.get(1)).extensions == 1
        assert check_invariants(bot.config.database.path) == []


READY = re.compile(r"Sandbox ready: open http://127\.0\.0\.1:\d+.*?Ctrl-C to stop", re.S)


async def sandbox_process_says(workdir: Path, *args: str) -> str:
    """Start `python -m bot sandbox ARGS` in `workdir`, wait until it is ready, stop it; what it printed then."""
    process = await start_bot_process(
        "sandbox", "--port", "0", *args, workdir=workdir, env=bot_environment(workdir, None, None)
    )
    try:
        said = (await process.printed(READY, seconds=60))[0]
        await process.stop()
    finally:
        await process.end()
    assert process.returncode == 0, process.described()
    return said


@pytest.mark.slow
async def test_the_sandbox_command_makes_them_once_and_not_with_no_examples(tmp_path: Path) -> None:
    """`python -m bot sandbox` on a new district says it made them; a restart makes none; --no-examples none at all."""
    database = tmp_path / "sandbox.sqlite3"
    assert "Made 5 example appeals" in await sandbox_process_says(tmp_path)
    assert counts(database)["appeals"] == 5
    # Appeals' notices all went; outreach (the wish's courier hears it was approved) may wait out quiet hours.
    assert [r["status"] for r in rows(database, "SELECT DISTINCT status FROM outbox WHERE lane = 0")] == ["sent"]
    assert "example appeals" not in await sandbox_process_says(tmp_path)
    assert counts(database)["appeals"] == 5
    bare = tmp_path / "bare"
    bare.mkdir()
    assert "example appeals" not in await sandbox_process_says(bare, "--no-examples")
    assert counts(bare / "sandbox.sqlite3")["appeals"] == 0
    assert check_invariants(database) == []
