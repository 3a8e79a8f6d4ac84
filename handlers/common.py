"""Small pieces every journey uses: the main menu, polite refusals, who is asking."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update

from handlers.services import BotContext, Services, Who, who

__all__ = ["main_menu", "refuse", "reply", "require_role", "share_keyboard", "who", "Who"]


def main_menu(services: Services, lang: str) -> ReplyKeyboardMarkup:
    """The main menu as a reply keyboard."""
    t = lambda key: services.text(lang, key)  # noqa: E731
    return ReplyKeyboardMarkup(
        [
            [t("menu.new_appeal"), t("menu.my_appeals")],
            [t("menu.nearest_station")],
            [t("menu.help"), t("menu.language")],
        ],
        resize_keyboard=True,
    )


async def reply(update: Update, text: str, **kwargs) -> None:
    """Send `text` to the chat the update came from (user text is sent without a parse mode)."""
    await update.effective_chat.send_message(text, **kwargs)


async def refuse(update: Update, context: BotContext, lang: str, key: str, **values: object) -> None:
    """Say no politely: as an alert on a button press, as a message otherwise."""
    text = context.services.text(lang, key, **values)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, text)


def share_keyboard(label: str, *, location: bool = False, contact: bool = False) -> ReplyKeyboardMarkup:
    """A one-button reply keyboard that asks Telegram for the person's location or own contact."""
    button = KeyboardButton(label, request_location=location, request_contact=contact)
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)


async def require_role(update: Update, context: BotContext, me: Who, role: str) -> bool:
    """Whether the database says `me` has `role`; if not, say whose command it is."""
    if me.person.role == role and (role != "staff" or me.person.unit_id is not None):
        return True
    key = {"staff": "staff.not_staff", "coordinator": "coord.not_coordinator"}[role]
    await reply(update, context.services.text(me.lang, key))
    return False
