"""Issue 14 "In their hands", as a first-time user met it: old buttons never do harm, one live card per appeal
per person kept current in place, confirmations show what will happen, and every line says plainly what happened."""

import pytest

from domain.commands import NewAppeal
from domain.lifecycle import Event, State
from handlers import callbacks
from handlers.callbacks import AppealVerb
from handlers.telegram_text import said
from sandbox.core import BotApiCore
from tests.every_state import STATION
from tests.handlers.test_loop import file_wage_appeal
from tests.harness import running_bot

COURIER, OTHER_COURIER, STATION_STAFF, STATION_STAFF_2, HR_STAFF, COORDINATOR = 1001, 1002, 500, 501, 600, 900


@pytest.fixture
async def bot(tmp_path):
    """The bot with the test district; everyone's app is English and has said /start."""
    async with running_bot(tmp_path / "cards.sqlite3") as running:
        await running.start(COURIER, OTHER_COURIER, STATION_STAFF, STATION_STAFF_2, HR_STAFF, COORDINATOR)
        yield running


def t(bot, key, **values):
    """An English message."""
    return bot.services.text("en", key, **values)


def labels(message: dict) -> list[str]:
    """The inline button labels of a message."""
    return [label for label, _ in _buttons(message)]


def _buttons(message: dict) -> list[tuple[str, str]]:
    return BotApiCore.inline_buttons(message)


def now_shown(bot, chat: int, message: dict) -> dict:
    """The message as the chat shows it now (after any edits)."""
    return next(m for m in bot.core.bot_messages(chat) if m["message_id"] == message["message_id"])


def with_buttons(bot, chat: int) -> list[dict]:
    """The bot's messages in a chat that still have inline buttons."""
    return [m for m in bot.core.bot_messages(chat) if _buttons(m)]


async def tap(bot, person: int, message: dict, data: str) -> dict:
    """Press `data` on `message` (a button the person still sees, or one they saw before); return the answer."""
    query = bot.core.press_button(person, message["message_id"], data)
    await bot.deliver()
    return bot.core.answered_callback(query)


async def sent_back(bot) -> int:
    """A wage appeal HR sent back: it waits for a coordinator again."""
    number = await file_wage_appeal(bot, "en")
    await bot.press(HR_STAFF, "Send back")
    await bot.say(HR_STAFF, "This is for the trade union")
    return number


# ---------------------------------------------------------------------------- 1. assigning


async def test_choosing_a_unit_turns_the_list_into_the_priority_question_and_a_stale_unit_names_where_it_went(
    bot,
) -> None:
    number = await sent_back(bot)
    await bot.say(COORDINATOR, f"/open {number}")
    await bot.press(COORDINATOR, "Assign")
    unit_list = bot.core.last_message(COORDINATOR)
    assert unit_list["text"] == t(bot, "appeal.choose_unit", number=number)
    count = len(bot.core.bot_messages(COORDINATOR))

    await bot.press(COORDINATOR, "Station One")
    question = now_shown(bot, COORDINATOR, unit_list)
    assert len(bot.core.bot_messages(COORDINATOR)) == count  # the same message, now asking the priority
    assert question["text"] == t(bot, "appeal.choose_priority", number=number, unit="Station One")
    assert labels(question) == ["Normal", "Urgent", "Back"]

    await bot.press(COORDINATOR, "Back")  # back to the units, in place
    assert now_shown(bot, COORDINATOR, unit_list)["text"] == t(bot, "appeal.choose_unit", number=number)
    assert len(bot.core.bot_messages(COORDINATOR)) == count
    await bot.press(COORDINATOR, "Station One")
    await bot.press(COORDINATOR, "Normal")
    assert bot.last_text(COORDINATOR) == t(
        bot, "appeal.done_assign", number=number, unit="Station One", priority="Normal"
    )
    # The question is now the offer of co-handling units (协办), its one button.
    offer = now_shown(bot, COORDINATOR, unit_list)
    assert (offer["text"], labels(offer)) == (t(bot, "cohandle.offer", number=number), ["Add co-handling unit"])

    # A hurried second tap on another unit of the list as it was: it says where the appeal went.
    answer = await tap(bot, COORDINATOR, unit_list, callbacks.appeal(number, AppealVerb.ASSIGN_UNIT, "hr"))
    assert answer == {
        "text": t(bot, "fixcards.assigned_already", number=number, unit="Station One"),
        "show_alert": False,
    }
    assert answer["text"] == f"Appeal #{number} was already assigned to Station One."
    answer = await tap(bot, COORDINATOR, unit_list, callbacks.appeal(number, AppealVerb.ASSIGN_PRIORITY, "hr.urgent"))
    assert answer["text"] == f"Appeal #{number} was already assigned to Station One."
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.unit_id, appeal.priority) == ("st1", "normal")


async def test_a_second_tap_on_the_reassign_list_never_moves_the_appeal_again(bot) -> None:
    number = await file_wage_appeal(bot, "en")
    await bot.say(COORDINATOR, f"/open {number}")
    await bot.press(COORDINATOR, "Reassign")
    unit_list = bot.core.last_message(COORDINATOR)
    (st1_data,) = [data for label, data in _buttons(unit_list) if label == "Station One"]
    await bot.press(COORDINATOR, "Station One")
    assert bot.last_text(COORDINATOR) == t(bot, "appeal.done_reassign", number=number, unit="Station One")

    answer = await tap(bot, COORDINATOR, unit_list, st1_data)  # the list as it was before the edit
    assert answer == {
        "text": t(bot, "fixcards.reassigned_already", number=number, unit="Station One"),
        "show_alert": False,
    }
    ledger = await bot.services.storage.appeals.ledger(number)
    assert [e.event for e in ledger].count(Event.REASSIGN) == 1


# ---------------------------------------------------------------------------- 2. typed text


async def test_only_the_newest_show_back_keeps_buttons_and_an_old_confirm_says_another_text_was_used(bot) -> None:
    number = await file_wage_appeal(bot, "en")
    await bot.press(HR_STAFF, "Accept")
    await bot.press(HR_STAFF, "Resolve")
    question = bot.core.last_message(HR_STAFF)
    assert labels(question) == ["Cancel"]
    await bot.say(HR_STAFF, "Done.")  # too thin for a result: asked again, the question keeps its Cancel
    assert bot.last_text(HR_STAFF) == t(bot, "confirm.bad_note_too_thin")
    await bot.say(HR_STAFF, "Wages paid today")
    assert labels(now_shown(bot, HR_STAFF, question)) == []  # the text came: the question's Cancel went
    first = bot.core.last_message(HR_STAFF)
    await bot.say(HR_STAFF, "Wages paid in cash")
    second = bot.core.last_message(HR_STAFF)
    await bot.say(HR_STAFF, "Paid in full on Friday")
    newest = bot.core.last_message(HR_STAFF)
    assert labels(now_shown(bot, HR_STAFF, first)) == [] and labels(now_shown(bot, HR_STAFF, second)) == []
    assert labels(newest) == ["Confirm resolve", "Edit", "Cancel"]
    old_confirm = dict(_buttons(first))["Confirm resolve"]

    await bot.press(HR_STAFF, "Confirm resolve")
    answer = await tap(bot, HR_STAFF, first, old_confirm)
    assert answer["text"] == t(bot, "fixcards.other_result", number=number, text=said("Paid in full on Friday", 100))
    assert "first tap" not in answer["text"]
    ledger = await bot.services.storage.appeals.ledger(number)
    assert [e.note for e in ledger if e.event is Event.RESOLVE] == ["Paid in full on Friday"]


# ---------------------------------------------------------------------------- 3. one card, kept current


async def test_acting_through_typed_text_edits_the_workers_card_in_place(bot) -> None:
    number = await file_wage_appeal(bot, "en")
    card = bot.core.last_message(HR_STAFF)
    await bot.press(HR_STAFF, "Accept")
    assert bot.last_text(HR_STAFF) == f"Appeal #{number} accepted; the courier has been told."
    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, "Which platform do you ride for?")
    assert bot.last_text(HR_STAFF) == t(bot, "appeal.done_ask", number=number)
    shown = now_shown(bot, HR_STAFF, card)
    assert t(bot, "state.awaiting_courier") in shown["text"]
    title = t(bot, "card.title", number=number, category=bot.services.category("work").name("en"))
    cards = [m for m in bot.core.bot_messages(HR_STAFF) if title in (m.get("text") or "")]
    assert len(cards) == 1, [m["text"] for m in cards]  # no second card

    await bot.press(COURIER, t(bot, "button.reply"))
    await bot.say(COURIER, "Meituan")
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid in full on Friday")
    await bot.press(HR_STAFF, "Confirm resolve")
    assert bot.last_text(HR_STAFF) == t(bot, "appeal.done_resolve", number=number)
    assert t(bot, "state.feedback") in now_shown(bot, HR_STAFF, card)["text"]
    cards = [m for m in bot.core.bot_messages(HR_STAFF) if f"#{number}" in (m.get("text") or "") and labels(m)]
    assert cards == []  # nothing left to press on a resolved appeal


# ---------------------------------------------------------------------------- 4. merge confirmation


async def test_the_merge_confirmation_shows_each_sides_station_and_words(bot) -> None:
    await bot.services.storage.stations.upsert([STATION])
    appeals = bot.services.storage.appeals
    numbers = []
    for courier, words in (
        (COURIER, "The charger at the station is broken"),
        (OTHER_COURIER, "Charger broken again today"),
    ):
        new = NewAppeal(
            courier_id=courier, category="suggestion", description=words, language="en", station_id=STATION.id
        )
        numbers.append((await appeals.submit(new, None, bot.clock())).appeal.id)
    first, second = numbers
    await bot.tick()
    await bot.say(COORDINATOR, f"/open {second}")
    await bot.press(COORDINATOR, "Merge")
    await bot.say(COORDINATOR, str(first))
    text = bot.last_text(COORDINATOR)
    assert said("The charger at the station is broken") in text
    assert said("Charger broken again today") in text
    assert text.index("Charger broken again today") < text.index("The charger at the station is broken")
    assert text.count(t(bot, "fixcards.merge_station", station="Fuzhou Rd Station")) == 2


# ---------------------------------------------------------------------------- 5 and 6. what the card says


async def test_after_a_send_back_no_card_names_a_unit_as_holding_it(bot) -> None:
    number = await sent_back(bot)
    await bot.say(COURIER, f"/open {number}")
    card = bot.last_text(COURIER)
    assert t(bot, "card.state", state=t(bot, "state.assessing")) in card
    assert t(bot, "card.unit", unit="HR Bureau") not in card
    assert t(bot, "fixcards.sent_back_by", unit="HR Bureau") in card

    await bot.press(COURIER, "Withdraw")
    assert bot.last_text(COURIER) == t(bot, "fixcards.withdraw_confirm_unassigned", number=number)
    assert "unit will be told" not in bot.last_text(COURIER)
    await bot.press(COURIER, "Withdraw it")
    await bot.say(COURIER, f"/open {number}")
    card = bot.last_text(COURIER)
    assert t(bot, "outcome.withdrawn") in card and "HR Bureau" not in card.split("History:")[0]


async def test_the_withdraw_confirmation_tells_of_the_unit_only_while_one_holds_it(bot) -> None:
    number = await file_wage_appeal(bot, "en")
    await bot.say(COURIER, f"/open {number}")
    assert t(bot, "card.unit", unit="HR Bureau") in bot.last_text(COURIER)
    await bot.press(COURIER, "Withdraw")
    assert bot.last_text(COURIER) == t(bot, "appeal.withdraw_confirm", number=number)


async def test_the_courier_reads_waiting_for_your_answer_and_a_rated_wait_leaves_the_queue(bot) -> None:
    number = await file_wage_appeal(bot, "en")
    await bot.press(HR_STAFF, "Accept")
    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, "Which platform do you ride for?")
    await bot.say(COURIER, "/open " + str(number))
    assert t(bot, "card.state", state="waiting for your answer") in bot.last_text(COURIER)
    await bot.say(COURIER, t(bot, "menu.my_appeals"))
    assert "waiting for your answer" in bot.last_text(COURIER)
    assert "courier's answer" not in bot.last_text(COURIER)

    storage = bot.services.storage.appeals
    assert await storage.queue_count("hr") == 1
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid in full on Friday")
    await bot.press(HR_STAFF, "Confirm resolve")
    assert (await storage.get(number)).state == State.FEEDBACK
    assert await storage.queue_count("hr") == 0
    assert await storage.queue("hr") == []
    assert t(bot, "menu2.queue", count=0) in bot.reply_labels(HR_STAFF)


# ---------------------------------------------------------------------------- 7. the rating's thanks


async def test_the_thanks_names_the_rating_given(bot) -> None:
    number = await file_wage_appeal(bot, "en")
    await bot.press(HR_STAFF, "Accept")
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid in full on Friday")
    await bot.press(HR_STAFF, "Confirm resolve")
    await bot.press(COURIER, "Satisfied")
    assert f"Thank you: you rated appeal #{number} Satisfied. It is closed." in bot.texts(COURIER)


async def test_done_lines_name_the_appeal_in_chinese(tmp_path) -> None:
    async with running_bot(tmp_path / "zh.sqlite3") as bot:
        bot.user(COURIER, "Li", language_code="zh")
        bot.user(HR_STAFF, "HR", language_code="zh")
        await bot.say(COURIER, "/start")
        await bot.say(HR_STAFF, "/start")
        number = await file_wage_appeal(bot, "zh")
        await bot.press(HR_STAFF, bot.services.text("zh", "button.accept"))
        assert bot.last_text(HR_STAFF) == f"已签收诉求 #{number}，已通知诉求人。"


async def test_the_courier_reads_their_own_wait_in_chinese_and_the_worker_after_a_send_back_sees_who_sent_it(
    tmp_path,
) -> None:
    async with running_bot(tmp_path / "zh2.sqlite3") as bot:
        zh = lambda key, **kw: bot.services.text("zh", key, **kw)  # noqa: E731
        for person in (COURIER, HR_STAFF):
            bot.user(person, "P", language_code="zh")
            await bot.say(person, "/start")
        number = await file_wage_appeal(bot, "zh")
        await bot.press(HR_STAFF, zh("button.accept"))
        await bot.press(HR_STAFF, zh("button.ask"))
        await bot.say(HR_STAFF, "您在哪个平台接单？")
        await bot.say(COURIER, f"/open {number}")
        assert "状态：等待您答复" in bot.last_text(COURIER)

        second = await file_wage_appeal(bot, "zh")
        card = bot.core.last_message(HR_STAFF)
        await bot.press(HR_STAFF, zh("button.send_back"))
        await bot.say(HR_STAFF, "应由工会处理")
        shown = now_shown(bot, HR_STAFF, card)["text"]
        assert f"#{second}" in shown and "退单单位：人社局" in shown and "承办单位：" not in shown
        assert bot.last_text(HR_STAFF) == f"已退单诉求 #{second}，将由协调员重新分派。"


async def test_a_staff_card_says_which_language_the_courier_reads_when_it_is_not_the_workers(bot) -> None:
    """Questions and replies reach the courier as written, so a worker who reads another language is told
    which one to write in; a worker who reads the courier's own language is not told the obvious."""
    await bot.services.storage.people.set_language(HR_STAFF, "zh")
    number = await file_wage_appeal(bot, "en")
    cards = [m for m in bot.core.bot_messages(HR_STAFF) if f"#{number} · " in (m.get("text") or "")]
    assert cards and bot.services.text("zh", "courier_lang.en") in cards[-1]["text"]
    await bot.say(COORDINATOR, f"/open {number}")
    shown = bot.last_text(COORDINATOR)
    assert f"#{number} · " in shown  # the card itself
    assert t(bot, "courier_lang.en") not in shown and t(bot, "courier_lang.zh") not in shown
