"""The services every handler reaches through one typed accessor on the context."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackContext

from domain.periods import day_text
from domain.routing import Rule
from handlers.i18n import Catalog
from handlers.quiet_bot import QuietBot
from storage.models import Person
from storage.store import Storage

if TYPE_CHECKING:
    from aiohttp import web

    from bot.config import Config
    from bot.metrics import Metrics
    from bot.outbox_sender import OutboxSender


@dataclass(frozen=True)
class CategoryInfo:
    """A category as people see it."""

    id: str
    zh: str
    en: str
    example_zh: str = ""
    example_en: str = ""

    def name(self, language: str) -> str:
        """The category's name in `language`."""
        return self.zh if language == "zh" else self.en

    def example(self, language: str) -> str:
        """A few examples of what belongs in it, in `language` ("" if the config gives none)."""
        return self.example_zh if language == "zh" else self.example_en


@dataclass
class Services:
    """What handlers need: the database, the messages, the clock and the district's setup."""

    storage: Storage
    catalog: Catalog
    clock: Callable[[], datetime]
    zone: ZoneInfo
    categories: list[CategoryInfo] = field(default_factory=list)
    routing: list[Rule] = field(default_factory=list)
    # What a courier may wish for (微心愿): id -> (zh, en), in the config's order.
    wish_categories: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The district's quiet hours for outreach ("21:00-08:00", from [outreach]), or None when it keeps none.
    quiet_hours: str | None = None

    def category(self, category_id: str) -> CategoryInfo | None:
        """A configured category by id."""
        return next((c for c in self.categories if c.id == category_id), None)

    def text(self, lang: str | None, key: str, /, **values: object) -> str:
        """A message from the catalog."""
        return self.catalog.text(lang, key, **values)

    def with_quiet(self, lang: str, text: str) -> str:
        """`text`, then the sentence that says outreach waits out quiet hours (with their times), where the
        district keeps any: a promise the bot makes only where it holds."""
        if self.quiet_hours is None:
            return text
        return text + ("" if lang == "zh" else " ") + self.text(lang, "quiet.clause", hours=self.quiet_hours)

    def local(self, moment: datetime | None, lang: str) -> str:
        """A moment as people in the district read it: 12月7日 周一 18:00, Mon 7 Dec 18:00 (the year only
        when it is not this year's)."""
        if moment is None:
            return "—"
        local = moment.astimezone(self.zone)
        other_year = local.year != self.clock().astimezone(self.zone).year
        return f"{day_text(local.date(), lang, with_year=other_year)} {local.hour:02d}:{local.minute:02d}"


@dataclass
class BotData:
    """The Application's bot_data (ContextTypes(bot_data=BotData)): everything the bot runs with, typed.

    Empty until post_init opens the services; `services` is None again only if opening failed.
    """

    services: Services | None = None
    config: Config | None = None
    sender: OutboxSender | None = None
    # What the repeating job does (fire due timers, send the outbox); tests call it by hand.
    tick: Callable[[], Awaitable[None]] | None = None
    outbox_loop: asyncio.Task | None = None
    # The Prometheus metrics (bot/metrics.py), and the small server of /healthz and /metrics when polling.
    metrics: Metrics | None = None
    ops_server: web.AppRunner | None = None
    # Updates whose handler failed: not recorded as handled, so a redelivery is tried again.
    failed_updates: set[int] = field(default_factory=set)


class BotContext(CallbackContext[QuietBot, dict, dict, BotData]):
    """The callback context, with the services typed."""

    @property
    def services(self) -> Services:
        """The bot's services, opened in post_init."""
        services = self.bot_data.services
        assert services is not None, "handlers run only after post_init opened the services"
        return services


def install(application: Application, services: Services) -> None:
    """Make `services` reachable from every handler's context."""
    application.bot_data.services = services


@dataclass(frozen=True)
class Who:
    """The person behind an update, as the database knows them, and their language."""

    person: Person
    lang: str


async def who(update: Update, context: BotContext) -> Who:
    """Load (or first record) the person behind `update`; their role always comes from the database."""
    services = context.services
    user = update.effective_user
    assert user is not None, "handlers are only registered for updates with a user"
    person = await services.storage.people.get(user.id)
    lang = services.catalog.language_for(person.language if person else None, user.language_code)
    if person is None:
        person = await services.storage.people.seen(user.id, lang, services.clock())
    else:
        if person.language is None:
            # Remember it, so notices sent later (with no update to read it from) use it too.
            await services.storage.people.set_language(user.id, lang)
        if not person.reachable:
            await services.storage.people.set_reachable(user.id, True)  # they wrote: they unblocked us
    return Who(person, lang)
