"""What a new user of the outreach features found, fixed (zh and en, through the real Application): the roster
reads "1. 李师傅（已到场）" with no stray mark, the export names a station, cancelling mentions the waiting list only
when someone waits and the card says it is cancelled, /surveys thanks a courier who has answered, and /privacy counts
a wish's text on its own line and says what erasure cancelled and withdrew."""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from domain.activities import ActivityRecord
from tests.handlers.test_activities import CHANGNING, labels, t
from tests.handlers.test_activities_views import AT_ADDRESS, FILE, publish
from tests.handlers.test_outreach_privacy import post_wish
from tests.handlers.test_surveys import answer_small, open_small, send_file
from tests.harness import running_bot
from tests.helpers import press_data

COURIER, ZH_COURIER, COORDINATOR = 1001, 1002, 900


@pytest.fixture
async def bot(tmp_path):
    """Station st-a (长宁驿站 / Changning Station); an English courier, a Chinese one (Wang), a coordinator."""
    async with running_bot(tmp_path / "polish.sqlite3") as running:
        await running.services.storage.stations.upsert([CHANGNING])
        await running.start(COURIER, COORDINATOR)
        running.user(ZH_COURIER, "Wang", language_code="zh")
        await running.say(ZH_COURIER, "/start")
        yield running


async def open_card(bot, person) -> None:
    await bot.say(person, "/activities")
    await bot.press(person, "1. ")


# ---- 1. the roster -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "came", "absent"),
    [("zh", "1. P1001（已到场）", "2. Wang（未到场）"), ("en", "1. P1001 (came)", "2. Wang (did not come)")],
)
async def test_the_roster_lists_names_plainly_and_says_who_came_in_words(bot, lang, came, absent) -> None:
    activity_id = await publish(bot)
    for person in (COURIER, ZH_COURIER):
        await press_data(bot, person, f"ac:join:{activity_id}")
    bot.user(2001, "Sam")
    await bot.say(2001, "/start")
    await press_data(bot, 2001, f"ac:join:{activity_id}")  # two places: Sam waits
    await bot.services.storage.people.set_language(COORDINATOR, lang)
    activity = await bot.services.storage.activities.get(activity_id)
    await bot.at(activity.starts_at - timedelta(hours=1))
    await open_card(bot, COORDINATOR)
    roster = bot.last_text(COORDINATOR)
    waiting = t(bot, lang, "activities.roster_waiting", count=1)
    assert "\n1. P1001\n2. Wang\n" + waiting + "\n1. Sam\n" in roster
    assert "·" not in roster.split(t(bot, lang, "activities.roster_in", count=2))[1]
    assert t(bot, lang, "activities2.attendance_hint") in roster
    assert labels(bot, COORDINATOR)[:2] == ["1. P1001", "2. Wang"]
    await bot.press(COORDINATOR, "1. P1001")
    await bot.press(COORDINATOR, "2. Wang")
    await bot.press(COORDINATOR, "✓ 2. Wang")
    roster = bot.last_text(COORDINATOR)
    assert f"\n{came}\n{absent}\n" in roster
    assert labels(bot, COORDINATOR)[:2] == ["✓ 1. P1001", "✗ 2. Wang"]


# ---- 2. the export names the station ------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "station", "address"),
    [("zh", "长宁驿站", "长宁路100号"), ("en", "Changning Station", "100 Changning Road")],
)
async def test_the_export_names_the_station_in_the_readers_language(bot, lang, station, address) -> None:
    await publish(bot)
    later = FILE.replace("2026-11-30 09:00", "2026-12-01 09:00").replace("2026-11-29", "2026-11-30")
    bot.core.send_document(COORDINATOR, later.format(where=AT_ADDRESS).encode(), "activities.toml", "application/toml")
    await bot.deliver()
    await bot.services.storage.people.set_language(COORDINATOR, lang)
    await bot.say(COORDINATOR, "/activities export")
    documents = [m["document"] for m in bot.core.bot_messages(COORDINATOR)[-3:]]
    table = bot.core.file_bytes(bot.core.file_path(documents[0]["file_id"])).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(table)))
    assert rows[0][3] == t(bot, lang, "activities.col_place")
    assert [row[3] for row in rows[1:]] == [station, address]
    book = load_workbook(io.BytesIO(bot.core.file_bytes(bot.core.file_path(documents[2]["file_id"]))))
    assert [row[3] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)] == [station, address]
    assert "st-a" not in table


# ---- 3. cancelling -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_cancelling_mentions_the_waiting_list_only_when_someone_waits(bot, lang) -> None:
    person = ZH_COURIER if lang == "zh" else COURIER
    activity_id = await publish(bot)
    await open_card(bot, person)
    await bot.press(person, t(bot, lang, "activities.button_join"))
    title = "快递员子女爱心托管班" if lang == "zh" else "Holiday childcare class"
    await bot.press(person, t(bot, lang, "activities.button_leave"))
    assert bot.last_text(person).endswith("\n\n" + t(bot, lang, "activities2.leave_confirm", title=title))
    assert "候补" not in bot.last_text(person).split("\n\n")[-1] and "waiting" not in bot.last_text(person)[-60:]
    await bot.press(person, t(bot, lang, "activities.button_keep"))
    # Two places: a second courier and a third (who waits) fill it.
    for other, name in ((2001, "Sam"), (2002, "Lee")):
        bot.user(other, name)
        await bot.say(other, "/start")
        await press_data(bot, other, f"ac:join:{activity_id}")
    await open_card(bot, person)
    await bot.press(person, t(bot, lang, "activities.button_leave"))
    asked = bot.last_text(person)
    assert asked.endswith("\n\n" + t(bot, lang, "activities2.leave_confirm_waiting", title=title))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_after_cancelling_the_card_itself_says_so_and_offers_to_sign_up_again(bot, lang) -> None:
    person = ZH_COURIER if lang == "zh" else COURIER
    await publish(bot)
    await open_card(bot, person)
    card = bot.core.bot_messages(person)[-1]
    await bot.press(person, t(bot, lang, "activities.button_join"))
    await bot.press(person, t(bot, lang, "activities.button_leave"))
    await bot.press(person, t(bot, lang, "activities.button_leave_yes"))
    after = bot.core.bot_messages(person)[-1]
    assert after["message_id"] == card["message_id"]
    assert after["text"].endswith("\n\n" + t(bot, lang, "activities2.status_left"))
    assert t(bot, lang, "activities.status_in") not in after["text"]
    assert labels(bot, person)[0] == t(bot, lang, "activities.button_join")
    # Opened again later, the card is the plain one.
    await open_card(bot, person)
    assert t(bot, lang, "activities2.status_left") not in bot.last_text(person)


async def test_leaving_the_waiting_list_says_so_on_the_card(bot) -> None:
    activity_id = await publish(bot)
    for other in (2001, 2002):
        bot.user(other, f"R{other}")
        await bot.say(other, "/start")
        await press_data(bot, other, f"ac:join:{activity_id}")
    await open_card(bot, ZH_COURIER)
    await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_wait"))
    await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_leave_queue"))
    await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_leave_yes"))
    assert bot.last_text(ZH_COURIER).endswith("\n\n您已退出本活动的候补名单。")


# ---- 4. /surveys after answering ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "thanked"),
    [("zh", "您已填写问卷“小调查”，感谢您的参与！"), ("en", "You have already answered “A small survey”. Thank you!")],
)
async def test_a_courier_who_answered_the_only_open_survey_is_thanked(tmp_path, lang, thanked) -> None:
    async with running_bot(tmp_path / "surveys.sqlite3") as bot:
        await bot.start(COURIER, 1003, COORDINATOR)
        await open_small(bot)
        await answer_small(bot, COURIER)
        await bot.services.storage.people.set_language(COURIER, lang)
        await bot.say(COURIER, "/surveys")
        assert bot.last_text(COURIER).startswith(thanked)
        await bot.services.storage.people.set_language(1003, lang)
        await bot.say(1003, "/surveys")  # one who has not answered still gets the survey to answer
        assert bot.last_text(1003) == t(bot, lang, "surveys.open_list", count=1)


TINY = """
[survey]
id = "tiny"
title_zh = "一题调查"
title_en = "A one-question survey"

[[questions]]
kind = "single"
text_zh = "需要饮水点吗？"
text_en = "Do you need a water point?"
options_zh = ["需要", "不需要"]
options_en = ["Yes", "No"]
"""


@pytest.mark.parametrize(
    ("lang", "thanked"), [("zh", "目前开放的2份问卷您均已填写"), ("en", "You have answered all 2 surveys")]
)
async def test_a_courier_who_answered_every_open_survey_is_thanked_for_all(tmp_path, lang, thanked) -> None:
    async with running_bot(tmp_path / "surveys.sqlite3") as bot:
        await bot.start(COURIER, COORDINATOR)
        await open_small(bot)
        await send_file(bot, COORDINATOR, TINY, "survey-tiny.toml")
        await bot.press(COORDINATOR, "Open the survey")
        await bot.press(COORDINATOR, "Yes, open it")
        await answer_small(bot, COURIER)
        await bot.say(COURIER, "/surveys")
        await bot.press(COURIER, "A one-question survey")
        await bot.press(COURIER, "Start")
        await bot.press(COURIER, "Yes")
        await bot.press(COURIER, "Send my answers")
        await bot.services.storage.people.set_language(COURIER, lang)
        await bot.say(COURIER, "/surveys")
        assert bot.last_text(COURIER).startswith(thanked)


async def test_a_courier_with_no_survey_open_is_told_there_is_none(tmp_path) -> None:
    async with running_bot(tmp_path / "surveys.sqlite3") as bot:
        await bot.start(COURIER)
        await bot.say(COURIER, "/surveys")
        assert bot.last_text(COURIER) == t(bot, "en", "surveys.none_open")


# ---- 6. /privacy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "appeals", "texts", "wish_texts"),
    [
        ("zh", "诉求：0件（办理中0件）", "诉求文字（诉求描述、询问、回复、办理结果）：0条", "心愿文字：1条"),
        (
            "en",
            "Appeals: 0 (open: 0)",
            "Texts of your appeals (descriptions, questions, answers, results): 0",
            "Texts of your micro-wishes: 1",
        ),
    ],
)
async def test_privacy_counts_a_wish_text_on_its_own_line_and_erasure_says_what_it_gave_up(
    tmp_path, lang, appeals, texts, wish_texts
) -> None:
    async with running_bot(tmp_path / "privacy.sqlite3") as bot:
        await bot.start(COORDINATOR)
        bot.user(COURIER, "Y", language_code=lang)
        await post_wish(bot, COURIER, lang, "冬季手套 winter gloves")
        starts = bot.clock() + timedelta(days=3)
        record = ActivityRecord(title="Free clinic", starts=starts, places=10, signup_until=starts, address="Hall 1")
        (activity_id,) = await bot.services.storage.activities.publish([record], COORDINATOR, bot.clock())
        await bot.services.storage.activities.join(activity_id, COURIER, "Y", bot.clock())
        await bot.say(COURIER, "/privacy")
        lines = bot.last_text(COURIER).split("\n")
        assert appeals in lines and texts in lines and wish_texts in lines
        assert lines.index(wish_texts) == lines.index(t(bot, lang, "privacy2.wishes", count=1, open=1)) + 1
        if lang == "zh":  # no space between a number and its measure word anywhere on the page
            assert not [line for line in lines if any(f"{d} " in line or f" {d}" in line for d in "0123456789")]
        await bot.press(COURIER, t(bot, lang, "privacy.delete"))
        await bot.press(COURIER, t(bot, lang, "privacy.confirm"))
        assert bot.last_text(COURIER) == "\n".join(
            (
                t(bot, lang, "privacy3.erased_plain"),
                t(bot, lang, "privacy3.erased_signups", count=1),
                t(bot, lang, "privacy3.erased_wishes", count=1),
            )
        )


async def test_a_sign_up_for_an_activity_already_held_is_erased_but_not_called_cancelled(tmp_path) -> None:
    async with running_bot(tmp_path / "privacy.sqlite3") as bot:
        await bot.start(COURIER, COORDINATOR)
        starts = bot.clock() + timedelta(hours=3)
        record = ActivityRecord(title="Free clinic", starts=starts, places=10, signup_until=starts, address="Hall 1")
        (activity_id,) = await bot.services.storage.activities.publish([record], COORDINATOR, bot.clock())
        await bot.services.storage.activities.join(activity_id, COURIER, "Y", bot.clock())
        await bot.at(starts + timedelta(hours=1))
        await bot.say(COURIER, "/privacy")
        assert t(bot, "en", "privacy2.signups", count=1) in bot.last_text(COURIER)
        await bot.press(COURIER, t(bot, "en", "privacy.delete"))
        await bot.press(COURIER, t(bot, "en", "privacy.confirm"))
        assert bot.last_text(COURIER) == "Done: your data is deleted. If you write to me again, I will start afresh."
        assert await bot.services.storage.activities.roster(activity_id) == []
