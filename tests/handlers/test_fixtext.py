"""What a new user met in the sandbox: a phone inside words, a "no phone", a station typed by name, a bare /join."""

import pytest

from storage.dialogs import Step
from tests.handlers.test_free_text import COURIER, HR_STAFF, reach_contact_step, t
from tests.harness import running_bot


@pytest.fixture
async def bot(tmp_path):
    """The test district; the courier and HR's worker have English apps."""
    async with running_bot(tmp_path / "fixtext.sqlite3") as running:
        await running.start(COURIER, HR_STAFF)
        yield running


@pytest.mark.parametrize(
    "typed", ["my number is 139-0000-1111", "电话13900001111", "call me on +86 139 0000 1111 after 6"]
)
async def test_a_phone_inside_words_is_taken(bot, typed) -> None:
    await reach_contact_step(bot)
    await bot.say(COURIER, typed)
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.phone, draft.description) == (Step.REVIEW, "+8613900001111", "Wages unpaid")
    assert bot.texts(COURIER)[-2] == t(bot, "filing.phone_received")


async def test_a_bad_phone_inside_words_is_refused_with_why(bot) -> None:
    await reach_contact_step(bot)
    (reply,) = await bot.say(COURIER, "my number is 1380013800")
    assert reply["text"] == t(bot, "filing2.phone_bad_length")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.phone, draft.description) == (Step.CONTACT, None, "Wages unpaid")


@pytest.mark.parametrize(("typed", "why"), [("+44 12", "intl_short"), ("+44 1234 5678 9012 345", "intl_long")])
async def test_a_short_or_long_international_number_says_so(bot, typed, why) -> None:
    await reach_contact_step(bot)
    (reply,) = await bot.say(COURIER, typed)
    assert reply["text"] == t(bot, f"fixtext.phone_bad_{why}")
    assert "11 digits" not in reply["text"]


@pytest.mark.parametrize("typed", ["no phone", "Skip.", "None", "I don't have one"])
async def test_no_phone_in_words_is_the_skip_button(bot, typed) -> None:
    await reach_contact_step(bot)
    await bot.say(COURIER, typed)
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.phone, draft.description) == (Step.REVIEW, None, "Wages unpaid")
    assert bot.texts(COURIER)[-2] == t(bot, "fixtext.phone_declined")
    assert t(bot, "filing.review_anonymous") in bot.last_text(COURIER)


async def test_chinese_no_phone_is_declining(tmp_path) -> None:
    async with running_bot(tmp_path / "zh.sqlite3") as bot:
        bot.user(COURIER, "Li", language_code="zh")
        await bot.say(COURIER, "/appeal")
        await bot.press(COURIER, "权益")
        await bot.say(COURIER, "十月份的工资没有发")
        await bot.press(COURIER, "跳过")
        await bot.say(COURIER, "没有电话")
        draft = await bot.services.storage.dialogs.draft(COURIER)
        assert (draft.step, draft.phone, draft.description) == (Step.REVIEW, None, "十月份的工资没有发")
        assert bot.services.text("zh", "fixtext.phone_declined") in bot.texts(COURIER)


async def test_other_words_at_the_phone_step_are_kept_and_the_step_asked_again(bot) -> None:
    await reach_contact_step(bot)
    replies = await bot.say(COURIER, "abc电话没有")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.phone, draft.description) == (Step.CONTACT, None, "Wages unpaid\nabc电话没有")
    assert replies[0]["text"] == t(bot, "fixtext.not_a_phone") + "\n" + t(bot, "filing.ask_contact_keyboard")
    assert replies[-1]["text"] == t(bot, "filing.ask_contact")
    assert t(bot, "filing2.added") not in [m["text"] for m in replies]


async def test_back_to_the_phone_step_says_the_number_given_and_keeps_it(bot) -> None:
    await reach_contact_step(bot)
    await bot.say(COURIER, "139 0000 1111")
    await bot.press(COURIER, "Back")
    assert bot.last_text(COURIER).startswith(t(bot, "fixtext.phone_given", phone="+8613900001111"))
    await bot.press(COURIER, t(bot, "fixtext.button_keep_phone"))
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.phone) == (Step.REVIEW, "+8613900001111")
    assert t(bot, "filing.review_phone", phone="+8613900001111") in bot.last_text(COURIER)


async def _at_place_step(bot, category: str = "Suggestions") -> None:
    from storage.stations import Station

    await bot.services.storage.stations.upsert(
        [
            Station(
                id="hp-001",
                name="人民广场爱心驿站",
                name_en="People's Square Rest Station",
                lat=31.2317,
                lon=121.4753,
                grade="A",
                unit_id="st1",
            ),
            Station(
                id="hp-002",
                name="南京东路爱心驿站",
                name_en="East Nanjing Road Rest Station",
                lat=31.2389,
                lon=121.4845,
                grade="A",
            ),
        ]
    )
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, category)
    await bot.say(COURIER, "Please add a water dispenser here")


async def test_a_station_typed_by_name_is_offered_and_one_tap_sets_it(tmp_path) -> None:
    routing = [{"category": "suggestion", "station": "hp-001", "unit": "st1"}]
    async with running_bot(tmp_path / "st.sqlite3", routing=routing) as bot:
        bot.user(COURIER, "Li", language_code="zh")
        await _at_place_step(bot, "意见建议")
        (offer,) = await bot.say(COURIER, "人民广场驿站")
        assert offer["text"] == bot.services.text("zh", "fixtext.which_station_typed")
        assert [label for label, _ in bot.core.inline_buttons(offer)][:2] == [
            "人民广场爱心驿站",
            bot.services.text("zh", "fixtext.button_keep_typed"),
        ]
        await bot.press(COURIER, "人民广场爱心驿站")
        draft = await bot.services.storage.dialogs.draft(COURIER)
        assert (draft.step, draft.station, draft.typed_place) == (Step.CONTACT, "hp-001", None)
        assert "地点" not in (draft.description or "")
        await bot.press(COURIER, bot.services.text("zh", "button.anonymous"))
        await bot.press(COURIER, bot.services.text("zh", "button.confirm"))
        ((appeal, _),) = await bot.services.storage.appeals.of_courier(COURIER)
        assert (appeal.station_id, appeal.unit_id) == ("hp-001", "st1")


async def test_a_typed_place_naming_a_station_can_be_kept_as_typed(bot) -> None:
    await _at_place_step(bot)
    (offer,) = await bot.say(COURIER, "people's square")
    assert offer["text"] == t(bot, "fixtext.which_station_typed")
    await bot.press(COURIER, t(bot, "fixtext.button_keep_typed"))
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.station, draft.place) == (Step.CONTACT, None, "people's square")
    assert "people's square" not in draft.description


async def test_a_typed_place_naming_no_station_is_the_place(bot) -> None:
    await _at_place_step(bot)
    replies = await bot.say(COURIER, "the bund, near the ferry")
    assert replies[0]["text"].startswith(t(bot, "freetext2.place_taken"))
    assert (await bot.services.storage.dialogs.draft(COURIER)).step is Step.CONTACT


async def test_a_bare_join_asks_for_the_code_and_the_next_text_is_it(tmp_path) -> None:
    from tests.every_state import COORDINATOR, greet_everyone

    async with running_bot(tmp_path / "join.sqlite3") as bot:
        await greet_everyone(bot, (COURIER, COORDINATOR))
        await bot.say(COORDINATOR, "/invite hr")
        code = bot.last_text(COORDINATOR).rsplit(" ", 1)[1]
        (asked,) = await bot.say(COURIER, "/join")
        assert asked["text"] == t(bot, "fixtext.join_ask_code")
        await bot.say(COURIER, code)
        assert bot.last_text(COURIER).startswith("Welcome! You are now on the staff of this unit: HR Bureau.")
        assert (await bot.services.storage.people.get(COURIER)).role == "staff"
        assert await bot.services.storage.appeals.of_courier(COURIER) == []


async def test_a_code_typed_alone_is_tried_and_wrong_ones_count_toward_the_limit(tmp_path) -> None:
    from tests.every_state import COORDINATOR, greet_everyone

    async with running_bot(tmp_path / "code.sqlite3", invites={"wrong_codes_per_hour": 2}) as bot:
        await greet_everyone(bot, (COURIER, COORDINATOR))
        await bot.say(COORDINATOR, "/invite hr")
        code = bot.last_text(COORDINATOR).rsplit(" ", 1)[1]
        for guess in ("ZZZZZZ23", "ZZZZZZ34"):
            (said,) = await bot.say(COURIER, guess)
            assert said["text"] == t(bot, "staff.join_bad")  # not offered as an appeal
        (said,) = await bot.say(COURIER, code)
        assert said["text"] == t(bot, "invites15.join_limited")
        assert (await bot.services.storage.people.get(COURIER)).role == "courier"


async def test_after_a_bare_join_other_words_are_not_taken_as_a_code(tmp_path) -> None:
    from tests.every_state import greet_everyone

    async with running_bot(tmp_path / "words.sqlite3") as bot:
        await greet_everyone(bot, (COURIER,))
        await bot.say(COURIER, "/join")
        await bot.say(COURIER, "My wages for October were not paid at all")
        assert t(bot, "freetext.offer") in bot.texts(COURIER)
        (said,) = await bot.say(COURIER, "/join")
        assert said["text"] == t(bot, "fixtext.join_ask_code")


async def test_the_receipt_says_who_assigns_it_and_by_when_once(bot) -> None:
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Suggestions")
    await bot.say(COURIER, "Please add a water dispenser at the station")
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Confirm")
    receipt = bot.last_text(COURIER)
    assert receipt.count("assign") == 1  # said once, with its deadline
    assert "is filed. To be assigned to a unit by " in receipt


async def test_the_receipt_names_the_unit_after_a_colon(bot) -> None:
    await reach_contact_step(bot)
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Confirm")
    assert "is filed and sent to the unit: HR Bureau. The unit must accept it by " in bot.last_text(COURIER)


async def test_a_phone_with_more_of_the_story_keeps_the_story(bot) -> None:
    await reach_contact_step(bot)
    await bot.say(COURIER, "13900001111, and the boss says he will not pay October either")
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.phone) == (Step.REVIEW, "+8613900001111")
    assert draft.description == "Wages unpaid\n13900001111, and the boss says he will not pay October either"
    assert bot.texts(COURIER)[-2] == t(bot, "fixtext.phone_and_words")
