"""Small pieces every journey uses: the main menu, polite refusals, who is asking."""

from __future__ import annotations

from telegram import ReplyKeyboardMarkup, Update

from handlers.services import BotContext, Services, Who, who

__all__ = ["main_menu", "refuse", "reply", "who", "Who"]


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
