"""Drive the real Application through the in-process Bot API and read what each person sees."""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application

from bot.app import OFFLINE_TOKEN, build_application
from bot.config import Config, parse_config
from bot.outbox_sender import Pacer
from handlers.i18n import Catalog
from handlers.services import Services
from sandbox.core import BotApiCore
from sandbox.inprocess import InProcessRequest
from storage.db import Database

TZ = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 10:00 in Shanghai: inside working hours.
START = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@dataclass
class Clock:
    """A clock tests move by hand; shared by the bot and the fake Telegram."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


@dataclass
class PacerTime:
    """The sender's pacing clock in tests: sleeping moves it on instead of waiting."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Bot:
    """The running bot, the fake Telegram around it, and the test clock."""

    app: Application
    core: BotApiCore
    clock: Clock
    config: Config
    pacer_time: PacerTime
    users: dict[int, str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        """The bot's services (database, catalog)."""
        return self.app.bot_data.services

    def user(self, user_id: int, first_name: str = "Test", language_code: str | None = "en") -> int:
        """Make a Telegram user who has opened a chat with the bot."""
        self.core.add_user(user_id, first_name, language_code=language_code)
        self.users[user_id] = first_name
        return user_id

    async def start(self, *people: int) -> None:
        """Make each a Telegram user (named P<id>) who has opened the chat and sent /start."""
        for person in people:
            self.user(person, f"P{person}")
            await self.say(person, "/start")

    async def deliver(self) -> None:
        """Feed every pending update to the Application, one at a time, as polling would, then send notices."""
        while updates := self.core.take_updates():
            for raw in updates:
                await self.app.process_update(Update.de_json(raw, self.app.bot))
                await self.app.bot_data.sender.flush()

    async def say(self, user_id: int, text: str) -> list[dict[str, Any]]:
        """Send text as `user_id`; return the bot's new messages in that chat."""
        seen = len(self.core.messages(user_id))
        self.core.send_text(user_id, text)
        await self.deliver()
        return [m for m in self.core.messages(user_id)[seen:] if m["from"]["is_bot"]]

    async def press(self, user_id: int, label_prefix: str) -> str:
        """Press the newest inline button whose label starts with `label_prefix`; return the query id."""
        query_id = self.core.press(user_id, label_prefix)
        await self.deliver()
        return query_id

    async def tick(self) -> None:
        """What the bot's repeating job does: fire due timers, send the outbox."""
        await self.app.bot_data.tick()

    async def at(self, moment: datetime) -> None:
        """Move the clock to `moment` and let the bot do what is due."""
        assert moment >= self.clock.now, "time only moves forward"
        self.clock.now = moment
        await self.tick()

    def texts(self, user_id: int) -> list[str]:
        """Every bot message text (or caption) in the chat, oldest first, as currently shown."""
        return [m.get("text") or m.get("caption") or "" for m in self.core.bot_messages(user_id)]

    def last_text(self, user_id: int) -> str:
        """The newest bot message in the chat."""
        return self.texts(user_id)[-1]

    def reply_labels(self, user_id: int) -> list[str]:
        """The labels of the chat's current reply keyboard."""
        keyboard = self.core.reply_keyboard(user_id) or {"keyboard": []}
        return [b["text"] if isinstance(b, dict) else b for row in keyboard["keyboard"] for b in row]


def district_config(database: Path, **overrides: Any) -> Config:
    """A config for tests: a district with two units, staff and a coordinator, no environment."""
    data: dict[str, Any] = {
        "database": {"path": str(database)},
        "coordinators": [900],
        "units": [
            {"id": "st1", "kind": "station", "zh": "一号驿站", "en": "Station One", "staff": [500, 501]},
            {"id": "hr", "kind": "department", "zh": "人社局", "en": "HR Bureau", "staff": [600]},
        ],
        "routing": [{"category": "work", "unit": "hr"}, {"category": "facilities", "unit": "st1"}],
        # Tests file many appeals as one courier within a minute of test time; the limits' own tests
        # (tests/handlers/test_filing_limits.py) pass the defaults or their own.
        "limits": {"filings_per_minute": 100, "appeals_per_day": 1000},
    }
    data.update(overrides)
    return parse_config(data, "test", environ={})


# "inprocess": the bot's requests go to the core directly; "http": through the sandbox's HTTP
# server on 127.0.0.1, with python-telegram-bot's own HTTPXRequest. Set by `pytest --bot-api`.
BOT_API = "inprocess"


@asynccontextmanager
async def _bot_api(core: BotApiCore, config: Config) -> AsyncIterator[tuple[Config, dict[str, Any]]]:
    if BOT_API == "inprocess":
        yield config, {"request": InProcessRequest(core)}
        return
    from sandbox.server import start_server

    runner, url = await start_server(core, token=OFFLINE_TOKEN)
    telegram = config.telegram.model_copy(update={"base_url": f"{url}/bot", "base_file_url": f"{url}/file/bot"})
    try:
        yield config.model_copy(update={"telegram": telegram}), {}
    finally:
        await runner.cleanup()


_template: Path | None = None

# Set by tests/handlers/conftest.py while a test runs on PostgreSQL: the URL of a fresh database for
# each database path the test names (the same path, across a restart, is the same database).
postgres_database_for: Callable[[Path], str] | None = None


async def fresh_database(path: Path) -> Path:
    """Make `path` (unless it exists) a copy of a database the bot migrated once in this test run.

    Migrating a new file takes longer than most tests; the copy is the same file, byte for byte.
    The migrations themselves are tested from an empty file in tests/storage/test_migrations.py.
    """
    global _template
    if _template is None:
        folder = tempfile.mkdtemp(prefix="migrated-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = Path(folder) / "template.sqlite3"
        await (await Database.open(template)).close()
        with sqlite3.connect(template) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
        _template = template
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template, path)
    return path


def on_this_backend(config: Config, path: Path) -> Config:
    """`config` with its database at `path`, or on PostgreSQL (the database the test has for `path`) while
    the test runs there."""
    database = config.database.model_copy(update={"path": str(path)})
    if postgres_database_for is not None:
        database = database.model_copy(update={"url": postgres_database_for(path)})
    return config.model_copy(update={"database": database})


_catalogs: dict[str, Catalog] = {}


def catalog(default_language: str) -> Catalog:
    """The message catalogs, read once per test run (nothing changes them once read)."""
    if default_language not in _catalogs:
        _catalogs[default_language] = Catalog.load(default_language)
    return _catalogs[default_language]


@asynccontextmanager
async def running_bot(database: Path, **overrides: Any) -> AsyncIterator[Bot]:
    """Start the bot's real Application on the fake Telegram; stop it afterwards."""
    clock = Clock()
    core = BotApiCore(clock=lambda: clock.now.timestamp())
    pacer_time = PacerTime()
    pacer = Pacer(monotonic=pacer_time.monotonic, sleep=pacer_time.sleep)
    config = district_config(database, **overrides)
    if postgres_database_for is None:
        await fresh_database(database)
    config = on_this_backend(config, database)
    async with _bot_api(core, config) as (config, request):
        app = build_application(
            config, clock=clock, pacer=pacer, background=False, catalog=catalog(config.default_language), **request
        )
        async with app:
            # run_polling would call these; tests drive process_update themselves.
            await app.post_init(app)
            try:
                yield Bot(app, core, clock, config, pacer_time)
            finally:
                await app.post_shutdown(app)
