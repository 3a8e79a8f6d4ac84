"""Reply markups as the Bot API takes them: plain JSON dicts, not python-telegram-bot objects.

Building an InlineKeyboardMarkup and turning it back into JSON with to_dict costs about 100 µs
(bench/throughput.py); python-telegram-bot sends a dict as it is. Keys are written in the order
to_dict wrote them, so Telegram receives the same bytes as before (tests/handlers/test_keyboards.py
checks this against python-telegram-bot).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Button", "Keyboard", "button", "inline", "reply_keyboard", "request_button", "rows_of", "text_button"]

Keyboard = dict[str, Any]  # a reply_markup, as the Bot API's JSON
Button = dict[str, Any]  # one button of a Keyboard


def button(text: str, data: str) -> Button:
    """An inline button that sends `data` back as its callback_data."""
    return {"callback_data": data, "text": text}


def inline(rows: list[list[Button]]) -> Keyboard:
    """An inline keyboard: buttons under the message, row by row."""
    return {"inline_keyboard": rows}


def rows_of(buttons: list[Button], width: int = 3) -> list[list[Button]]:
    """Buttons laid out `width` to a row, in order."""
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def text_button(text: str) -> Button:
    """A reply keyboard button that sends its label as a message."""
    return {"text": text}


def request_button(text: str, *, location: bool = False, contact: bool = False) -> Button:
    """A reply keyboard button that asks Telegram for the person's location or own contact."""
    # python-telegram-bot sent both flags, false ones included; kept so the JSON stays the same.
    return {"request_contact": contact, "request_location": location, "text": text}


def reply_keyboard(rows: list[list[Button]], *, one_time: bool = False) -> Keyboard:
    """A reply keyboard in place of the letter keys, sized to its buttons; `one_time` hides it after a press."""
    keyboard: Keyboard = {"keyboard": rows}
    if one_time:
        keyboard["one_time_keyboard"] = True
    keyboard["resize_keyboard"] = True
    return keyboard
