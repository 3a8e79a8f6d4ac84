"""Free text is never "I did not understand": it answers a question, fills the open step, or is offered as an appeal."""

import json

import pytest

from domain.lifecycle import Event
from handlers.history import history_text
from handlers.telegram_text import said
from storage.dialogs import Step
from tests.handlers.test_loop import file_wage_appeal
from tests.harness import running_bot

COURIER, HR_STAFF = 1001, 600


@pytest.fixture
async def bot(tmp_path):
    """The test district; the courier and HR's worker have English apps."""
    async with running_bot(tmp_path / "free.sqlite3") as running:
        await running.start(COURIER, HR_STAFF)
        yield running


def t(bot, key, **values):
    """An English message."""
    return bot.services.text("en", key, **values)


async def asked(bot, question: str) -> int:
    """The courier files a wage appeal; HR accepts it and asks `question`. Returns its number."""
    number = await file_wage_appeal(bot, "en")
    await bot.say(HR_STAFF, f"/open {number}")
    await bot.press(HR_STAFF, "Accept")
    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, question)
    return number


async def events(bot, number: int) -> list[tuple[Event, str | None]]:
    return [(e.event, e.note) for e in await bot.services.storage.appeals.ledger(number)]


async def test_text_answers_the_one_pending_question(bot) -> None:
    number = await asked(bot, "Which platform do you ride for?")
    replies = await bot.say(COURIER, "Meituan, since March")
    assert [m["text"] for m in replies] == [t(bot, "freetext.answered", number=number)]
    assert (await events(bot, number))[-1] == (Event.ANSWER, "Meituan, since March")
    assert bot.last_text(HR_STAFF).startswith(
        t(bot, "notice.answer.unit", number=number, note=said("Meituan, since March"))
    )


async def test_a_caption_answers_and_so_does_a_bare_photo(bot) -> None:
    number = await asked(bot, "Do you have a payslip?")
    bot.core.send_photo(COURIER, b"\x89PNG payslip", caption="Here is my October payslip")
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "freetext.answered", number=number)
    assert (await events(bot, number))[-1] == (Event.ANSWER, "Here is my October payslip")

    # Asked again, the courier sends only the photo: that is the answer, and the unit gets it.
    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, "And the one for September?")
    bot.core.send_photo(COURIER, b"\x89PNG september")
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "freetext.answered", number=number)
    assert (await events(bot, number))[-1] == (Event.ANSWER, None)
    assert len(await bot.services.storage.appeals.attachments(number)) == 2
    answer = (await bot.services.storage.appeals.ledger(number))[-1]
    row = await bot.services.storage.db.fetchone(
        "SELECT kind, event_id FROM attachments WHERE appeal_id = ? ORDER BY id DESC LIMIT 1", (number,)
    )
    assert (row["kind"], row["event_id"]) == ("photo", answer.id)  # the photo goes with the answer


async def test_with_two_questions_the_courier_picks_the_appeal(bot) -> None:
    first = await asked(bot, "Which platform?")
    second = await asked(bot, "Which month?")
    (which,) = await bot.say(COURIER, "October and November")
    assert which["text"] == t(bot, "freetext.which", count=2)
    labels = [label for label, _ in bot.core.inline_buttons(which)]
    assert labels == [f"#{first} · Work protection", f"#{second} · Work protection", t(bot, "freetext.button_file")]
    await bot.press(COURIER, f"#{second} ·")
    assert bot.last_text(COURIER) == t(bot, "freetext.answered", number=second)
    assert (await events(bot, second))[-1] == (Event.ANSWER, "October and November")
    assert (await events(bot, first))[-1][0] is Event.ASK
    # The text was used once: the other appeal's button no longer has it.
    query = bot.core.press_button(COURIER, which["message_id"], f"dr:ans:{first}")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "freetext.nothing_kept")
    assert (await events(bot, first))[-1][0] is Event.ASK


async def test_text_with_no_dialog_is_offered_as_a_new_appeal(bot) -> None:
    replies = await bot.say(COURIER, "The charger at Wanda station has been broken for a week")
    assert [m["text"] for m in replies] == [t(bot, "freetext.offer"), t(bot, "freetext.or_menu")]
    assert "New appeal" in bot.reply_labels(COURIER)
    await bot.press(COURIER, t(bot, "freetext.button_file"))
    kept = t(
        bot, "filing.review_description", description=said("The charger at Wanda station has been broken for a week")
    )
    assert bot.last_text(COURIER).startswith(
        t(bot, "filing2.kept_at_category") + "\n" + kept + "\n" + t(bot, "filing.ask_category") + "\n"
    )
    await bot.press(COURIER, "Daily-life")
    assert t(
        bot, "filing.review_description", description=said("The charger at Wanda station has been broken for a week")
    ) in (bot.last_text(COURIER))
    await bot.press(COURIER, "Next")
    assert bot.last_text(COURIER) == t(bot, "filing.ask_place")


async def resolved(bot) -> int:
    """The courier's wage appeal, accepted and resolved by HR: it waits for the courier's rating."""
    number = await file_wage_appeal(bot, "en")
    await bot.say(HR_STAFF, f"/open {number}")
    await bot.press(HR_STAFF, "Accept")
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "We called the platform and the wages were paid in full")
    await bot.press(HR_STAFF, "Confirm resolve")
    assert (await bot.services.storage.appeals.get(number)).state == "feedback"
    return number


async def test_words_while_a_result_waits_for_a_rating_offer_the_rating_beside_filing(bot) -> None:
    """Words just after a result are most likely about it: the ratings come first, filing second."""
    number = await resolved(bot)
    (offer,) = await bot.say(COURIER, "ok thanks, it works now")
    assert offer["text"] == t(bot, "freetext.rate_or_file", number=number)
    labels = [label for label, _ in bot.core.inline_buttons(offer)]
    assert labels == ["Satisfied", "Fairly satisfied", "Not solved", t(bot, "freetext.button_file")]
    await bot.press(COURIER, "Satisfied")
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.state, appeal.outcome) == ("closed", "resolved")


async def test_an_emoji_while_a_result_waits_for_a_rating_asks_for_the_rating(bot) -> None:
    number = await resolved(bot)
    (reply,) = await bot.say(COURIER, "👍")
    assert reply["text"] == t(bot, "freetext.rate_first", number=number)
    assert [label for label, _ in bot.core.inline_buttons(reply)] == ["Satisfied", "Fairly satisfied", "Not solved"]
    assert (await bot.services.storage.dialogs.draft(COURIER)) is None or not (
        await bot.services.storage.dialogs.draft(COURIER)
    ).kept


@pytest.mark.parametrize("typed", ["#{n}", "{n}", "＃ {n}"])
async def test_staff_typing_an_appeals_number_opens_it(bot, typed) -> None:
    """As /open N: the appeal with its history to whoever may see it; a number they may not see is not found."""
    number = await file_wage_appeal(bot, "en")
    await bot.say(HR_STAFF, "/open " + str(number))
    opened = bot.last_text(HR_STAFF)
    await bot.say(HR_STAFF, typed.format(n=number))
    assert bot.last_text(HR_STAFF) == opened
    (reply,) = await bot.say(HR_STAFF, typed.format(n=number + 100))
    assert reply["text"] == t(bot, "appeal.not_found")


async def test_a_couriers_number_alone_is_not_taken_for_an_appeal_number(bot) -> None:
    """A courier asked "how much is owed?" answers "8000": an answer, not appeal #8000."""
    number = await asked(bot, "How much is owed?")
    await bot.say(COURIER, "8000")
    assert bot.last_text(COURIER) == t(bot, "freetext.answered", number=number)


async def test_a_greeting_or_an_emoji_gets_the_menu_not_an_offer(bot) -> None:
    for text in ("hi", "👍👍👍👍👍👍"):
        (reply,) = await bot.say(COURIER, text)
        assert reply["text"] == t(bot, "fallback.not_understood")
    assert "New appeal" in bot.reply_labels(COURIER)


async def test_text_at_the_category_step_is_kept_as_the_description(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.say(COURIER, "My October wages were not paid")
    kept = t(bot, "filing.review_description", description=said("My October wages were not paid"))
    assert bot.last_text(COURIER).startswith(
        t(bot, "filing2.kept_at_category") + "\n" + kept + "\n" + t(bot, "filing.ask_category") + "\n"
    )
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.description) == (Step.CATEGORY, "My October wages were not paid")
    await bot.press(COURIER, "Work protection")
    await bot.press(COURIER, "Next")
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Skip")
    assert "My October wages were not paid" in bot.last_text(COURIER)


async def test_words_at_the_contact_and_review_steps_are_added_not_lost(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.say(COURIER, "Wages unpaid")
    await bot.press(COURIER, "Skip")
    replies = await bot.say(COURIER, "The boss is called Wang")
    # Not a phone: said so, added to the description, and the phone asked again.
    assert replies[0]["text"] == t(bot, "fixtext.not_a_phone") + "\n" + t(bot, "filing.ask_contact_keyboard")
    await bot.press(COURIER, "Skip")
    await bot.say(COURIER, "Since October")
    assert bot.texts(COURIER)[-2] == t(bot, "filing2.added")
    assert t(
        bot, "filing.review_description", description=said("Wages unpaid\nThe boss is called Wang\nSince October")
    ) in (bot.last_text(COURIER))


async def test_words_typed_at_the_place_step_are_the_place(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.say(COURIER, "Wages unpaid")
    replies = await bot.say(COURIER, "the bund station")
    assert replies[0]["text"] == t(bot, "freetext2.place_taken") + "\n" + t(bot, "filing.ask_contact_keyboard")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.description, draft.place) == (Step.CONTACT, "Wages unpaid", "the bund station")
    await bot.press(COURIER, "Skip")
    review = bot.last_text(COURIER)
    assert t(bot, "filing.review_description", description=said("Wages unpaid")) in review
    assert "\nPlace: the bund station\n" in review


async def test_in_chinese_a_typed_place_is_its_own_field(tmp_path) -> None:
    async with running_bot(tmp_path / "zh.sqlite3") as bot:
        bot.user(COURIER, "Li", language_code="zh")
        await bot.say(COURIER, "/appeal")
        await bot.press(COURIER, "生活服务")
        await bot.say(COURIER, "驿站的充电桩坏了一周")
        replies = await bot.say(COURIER, "外滩驿站门口")
        assert replies[0]["text"].startswith("已将这段文字作为地点。\n")
        draft = await bot.services.storage.dialogs.draft(COURIER)
        assert (draft.step, draft.description, draft.place) == (Step.CONTACT, "驿站的充电桩坏了一周", "外滩驿站门口")


async def test_start_and_menu_buttons_during_a_draft_offer_continue_or_discard(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    waiting = t(bot, "filing2.draft_waiting", what="Work protection")
    for text in ("/start", "Help", "My appeals", "Language", "Nearest station", "/appeal"):
        replies = await bot.say(COURIER, text)
        assert replies[-1]["text"] == waiting, text
        if text == "/start":
            assert replies[0]["text"].startswith("Hello")  # it still greets, with the menu
        labels = [label for label, _ in bot.core.inline_buttons(replies[-1])]
        discard = "filing2.button_discard_new" if text == "/appeal" else "filing2.button_discard"
        assert labels == [t(bot, "filing2.button_continue"), t(bot, discard)], text
    await bot.press(COURIER, t(bot, "filing2.button_continue"))
    assert bot.last_text(COURIER).endswith(t(bot, "filing.ask_description", limit=2000))
    await bot.say(COURIER, "Help")
    await bot.press(COURIER, t(bot, "filing2.button_discard"))
    assert bot.last_text(COURIER) == t(bot, "filing.cancelled")
    assert await bot.services.storage.dialogs.draft(COURIER) is None


async def test_discard_and_start_anew(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.say(COURIER, "New appeal")
    await bot.press(COURIER, t(bot, "filing2.button_discard_new"))
    assert bot.last_text(COURIER).startswith(t(bot, "filing.ask_category") + "\n")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.category) == (Step.CATEGORY, None)


async def test_nearest_station_is_not_taken_as_the_place(bot) -> None:
    """The menu's Nearest station finds stations; only the place step's own button gives the place."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.say(COURIER, "Wages unpaid")
    assert bot.reply_labels(COURIER) == [t(bot, "button.share_location")]
    await bot.say(COURIER, "Help")  # the menu is back
    bot.core.share_location(COURIER, 31.2, 121.4)  # its Nearest station button
    await bot.deliver()
    assert bot.texts(COURIER)[-2] == t(bot, "stations.none")
    assert bot.last_text(COURIER) == t(bot, "filing2.draft_waiting", what="Work protection · “Wages unpaid”")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.lat) == (Step.PLACE, None)
    await bot.press(COURIER, t(bot, "filing2.button_continue"))
    assert bot.reply_labels(COURIER) == [t(bot, "button.share_location")]
    bot.core.share_location(COURIER, 31.2, 121.4)  # the place step's Share location
    await bot.deliver()
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.lat) == (Step.CONTACT, 31.2)


async def test_a_split_paste_over_the_limit_is_refused_whole(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    seen = len(bot.texts(COURIER))
    first = bot.core.send_text(COURIER, "w" * 4096)
    second = bot.core.send_text(COURIER, "the end of the story")
    assert second["message_id"] == first["message_id"] + 1
    await bot.deliver()
    assert bot.texts(COURIER)[seen:] == [t(bot, "filing.too_long", length=4096, limit=2000)]
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.description) == (Step.DESCRIPTION, None)
    # A message typed afterwards is taken as usual.
    await bot.say(COURIER, "Wages unpaid since October")
    assert (await bot.services.storage.dialogs.draft(COURIER)).description == "Wages unpaid since October"


async def test_a_split_that_fits_is_one_description(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    bot.core.send_text(COURIER, "a" * 1500)
    bot.core.send_text(COURIER, "and the rest of it")
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing2.rest_added")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.description) == (Step.PLACE, "a" * 1500 + "\nand the rest of it")


async def test_a_split_that_together_is_too_long_keeps_neither_part(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    bot.core.send_text(COURIER, "a" * 1500)
    bot.core.send_text(COURIER, "b" * 1000)
    await bot.deliver()
    assert t(bot, "filing2.split_too_long", length=2500, limit=2000) in bot.texts(COURIER)
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.description) == (Step.DESCRIPTION, None)


async def test_a_split_paste_with_no_dialog_is_refused_whole(bot) -> None:
    seen = len(bot.texts(COURIER))
    bot.core.send_text(COURIER, "w" * 4096)
    bot.core.send_text(COURIER, "tail")
    await bot.deliver()
    assert bot.texts(COURIER)[seen:] == [t(bot, "filing.too_long", length=4096, limit=2000)]


@pytest.mark.parametrize("text", ["😡😡😡", "abc"])
async def test_a_description_needs_real_words(bot, text) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    (reply,) = await bot.say(COURIER, text)
    assert reply["text"] == t(bot, "filing2.need_words")
    assert (await bot.services.storage.dialogs.draft(COURIER)).step is Step.DESCRIPTION


async def reach_contact_step(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.say(COURIER, "Wages unpaid")
    await bot.press(COURIER, "Skip")


@pytest.mark.parametrize("typed", ["138 0013 8000", "+86 138-0013-8000", "008613800138000"])
async def test_a_typed_phone_is_accepted(bot, typed) -> None:
    await reach_contact_step(bot)
    await bot.say(COURIER, typed)
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.phone) == (Step.REVIEW, "+8613800138000")
    assert bot.texts(COURIER)[-2] == t(bot, "filing.phone_received")


@pytest.mark.parametrize(("typed", "why"), [("1380013800", "length"), ("12800138000", "prefix")])
async def test_a_bad_phone_is_refused_with_how(bot, typed, why) -> None:
    await reach_contact_step(bot)
    (reply,) = await bot.say(COURIER, typed)
    assert reply["text"] == t(bot, f"filing2.phone_bad_{why}")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.phone) == (Step.CONTACT, None)


async def test_the_chinese_phone_refusal_says_how(tmp_path) -> None:
    async with running_bot(tmp_path / "zh.sqlite3") as bot:
        bot.user(COURIER, "Li", language_code="zh")
        await bot.say(COURIER, "/appeal")
        await bot.press(COURIER, "权益")
        await bot.say(COURIER, "十月份的工资没有发")
        await bot.press(COURIER, "跳过")
        (reply,) = await bot.say(COURIER, "138001")
        assert reply["text"].endswith("请输入 11 位手机号，或点下方按钮发送本人号码。")


async def test_an_old_format_draft_still_loads(bot) -> None:
    old = {
        "category": "work",
        "description": "Wages unpaid",
        "files": [["photo", "f1", "u1"]],
        "station": None,
        "lat": 31.2,
        "lon": 121.4,
    }
    await bot.services.storage.db.write(
        lambda conn: conn.execute(
            "INSERT INTO drafts (courier_id, step, data, updated_at) VALUES (?, 'contact', ?, 0)",
            (COURIER, json.dumps(old)),
        )
    )
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.category, draft.files, draft.lat) == (Step.CONTACT, "work", [("photo", "f1", "u1")], 31.2)
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, t(bot, "filing2.button_continue"))
    await bot.press(COURIER, "Skip")
    assert "Wages unpaid" in bot.last_text(COURIER) and t(bot, "card.files", count=1) in bot.last_text(COURIER)


async def test_an_old_reminder_never_discards_a_later_draft(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    (reminder,) = [m for m in await bot.say(COURIER, "/appeal") if m["text"].startswith("You have")]
    bot.clock.advance(minutes=1)
    await bot.press(COURIER, t(bot, "filing2.button_discard_new"))
    await bot.press(COURIER, "Suggestions")  # the new draft
    old_discard = dict(bot.core.inline_buttons(reminder))[t(bot, "filing2.button_discard_new")]
    query = bot.core.press_button(COURIER, reminder["message_id"], old_discard)
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "filing.stale_button")
    assert (await bot.services.storage.dialogs.draft(COURIER)).category == "suggestion"


async def test_in_chinese_the_answer_says_which_appeal(bot) -> None:
    number = await asked(bot, "Which platform?")
    await bot.services.storage.people.set_language(COURIER, "zh")
    (reply,) = await bot.say(COURIER, "美团")
    assert reply["text"] == f"已作为对诉求 #{number} 的回复发给承办单位。"


async def test_a_split_kept_text_that_is_too_long_together_is_dropped_whole(bot) -> None:
    bot.core.send_text(COURIER, "My scooter was stolen at the depot. " + "a" * 1400)
    bot.core.send_text(COURIER, "b" * 900)
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing2.split_too_long", length=1436 + 900, limit=2000)
    assert (await bot.services.storage.dialogs.draft(COURIER)).kept is None


async def test_a_split_kept_text_that_fits_is_filed_whole(bot) -> None:
    bot.core.send_text(COURIER, "My scooter was stolen at the depot")
    bot.core.send_text(COURIER, "on Monday night")
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "freetext.rest_kept")
    await bot.press(COURIER, t(bot, "freetext.button_file"))
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert draft.description == "My scooter was stolen at the depot\non Monday night"


async def test_a_photo_with_no_dialog_is_offered_as_a_new_appeal(bot) -> None:
    bot.core.send_photo(COURIER, b"\x89PNG broken charger")
    await bot.deliver()
    assert bot.texts(COURIER)[-2] == t(bot, "freetext.offer_file")
    await bot.press(COURIER, t(bot, "freetext.button_file"))
    await bot.press(COURIER, "Daily-life")
    assert t(bot, "card.files", count=1) in bot.last_text(COURIER)
    await bot.say(COURIER, "The charger at the station is broken")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, len(draft.files), draft.description) == (Step.PLACE, 1, "The charger at the station is broken")


async def test_a_number_typed_at_the_place_step_is_not_added_to_the_story(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.say(COURIER, "Wages unpaid")
    (reply,) = await bot.say(COURIER, "138 0013 8000")
    assert reply["text"] == t(bot, "filing.expecting_place")
    assert (await bot.services.storage.dialogs.draft(COURIER)).description == "Wages unpaid"


async def test_a_second_tap_of_confirm_says_it_is_filed_quietly(bot) -> None:
    """Confirm tapped twice: one appeal, and the second tap gets a toast that it is already filed, not an alert."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.say(COURIER, "My wages for November are unpaid")
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Skip")
    review = bot.core.last_message(COURIER)
    confirm = dict(bot.core.inline_buttons(review))[t(bot, "button.confirm")]
    first = bot.core.press_button(COURIER, review["message_id"], confirm)
    second = bot.core.press_button(COURIER, review["message_id"], confirm)
    await bot.deliver()
    assert bot.core.answered_callback(second) == {"text": t(bot, "filing2.already_filed"), "show_alert": False}
    assert bot.core.answered_callback(first)["show_alert"] is False
    rows = await bot.services.storage.db.fetchall("SELECT id FROM appeals WHERE courier_id = ?", (COURIER,))
    assert len(rows) == 1


async def test_a_later_text_replaces_a_kept_one_and_its_old_offer_no_longer_acts(bot) -> None:
    """A text ignored long ago never rides along into the next appeal; a quick second text joins the first."""
    (old_offer, _) = await bot.say(COURIER, "Also the charger at pile 4 does not work well")
    bot.clock.advance(hours=2)
    (new_offer, _) = await bot.say(COURIER, "Please add a water dispenser at Wanda station")
    assert new_offer["text"] == t(bot, "freetext2.replaced") + "\n" + t(bot, "freetext.offer")
    current = {m["message_id"]: m for m in bot.core.messages(COURIER)}
    assert bot.core.inline_buttons(current[old_offer["message_id"]]) == []  # superseded: its buttons went
    # A press the client had already sent, on the old offer, would now file the newer text: it says so instead.
    old_file = dict(bot.core.inline_buttons(old_offer))[t(bot, "freetext.button_file")]
    query = bot.core.press_button(COURIER, old_offer["message_id"], old_file)
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "freetext2.kept_replaced")
    assert (await bot.services.storage.dialogs.draft(COURIER)).step is None
    bot.clock.advance(seconds=30)
    (joined_offer, _) = await bot.say(COURIER, "and shade over the benches")  # within the burst: one story
    assert joined_offer["text"] == t(bot, "freetext.offer")
    current = {m["message_id"]: m for m in bot.core.messages(COURIER)}
    assert bot.core.inline_buttons(current[new_offer["message_id"]]) == []  # one live offer, for the joined text
    await bot.press(COURIER, t(bot, "freetext.button_file"))
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert draft.description == "Please add a water dispenser at Wanda station\nand shade over the benches"


async def test_a_photo_just_after_an_answer_is_added_to_it(bot) -> None:
    number = await asked(bot, "Do you have a payslip?")
    await bot.say(COURIER, "Yes, I will send a photo of it")
    bot.clock.advance(minutes=2)
    bot.core.send_photo(COURIER, b"\x89PNG payslip")
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "freetext2.added_to_answer", number=number)
    answer = (await bot.services.storage.appeals.ledger(number))[-1]
    assert (answer.event, answer.note) == (Event.ANSWER, "Yes, I will send a photo of it")
    assert [kind for kind, _ in await bot.services.storage.appeals.attachments(number, answer.id)] == ["photo"]
    # The unit is told, and the photo follows.
    said = t(
        bot,
        "freetext2.answer_added_unit",
        number=number,
        files=t(bot, "freetext2.files_instead", files=t(bot, "freetext2.photo_one")),
    )
    staff = [m for m in bot.core.messages(HR_STAFF) if m["from"]["is_bot"]]
    assert said in [m.get("text") for m in staff]
    assert "photo" in staff[-1]
    # Much later, a photo is an offer to file, not a postscript.
    bot.clock.advance(minutes=10)
    bot.core.send_photo(COURIER, b"\x89PNG charger")
    await bot.deliver()
    assert bot.texts(COURIER)[-2] == t(bot, "freetext.offer_file")


async def test_an_answer_of_files_alone_says_what_came(bot) -> None:
    number = await asked(bot, "Do you have a payslip?")
    await bot.press(COURIER, "Reply")
    bot.core.send_photo(COURIER, b"\x89PNG payslip")
    await bot.deliver()
    answer = (await bot.services.storage.appeals.ledger(number))[-1]
    assert (answer.event, answer.note) == (Event.ANSWER, None)
    instead = t(bot, "freetext2.files_instead", files=t(bot, "freetext2.photo_one"))
    assert instead == "(1 photo)"
    staff = [m.get("text") or "" for m in bot.core.messages(HR_STAFF) if m["from"]["is_bot"]]
    assert any(text.startswith(t(bot, "notice.answer.unit", number=number, note="\n" + instead)) for text in staff)
    appeal = await bot.services.storage.appeals.get(number)
    assert t(bot, "history.answer", note="\n" + instead) in await history_text(bot.services, appeal, "en")
    assert "回复：\n（照片 1 张）" in await history_text(bot.services, appeal, "zh")


async def test_a_step_answered_by_typing_takes_its_question_s_buttons_away(bot) -> None:
    """The description question's Back and Cancel go once a description is typed; /cancel takes the last step's away."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    question = bot.core.last_message(COURIER)
    assert bot.core.inline_buttons(question)
    await bot.say(COURIER, "My wages for November are unpaid")
    assert bot.core.inline_buttons(bot.core.messages(COURIER)[question["message_id"] - 1]) == []
    place = bot.core.last_message(COURIER)
    assert [label for label, _ in bot.core.inline_buttons(place)][0] == t(bot, "button.skip")
    await bot.say(COURIER, "/cancel")
    assert bot.core.inline_buttons(bot.core.messages(COURIER)[place["message_id"] - 1]) == []


async def test_words_just_after_a_photo_answer_are_its_words(bot) -> None:
    number = await asked(bot, "Which platform, and do you have the receipt? Send a photo.")
    await bot.press(COURIER, "Reply")
    bot.core.send_photo(COURIER, b"\x89PNG receipt")
    await bot.deliver()
    bot.clock.advance(minutes=3)
    replies = await bot.say(COURIER, "Ele.me, the receipt is in the photo")
    assert [m["text"] for m in replies] == [t(bot, "freetext2.added_to_answer", number=number)]
    # The answer has its words now (one answer, not a second); its photo stays with it.
    ledger = await bot.services.storage.appeals.ledger(number)
    answers = [e for e in ledger if e.event is Event.ANSWER]
    assert [(e.note) for e in answers] == ["Ele.me, the receipt is in the photo"]
    assert [k for k, _ in await bot.services.storage.appeals.attachments(number, answers[0].id)] == ["photo"]
    # The unit is told the words, and the photo is not sent again.
    staff = [m for m in bot.core.messages(HR_STAFF) if m["from"]["is_bot"]]
    told = t(bot, "fixtext.answer_words_unit", number=number, note=said("Ele.me, the receipt is in the photo"))
    assert staff[-1].get("text") == told
    # A second text is not written over them: it is offered as a new appeal.
    bot.clock.advance(minutes=1)
    await bot.say(COURIER, "Also the station has no water dispenser at all")
    assert t(bot, "freetext.offer") in bot.texts(COURIER)
    assert [e.note for e in await bot.services.storage.appeals.ledger(number) if e.event is Event.ANSWER] == [
        "Ele.me, the receipt is in the photo"
    ]
