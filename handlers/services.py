"""The services every handler reaches through one typed accessor on the context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from domain.routing import Rule
from handlers.i18n import Catalog
from storage.models import Person
from storage.store import Storage


@dataclass(frozen=True)
class CategoryInfo:
    """A category as people see it."""

    id: str
    zh: str
    en: str

    def name(self, language: str) -> str:
        """The category's name in `language`."""
        return self.zh if language == "zh" else self.en


@dataclass
class Services:
    """What handlers need: the database, the messages, the clock and the district's setup."""

    storage: Storage
    catalog: Catalog
    clock: Callable[[], datetime]
    categories: list[CategoryInfo] = field(default_factory=list)
    routing: list[Rule] = field(default_factory=list)


SERVICES_KEY = "services"


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """The callback context, with the services typed."""

    @property
    def services(self) -> Services:
        """The bot's services, opened in post_init."""
        return self.application.bot_data[SERVICES_KEY]


def install(application: Application, services: Services) -> None:
    """Make `services` reachable from every handler's context."""
    application.bot_data[SERVICES_KEY] = services


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
    if person is None:
        person = await services.storage.people.seen(user.id, None, services.clock())
    return Who(person, services.catalog.language_for(person.language, user.language_code))
