"""Where a private message goes: owed text first, then the draft, then the rest (buttons: handlers/presses.py)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from domain.geo import on_earth
from handlers import appeal_actions, filing, stations
from handlers.common import main_menu, refuse, reply, who
from handlers.services import BotContext
from handlers.start import not_understood

log = logging.getLogger(__name__)


async def on_message(update: Update, context: BotContext) -> None:
    """A private message that is not a command or a menu button."""
    me = await who(update, context)
    location = update.effective_message.location
    if location is not None and not on_earth(location.latitude, location.longitude, location.horizontal_accuracy):
        # Telegram's clients cannot send one, but whatever reaches the bot is checked before it is kept.
        await refuse(update, context, me.lang, "stations.bad_location")
        return
    dialogs = context.services.storage.dialogs
    prompt = await dialogs.prompt(me.person.telegram_id)
    if prompt is not None:
        await appeal_actions.on_typed(update, context, me, prompt)
        return
    draft = await dialogs.draft(me.person.telegram_id)
    if draft is not None:
        await filing.on_message(update, context, me, draft)
        return
    if update.effective_message.location is not None:
        await stations.show_nearest(update, context, me)
        return
    await not_understood(update, context)


async def new_appeal(update: Update, context: BotContext) -> None:
    """/appeal and the "New appeal" button."""
    await filing.begin(update, context, await who(update, context))


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel: drop what the bot was waiting for, and the draft."""
    me = await who(update, context)
    storage = context.services.storage
    dropped = await storage.dialogs.clear_prompt(me.person.telegram_id)
    dropped = await storage.dialogs.drop_draft(me.person.telegram_id) or dropped
    key = "cancel.done" if dropped else "cancel.nothing"
    await reply(update, context.services.text(me.lang, key), reply_markup=main_menu(context.services, me.lang))


def inbox_handlers(new_appeal_labels: set[str]) -> list[BaseHandler]:
    """/appeal, /cancel, and plain private messages."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("appeal", new_appeal, filters=private),
        MessageHandler(private & filters.Text(sorted(new_appeal_labels)), new_appeal),
        CommandHandler("cancel", cancel, filters=private),
        MessageHandler(private & ~filters.COMMAND, on_message),
    ]
