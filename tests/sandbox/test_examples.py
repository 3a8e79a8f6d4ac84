"""The sandbox's example appeals (sandbox/examples.py): a new sample district starts with them, made through the
real use cases, once, never on a database that has appeals; the personas' chats show their notices."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import build_application, open_storage
from bot.cli import _parser
from bot.config import Config
from bot.outbox_sender import Pacer
from bot.sandbox_run import DISTRICT, district_config, prepare_district
from domain.commands import NewAppeal
from domain.names import Timer
from handlers.callbacks import AppealVerb, decode
from sandbox import examples
from sandbox.core import BotApiCore
from sandbox.inprocess import InProcessRequest
from tests.harness import START, Bot, Clock, PacerTime, catalog
from tests.invariants import check_invariants

STATIONS = 36


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
    return {
        table: rows(database, f"SELECT count(*) AS n FROM {table}")[0]["n"]
        for table in ("appeals", "events", "outbox", "people")
    }


@asynccontextmanager
async def sandbox_bot(config: Config) -> AsyncIterator[Bot]:
    """The bot on the sample district, with its personas as Telegram users, as the sandbox runs it (time stands still)."""
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
    """Four appeals, in the states their stories say, with a ledger the invariant checker replays."""
    database = tmp_path / "sandbox.sqlite3"
    assert await prepare_district(sandbox_config(database), now=START) == (STATIONS, len(examples.EXAMPLES))
    appeals = {
        row["id"]: dict(row)
        for row in rows(
            database,
            "SELECT id, state, unit_id, accepted, awaiting_courier, reopens, extension_pending, extensions FROM appeals",
        )
    }
    couriers = [row["courier_id"] for row in rows(database, "SELECT courier_id FROM appeals ORDER BY id")]
    common = {"state": "handling", "accepted": 1, "awaiting_courier": 0}
    assert appeals == {
        1: {**common, "id": 1, "unit_id": "hrss", "reopens": 0, "extension_pending": 1, "extensions": 0},
        2: {**common, "id": 2, "unit_id": "station-renmin", "reopens": 1, "extension_pending": 0, "extensions": 0},
        3: {**common, "id": 3, "unit_id": "union", "reopens": 0, "extension_pending": 0, "extensions": 0},
        4: {**common, "id": 4, "unit_id": "civil", "reopens": 0, "extension_pending": 0, "extensions": 1},
    }
    assert couriers == [examples.COURIER_WANG, examples.COURIER_ZHAO, examples.COURIER_WANG, examples.COURIER_ZHAO]
    assert [
        (r["appeal_id"], r["asked_days"], r["state"], r["granted_days"])
        for r in rows(database, "SELECT * FROM extensions ORDER BY request_id")
    ] == [(1, 2, "pending", None), (4, 3, "approved", 3)]
    # Every event happened before the sandbox started, in order; the redo has its own handling deadline.
    stamps = [r["at"] for r in rows(database, "SELECT at FROM events ORDER BY id")]
    assert stamps == sorted(stamps) and stamps[-1] <= START.timestamp()
    handle = {
        r["appeal_id"]: r["due_at"]
        for r in rows(database, "SELECT * FROM timers WHERE kind = ?", (Timer.HANDLE.value,))
    }
    assert set(handle) == {1, 2, 3, 4} and all(due > START.timestamp() for due in handle.values())
    assert check_invariants(database) == []


async def test_a_second_start_adds_nothing(tmp_path: Path) -> None:
    """The examples are made once: a restart finds appeals and leaves them (and their notices) as they are."""
    database = tmp_path / "sandbox.sqlite3"
    config = sandbox_config(database)
    await prepare_district(config, now=START)
    before = counts(database)
    assert before["appeals"] == len(examples.EXAMPLES)
    assert await prepare_district(config, now=START) == (STATIONS, 0)
    assert counts(database) == before


async def test_a_district_with_appeals_is_left_alone(tmp_path: Path) -> None:
    """Someone's own appeal is there (examples off at the first start): no example joins it."""
    database = tmp_path / "sandbox.sqlite3"
    config = sandbox_config(database)
    assert await prepare_district(config, with_examples=False, now=START) == (STATIONS, 0)
    assert rows(database, "SELECT count(*) AS n FROM appeals")[0]["n"] == 0
    storage = await open_storage(config, START)
    try:
        await storage.people.seen(300001, "zh", START)
        new = NewAppeal(courier_id=300001, category="work", description="工资两个月没发了", language="zh")
        await storage.appeals.submit(new, "hrss", START)
    finally:
        await storage.close()
    assert await prepare_district(config, now=START) == (STATIONS, 0)
    assert [r["description"] for r in rows(database, "SELECT description FROM appeals")] == ["工资两个月没发了"]


def test_no_examples_is_the_sandbox_commands_flag() -> None:
    """`python -m bot sandbox --no-examples` turns them off; they are on by default."""
    assert _parser().parse_args(["sandbox"]).examples is True
    assert _parser().parse_args(["sandbox", "--no-examples"]).examples is False


async def test_the_personas_chats_show_the_notices_and_the_coordinator_can_answer_the_request(tmp_path: Path) -> None:
    """Once the bot runs, the outbox delivers what the examples wrote: the coordinator has the pending request
    with Approve and Refuse, the station worker the redo, the union's worker the courier's answer; and the
    coordinator's Approve works on it as on any request."""
    database = tmp_path / "sandbox.sqlite3"
    config = sandbox_config(database)
    await prepare_district(config, now=START)
    async with sandbox_bot(config) as bot:
        await bot.app.bot_data.sender.flush()
        t = lambda key, **kw: bot.services.text("zh", key, **kw)  # noqa: E731
        coordinator = bot.core.bot_messages(examples.COORDINATOR)
        asked = [m for m in coordinator if "诉求 #1 延期" in m.get("text", "")]
        assert len(asked) == 1 and "2个工作日" in asked[0]["text"] and "劳动保障监察大队" in asked[0]["text"]
        buttons = {label: decode(data) for label, data in bot.core.inline_buttons(asked[0])}
        assert [(p.appeal_id, p.verb) for p in buttons.values()] == [
            (1, AppealVerb.APPROVE_EXTENSION),
            (1, AppealVerb.REFUSE_EXTENSION),
        ]
        assert list(buttons) == [t("button.approve_extension"), t("button.refuse_extension")]
        # The request for #4 was approved: its notice is there, its buttons gone.
        (approved,) = [m for m in coordinator if "诉求 #4 延期" in m.get("text", "")]
        assert bot.core.inline_buttons(approved) == []
        assert any("第1次重办" in text for text in bot.texts(examples.RENMIN_STATION_WORKER))
        assert any("2611230045" in text for text in bot.texts(examples.UNION_WORKER))
        assert any("经批准延期办理" in text for text in bot.texts(examples.COURIER_ZHAO))

        await bot.press(examples.COORDINATOR, t("button.approve_extension"))
        await bot.press(examples.COORDINATOR, t("extension.button_grant_asked", days="2个工作日"))
        assert bot.last_text(examples.COORDINATOR) == t(
            "appeal.done_approve_extension", number=1, unit="人力资源和社会保障局"
        )
        assert (await bot.services.storage.appeals.get(1)).extensions == 1
        assert check_invariants(database) == []
