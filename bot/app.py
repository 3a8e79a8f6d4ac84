"""The composition root: build the Application, open services in post_init, close them in post_shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime

from telegram import Update
from telegram.constants import FloodLimit
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Config
from bot.errors import on_error
from bot.metrics import MeasuredUpdates, Metrics
from bot.outbox_sender import OutboxSender, Pacer
from bot.requests import RetryingRequest
from bot.retention import schedule_retention
from domain.deadlines import Priority
from domain.periods import digest_period
from domain.schedule import latest_daily, latest_weekly, slot_day
from handlers.activities import activity_handlers, dialog_handlers
from handlers.answers import answers_handlers
from handlers.canned_replies import canned_handlers
from handlers.commands import set_default_commands, set_person_commands
from handlers.desk import desk_handlers
from handlers.digest import digest_handlers
from handlers.export import export_handlers
from handlers.i18n import Catalog
from handlers.inbox import draft_reminder_handlers, inbox_handlers
from handlers.invites import invite_handlers
from handlers.limits import limit_handlers
from handlers.lists import list_handlers
from handlers.mutes import mute_handlers, stop_if_muted
from handlers.outreach import settings_handlers
from handlers.outreach_notices import notice_handlers
from handlers.people import people_handlers
from handlers.presses import on_press
from handlers.privacy import privacy_handlers
from handlers.quiet_bot import QuietBot
from handlers.services import BotContext, BotData, CategoryInfo, Services, install
from handlers.start import fallback_handlers, start_handlers
from handlers.station_admin import station_admin_handlers
from handlers.stations import station_handlers
from handlers.surveys import survey_handlers
from handlers.wishes import wish_handlers
from storage.people import UnitSpec
from storage.store import Storage

log = logging.getLogger(__name__)

# Durations from Telegram (retry_after, voice length) as timedelta, without deprecation warnings.
os.environ.setdefault("PTB_TIMEDELTA", "true")

Clock = Callable[[], datetime]

# Without a token the bot can still run against a local Bot API (tests, the sandbox).
OFFLINE_TOKEN = "1000000:offline-sandbox-token"
# Group -3 drops edits; group -2 drops a redelivered update; group -1 answers a muted person and
# stops there; handlers answer in group 0; group 1 records the update as handled (only then: a
# crash mid-way lets the redelivery through) and wakes the sender.
EDITS, BEFORE_HANDLERS, MUTES, AFTER_HANDLERS = -3, -2, -1, 1
# After the handlers: a menu button during an unfinished draft also mentions the draft.
DRAFT_REMINDERS = 2


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


async def open_storage(config: Config, now: datetime) -> Storage:
    """Open the database and make its units, staff and coordinators agree with the config."""
    storage = await Storage.open(
        config.database.location(),
        config.working_calendar(),
        # The config never changes while the bot runs: each (category, priority) is worked out once.
        functools.cache(lambda category, priority: config.spans(category, Priority(priority))),
        config.ladder(),
    )
    storage.reports.min_appeals = config.hotspots.min_appeals
    storage.appeals.max_extensions = config.deadlines.max_extensions
    storage.appeals.max_redos = config.feedback.max_redos
    storage.cohandling.accept_span = config.deadlines.cohandle_accept
    storage.cohandling.part_span = config.deadlines.cohandle_part
    storage.reports.radius_m = config.hotspots.radius_m
    storage.outreach.near_m = config.outreach.near_m
    storage.wishes.max_open = config.wishes.max_open
    await storage.people.sync_config(
        [UnitSpec(u.id, u.kind, u.zh, u.en, tuple(u.staff)) for u in config.units],
        config.coordinators,
        now,
    )
    await storage.canned_replies.sync_config({u.id: u.replies for u in config.units}, now)
    return storage


def _register(application: Application, catalog: Catalog) -> None:
    """Add every journey's handlers in one ordered block; the fallback comes last."""
    labels = catalog.all_labels
    for handler in (
        *start_handlers(labels("menu.help"), labels("menu.language") | labels("menu_former.language")),
        *list_handlers(catalog),
        *invite_handlers(),
        *limit_handlers(),
        *mute_handlers(),
        *canned_handlers(),
        *people_handlers(labels("menu2.people")),
        *desk_handlers(),
        *settings_handlers(labels("outreach.menu_settings")),
        *notice_handlers(labels("outreach2.menu")),
        *digest_handlers(labels("menu2.digest")),
        *station_handlers(labels("menu.nearest_station")),
        *wish_handlers(labels("wishes.menu")),
        # Every inline button: decoded by handlers/callbacks.py, routed by the table in handlers/presses.py.
        CallbackQueryHandler(on_press),
        # Before the inbox: it takes every other message.
        *activity_handlers(labels("activities.menu")),  # before the answer files': activities….toml is an activity file
        *survey_handlers(labels("surveys.menu")),  # survey… files, before the answer and station files
        *answers_handlers(),  # before the station files': a coordinator's answers*.json is an answer file
        *station_admin_handlers(labels("menu2.stations")),
        *export_handlers(labels("menu2.export")),
        *privacy_handlers(),
        *dialog_handlers(labels("menu.new_appeal")),  # typed answers to /activity new; else the inbox's
        *inbox_handlers(labels("menu.new_appeal")),
        *fallback_handlers(),
    ):
        application.add_handler(handler)
    menu = set().union(*(labels(f"menu.{key}") for key in ("my_appeals", "nearest_station", "help", "language")))
    menu |= labels("menu_former.language")
    for handler in draft_reminder_handlers(menu):
        application.add_handler(handler, group=DRAFT_REMINDERS)
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, _ignore_edit), group=EDITS)
    application.add_handler(TypeHandler(Update, _skip_if_handled), group=BEFORE_HANDLERS)
    application.add_handler(TypeHandler(Update, stop_if_muted), group=MUTES)
    application.add_handler(TypeHandler(Update, _after_update), group=AFTER_HANDLERS)
    application.add_error_handler(on_error)


async def queue_due_work(services: Services, config: Config) -> None:
    """Fire due ladder steps and queue any digest whose time has come; the database says what is due."""
    now = services.clock()
    for step in await services.storage.timers.fire_due(now):
        log.debug("timer step %s.%s fired for appeal %d", step.timer, step.stage, step.appeal_id)
    # A co-handling part's deadlines are per (appeal, unit): its own rows, not the appeal's timers.
    await services.storage.cohandling.remind_due(now)
    # An activity's day-before reminder (handlers/activities.py): once per activity, from its start time.
    await services.storage.activities.remind_due(now)
    digest = config.digest
    for kind, slot in (
        ("daily", latest_daily(now, digest.daily_time(), services.zone)),
        ("weekly", latest_weekly(now, digest.weekly_weekday(), digest.weekly_time(), services.zone)),
    ):
        start, end = digest_period(kind, slot, services.zone)
        await services.storage.outbox.queue_digest(kind, slot, start, now, end=end, day=slot_day(slot, services.zone))
    # Notices written before the clock went back would otherwise wait for that time to come again.
    await services.storage.outbox.release_future(now)


async def tick(services: Services, sender: OutboxSender, config: Config) -> None:
    """What the repeating job does, then send what is in the outbox (also retries)."""
    await queue_due_work(services, config)
    await sender.flush()


def _digest(update: Update) -> str:
    """What tells a redelivery from a new update that reuses the id: who, where, which message, when.

    Its chat id is how storage.privacy finds a person's records when erasing them (kept 8 days at most).
    """
    query = update.callback_query
    if query is not None:
        where = f"{query.message.chat.id}:{query.message.message_id}" if query.message else ""
        data = query.data or ""
        if data.startswith("sv:"):
            data = "sv"  # a survey's answer is never kept beside the chat that gave it (storage/surveys.py)
        return f"cq:{query.id}:{where}:{data}"
    message = update.effective_message
    if message is not None and message.date is not None:
        return f"m:{message.chat_id}:{message.message_id}:{int(message.date.timestamp())}"
    # Rare kinds of update: the whole content.
    return hashlib.sha256(json.dumps(update.to_dict(), sort_keys=True).encode()).hexdigest()[:32]


async def _ignore_edit(update: Update, context: BotContext) -> None:
    """An edited message is not new input: taken as one, an edit of an old message would answer a
    question asked since (a reason, a note) or be added to a draft's description."""
    raise ApplicationHandlerStop


async def _skip_if_handled(update: Update, context: BotContext) -> None:
    """A redelivered update (same id, same content) was handled already: stop here."""
    services = context.bot_data.services
    update_id = update.update_id
    if services is not None and await services.storage.updates.seen(update_id, _digest(update)):
        log.info("update %s was handled before; ignoring the redelivery", update_id)
        raise ApplicationHandlerStop


async def _after_update(update: Update, context: BotContext) -> None:
    """Record the update as handled, then wake the sender for the notices it wrote."""
    data = context.bot_data
    if data.services is not None and update.update_id not in data.failed_updates:
        await data.services.storage.updates.record(update.update_id, _digest(update), data.services.clock())
    if data.sender is not None:
        data.sender.kick()


async def _tick_job(context: BotContext) -> None:
    data = context.bot_data
    await queue_due_work(data.services, data.config)
    data.sender.kick()


async def _set_commands(application: Application, services: Services) -> None:
    await set_default_commands(application.bot, services.catalog)
    for person in await services.storage.people.staff_and_coordinators():
        await set_person_commands(application.bot, services.catalog, person)


def build_application(
    config: Config,
    *,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    clock: Clock = utc_now,
    pacer: Pacer | None = None,
    background: bool = True,
    catalog: Catalog | None = None,
    serve_ops: bool = False,
    workers: int = 1,
) -> Application:
    """The bot's Application for `config`.

    `request` lets tests answer in-process; with `background=False` nothing runs on its own
    (no outbox loop, no timer job) and tests drive `flush` and `tick` themselves. With `serve_ops`
    (polling), /healthz and /metrics are served on [ops] port, if one is set. Tests that start
    a bot each pass one `catalog` read once (reading both catalog files takes longer than most tests).
    One of `workers` processes (bot/workers.py) sends its share of Telegram's limits for the whole bot.
    """
    catalog = catalog or Catalog.load(config.default_language)
    metrics = Metrics(config.ops.worker_label())
    processor = MeasuredUpdates(metrics)
    token = config.telegram.token.get_secret_value() if config.telegram.token else OFFLINE_TOKEN
    if request is None:
        request, updates_request = RetryingRequest(connection_pool_size=64), HTTPXRequest(connection_pool_size=1)
    telegram_bot = QuietBot(
        token,
        base_url=config.telegram.base_url,
        base_file_url=config.telegram.base_file_url,
        request=request,
        get_updates_request=updates_request or request,
        # Replies sent straight from handlers wait out a 429 and try again; the outbox paces itself.
        # Telegram's limits are the whole bot's: each of several workers keeps to its share of them.
        rate_limiter=AIORateLimiter(
            overall_max_rate=FloodLimit.MESSAGES_PER_SECOND / workers,
            group_max_rate=FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP / workers,
            max_retries=2,
        )
        if background
        else None,
    )
    builder = (
        ApplicationBuilder()
        .bot(telegram_bot)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        # One person's updates, and presses about one appeal, in turn; different people side by side.
        .concurrent_updates(processor)
    )

    async def open_services(application: Application) -> None:
        storage = await open_storage(config, clock())
        services = Services(
            storage=storage,
            catalog=catalog,
            clock=clock,
            zone=config.zone(),
            categories=[CategoryInfo(c.id, c.zh, c.en, c.example_zh, c.example_en) for c in config.categories],
            routing=config.routing_rules(),
            wish_categories={c.id: (c.zh, c.en) for c in config.wishes.categories},
            quiet_hours=config.outreach.quiet_hours if config.outreach.keeps_quiet else None,
        )
        install(application, services)
        sender = OutboxSender(application, services, pacer)
        data: BotData = application.bot_data
        data.sender, data.config, data.metrics = sender, config, metrics
        data.tick = lambda: tick(services, sender, config)
        if background:
            # The startup heap (modules, catalog, the Application) lives as long as the bot: frozen, the
            # garbage collector's full passes stop walking it, and one that falls during a large import
            # or export pauses everyone for milliseconds instead of a tenth of a second.
            gc.collect()
            gc.freeze()
            # The database holds every timer; one repeating job reads the due ones from an index.
            application.job_queue.run_repeating(_tick_job, interval=config.reminders.poll_seconds, first=0.5)
            data.outbox_loop = asyncio.create_task(sender.run_forever(), name="outbox")
            # Notices other worker processes write: sent now if this process is the sender, not at its next round.
            storage.outbox.wake_on_new_rows(sender.kick)
        schedule_retention(
            application,
            services,
            config.privacy.retention_days,
            config.privacy.run_time().replace(tzinfo=config.zone()),
        )
        await _set_commands(application, services)
        if serve_ops and config.ops.port is not None:
            from bot.ops import start_ops_server

            data.ops_server = await start_ops_server(application, config.ops)
        log.info("bot ready: database %s, %d units", config.database.location().shown(), len(config.units))

    async def close_services(application: Application) -> None:
        data: BotData = application.bot_data
        server, data.ops_server = data.ops_server, None
        if server is not None:
            await server.cleanup()
        loop_task, data.outbox_loop = data.outbox_loop, None
        if loop_task is not None:
            loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop_task
        if data.services is not None:
            await data.services.storage.close()

    application = builder.post_init(open_services).post_shutdown(close_services).build()
    processor.failed_updates = application.bot_data.failed_updates
    _register(application, catalog)
    return application
