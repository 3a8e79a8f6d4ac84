"""Where a private message goes (free text: handlers/free_text.py; buttons: handlers/presses.py), and the draft's reminders."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from domain.geo import on_earth
from handlers import filing, free_text, outreach_notices
from handlers.common import command_and_button, main_menu, refuse, reply, retire_buttons, who
from handlers.services import BotContext

log = logging.getLogger(__name__)


async def on_message(update: Update, context: BotContext) -> None:
    """A private message that is not a command or a menu button."""
    me = await who(update, context)
    location = update.effective_message.location
    if location is not None and not on_earth(location.latitude, location.longitude, location.horizontal_accuracy):
        # Telegram's clients cannot send one, but whatever reaches the bot is checked before it is kept.
        await refuse(update, context, me.lang, "stations.bad_location")
        return
    await free_text.on_message(update, context, me)


async def new_appeal(update: Update, context: BotContext) -> None:
    """/appeal and the "New appeal" button."""
    await filing.begin(update, context, await who(update, context))


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel: drop what the bot was waiting for, and the draft (with any kept text)."""
    me = await who(update, context)
    storage = context.services.storage
    dropped = await storage.dialogs.clear_prompt(me.person.telegram_id)
    dropped = await storage.wishes.drop_dialog(me.person.telegram_id) or dropped
    draft = await storage.dialogs.draft(me.person.telegram_id)
    if draft is not None:
        await retire_buttons(update, draft.buttons_at)  # the step it was at asks no more
    dropped = await storage.dialogs.drop_draft(me.person.telegram_id) or dropped
    dropped = await outreach_notices.cancel(context, me.person.telegram_id) or dropped
    dropped = await storage.surveys.stop_waiting(me.person.telegram_id) or dropped  # kept to continue later
    key = "cancel.done" if dropped else "cancel.nothing"
    await reply(update, context.services.text(me.lang, key), reply_markup=await main_menu(context.services, me))


# "cancel" typed as a word does what /cancel does: a hurried person does not type the slash, and the
# word must never end up in an appeal as its description or a phone step's words.
CANCEL_WORDS = filters.Regex(r"(?i)^\s*(cancel|取消|退出)\s*[.。!！]?\s*$")


def inbox_handlers(new_appeal_labels: set[str]) -> list[BaseHandler]:
    """/appeal, /cancel (or the word alone), and plain private messages."""
    private = filters.ChatType.PRIVATE
    return [
        *command_and_button("appeal", new_appeal, new_appeal_labels),
        CommandHandler("cancel", cancel, filters=private),
        MessageHandler(private & filters.TEXT & CANCEL_WORDS, cancel),
        MessageHandler(private & ~filters.COMMAND, on_message),
    ]


async def remind_draft(update: Update, context: BotContext) -> None:
    """After a menu button or command has done its work: an unfinished appeal is mentioned, with Continue and Discard."""
    me = await who(update, context)
    draft = await context.services.storage.dialogs.draft(me.person.telegram_id)
    if draft is not None and draft.open:
        await filing.remind(update, context, me, draft)


async def forget_share_keyboard(update: Update, context: BotContext) -> None:
    """Another journey answered (and may have shown the menu): a location is no longer the place step's."""
    user = update.effective_user
    dialogs = context.services.storage.dialogs
    draft = await dialogs.draft(user.id)
    if draft is not None and draft.keyboard is not None:
        await dialogs.save_draft(user.id, draft.model_copy(update={"keyboard": None}), context.services.clock())


# The menu's own buttons and commands (New appeal, /appeal and /start say it themselves).
_MENU_COMMANDS = filters.Regex(r"^/(my|help|language|station)(@\w+)?(\s|$)")


def draft_reminder_handlers(menu_labels: set[str]) -> list[BaseHandler]:
    """For a group after the handlers: menu buttons and commands mention an unfinished draft; other presses
    and commands forget the dialog's share keyboard, so the menu's Nearest station is never taken as the place."""
    private = filters.ChatType.PRIVATE
    return [
        MessageHandler(private & (filters.Text(sorted(menu_labels)) | _MENU_COMMANDS), remind_draft),
        MessageHandler(private & filters.COMMAND, forget_share_keyboard),
        CallbackQueryHandler(forget_share_keyboard, pattern=r"^(?!dr:)"),
    ]
