"""Micro-wishes' notices through the outbox and the sender, and /wishes lists that keep their buttons, through the
real Application on a fake clock."""

from datetime import timedelta

import pytest

from tests.handlers.test_wishes import COORDINATOR, COURIER, HR_STAFF, STATION_STAFF, post_wish, rows, t
from tests.harness import running_bot
from tests.helpers import submit_appeal


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "wish-delivery.sqlite3") as running:
        yield running


def buttons(bot, person: int, index: int = -1) -> list[str]:
    """The labels of the inline buttons on a person's message (the newest by default)."""
    return [label for label, _ in bot.core.inline_buttons(bot.core.bot_messages(person)[index])]


def told(bot, person: int, text: str) -> int:
    return sum(text in shown for shown in bot.texts(person))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_couriers_news_waits_out_quiet_hours_and_staff_news_does_not(bot, lang) -> None:
    """Approved at 22:00, the courier hears of it at 08:00, in their language and with no Stop button; a wish
    posted at 22:00 reaches the coordinator at once, as an appeal's notice would."""
    await bot.start(COORDINATOR)
    number = await post_wish(bot, lang)
    await bot.at(bot.clock.now.replace(hour=22, minute=0))
    await bot.press(COORDINATOR, f"Approve wish {number}")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "wishes.done_approve", number=number)
    category = "雨具" if lang == "zh" else "Rain gear"
    news = t(bot, lang, "wishes.notice_approve", number=number, category=category)
    assert told(bot, COURIER, news) == 0
    assert await rows(bot, "SELECT lane, status, send_id FROM outbox WHERE chat_id = ?", (COURIER,)) == [
        (1, "pending", None)
    ]
    # Another courier's wish posted in quiet hours: the coordinator's review notice goes now.
    second = await post_wish(bot, "en", courier=1002, text="Books for my daughter")
    assert bot.last_text(COORDINATOR).startswith(t(bot, "en", "wishnotice.post", number=second))
    await bot.at(bot.clock.now.replace(hour=7, minute=59) + timedelta(days=1))
    assert told(bot, COURIER, news) == 0
    await bot.at(bot.clock.now.replace(hour=8, minute=0))
    assert bot.last_text(COURIER) == news
    assert buttons(bot, COURIER) == []  # asked for by posting: no "Stop these messages" under it
    assert await rows(bot, "SELECT status FROM outbox WHERE chat_id = ?", (COURIER,)) == [("sent",)]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_granted_is_told_in_the_couriers_language_with_the_workers_words_as_typed(bot, lang) -> None:
    """An English-speaking worker grants a wish: the courier reads the notice in their own language, the place
    quoted as the worker typed it, with the Received button alone; receipt goes back to the unit in English."""
    await bot.start(COORDINATOR, STATION_STAFF)
    number = await post_wish(bot, lang)
    await bot.press(COORDINATOR, f"Approve wish {number}")
    await bot.say(STATION_STAFF, "/wishes")
    await bot.press(STATION_STAFF, f"Claim wish {number}")
    await bot.press(STATION_STAFF, f"Mark wish {number} granted")
    await bot.say(STATION_STAFF, "Gate 2, weekdays 9-5 / 二号门")
    await bot.press(STATION_STAFF, "Confirm")
    shown = bot.last_text(COURIER)
    category = "雨具" if lang == "zh" else "Rain gear"
    head = t(bot, lang, "wishes.notice_grant", number=number, category=category, place="\n").split("\n")[0]
    assert shown.startswith(head) and "│ Gate 2, weekdays 9-5 / 二号门" in shown
    received = t(bot, lang, "wishes.button_collect", number=number)
    assert buttons(bot, COURIER) == [received]
    await bot.press(COURIER, received)
    assert bot.last_text(COURIER) == t(bot, lang, "wishes.done_collect", number=number)
    assert bot.last_text(STATION_STAFF).startswith(t(bot, "en", "wishnotice.collect", number=number))


async def test_a_list_keeps_its_other_buttons_after_a_step(bot) -> None:
    """The coordinator approves one wish from /wishes: the same list is drawn again with the other wish's
    buttons; a decline typed from it draws it again too."""
    await bot.start(COORDINATOR)
    first = await post_wish(bot, "en", text="Rain boots")
    second = await post_wish(bot, "en", text="A phone holder for my bike")
    await bot.say(COORDINATOR, "/wishes")
    listed = bot.core.bot_messages(COORDINATOR)[-1]["message_id"]
    await bot.press(COORDINATOR, f"Approve wish {first}")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "wishes.done_approve", number=first)
    (redrawn,) = [m for m in bot.core.bot_messages(COORDINATOR) if m["message_id"] == listed]
    assert t(bot, "en", "wishes.state_approved") in redrawn["text"]
    assert [label for label, _ in bot.core.inline_buttons(redrawn)] == [
        f"Approve wish {second}",
        f"Decline wish {second}",
    ]
    await bot.press(COORDINATOR, f"Decline wish {second}")
    await bot.say(COORDINATOR, "Holders are given out at every station.")
    await bot.press(COORDINATOR, "Confirm")
    (redrawn,) = [m for m in bot.core.bot_messages(COORDINATOR) if m["message_id"] == listed]
    assert "phone holder" not in redrawn["text"] and bot.core.inline_buttons(redrawn) == []


async def test_a_stale_list_refuses_clearly_and_is_drawn_anew(bot) -> None:
    """Two units list an approved wish; one claims it; the other's Claim is refused with why, and its list
    is drawn again without that wish's button."""
    await bot.start(COORDINATOR, STATION_STAFF, HR_STAFF)
    number = await post_wish(bot, "en")
    await bot.press(COORDINATOR, f"Approve wish {number}")
    for worker in (STATION_STAFF, HR_STAFF):
        await bot.say(worker, "/wishes")
    await bot.press(STATION_STAFF, f"Claim wish {number}")
    assert buttons(bot, STATION_STAFF, -2) == [f"Mark wish {number} granted"]  # its list, under the done line
    query = await bot.press(HR_STAFF, f"Claim wish {number}")
    answer = bot.core.answered_callback(query)
    assert answer["text"] == t(bot, "en", "wishes.refused_step_state", number=number) and answer["show_alert"]
    assert bot.last_text(HR_STAFF) == t(bot, "en", "wishes.none_to_claim")
    assert buttons(bot, HR_STAFF) == []


async def test_the_unit_hears_when_a_wish_it_arranges_is_withdrawn(bot) -> None:
    """The courier withdraws a claimed wish from their list: the claiming unit's workers are told."""
    await bot.start(COORDINATOR, STATION_STAFF)
    number = await post_wish(bot, "zh")
    await bot.press(COORDINATOR, f"Approve wish {number}")
    await bot.say(STATION_STAFF, "/wishes")
    await bot.press(STATION_STAFF, f"Claim wish {number}")
    await bot.say(COURIER, "/wishes")
    await bot.press(COURIER, t(bot, "zh", "wishes.button_withdraw", number=number))
    # Final, so asked first in the list's place; nobody is told until it is confirmed.
    assert bot.last_text(COURIER).startswith(t(bot, "zh", "wishes2.withdraw_confirm", number=number))
    assert (await bot.services.storage.wishes.get(number)).state == "claimed"
    await bot.press(COURIER, t(bot, "zh", "wishes2.button_keep"))
    assert (await bot.services.storage.wishes.get(number)).state == "claimed"
    assert t(bot, "zh", "wishes.button_withdraw", number=number) in buttons(bot, COURIER)  # the list is back
    await bot.press(COURIER, t(bot, "zh", "wishes.button_withdraw", number=number))
    await bot.press(COURIER, t(bot, "zh", "wishes2.button_withdraw_confirm"))
    assert bot.last_text(COURIER) == t(bot, "zh", "wishes.done_withdraw", number=number)
    assert bot.last_text(STATION_STAFF).startswith(t(bot, "en", "wishnotice.withdraw", number=number))
    assert buttons(bot, STATION_STAFF) == []


async def test_coordinators_see_where_the_poster_filed_never_who(bot) -> None:
    """A coordinator reads "a courier who last filed at <station>", in their language; no id, no phone."""
    await bot.start(COORDINATOR)
    bot.user(COURIER, language_code="zh")
    await bot.say(COURIER, "/start")
    await bot.services.storage.db.write(
        lambda conn: conn.execute(
            "INSERT INTO stations (id, name, name_en, lat, lon, grade, unit_id)"
            " VALUES ('s1', '一号驿站', 'Station One', 31.23, 121.47, 'A', 'st1')"
        )
    )
    await submit_appeal(bot, COURIER, station_id="s1", contact_phone="+8613912345678")
    number = await post_wish(bot, "zh")
    notice = bot.last_text(COORDINATOR)
    assert notice.startswith(t(bot, "en", "wishnotice.post", number=number))
    assert t(bot, "en", "wishpeople.station", station="Station One") in notice
    assert str(COURIER) not in notice and "13912345678" not in notice
    await bot.say(COORDINATOR, "/wishes")
    assert t(bot, "en", "wishpeople.station", station="Station One") in bot.last_text(COORDINATOR)


async def test_a_reason_shown_back_stays_in_view_and_no_stale_cancel_is_left(bot) -> None:
    """Cancel at a decline's review keeps the reason in view; once a decline is confirmed, its question's Cancel
    is gone (it could no longer undo anything)."""
    await bot.start(COORDINATOR)
    number = await post_wish(bot, "en")
    await bot.press(COORDINATOR, f"Decline wish {number}")
    await bot.say(COORDINATOR, "Not this month, sorry.")
    await bot.press(COORDINATOR, "Cancel")
    assert bot.last_text(COORDINATOR).startswith(t(bot, "en", "wishes.cancelled"))
    assert "│ Not this month, sorry." in bot.last_text(COORDINATOR)
    assert await rows(bot, "SELECT state FROM wishes") == [("posted",)]
    await bot.press(COORDINATOR, f"Decline wish {number}")
    asked = bot.core.bot_messages(COORDINATOR)[-1]
    assert asked["text"] == t(bot, "en", "wishes.ask_decline", number=number, limit=200)
    await bot.say(COORDINATOR, "Boots are handed out at the station.")
    await bot.press(COORDINATOR, "Confirm")
    assert bot.last_text(COORDINATOR) == bot.services.with_quiet(
        "en", t(bot, "en", "wishes.done_decline", number=number)
    )
    (asked,) = [m for m in bot.core.bot_messages(COORDINATOR) if m["message_id"] == asked["message_id"]]
    assert bot.core.inline_buttons(asked) == []


async def test_a_review_notice_pressed_after_the_wish_was_withdrawn_shows_it_withdrawn(bot) -> None:
    """The coordinator's Approve on a wish the courier withdrew meanwhile is refused, and the notice now says
    what became of the wish instead of still "waiting for review"."""
    await bot.start(COORDINATOR)
    number = await post_wish(bot, "en")
    notice = bot.core.bot_messages(COORDINATOR)[-1]["message_id"]
    await bot.say(COURIER, "/wishes")
    await bot.press(COURIER, t(bot, "en", "wishes.button_withdraw", number=number))
    await bot.press(COURIER, t(bot, "en", "wishes2.button_withdraw_confirm"))
    query = bot.core.press_button(COORDINATOR, notice, f"wi:approve:{number}")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "wishes.refused_step_state", number=number)
    (shown,) = [m for m in bot.core.bot_messages(COORDINATOR) if m["message_id"] == notice]
    assert t(bot, "en", "wishes.state_withdrawn") in shown["text"]
    assert t(bot, "en", "wishes.state_posted") not in shown["text"] and bot.core.inline_buttons(shown) == []
