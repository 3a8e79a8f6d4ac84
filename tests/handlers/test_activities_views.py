"""What a new user of activities found wanting: when attendance opens is said, a station is found by its name,
Back to the list brings the list back whole, and an activity reads in the reader's language (zh and en)."""

from datetime import timedelta

import pytest

from storage.stations import Station
from tests.handlers.test_activities import CHANGNING, labels, t
from tests.harness import running_bot
from tests.helpers import press_data

COURIER, ZH_COURIER, COORDINATOR = 1001, 1002, 900

FILE = """
[[activities]]
title = "快递员子女爱心托管班"
title_en = "Holiday childcare class"
details = "6至12岁，提供午餐。"
details_en = "Ages 6 to 12, with lunch."
starts = "2026-11-30 09:00"
{where}
places = 2
signup_until = "2026-11-29 18:00"
"""
AT_STATION = 'station = "st-a"'
AT_ADDRESS = 'address = "长宁路100号"\naddress_en = "100 Changning Road"\nlat = 31.2\nlon = 121.4'


@pytest.fixture
async def bot(tmp_path):
    """Two stations whose Chinese names share 长宁; an English courier, a Chinese one, a coordinator."""
    async with running_bot(tmp_path / "activities.sqlite3") as running:
        await running.services.storage.stations.upsert(
            [
                CHANGNING,
                Station(id="st-b", name="长宁西驿站", name_en="Changning West", lat=31.21, lon=121.40, grade="B"),
            ]
        )
        await running.start(COURIER, COORDINATOR)
        running.user(ZH_COURIER, "Wang", language_code="zh")
        await running.say(ZH_COURIER, "/start")
        yield running


async def publish(bot, where: str = AT_STATION) -> int:
    bot.core.send_document(COORDINATOR, FILE.format(where=where).encode(), "activities.toml", "application/toml")
    await bot.deliver()
    (activity,) = await bot.services.storage.activities.upcoming(bot.clock())
    return activity.id


# ---- 1. when attendance can be marked -----------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "Attendance can be marked from Mon 30 Nov 07:00"), ("zh", "11月30日 周一 07:00起可登记签到")],
)
async def test_the_roster_says_when_attendance_can_be_marked_until_it_can(bot, lang, said) -> None:
    activity_id = await publish(bot)
    await press_data(bot, COURIER, f"ac:join:{activity_id}")
    await bot.services.storage.people.set_language(COORDINATOR, lang)
    await bot.say(COORDINATOR, "/activities")
    await bot.press(COORDINATOR, "1. ")
    roster = bot.last_text(COORDINATOR)
    assert said in roster
    assert "1. P1001" not in labels(bot, COORDINATOR)  # no attendance buttons yet
    activity = await bot.services.storage.activities.get(activity_id)
    await bot.at(activity.starts_at - timedelta(hours=2))
    await bot.press(COORDINATOR, t(bot, lang, "activities.button_refresh"))
    assert said not in bot.last_text(COORDINATOR)
    assert t(bot, lang, "activities2.attendance_hint") in bot.last_text(COORDINATOR)
    assert "1. P1001" in labels(bot, COORDINATOR)


# ---- 2. a station found by its name in the dialog ----------------------------------------------


async def start_dialog(bot, lang: str) -> None:
    await bot.services.storage.people.set_language(COORDINATOR, lang)
    await bot.say(COORDINATOR, "/activity new")
    await bot.say(COORDINATOR, "Free clinic" if lang == "en" else "义诊")
    await bot.press(COORDINATOR, t(bot, lang, "activity_more.button_skip"))
    await bot.say(COORDINATOR, "2026-11-28 14:00")


async def test_an_english_coordinator_finds_the_station_by_its_name(bot) -> None:
    await start_dialog(bot, "en")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.ask_where")
    await bot.say(COORDINATOR, "changning west")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activity_more.pick_station", typed="changning west")
    assert labels(bot, COORDINATOR) == [
        "Changning West",
        "Use “changning west” as the address",
        t(bot, "en", "activities.button_cancel"),
    ]
    await bot.press(COORDINATOR, "Changning West")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.ask_places")
    await bot.say(COORDINATOR, "10")
    await bot.press(COORDINATOR, t(bot, "en", "activities.button_until_start"))
    await bot.press(COORDINATOR, t(bot, "en", "activities.who_couriers"))
    assert "Where: Changning West" in bot.last_text(COORDINATOR)
    await bot.press(COORDINATOR, t(bot, "en", "activities.button_publish"))
    (activity,) = await bot.services.storage.activities.upcoming(bot.clock())
    assert (activity.title, activity.station_id, activity.address) == ("Free clinic", "st-b", "")


async def test_a_chinese_coordinator_picks_among_stations_or_keeps_the_text_as_the_address(bot) -> None:
    await start_dialog(bot, "zh")
    await bot.say(COORDINATOR, "长宁")
    assert labels(bot, COORDINATOR) == [
        "长宁西驿站",
        "长宁驿站 · 长宁路1号",
        "以“长宁”作为地址",
        t(bot, "zh", "activities.button_cancel"),
    ]
    # A forged number, and a station closed since it was offered, are refused; the question stays.
    query = await press_data(bot, COORDINATOR, "ac:at:7")
    assert bot.core.answered_callback(query)["text"] == t(bot, "zh", "press.invalid")
    await bot.services.storage.stations.set_active("st-b", False)
    query = await press_data(bot, COORDINATOR, "ac:at:0")
    assert bot.core.answered_callback(query)["text"] == t(bot, "zh", "activity_more.station_gone")
    await bot.press(COORDINATOR, "以“长宁”作为地址")
    assert bot.last_text(COORDINATOR) == t(bot, "zh", "activities.ask_places")
    for typed in ("8",):
        await bot.say(COORDINATOR, typed)
    await bot.press(COORDINATOR, t(bot, "zh", "activities.button_until_start"))
    await bot.press(COORDINATOR, t(bot, "zh", "activities.who_everyone"))
    await bot.press(COORDINATOR, t(bot, "zh", "activities.button_publish"))
    (activity,) = await bot.services.storage.activities.upcoming(bot.clock())
    assert (activity.title, activity.title_en, activity.station_id, activity.address) == ("义诊", "", None, "长宁")


async def test_an_offered_station_button_is_stale_once_the_dialog_moved_on(bot) -> None:
    await start_dialog(bot, "en")
    await bot.say(COORDINATOR, "Changning")
    offered = bot.core.bot_messages(COORDINATOR)[-1]["message_id"]
    await bot.press(COORDINATOR, "Changning Station")
    query = bot.core.press_button(COORDINATOR, offered, "ac:at:1")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "activities.no_draft")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.ask_places")


# ---- 3. Back to the list keeps the whole message consistent --------------------------------------


@pytest.mark.parametrize("person", [COURIER, ZH_COURIER])
async def test_a_courier_goes_back_from_a_card_to_the_whole_list_in_the_same_message(bot, person) -> None:
    lang = "en" if person == COURIER else "zh"
    await publish(bot)
    await bot.say(person, "/activities")
    listed = bot.core.bot_messages(person)[-1]
    await bot.press(person, "1. ")
    await bot.press(person, t(bot, lang, "activities.button_join"))
    assert t(bot, lang, "activities.status_in") in bot.last_text(person)
    await bot.press(person, t(bot, lang, "activity_more.button_all"))
    again = bot.core.bot_messages(person)[-1]
    assert again["message_id"] == listed["message_id"]  # edited in place, not a new message
    assert again["text"].startswith(t(bot, lang, "activities.list_title"))
    assert again["text"].endswith(t(bot, lang, "activities.list_hint"))
    title = "Holiday childcare class" if lang == "en" else "快递员子女爱心托管班"
    when = "Mon 30 Nov 09:00" if lang == "en" else "11月30日 周一 09:00"
    line = t(bot, lang, "activities.list_line", number=1, title=title, when=when, free=1)  # one of two places taken
    assert line in again["text"]
    assert labels(bot, person) == [f"1. {title}"]


async def test_a_coordinator_goes_back_from_a_roster_to_the_list_with_its_heading(bot) -> None:
    await publish(bot)
    await bot.say(COORDINATOR, "/activities")
    listed = bot.core.bot_messages(COORDINATOR)[-1]
    await bot.press(COORDINATOR, "1. ")
    assert labels(bot, COORDINATOR)[-2:] == [
        t(bot, "en", "activities.button_refresh"),
        t(bot, "en", "activity_more.button_all"),
    ]
    await bot.press(COORDINATOR, t(bot, "en", "activity_more.button_all"))
    again = bot.core.bot_messages(COORDINATOR)[-1]
    assert again["message_id"] == listed["message_id"]
    assert again["text"] == listed["text"]
    assert again["text"].startswith(t(bot, "en", "activities.coord_title"))
    assert labels(bot, COORDINATOR) == ["1. Holiday childcare class"]


# ---- 4. two languages ----------------------------------------------------------------------------


async def test_each_reader_sees_the_activity_in_their_language_with_the_address_too(bot) -> None:
    activity_id = await publish(bot, AT_ADDRESS)
    await bot.say(COURIER, "/activities")
    assert "1. Holiday childcare class" in bot.last_text(COURIER)
    await bot.press(COURIER, "1. ")
    card = bot.last_text(COURIER)
    assert card.startswith("📌 Holiday childcare class") and "Ages 6 to 12, with lunch." in card
    assert "Where: 100 Changning Road" in card
    await bot.press(COURIER, t(bot, "en", "activities.button_join"))
    await bot.press(COURIER, t(bot, "en", "activities.button_navigate"))
    venue = bot.core.bot_messages(COURIER)[-1]["venue"]
    assert (venue["title"], venue["address"]) == ("Holiday childcare class", "100 Changning Road")

    await bot.say(ZH_COURIER, "/activities")
    assert "1. 快递员子女爱心托管班" in bot.last_text(ZH_COURIER)
    await bot.press(ZH_COURIER, "1. ")
    card = bot.last_text(ZH_COURIER)
    assert card.startswith("📌 快递员子女爱心托管班") and "6至12岁，提供午餐。" in card and "地点：长宁路100号" in card
    await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_join"))

    activity = await bot.services.storage.activities.get(activity_id)
    await bot.at(activity.starts_at - timedelta(hours=24))
    assert bot.last_text(COURIER).startswith("Reminder: “Holiday childcare class”")
    assert "100 Changning Road" in bot.last_text(COURIER)
    assert "快递员子女爱心托管班" in bot.last_text(ZH_COURIER) and "长宁路100号" in bot.last_text(ZH_COURIER)


async def test_an_activity_without_an_english_title_falls_back_to_its_title(bot) -> None:
    file = FILE.format(where=AT_STATION).replace('title_en = "Holiday childcare class"\n', "")
    bot.core.send_document(COORDINATOR, file.encode(), "activities.toml", "application/toml")
    await bot.deliver()
    await bot.say(COURIER, "/activities")
    assert "1. 快递员子女爱心托管班" in bot.last_text(COURIER)


async def test_an_english_address_needs_the_address_it_translates(bot) -> None:
    file = FILE.format(where='station = "st-a"\naddress_en = "1 Changning Road"')
    bot.core.send_document(COORDINATOR, file.encode(), "activities.toml", "application/toml")
    await bot.deliver()
    assert "activity 1: address_en" in bot.last_text(COORDINATOR)
    assert await bot.services.storage.activities.upcoming(bot.clock()) == []


async def test_cancelling_asks_under_the_card_and_keeping_it_brings_the_card_back_in_chinese(bot) -> None:
    await publish(bot)
    await bot.say(ZH_COURIER, "/activities")
    await bot.press(ZH_COURIER, "1. ")
    await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_join"))
    card = bot.core.bot_messages(ZH_COURIER)[-1]
    await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_leave"))
    asked = bot.core.bot_messages(ZH_COURIER)[-1]
    assert asked["message_id"] == card["message_id"]
    assert asked["text"] == card["text"] + "\n\n" + t(
        bot, "zh", "activities2.leave_confirm", title="快递员子女爱心托管班"
    )
    await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_keep"))
    assert bot.core.bot_messages(ZH_COURIER)[-1]["text"] == card["text"]
    assert labels(bot, ZH_COURIER)[-1] == "« 全部活动"
