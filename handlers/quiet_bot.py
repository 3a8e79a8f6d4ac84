"""The bot's Telegram client: python-telegram-bot's ExtBot, plus sends that do not parse Telegram's answer."""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import ExtBot

from handlers.keyboards import Keyboard
from handlers.telegram_text import CAPTION, TEXT, TOAST, shorten, units

log = logging.getLogger(__name__)


class QuietBot(ExtBot):
    """ExtBot with sends whose answer nobody reads.

    python-telegram-bot builds a Message from every answer, keyboard included: about 120 µs a
    message (bench/throughput.py), spent on an object no handler looks at. These go through the same
    request path (rate limiter, retries, errors raised as TelegramError) and return nothing.
    Whatever a screen composed, no text goes out longer than Telegram takes (handlers/telegram_text.py):
    the screens keep within it themselves, and this is the last guard, so nothing is refused for length.
    """

    async def send_text(
        self, chat_id: int, text: str, reply_markup: Keyboard | None = None, reply_to: int | None = None
    ) -> int:
        """sendMessage (as a reply to message `reply_to`, if it is still there), without building a
        Message from the answer; returns the new message's id."""
        data = {"chat_id": chat_id, "text": text, "reply_markup": reply_markup}
        if reply_to is not None:
            data["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        return (await self._post("sendMessage", data))["message_id"]

    async def edit_text(self, chat_id: int, message_id: int, text: str, reply_markup: Keyboard | None = None) -> None:
        """editMessageText, without building a Message from the answer."""
        data = {"chat_id": chat_id, "message_id": message_id, "text": text, "reply_markup": reply_markup}
        await self._post("editMessageText", data)

    async def edit_markup(self, chat_id: int, message_id: int, reply_markup: Keyboard | None = None) -> None:
        """editMessageReplyMarkup (None takes the buttons away), without building a Message from the answer."""
        data = {"chat_id": chat_id, "message_id": message_id, "reply_markup": reply_markup}
        await self._post("editMessageReplyMarkup", data)

    async def _post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Every request, its text and caption within Telegram's limits (cut with "…" only if a screen did not keep to them)."""
        if data:
            data = dict(data)
            for field, limit in (("text", TOAST if endpoint == "answerCallbackQuery" else TEXT), ("caption", CAPTION)):
                value = data.get(field)
                if isinstance(value, str) and units(value) > limit:
                    # Never the words themselves (they may be people's): which call, and how long.
                    log.warning("%s: a %s of %d units cut to Telegram's %d", endpoint, field, units(value), limit)
                    data[field] = shorten(value, limit)
        return await super()._post(endpoint, data, **kwargs)
