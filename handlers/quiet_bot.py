"""The bot's Telegram client: python-telegram-bot's ExtBot, plus sends that do not parse Telegram's answer."""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

from telegram import Message
from telegram.error import BadRequest
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from handlers.group_press import holds_back
from handlers.keyboards import Keyboard
from handlers.telegram_text import CAPTION, TEXT, TOAST, shorten, units

log = logging.getLogger(__name__)

# The raw sends below go through do_api_request, which suggests the method of the same name for an
# endpoint python-telegram-bot knows; that method would build the Message this avoids on purpose.
_RAW_SENDS = r"Please use 'Bot\.(sendMessage|editMessageText|editMessageReplyMarkup)'"
# Telegram's answer to answerCallbackQuery for a query answered before, or older than it keeps them.
_QUERY_GONE = re.compile(r"query is too old|query id is invalid", re.IGNORECASE)


class QuietBot(ExtBot):
    """ExtBot with sends whose answer nobody reads.

    python-telegram-bot builds a Message from every answer, keyboard included: about 120 µs a
    message (bench/throughput.py), spent on an object no handler looks at. These go through its public
    `do_api_request` (the same request path: rate limiter, retries, errors raised as TelegramError)
    and return nothing, or the new message's id. Whatever a screen composed, no text goes out longer
    than Telegram takes (handlers/telegram_text.py): the screens keep within it themselves, and this
    client is the last guard, so nothing is refused for length.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        warnings.filterwarnings("ignore", message=_RAW_SENDS, category=PTBUserWarning)

    async def send_text(
        self,
        chat_id: int,
        text: str,
        reply_markup: Keyboard | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """sendMessage (as a reply to message `reply_to`, if it is still there; into a forum's topic
        `thread_id`, if given), without building a Message from the answer; returns the new message's id."""
        data = {"chat_id": chat_id, "text": within("sendMessage", "text", text), "reply_markup": reply_markup}
        if thread_id is not None:
            data["message_thread_id"] = thread_id
        if reply_to is not None:
            data["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        return (await self.do_api_request("sendMessage", api_kwargs=data))["message_id"]

    async def edit_text(self, chat_id: int, message_id: int, text: str, reply_markup: Keyboard | None = None) -> None:
        """editMessageText, without building a Message from the answer."""
        text = within("editMessageText", "text", text)
        data = {"chat_id": chat_id, "message_id": message_id, "text": text, "reply_markup": reply_markup}
        await self.do_api_request("editMessageText", api_kwargs=data)

    async def edit_markup(self, chat_id: int, message_id: int, reply_markup: Keyboard | None = None) -> None:
        """editMessageReplyMarkup (None takes the buttons away), without building a Message from the answer."""
        data = {"chat_id": chat_id, "message_id": message_id, "reply_markup": reply_markup}
        await self.do_api_request("editMessageReplyMarkup", api_kwargs=data)

    # python-telegram-bot's own sends, with the same last guard on their text or caption.

    async def send_message(self, chat_id: int | str, text: str, *args: Any, **kwargs: Any) -> Message:
        """sendMessage, its text within Telegram's limit."""
        return await super().send_message(chat_id, within("sendMessage", "text", text), *args, **kwargs)

    async def answer_callback_query(
        self, callback_query_id: str, text: str | None = None, *args: Any, **kwargs: Any
    ) -> bool:
        """answerCallbackQuery, its toast within Telegram's limit; a wordless answer to a group press waits for
        the press to end (handlers/group_press.py)."""
        if not args and holds_back(callback_query_id, text, bool(kwargs.get("show_alert"))):
            return True
        text = within("answerCallbackQuery", "text", text, TOAST)
        try:
            return await super().answer_callback_query(callback_query_id, text, *args, **kwargs)
        except BadRequest as error:
            if not _QUERY_GONE.search(error.message):
                raise
            # Answered already (the press is delivered again: a worker died after answering it, before its
            # record was written) or too old: the toast cannot show now, and failing the press for it would
            # fail every redelivery too, so a webhook would be sent it again and again.
            log.info("a press could not be answered: its query is answered already or too old")
            return False

    async def send_photo(self, *args: Any, caption: str | None = None, **kwargs: Any) -> Message:
        """sendPhoto, its caption within Telegram's limit."""
        return await super().send_photo(*args, caption=within("sendPhoto", "caption", caption, CAPTION), **kwargs)

    async def send_document(self, *args: Any, caption: str | None = None, **kwargs: Any) -> Message:
        """sendDocument, its caption within Telegram's limit."""
        return await super().send_document(*args, caption=within("sendDocument", "caption", caption, CAPTION), **kwargs)

    async def send_voice(self, *args: Any, caption: str | None = None, **kwargs: Any) -> Message:
        """sendVoice, its caption within Telegram's limit."""
        return await super().send_voice(*args, caption=within("sendVoice", "caption", caption, CAPTION), **kwargs)


def within(endpoint: str, field: str, value: str | None, limit: int = TEXT) -> str | None:
    """`value` as sent: cut with "…" only if a screen did not keep to Telegram's `limit` (and logged, without the words)."""
    if value is None or units(value) <= limit:
        return value
    # Never the words themselves (they may be people's): which call, and how long.
    log.warning("%s: a %s of %d units cut to Telegram's %d", endpoint, field, units(value), limit)
    return shorten(value, limit)
