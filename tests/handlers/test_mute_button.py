"""Mute filer (禁言提交人) on an appeal's card: only coordinators see it; it asks how long and then to
confirm, naming the appeal (never the phone), and mutes through /mute's own path; while the filer is
muted the card offers Unmute filer; anyone else's press of the same data is refused."""

import pytest

from handlers import callbacks
from handlers.callbacks import Family, MuteVerb
from storage.people_actions import PeopleAction
from tests.harness import running_bot
from tests.helpers import press_data, submit_appeal

COURIER, HR_STAFF, ST1_STAFF, COORDINATOR, ZH_COORDINATOR = 1001, 600, 500, 900, 901
PHONE = "13800138000"


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "mute_button.sqlite3", coordinators=[COORDINATOR, ZH_COORDINATOR]) as running:
        for person, lang in ((COURIER, "en"), (HR_STAFF, "en"), (ST1_STAFF, "en"), (COORDINATOR, "en")):
            running.user(person, f"P{person}", language_code=lang)
            await running.say(person, "/start")
        running.user(ZH_COORDINATOR, "协调员", language_code="zh")
        await running.say(ZH_COORDINATOR, "/start")
        yield running


def labels(bot, message: dict) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(message)]


async def card(bot, person: int, number: int) -> dict:
    """The appeal's card as /open shows it to `person`."""
    return next(m for m in await bot.say(person, f"/open {number}") if m.get("text", "").startswith(f"#{number}"))


async def test_a_coordinator_mutes_and_unmutes_the_filer_from_the_card(bot) -> None:
    """Mute filer: the periods below the card (which stays), the confirmation naming the appeal, the mute in
    the ledger of people actions; the card then offers Unmute filer, which ends it after asking."""
    number = await submit_appeal(bot, COURIER, contact_phone=PHONE)
    shown = await card(bot, COORDINATOR, number)
    assert labels(bot, shown)[-1] == "Mute filer"

    await bot.press(COORDINATOR, "Mute filer")
    assert bot.core.messages(COORDINATOR)[shown["message_id"] - 1]["text"] == shown["text"]  # the card stays
    asked = bot.core.bot_messages(COORDINATOR)[-1]
    assert asked["text"] == (
        f"Mute the courier of appeal #{number}? Until the time you choose, everything they send gets one notice"
        " and nothing else, and nothing of theirs is kept. For how long?"
    )
    assert labels(bot, asked) == ["1 hour", "1 day", "7 days", "Cancel"]
    await bot.press(COORDINATOR, "7 days")
    assert bot.last_text(COORDINATOR) == f"Mute the courier of appeal #{number} for 7 days, until Mon 30 Nov 10:00?"
    assert await bot.services.storage.people_actions.mute_of(COURIER, bot.clock()) is None  # asked first
    await bot.press(COORDINATOR, "Mute")
    assert bot.last_text(COORDINATOR) == (
        f"Done: the courier of appeal #{number} is muted for 7 days, until Mon 30 Nov 10:00."
    )
    since = [m.get("text", "") for m in bot.core.bot_messages(COORDINATOR) if m["message_id"] >= asked["message_id"]]
    assert len(since) == 1 and PHONE not in since[0]  # the question, edited into the confirmation, then done
    (row,) = await bot.services.storage.people_actions.recent(5)
    assert (row.person_id, row.appeal_id, row.action, row.actor_id) == (COURIER, number, PeopleAction.MUTE, COORDINATOR)

    # The card it was pressed on now offers Unmute filer; after the unmute it offers Mute filer again.
    kept = next(m for m in bot.core.messages(COORDINATOR) if m["message_id"] == shown["message_id"])
    assert labels(bot, kept)[-1] == "Unmute filer"
    shown = await card(bot, COORDINATOR, number)
    assert labels(bot, shown)[-1] == "Unmute filer"
    await bot.press(COORDINATOR, "Unmute filer")
    assert bot.last_text(COORDINATOR) == (
        f"The courier of appeal #{number} is muted until Mon 30 Nov 10:00. End the mute now?"
    )
    assert await bot.services.storage.people_actions.mute_of(COURIER, bot.clock()) is not None  # asked first
    await bot.press(COORDINATOR, f"Unmute #{number}")
    assert bot.last_text(COORDINATOR) == f"Done: the courier of appeal #{number} is no longer muted, and has been told."
    assert await bot.services.storage.people_actions.mute_of(COURIER, bot.clock()) is None
    kept = next(m for m in bot.core.messages(COORDINATOR) if m["message_id"] == shown["message_id"])
    assert labels(bot, kept)[-1] == "Mute filer"
    assert labels(bot, await card(bot, COORDINATOR, number))[-1] == "Mute filer"


async def test_in_chinese(bot) -> None:
    """禁言提交人, then the same question and confirmation as /mute, in Chinese."""
    number = await submit_appeal(bot, COURIER)
    shown = await card(bot, ZH_COORDINATOR, number)
    assert labels(bot, shown)[-1] == "禁言提交人"
    await bot.press(ZH_COORDINATOR, "禁言提交人")
    assert bot.last_text(ZH_COORDINATOR).startswith(f"确定暂停诉求 #{number} 的提交人使用本服务吗？")
    await bot.press(ZH_COORDINATOR, "1天")
    assert bot.last_text(ZH_COORDINATOR) == f"确定暂停诉求 #{number} 的提交人使用本服务1天，至11月24日 周二 10:00止吗？"
    await bot.press(ZH_COORDINATOR, "确定暂停")
    assert bot.last_text(ZH_COORDINATOR) == f"已暂停诉求 #{number} 的提交人使用本服务1天，至11月24日 周二 10:00止。"
    assert labels(bot, await card(bot, ZH_COORDINATOR, number))[-1] == "解除禁言"


async def test_only_coordinators_see_it_and_forged_presses_are_refused(bot) -> None:
    """The unit's staff and the courier see no mute button; pressing its data anyway is refused, and
    nothing is muted."""
    number = await submit_appeal(bot, COURIER)
    assert "Mute filer" not in labels(bot, await card(bot, HR_STAFF, number))
    assert "Mute filer" not in labels(bot, await card(bot, COURIER, number))
    data = callbacks.encode(Family.MUTE, MuteVerb.CARD, str(number))
    for person in (HR_STAFF, ST1_STAFF, COURIER):
        query = await press_data(bot, person, data)
        assert bot.core.answered_callback(query) == {
            "text": "This command is for coordinators.",
            "show_alert": True,
        }, person
        query = await press_data(bot, person, callbacks.encode(Family.MUTE, MuteVerb.YES, f"{number}.7d"))
        assert bot.core.answered_callback(query)["show_alert"], person
    assert await bot.services.storage.people_actions.recent(5) == []


async def test_no_button_when_no_one_a_coordinator_may_mute_filed_it(bot) -> None:
    """A coordinator's own appeal (coordinators are never muted) has no mute button."""
    number = await submit_appeal(bot, ZH_COORDINATOR)
    assert not {"Mute filer", "Unmute filer"} & set(labels(bot, await card(bot, COORDINATOR, number)))
