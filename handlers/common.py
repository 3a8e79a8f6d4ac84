"""Small pieces every journey uses: the main menu, polite refusals, who is asking."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from handlers.group_press import moved_to_private
from handlers.i18n import Catalog
from handlers.keyboards import Keyboard, reply_keyboard, request_button, text_button
from handlers.quiet_bot import QuietBot
from handlers.services import BotContext, Services, Who, who

Handler = Callable[[Update, BotContext], Awaitable[None]]
RoleHandler = Callable[[Update, BotContext, Who], Awaitable[None]]

__all__ = [
    "MENU_COUNT_CAP",
    "coordinator_press",
    "command_and_button",
    "counted_label",
    "drop_keyboard",
    "drop_pressed_button",
    "edit_or_reply",
    "for_role",
    "main_menu",
    "menu_count",
    "refuse",
    "reply",
    "require_role",
    "retire_buttons",
    "share_keyboard",
    "who",
    "Who",
]


# Menu counts stop here: past it a button says "99+", and counting the rest would cost every menu.
MENU_COUNT_CAP = 100


async def main_menu(services: Services, me: Who) -> Keyboard:
    """The main menu for this person's role, as a reply keyboard.

    Couriers: file, their appeals, Nearest station (shares the location in one tap). Staff: their
    unit's queue with its count, then the courier's menu. Coordinators: their tools, triage counted.
    """
    lang, person = me.lang, me.person
    t = lambda key, **values: text_button(services.text(lang, key, **values))  # noqa: E731
    tail = [t("menu.help"), t("menu.language")]
    if person.role == "coordinator":
        waiting = await services.storage.appeals.triage_count(at_most=MENU_COUNT_CAP)
        return reply_keyboard(
            [
                [t("menu2.triage", count=menu_count(waiting)), t("menu2.digest")],
                [t("menu2.export"), t("menu2.stations"), t("menu2.people")],
                # Reaching out (handlers/outreach_notices.py, activities.py, surveys.py, wishes.py).
                [t("outreach2.menu"), t("activities.menu"), t("surveys.menu"), t("wishes.menu")],
                tail,
            ]
        )
    # An open survey to answer (handlers/surveys.py): couriers are asked; staff preview it from /surveys.
    if person.role == "courier" and await services.storage.surveys.open_for(person.telegram_id):
        tail = [*tail, t("surveys.menu")]
    rows = [
        [t("menu.new_appeal"), t("menu.my_appeals")],
        [request_button(services.text(lang, "menu.nearest_station"), location=True), t("wishes.menu")],
        [t("activities.menu")],  # activities with sign-up (handlers/activities.py)
        [*tail, t("outreach.menu_settings")],  # what they hear about (handlers/outreach.py)
    ]
    if person.role == "staff" and person.unit_id is not None:
        open_appeals = await services.storage.appeals.queue_count(person.unit_id, at_most=MENU_COUNT_CAP)
        rows.insert(0, [t("menu2.queue", count=menu_count(open_appeals))])
    return reply_keyboard(rows)


def menu_count(count: int) -> str:
    """A count as a menu button shows it: exact up to 99, then "99+" (as a phone's badge)."""
    return f"{MENU_COUNT_CAP - 1}+" if count >= MENU_COUNT_CAP else str(count)


def counted_label(catalog: Catalog, key: str) -> str:
    """A regex matching the menu label `key` in any language, whatever number its {count} shows."""
    labels = (
        re.escape(label).replace(re.escape("{count}"), r"\d{1,2}\+?") for label in sorted(catalog.all_labels(key))
    )
    return "^(?:" + "|".join(labels) + ")$"


def _bot(update: Update) -> QuietBot:
    return update.get_bot()  # type: ignore[return-value]  # build_application makes it a QuietBot


def reply_chat(update: Update) -> int:
    """Where answers to `update` go: its chat, but a press in a group (a unit's shared card,
    handlers/desk.py) is answered in the presser's own chat, where the bot can read what they type next."""
    chat = update.effective_chat
    if update.callback_query is not None and chat is not None and chat.type != chat.PRIVATE:
        return update.effective_user.id
    return chat.id


async def reply(update: Update, text: str, reply_markup: Keyboard | None = None) -> int:
    """Send `text` to the chat the update came from (a group press: the presser's own chat; user text is
    sent without a parse mode); its message id."""
    chat_id = reply_chat(update)
    if update.effective_chat is not None and chat_id != update.effective_chat.id:
        moved_to_private()
    return await _bot(update).send_text(chat_id, text, reply_markup)


def _not_modified(error: BadRequest) -> bool:
    return "not modified" in str(error).lower()


async def drop_keyboard(update: Update) -> None:
    """Remove the buttons of the pressed message, if it still has any and the bot can still reach it."""
    query = update.callback_query
    # A message too old or deleted arrives without content (an InaccessibleMessage): nothing to edit.
    if not isinstance(query.message, Message) or query.message.reply_markup is None:
        return
    try:
        await _bot(update).edit_markup(query.message.chat.id, query.message.message_id)
    except BadRequest as error:
        if not _not_modified(error):  # a second tap that came in before the first one's edit
            raise


async def drop_pressed_button(update: Update) -> None:
    """Take the pressed button off its message, keeping the others (a Stop that has done its work)."""
    query = update.callback_query
    if not isinstance(query.message, Message) or query.message.reply_markup is None:
        return
    rows = [
        [b for b in row if b.get("callback_data") != query.data]
        for row in query.message.reply_markup.to_dict()["inline_keyboard"]
    ]
    rows = [row for row in rows if row]
    try:
        await _bot(update).edit_markup(
            query.message.chat.id, query.message.message_id, {"inline_keyboard": rows} if rows else None
        )
    except BadRequest as error:
        if not _not_modified(error):
            raise


async def edit_or_reply(update: Update, text: str, reply_markup: Keyboard | None = None) -> int:
    """Show `text` in place of the pressed message, or as a new message when that one cannot be edited;
    the id of the message that shows it."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message) and query.message.text is not None:
        try:
            await _bot(update).edit_text(query.message.chat.id, query.message.message_id, text, reply_markup)
            return query.message.message_id
        except BadRequest as error:
            if _not_modified(error):
                return query.message.message_id
            # Deleted or no longer editable since it was pressed: say it anew below.
    # Too old, deleted, or a photo or venue: only a message with text can take new text.
    return await reply(update, text, reply_markup=reply_markup)


async def retire_buttons(update: Update, message_id: int | None) -> None:
    """Take the buttons off one of the bot's earlier messages in this chat, if it still has any."""
    if message_id is None:
        return
    try:
        await _bot(update).edit_markup(reply_chat(update), message_id)
    except BadRequest:
        pass  # already without buttons, or deleted: nothing to take away


async def refuse(update: Update, context: BotContext, lang: str, key: str, **values: object) -> None:
    """Say no politely: as an alert on a button press, as a message otherwise."""
    text = context.services.text(lang, key, **values)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, text)


def share_keyboard(label: str, *, location: bool = False, contact: bool = False) -> Keyboard:
    """A one-button reply keyboard that asks Telegram for the person's location or own contact."""
    return reply_keyboard([[request_button(label, location=location, contact=contact)]], one_time=True)


async def require_role(update: Update, context: BotContext, me: Who, role: str) -> bool:
    """Whether the database says `me` has `role`; if not, say whose command it is."""
    if me.person.role == role and (role != "staff" or me.person.unit_id is not None):
        return True
    key = {"staff": "staff.not_staff", "coordinator": "coord.not_coordinator"}[role]
    await reply(update, context.services.text(me.lang, key))
    return False


def for_role(role: str) -> Callable[[RoleHandler], Handler]:
    """A command that runs only for a person the database says has `role`; anyone else is told whose it is."""

    def wrap(handler: RoleHandler) -> Handler:
        @functools.wraps(handler)
        async def run(update: Update, context: BotContext) -> None:
            me = await who(update, context)
            if await require_role(update, context, me, role):
                await handler(update, context, me)

        return run

    return wrap


async def coordinator_press(update: Update, context: BotContext, me: Who) -> bool:
    """Whether the presser is a coordinator, read from the database; if not, refuse the press saying so."""
    if me.person.role == "coordinator":
        return True
    await refuse(update, context, me.lang, "coord.not_coordinator")
    return False


def command_and_button(command: str, callback: Handler, labels: Iterable[str]) -> list[BaseHandler]:
    """A private chat's /`command` and its menu button (any of `labels`), both reaching `callback`."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler(command, callback, filters=private),
        MessageHandler(private & filters.Text(sorted(labels)), callback),
    ]
