"""The command list Telegram shows under "/": the courier's for everyone, each worker's and coordinator's own."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from handlers.i18n import Catalog
from storage.models import Person

COMMANDS = (
    "start",
    "appeal",
    "my",
    "station",
    "wishes",
    "activities",
    "privacy",
    "settings",
    "help",
    "language",
    "cancel",
)
# Staff can do what couriers do, and work their queue; coordinators have their own tools instead.
ROLE_COMMANDS = {
    "staff": ("queue", "open", "replies", *COMMANDS),
    "coordinator": (
        "start",
        "triage",
        "digest",
        "export",
        "stations",
        "answers",
        "activities",
        "surveys",
        "wishes",
        "people",
        "invite",
        "invites",
        "open",
        "undelivered",
        "notice",
        "outreach",
        "help",
        "language",
        "cancel",
    ),
}
# Commands described outside the courier's [commands] and the tools' [commands2] tables.
_DESCRIBED = {
    "invites": "invites15.command",
    "replies": "canned.command",
    "answers": "answers.command",
    "settings": "outreach.command_settings",
    "notice": "outreach.command_notice",
    "outreach": "outreach.command_outreach",
    "activities": "activities.command",
    "surveys": "surveys.command",
    "wishes": "wishes.command",
}


def _listed(catalog: Catalog, lang: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [
        BotCommand(c, catalog.text(lang, _DESCRIBED.get(c) or (f"commands.{c}" if c in COMMANDS else f"commands2.{c}")))
        for c in names
    ]


async def set_default_commands(bot: Bot, catalog: Catalog) -> None:
    """The courier's commands, for everyone, in each language."""
    for lang in catalog.messages:
        code = None if lang == catalog.default else lang
        await bot.set_my_commands(_listed(catalog, lang, COMMANDS), language_code=code)


async def set_person_commands(bot: Bot, catalog: Catalog, person: Person) -> None:
    """A worker's or coordinator's own command list, in their chat (a courier keeps the default one)."""
    names = ROLE_COMMANDS.get(person.role)
    if names is None or (person.role == "staff" and person.unit_id is None):
        return
    lang = catalog.language_for(person.language, None)
    try:
        await bot.set_my_commands(_listed(catalog, lang, names), scope=BotCommandScopeChat(person.telegram_id))
    except TelegramError:
        # Someone who never opened the chat has no chat to scope to yet; the menu and /help still show all.
        pass
