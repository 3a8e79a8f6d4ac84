"""Staff and coordinators are not asked to answer the couriers' survey: no menu item, a preview from /surveys
and from a notice's button, and an answer press refused, in zh and en."""

import pytest

from handlers import callbacks
from handlers.callbacks import Family, LinkVerb
from tests.handlers.test_surveys import SMALL, open_small, send_file
from tests.harness import running_bot
from tests.helpers import press_data

COURIER, STAFF, COORDINATOR = 1001, 500, 900


@pytest.fixture
async def bot(tmp_path):
    """The test district: an English courier, a station worker, a coordinator."""
    async with running_bot(tmp_path / "surveys.sqlite3") as running:
        await running.start(COURIER, STAFF, COORDINATOR)
        yield running


def t(bot, lang, key, **values):
    return bot.services.text(lang, key, **values)


def labels(bot, person) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(bot.core.bot_messages(person)[-1])]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_staff_see_an_open_survey_as_a_preview_never_as_a_question_to_answer(bot, lang) -> None:
    await bot.services.storage.people.set_language(STAFF, lang)
    title = "A small survey" if lang == "en" else "小调查"
    await bot.say(STAFF, "/surveys")
    assert bot.last_text(STAFF) == t(bot, lang, "survey_staff.none")
    await open_small(bot)
    await bot.say(STAFF, "/start")
    assert t(bot, lang, "surveys.menu") not in bot.reply_labels(STAFF)  # the couriers' invitation, not theirs
    await bot.say(COURIER, "/start")
    assert "Surveys" in bot.reply_labels(COURIER)

    await bot.say(STAFF, "/surveys")
    listed = bot.core.bot_messages(STAFF)[-1]
    assert listed["text"] == t(bot, lang, "survey_staff.list", count=1)
    assert labels(bot, STAFF) == [title]
    await bot.press(STAFF, title)
    page = bot.last_text(STAFF)
    assert page.startswith(t(bot, lang, "surveys.preview_head", page=1, pages=6) + "\n\n" + title)
    await bot.press(STAFF, t(bot, lang, "surveys.button_start"))  # turns the page; records nothing
    assert t(bot, lang, "surveys.preview_head", page=2, pages=6) in bot.last_text(STAFF)
    assert await bot.services.storage.surveys.progress(1, STAFF) is None
    await bot.press(STAFF, t(bot, lang, "surveys.button_later"))  # the end of the preview: back to the list
    again = bot.core.bot_messages(STAFF)[-1]
    assert again["message_id"] == listed["message_id"] and again["text"] == listed["text"]

    # Answering is refused whatever the button says, and a coordinator's tools stay a coordinator's.
    for data, key in (("sv:go:1", "surveys.couriers_only"), ("sv:start:1", "surveys.couriers_only")):
        query = await press_data(bot, STAFF, data)
        assert bot.core.answered_callback(query)["text"] == t(bot, lang, key)
    for data in ("sv:res:1", "sv:open:1", "sv:show:1"):
        query = await press_data(bot, STAFF, data)
        assert bot.core.answered_callback(query)["text"] == t(bot, lang, "coord.not_coordinator")
    assert await bot.services.storage.surveys.progress(1, STAFF) is None


async def test_staff_cannot_preview_a_survey_not_yet_open(bot) -> None:
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="true"))
    query = await press_data(bot, STAFF, "sv:pv:1.en.0")
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "surveys.not_open")


@pytest.mark.parametrize(("person", "lang"), [(STAFF, "zh"), (COORDINATOR, "en")])
async def test_a_notices_survey_button_shows_staff_and_coordinators_the_preview(bot, person, lang) -> None:
    number = await open_small(bot)
    await bot.services.storage.people.set_language(person, lang)
    title = "A small survey" if lang == "en" else "小调查"
    await press_data(bot, person, callbacks.encode(Family.LINK, LinkVerb.SURVEY, str(number)))
    page = bot.last_text(person)
    assert page.startswith(t(bot, lang, "surveys.preview_head", page=1, pages=6) + "\n\n" + title)
    assert await bot.services.storage.surveys.progress(number, person) is None
    # A courier pressing the same button begins answering it.
    await press_data(bot, COURIER, callbacks.encode(Family.LINK, LinkVerb.SURVEY, str(number)))
    assert bot.last_text(COURIER).startswith("A small survey")
