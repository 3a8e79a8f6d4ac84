"""Run the bot and the sandbox (a local Bot API with a web chat) together in one process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from datetime import datetime, timedelta
from pathlib import Path

from bot.app import OFFLINE_TOKEN, build_application, open_storage, utc_now
from bot.config import DATABASE_ENV, Config, load_config
from domain.activities import ActivityFileError, read_activities
from domain.answers_file import AnswerFileError, read_answers
from domain.stations_file import read_stations
from domain.surveys_file import read_survey
from sandbox import examples
from sandbox.core import BotApiCore
from sandbox.server import start_server
from storage.backup import serving_database

DISTRICT = Path(__file__).resolve().parent.parent / "sandbox" / "district"
DEFAULT_PORT = 8080

log = logging.getLogger(__name__)


def district_config(path: Path | None) -> Config:
    """The sample district's config (or the given file); Telegram settings from the environment are ignored,
    and so, for the sample district, is the operator's database: the sample data stays in its own file."""
    ignored = ("TELEGRAM_",) if path else ("TELEGRAM_", DATABASE_ENV)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(ignored)}
    return load_config(path or DISTRICT / "config.toml", environ=environ)


def _people() -> tuple[list[dict], list[dict]]:
    data = json.loads((DISTRICT / "people.json").read_text(encoding="utf-8"))
    return data["personas"], data["places"]


def _groups() -> list[dict]:
    """The sample district's unit work groups (a forum supergroup the Legal Aid Centre works from)."""
    return json.loads((DISTRICT / "people.json").read_text(encoding="utf-8")).get("groups", [])


async def link_sample_groups(config: Config, groups: list[dict]) -> None:
    """Link each sample group to its unit as its coordinator would with /link_unit (handlers/desk.py); a
    group linked before starts afresh, its topics gone with the last run's fake Telegram."""
    coordinators = config.coordinators
    if not groups or not coordinators:
        return
    storage = await open_storage(config, utc_now())
    try:
        for group in groups:
            desk = await storage.desks.by_unit(group["unit"])
            if desk is not None and desk.chat_id == group["id"] and desk.working:
                await storage.desks.forget_topics(group["id"])
                continue
            await storage.desks.link(
                group["unit"],
                group["id"],
                title=group["title"],
                topics=bool(group.get("forum")),
                language=config.default_language,
                by=coordinators[0],
                now=utc_now(),
            )
    finally:
        await storage.close()


async def load_sample_stations(config: Config) -> int:
    """Import the sample stations through the same checks as `python -m bot stations import`."""
    records = read_stations((DISTRICT / "stations.json").read_bytes(), "json", {u.id for u in config.units})
    storage = await open_storage(config, utc_now())
    try:
        await storage.stations.import_records(records)
        return len(records)
    finally:
        await storage.close()


async def _load_sample_answers(config: Config) -> int:
    """Import the sample knowledge base through the same checks as `python -m bot answers import`."""
    try:
        records = read_answers((DISTRICT / "answers.toml").read_bytes(), "toml", [c.id for c in config.categories])
    except AnswerFileError as error:  # another config's categories: the sandbox runs without the sample answers
        log.warning("sample answers not loaded: %s", error)
        return 0
    storage = await open_storage(config, utc_now())
    try:
        await storage.answers.import_records(records)
        return len(records)
    finally:
        await storage.close()


async def load_sample_activity(config: Config, now: datetime | None = None) -> int:
    """Publish the sample activity (next week's holiday childcare class) on a district that has no activity yet."""
    now = now or utc_now()
    today = now.astimezone(config.zone()).date()
    monday = today + timedelta(days=7 - today.weekday())
    text = (DISTRICT / "activities.toml").read_text(encoding="utf-8")
    text = text.replace("{next_monday}", monday.isoformat()).replace(
        "{sunday}", (monday - timedelta(days=1)).isoformat()
    )
    storage = await open_storage(config, now)
    try:
        if await storage.activities.upcoming(now, limit=1):
            return 0
        stations = {s.id for s in await storage.stations.all()}
        try:
            records = read_activities(text.encode(), "toml", config.zone(), now, stations)
        except ActivityFileError as error:  # another config's stations: the sandbox runs without it
            log.warning("sample activity not loaded: %s", error)
            return 0
        return len(await storage.activities.publish(records, None, now))
    finally:
        await storage.close()


async def load_sample_survey(config: Config) -> int:
    """Import the sample needs survey through the same checks as `python -m bot surveys import`, and open it."""
    survey = read_survey((DISTRICT / "survey-needs.toml").read_bytes(), "toml")
    storage = await open_storage(config, utc_now())
    try:
        _, survey_id = await storage.surveys.import_survey(survey, utc_now())
        await storage.surveys.set_state(survey_id, "open", utc_now())  # already open on a restart: stays so
        return 1
    finally:
        await storage.close()


def _staff_started(core: BotApiCore, personas: list[dict]) -> None:
    """The district's staff and coordinators started the bot when they joined (the bot could not write to
    them otherwise), so each begins with /start and its answer: their menu. Couriers start it themselves."""
    for persona in personas:
        if persona["role"] != "Courier":
            core.send_text(persona["id"], "/start")


async def _serve(core: BotApiCore, personas: list[dict], places: list[dict], timezone: str, host: str, port: int):
    people = {"token": OFFLINE_TOKEN, "personas": personas, "places": places, "timezone": timezone, "groups": _groups()}
    try:
        return await start_server(core, **people, host=host, port=port)
    except OSError:
        log.warning("port %d is taken; using a free one", port)
        return await start_server(core, **people, host=host, port=0)


async def run_sandbox(
    config_path: Path | None = None, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, with_examples: bool = True
) -> None:
    """Start the web chat and the bot (on a new district, with the example appeals); run until SIGINT or SIGTERM."""
    config = district_config(config_path)
    # As `run` does: no restore or migrate-data under it, and no second sandbox on the same file.
    with serving_database(config.database.location()):
        await _run_sandbox(config, config_path, host, port, with_examples)


async def _run_sandbox(config: Config, config_path: Path | None, host: str, port: int, with_examples: bool) -> None:
    stations = await load_sample_stations(config)
    answers = await _load_sample_answers(config)
    await load_sample_activity(config)
    surveys = await load_sample_survey(config)
    await link_sample_groups(config, _groups() if config_path is None else [])
    personas, places = _people()
    core = BotApiCore()
    runner, url = await _serve(core, personas, places, config.timezone, host, port)
    config = config.model_copy(
        update={
            "telegram": config.telegram.model_copy(
                update={"base_url": f"{url}/bot", "base_file_url": f"{url}/file/bot"}
            )
        }
    )
    application = build_application(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await application.initialize()
        await application.post_init(application)
        made = await examples.seed_running(application) if with_examples else 0
        _staff_started(core, personas)
        await application.updater.start_polling(poll_interval=0.0, timeout=10)
        await application.start()
        print(
            f"\nSandbox ready: open {url} in a browser.\n"
            f"Sample district: {len(personas)} people, {stations} stations, {answers} answers, {surveys} open survey,"
            f" database {config.database.location().shown()}.\n"
            + (f"Made {made} example appeals to look at (--no-examples leaves them out).\n" if made else "")
            + "This is not Telegram; press Ctrl-C to stop.\n",
            flush=True,
        )
        await stop.wait()
    finally:
        with contextlib.suppress(RuntimeError):
            await application.updater.stop()
            await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)
        await runner.cleanup()
