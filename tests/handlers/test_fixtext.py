"""What a new user met in the sandbox: a phone inside words, a "no phone", a station typed by name, a bare /join."""

import pytest

from storage.dialogs import Step
from tests.handlers.test_free_text import COURIER, bot, reach_contact_step, t  # noqa: F401  (bot is a fixture)
from tests.harness import running_bot


@pytest.mark.parametrize("typed", ["my number is 139-0000-1111", "电话13900001111", "call me on +86 139 0000 1111 after 6"])
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
