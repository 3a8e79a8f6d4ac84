"""Long lists come ten at a time with More; a page is whoever presses it's own list, never the button's say-so."""

import re

import pytest

from handlers.common import MENU_COUNT_CAP
from tests.harness import running_bot
from tests.helpers import submit_appeal

COURIER, STATION_STAFF, HR_STAFF = 1001, 500, 600


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "pages.sqlite3") as running:
        await running.start(COURIER, STATION_STAFF, HR_STAFF)
        yield running


async def file_many(bot, count: int) -> None:
    """`count` appeals from the courier, each routed to station st1; their notices sent."""
    for _ in range(count):
        await submit_appeal(bot, COURIER, "facilities", "st1", "The charger is broken")
    await bot.tick()


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"#(\d+)", text)]


def labels(message: dict) -> list[str]:
    return [label for label, _ in bot_buttons(message)]


def bot_buttons(message: dict) -> list[tuple[str, str]]:
    return [
        (b["text"], b["callback_data"])
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    ]


async def test_a_long_queue_comes_ten_at_a_time_and_more_shows_the_rest(bot) -> None:
    await file_many(bot, 12)
    (first,) = await bot.say(STATION_STAFF, "/queue")
    assert numbers(first["text"]) == list(range(1, 11))  # the nearest deadlines first: the oldest appeals
    assert labels(first)[-1] == "More ›"
    await bot.press(STATION_STAFF, "More")
    second = bot.core.last_message(STATION_STAFF)
    assert numbers(second["text"]) == [11, 12]
    assert "More ›" not in labels(second)
    assert first["text"].splitlines()[0] == second["text"].splitlines()[0]  # the same list's title


async def test_a_couriers_own_appeals_page_from_the_newest(bot) -> None:
    await file_many(bot, 11)
    (first,) = await bot.say(COURIER, "/my")
    assert numbers(first["text"]) == list(range(11, 1, -1))
    await bot.press(COURIER, "More")
    assert numbers(bot.core.last_message(COURIER)["text"]) == [1]


async def test_more_shows_the_pressers_own_list_whatever_the_button_says(bot) -> None:
    """The button carries only where the page starts: who may see which list comes from the database."""
    await file_many(bot, 12)
    await bot.say(STATION_STAFF, "/queue")
    more = next(data for label, data in bot_buttons(bot.core.last_message(STATION_STAFF)) if label == "More ›")
    (listing,) = await bot.say(COURIER, "/my")
    bot.core.press_button(COURIER, listing["message_id"], more)  # a courier forges staff's More
    await bot.deliver()
    assert bot.last_text(COURIER) == bot.services.text("en", "staff.not_staff")
    (queue,) = await bot.say(HR_STAFF, "/queue")  # HR has nothing open
    bot.core.press_button(HR_STAFF, queue["message_id"], more)
    await bot.deliver()
    assert bot.last_text(HR_STAFF) == bot.services.text("en", "staff.queue_empty")  # HR's own list, not st1's


COORDINATOR = 900


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_stale_count_in_the_menu_is_put_right_when_pressed(tmp_path, lang) -> None:
    """A reply keyboard cannot be edited, so its counts go stale as appeals come and go: pressing one that
    shows another count says the right one with a fresh menu, before the list; an empty list brings the menu."""
    async with running_bot(tmp_path / "stale.sqlite3") as bot:
        for person in (COURIER, HR_STAFF, COORDINATOR):
            bot.user(person, f"P{person}", language_code=lang)
            await bot.say(person, "/start")
        t = lambda key, **kw: bot.services.text(lang, key, **kw)  # noqa: E731
        assert t("menu2.triage", count=0) in bot.reply_labels(COORDINATOR)
        assert t("menu2.queue", count=0) in bot.reply_labels(HR_STAFF)
        await submit_appeal(bot, COURIER, "work", None, "Wages unpaid for two months")  # for triage
        await submit_appeal(bot, COURIER, "work", "hr", "No pay slip since October")  # to HR's queue
        await bot.tick()

        for person, key in ((COORDINATOR, "menu2.triage"), (HR_STAFF, "menu2.queue")):
            said = await bot.say(person, t(key, count=0))
            assert said[0]["text"] == t(f"{key}_now", count=1)
            assert t(key, count=1) in bot.reply_labels(person)
            assert len(numbers(said[-1]["text"])) == 1  # then the list
            # Right again: the list alone.
            said = await bot.say(person, t(key, count=1))
            assert [m["text"] for m in said if m["text"] == t(f"{key}_now", count=1)] == []

        # A count of three where none wait: the empty list's message brings the menu with (0).
        number = (await bot.services.storage.appeals.awaiting_triage(10))[0][0].id
        await bot.say(COORDINATOR, f"/open {number}")
        await bot.press(COORDINATOR, t("button.reject"))
        await bot.say(COORDINATOR, "Outside our district, please call the city hotline")
        await bot.press(COORDINATOR, t("confirm.button_reject"))
        (empty,) = await bot.say(COORDINATOR, t("menu2.triage", count=3))
        assert empty["text"] == t("coord.triage_empty")
        assert t("menu2.triage", count=0) in bot.reply_labels(COORDINATOR)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_menu_count_stops_at_99_plus_and_is_still_put_right(tmp_path, lang) -> None:
    """A menu button counts up to 99 and then says 99+, as a phone's badge does (counting a backlog of
    thousands on every menu would cost each reply); a 99+ that is still right is not corrected."""
    async with running_bot(tmp_path / "many.sqlite3") as bot:
        for person in (HR_STAFF, COORDINATOR):
            bot.user(person, f"P{person}", language_code=lang)
            await bot.say(person, "/start")
        t = lambda key, **kw: bot.services.text(lang, key, **kw)  # noqa: E731
        for n in range(MENU_COUNT_CAP + 1):
            await bot.services.storage.people.seen(5000 + n, "en", bot.clock())
            await submit_appeal(bot, 5000 + n, "work", "hr", f"Wages unpaid, case {n}")
        assert await bot.services.storage.appeals.queue_count("hr") == MENU_COUNT_CAP + 1
        assert await bot.services.storage.appeals.queue_count("hr", at_most=MENU_COUNT_CAP) == MENU_COUNT_CAP

        said = await bot.say(HR_STAFF, t("menu2.queue", count=0))  # the menu from before any came
        assert said[0]["text"] == t("menu2.queue_now", count="99+")
        assert t("menu2.queue", count="99+") in bot.reply_labels(HR_STAFF)
        said = await bot.say(HR_STAFF, t("menu2.queue", count="99+"))
        assert [m["text"] for m in said if m["text"] == t("menu2.queue_now", count="99+")] == []
        assert len(numbers(said[-1]["text"])) > 1  # the list itself
