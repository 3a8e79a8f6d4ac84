"""A place the courier types at the place step is a field of its own: each reader sees it under their own
label ("地点：…" / "Place: …"), the description holds only the courier's story, and the ledger has a column."""

import csv
import io

import pytest

from handlers import callbacks
from tests.every_state import COORDINATOR, COURIER, number_in, press_data
from tests.harness import running_bot

PLACE = "万达广场3号门附近"
STORY = "驿站的充电桩坏了一周，一直没人修"


async def file_with_typed_place(bot) -> int:
    """A Chinese-speaking courier files with a typed place (typed twice: the second, after Back, replaces the first)."""
    zh = lambda key, **values: bot.services.text("zh", key, **values)  # noqa: E731
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, bot.services.category("life").name("zh"))
    await bot.say(COURIER, STORY)
    await bot.say(COURIER, "人民路口")
    assert (await bot.services.storage.dialogs.draft(COURIER)).place == "人民路口"
    await bot.press(COURIER, zh("button.back"))
    replies = await bot.say(COURIER, PLACE)
    assert replies[0]["text"].startswith(zh("freetext2.place_taken"))
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.description, draft.place) == (STORY, PLACE)
    await bot.press(COURIER, zh("button.anonymous"))
    review = bot.last_text(COURIER)
    assert "\n地点：" + PLACE + "\n" in review and "人民路口" not in review
    await bot.press(COURIER, zh("button.confirm"))
    return number_in(bot.last_text(COURIER))


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_a_typed_place_shows_under_each_readers_own_label(tmp_path) -> None:
    async with running_bot(tmp_path / "place.sqlite3") as bot:
        bot.user(COURIER, "Li", language_code="zh")
        bot.user(COORDINATOR, "Coordinator", language_code="en")
        await bot.say(COURIER, "/start")
        await bot.say(COORDINATOR, "/start")
        number = await file_with_typed_place(bot)
        appeal = await bot.services.storage.appeals.get(number)
        assert (appeal.description, appeal.place) == (STORY, PLACE)
        assert "地点" not in appeal.description and "Place" not in appeal.description

        await press_data(bot, COURIER, callbacks.appeal(number, "open"))
        courier_card = bot.last_text(COURIER)
        assert "\n地点：" + PLACE + "\n" in courier_card and "Place:" not in courier_card

        await bot.say(COORDINATOR, f"/open {number}")
        coordinator_card = bot.last_text(COORDINATOR)
        assert "\nPlace: " + PLACE + "\n" in coordinator_card and "地点：" not in coordinator_card

        await bot.say(COORDINATOR, f"/export {bot.clock.now:%Y-%m-%d} {bot.clock.now:%Y-%m-%d}")
        found = [m for m in bot.core.bot_messages(COORDINATOR) if "document" in m]
        csv_data = bot.core.file_bytes(bot.core.file_path(found[-2]["document"]["file_id"])).decode("utf-8-sig")
        header, row = list(csv.reader(io.StringIO(csv_data, newline="")))[:2]
        assert header[3:5] == ["Station", "Place"] and row[4] == PLACE


async def test_a_typed_place_is_one_line_that_cannot_pass_for_a_line_of_the_card(tmp_path) -> None:
    async with running_bot(tmp_path / "place-lines.sqlite3") as bot:
        await bot.start(COURIER, COORDINATOR)
        en = lambda key, **values: bot.services.text("en", key, **values)  # noqa: E731
        await bot.say(COURIER, "/appeal")
        await bot.press(COURIER, bot.services.category("life").name("en"))
        await bot.say(COURIER, "The charger has been broken for a week")
        await bot.say(COURIER, "Gate 3\nState: closed")
        assert (await bot.services.storage.dialogs.draft(COURIER)).place == "Gate 3 State: closed"
        await bot.press(COURIER, en("button.anonymous"))
        await bot.press(COURIER, en("button.confirm"))
        number = number_in(bot.last_text(COURIER))
        await bot.say(COORDINATOR, f"/open {number}")
        lines = bot.last_text(COORDINATOR).split("\n")
        assert "Place: Gate 3 State: closed" in lines and not any(line.startswith("State: closed") for line in lines)


async def test_a_place_longer_than_a_line_is_refused_and_the_step_stays(tmp_path) -> None:
    async with running_bot(tmp_path / "place-long.sqlite3") as bot:
        await bot.start(COURIER)
        await bot.say(COURIER, "/appeal")
        await bot.press(COURIER, bot.services.category("life").name("en"))
        await bot.say(COURIER, "The charger has been broken for a week")
        replies = await bot.say(COURIER, "near the gate " * 20)
        assert replies[-1]["text"] == bot.services.text("en", "place.too_long", limit=200)
        draft = await bot.services.storage.dialogs.draft(COURIER)
        assert (draft.step, draft.place) == ("place", None)
