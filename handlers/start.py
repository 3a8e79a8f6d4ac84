"""Greeting, help and language: what anyone can do at any time."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from handlers import callbacks, filing
from handlers.callbacks import Press
from handlers.commands import set_person_commands
from handlers.common import Who, command_and_button, edit_or_reply, main_menu, refuse, reply, who
from handlers.i18n import LANGUAGES
from handlers.keyboards import button, inline
from handlers.services import BotContext

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


async def start(update: Update, context: BotContext) -> None:
    """Greet the person in their language and show the main menu."""
    me = await who(update, context)
    catalog = context.services.catalog
    name = update.effective_user.first_name
    text = "\n".join(
        (
            catalog.text(me.lang, "start.greeting", name=name),
            await _about(context, me),
            catalog.text(me.lang, "start.menu_hint"),
        )
    )
    await reply(update, text, reply_markup=await main_menu(context.services, me))
    draft = await context.services.storage.dialogs.draft(me.person.telegram_id)
    if draft is not None and draft.open:
        await filing.remind(update, context, me, draft)


async def _about(context: BotContext, me: Who) -> str:
    """What the bot does for this person, by the role the database gives them."""
    services = context.services
    if me.person.role == "coordinator":
        return services.text(me.lang, "start2.about_coordinator")
    if me.person.role == "staff" and me.person.unit_id is not None:
        unit = await services.storage.people.unit(me.person.unit_id)
        return services.text(me.lang, "start2.about_staff", unit=unit.name(me.lang) if unit else me.person.unit_id)
    return services.text(me.lang, "start.about")


def help_keys(role: str) -> tuple[str, ...]:
    """The help sections for a role: a courier's, staff's own plus the courier's, a coordinator's own."""
    return {
        "staff": ("help.courier", "help.staff"),
        "coordinator": ("help.coordinator",),
    }.get(role, ("help.courier",))


async def show_help(update: Update, context: BotContext) -> None:
    """List exactly what this person can do, by the role the database gives them."""
    me = await who(update, context)
    role = me.person.role if me.person.role != "staff" or me.person.unit_id is not None else "courier"
    text = "\n\n".join(context.services.text(me.lang, key) for key in help_keys(role))
    await reply(update, text, reply_markup=await main_menu(context.services, me))


async def ask_language(update: Update, context: BotContext) -> None:
    """Offer the languages as buttons."""
    me = await who(update, context)
    buttons = [button(LANGUAGE_NAMES[lang], callbacks.language(lang)) for lang in LANGUAGES]
    await reply(
        update,
        context.services.catalog.text(me.lang, "language.prompt"),
        reply_markup=inline([buttons]),
    )


async def set_language(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A language button: store the chosen language and answer in it."""
    query = update.callback_query
    lang = press.arg
    if lang not in LANGUAGES:
        await refuse(update, context, me.lang, "press.invalid")
        return
    await query.answer()
    await context.services.storage.people.set_language(update.effective_user.id, lang)
    await set_person_commands(
        update.get_bot(), context.services.catalog, me.person.model_copy(update={"language": lang})
    )
    await edit_or_reply(update, context.services.catalog.text(lang, "language.set"))
    await reply(
        update,
        context.services.catalog.text(lang, "start.menu_hint"),
        reply_markup=await main_menu(context.services, Who(me.person, lang)),
    )


async def not_understood(update: Update, context: BotContext) -> None:
    """Anything no journey can take (a sticker, say): what the bot does, and the menu; never silence."""
    me = await who(update, context)
    await reply(
        update,
        context.services.catalog.text(me.lang, "fallback.not_understood"),
        reply_markup=await main_menu(context.services, me),
    )


def start_handlers(help_labels: set[str], language_labels: set[str]) -> list[BaseHandler]:
    """Handlers for /start, /help, /language and their menu buttons (the language buttons: handlers/presses.py)."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        *command_and_button("help", show_help, help_labels),
        *command_and_button("language", ask_language, language_labels),
    ]


def fallback_handlers() -> list[BaseHandler]:
    """The last handlers: whatever nobody else took in a private chat."""
    return [MessageHandler(filters.ChatType.PRIVATE, not_understood)]
