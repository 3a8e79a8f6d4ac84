"""handlers.keyboards sends the same bytes as the python-telegram-bot objects it replaced."""

import json
from types import SimpleNamespace

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, TelegramObject

from handlers.common import Who, main_menu, share_keyboard
from handlers.keyboards import button, inline, reply_keyboard, request_button, text_button
from storage.models import Person


def wire(markup: object) -> str:
    """The JSON python-telegram-bot puts in the request: to_dict() of its objects, a dict as it is."""
    return json.dumps(markup.to_dict() if isinstance(markup, TelegramObject) else markup)


def test_inline_keyboard() -> None:
    """Rows of callback buttons, non-ASCII labels included."""
    ours = inline([[button("接单", "ap:7:acc"), button("Note", "ap:7:note")], [button("Back", "ap:7:open")]])
    theirs = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("接单", callback_data="ap:7:acc"),
                InlineKeyboardButton("Note", callback_data="ap:7:note"),
            ],
            [InlineKeyboardButton("Back", callback_data="ap:7:open")],
        ]
    )
    assert wire(ours) == wire(theirs)


def test_reply_keyboard_of_text_buttons() -> None:
    """A menu: labels only, resized, kept after a press."""
    ours = reply_keyboard([[text_button("New appeal"), text_button("我的诉求")], [text_button("Help")]])
    theirs = ReplyKeyboardMarkup([["New appeal", "我的诉求"], ["Help"]], resize_keyboard=True)
    assert wire(ours) == wire(theirs)


@pytest.mark.parametrize("location,contact", [(True, False), (False, True)])
def test_one_time_request_keyboard(location: bool, contact: bool) -> None:
    """A location or contact request: both flags sent, the false one too, as before."""
    ours = reply_keyboard([[request_button("Share", location=location, contact=contact)]], one_time=True)
    theirs = ReplyKeyboardMarkup(
        [[KeyboardButton("Share", request_location=location, request_contact=contact)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    assert wire(ours) == wire(theirs)
    assert wire(share_keyboard("Share", location=location, contact=contact)) == wire(theirs)


async def test_main_menu() -> None:
    """A courier's main menu is the reply keyboard python-telegram-bot built from the same labels (Nearest station shares the location)."""

    async def no_open_surveys(telegram_id: int) -> list:
        return []  # with an open survey to answer, the menu has Surveys too (tests/handlers/test_surveys.py)

    storage = SimpleNamespace(surveys=SimpleNamespace(open_for=no_open_surveys))
    services = SimpleNamespace(text=lambda lang, key, **values: f"{lang}:{key}", storage=storage)
    courier = Who(
        Person(telegram_id=1, role="courier", unit_id=None, language="en", source="seen", reachable=True), "en"
    )
    nearest = KeyboardButton("en:menu.nearest_station", request_location=True, request_contact=False)
    rows = [
        ["en:menu.new_appeal", "en:menu.my_appeals"],
        [nearest, "en:wishes.menu"],
        ["en:activities.menu"],
        ["en:menu.help", "en:menu.language", "en:outreach.menu_settings"],
    ]
    theirs = ReplyKeyboardMarkup(rows, resize_keyboard=True)
    assert wire(await main_menu(services, courier)) == wire(theirs)
