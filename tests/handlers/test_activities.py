"""Activities with sign-up: published from a file or the dialog, signed up for with one tap, a waiting list that
moves up, the day-before reminder with Navigate, attendance, the export, and capacity under many taps at once."""

import asyncio
import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from telegram import Update

from handlers import callbacks
from handlers.callbacks import Family, LinkVerb
from storage.invariants import check_database
from storage.stations import Station
from tests.harness import START, on_this_backend, running_bot
from tests.helpers import press_data
from tests.storage.conftest import INTEGRITY_ERRORS

COURIER, ZH_COURIER, STAFF, COORDINATOR = 1001, 1002, 500, 900
OTHERS = range(2001, 2041)

FILE = """
[[activities]]
title = "Holiday childcare class"
details = "For couriers' children aged 6 to 12."
starts = "2026-11-30 09:00"
station = "st-a"
places = {places}
signup_until = "2026-11-29 18:00"
"""


CHANGNING = Station(
    id="st-a", name="长宁驿站", name_en="Changning Station", address="长宁路1号", lat=31.22, lon=121.42, grade="A"
)


@pytest.fixture
async def bot(tmp_path):
    """The test district with one station; an English courier, a Chinese one, a station worker, a coordinator."""
    async with running_bot(tmp_path / "activities.sqlite3") as running:
        await running.services.storage.stations.upsert([CHANGNING])
        await running.start(COURIER, STAFF, COORDINATOR)
        running.user(ZH_COURIER, "Wang", language_code="zh")
        await running.say(ZH_COURIER, "/start")
        yield running


def t(bot, lang, key, **values):
    return bot.services.text(lang, key, **values)


def labels(bot, person) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(bot.core.bot_messages(person)[-1])]


async def publish_file(bot, places: int = 20) -> int:
    bot.core.send_document(COORDINATOR, FILE.format(places=places).encode(), "activities.toml", "application/toml")
    await bot.deliver()
    (activity,) = await bot.services.storage.activities.upcoming(bot.clock())
    return activity.id


async def open_activity(bot, person, lang="en") -> None:
    await bot.say(person, "/activities")
    await bot.press(person, "1. ")


def toast(bot, query_id) -> str | None:
    return (bot.core.answered_callback(query_id) or {}).get("text")


async def test_a_file_publishes_and_a_courier_signs_up_from_the_menu(bot) -> None:
    await publish_file(bot)
    assert t(bot, "en", "activities.published", count=1) in bot.texts(COORDINATOR)
    assert t(bot, "en", "activities.menu") in bot.reply_labels(COURIER)
    await bot.say(COURIER, t(bot, "en", "activities.menu"))
    assert bot.last_text(COURIER).startswith(t(bot, "en", "activities.list_title"))
    await bot.press(COURIER, "1. Holiday")
    card = bot.last_text(COURIER)
    assert "Changning Station (长宁路1号)" in card and "Mon 30 Nov 09:00" in card
    assert labels(bot, COURIER) == [
        t(bot, "en", "activities.button_join"),
        t(bot, "en", "activities.button_navigate"),
        t(bot, "en", "activity_more.button_all"),
    ]
    query = await bot.press(COURIER, t(bot, "en", "activities.button_join"))
    assert toast(bot, query) == t(bot, "en", "activities.joined")
    assert t(bot, "en", "activities.status_in") in bot.last_text(COURIER)
    assert "20 in all, 19 free" in bot.last_text(COURIER)


async def test_a_bad_file_is_refused_whole_with_its_problems(bot) -> None:
    bad = (
        FILE.format(places=0) + '\n[[activities]]\ntitle = "x"\nstarts = "tomorrow"\nstation = "nowhere"\nplaces = 3\n'
    )
    bot.core.send_document(COORDINATOR, bad.encode(), "activities.toml", "application/toml")
    await bot.deliver()
    text = bot.last_text(COORDINATOR)
    assert "activity 1: places" in text and "activity 2: starts" in text and "activity 2: station" in text
    assert await bot.services.storage.activities.upcoming(bot.clock()) == []
    # A courier's file is just a message to the inbox, never published.
    bot.core.send_document(COURIER, FILE.format(places=3).encode(), "activities.toml", "application/toml")
    await bot.deliver()
    assert await bot.services.storage.activities.upcoming(bot.clock()) == []


async def test_the_dialog_publishes_after_show_back_and_cancel_works_at_each_step(bot) -> None:
    await bot.say(COORDINATOR, "/activity new")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.ask_title")
    await bot.press(COORDINATOR, t(bot, "en", "activities.button_cancel"))
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.discarded")
    # Typing cancel ends it too; with no dialog open, /cancel says what it always said.
    await bot.say(COORDINATOR, "/activity new")
    await bot.say(COORDINATOR, "Free clinic")
    await bot.say(COORDINATOR, "cancel")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.discarded")
    assert bot.core.inline_buttons(bot.core.bot_messages(COORDINATOR)[-2]) == []
    await bot.say(COORDINATOR, "/cancel")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "cancel.nothing")
    # A message after cancelling is not taken as a title.
    await bot.say(COORDINATOR, "/activity new")
    await bot.say(COORDINATOR, "Free clinic")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activity_more.ask_title_zh")
    await bot.press(COORDINATOR, t(bot, "en", "activity_more.button_skip"))
    await bot.say(COORDINATOR, "yesterday")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.bad_starts")
    await bot.say(COORDINATOR, "2026-11-28 14:00")
    await bot.say(COORDINATOR, "Community centre, 5 Jiangsu Road")
    await bot.say(COORDINATOR, "many")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.bad_places")
    await bot.say(COORDINATOR, "30")
    await bot.say(COORDINATOR, "2026-11-28 15:00")  # after it starts
    assert bot.last_text(COORDINATOR) == t(bot, "en", "activities.bad_until")
    await bot.say(COORDINATOR, "2026-11-27 18:00")
    await bot.press(COORDINATOR, t(bot, "en", "activities.who_everyone"))
    shown = bot.last_text(COORDINATOR)
    assert shown.startswith(t(bot, "en", "activities.confirm_head"))
    assert "Community centre, 5 Jiangsu Road" in shown and "Sat 28 Nov 14:00" in shown and "Fri 27 Nov 18:00" in shown
    # Only the newest question keeps its buttons (a wrong answer's reply keeps its Cancel, which still cancels).
    asked = [m for m in bot.core.bot_messages(COORDINATOR) if m.get("text") == t(bot, "en", "activities.ask_places")]
    assert bot.core.inline_buttons(asked[-1]) == []
    assert await bot.services.storage.activities.upcoming(bot.clock()) == []
    preview = bot.core.bot_messages(COORDINATOR)[-1]["message_id"]
    await bot.press(COORDINATOR, t(bot, "en", "activities.button_publish"))
    (activity,) = await bot.services.storage.activities.upcoming(bot.clock())
    assert (activity.title, activity.places, activity.audience) == ("Free clinic", 30, "everyone")
    # A second Confirm (a stale button) publishes nothing more.
    query = bot.core.press_button(COORDINATOR, preview, "ac:pub")
    await bot.deliver()
    assert toast(bot, query) == t(bot, "en", "activities.no_draft")
    assert len(await bot.services.storage.activities.upcoming(bot.clock())) == 1
    # An address without coordinates: no Navigate button.
    await open_activity(bot, COURIER)
    assert labels(bot, COURIER) == [t(bot, "en", "activities.button_join"), t(bot, "en", "activity_more.button_all")]


async def test_full_goes_to_the_waiting_list_and_a_cancel_moves_the_first_up_who_is_told(bot) -> None:
    await publish_file(bot, places=1)
    await open_activity(bot, COURIER)
    await bot.press(COURIER, t(bot, "en", "activities.button_join"))
    await open_activity(bot, ZH_COURIER)
    assert labels(bot, ZH_COURIER)[0] == t(bot, "zh", "activities.button_wait")
    query = await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_wait"))
    assert toast(bot, query) == t(bot, "zh", "activities.queued", position=1)
    assert t(bot, "zh", "activities.status_waiting", position=1) in bot.last_text(ZH_COURIER)
    assert "名额：共 1 个，剩余 0 个，候补 1 人" in bot.last_text(ZH_COURIER)

    await bot.press(COURIER, t(bot, "en", "activities.button_leave"))
    asked = bot.last_text(COURIER)
    assert asked.startswith("📌 Holiday childcare class") and t(bot, "en", "activities.status_in") in asked
    assert asked.endswith(t(bot, "en", "activities2.leave_confirm_waiting", title="Holiday childcare class"))
    await bot.press(COURIER, t(bot, "en", "activities.button_keep"))
    assert t(bot, "en", "activities.status_in") in bot.last_text(COURIER)
    await bot.press(COURIER, t(bot, "en", "activities.button_leave"))
    query = await bot.press(COURIER, t(bot, "en", "activities.button_leave_yes"))
    assert toast(bot, query) == t(bot, "en", "activities2.status_left")
    assert labels(bot, COURIER)[0] == t(bot, "en", "activities.button_wait")  # the place went to the first waiting

    told = bot.last_text(ZH_COURIER)
    assert told.startswith("“Holiday childcare class”有名额空出") and "长宁驿站（长宁路1号）" in told
    assert labels(bot, ZH_COURIER) == [t(bot, "zh", "activities.button_navigate")]
    roster = await bot.services.storage.activities.roster(1)
    assert [(s.person_id, s.state) for s in roster] == [(ZH_COURIER, "in")]


async def test_the_reminder_comes_the_day_before_with_navigate_and_only_once(bot) -> None:
    activity_id = await publish_file(bot)
    await open_activity(bot, COURIER)
    await bot.press(COURIER, t(bot, "en", "activities.button_join"))
    activity = await bot.services.storage.activities.get(activity_id)
    seen = len(bot.texts(COURIER))
    await bot.at(activity.starts_at - timedelta(hours=24, minutes=1))
    assert len(bot.texts(COURIER)) == seen
    await bot.at(activity.starts_at - timedelta(hours=24))
    reminder = t(
        bot,
        "en",
        "activities.notice_reminder",
        title="Holiday childcare class",
        when="Mon 30 Nov 09:00",
        place="Changning Station (长宁路1号)",
    )
    assert bot.last_text(COURIER) == reminder
    assert labels(bot, COURIER) == [t(bot, "en", "activities.button_navigate")]
    await bot.press(COURIER, t(bot, "en", "activities.button_navigate"))
    venue = bot.core.bot_messages(COURIER)[-1]["venue"]
    assert venue["title"] == "Changning Station" and venue["location"]["latitude"] == pytest.approx(31.22)
    await bot.at(activity.starts_at - timedelta(hours=2))
    assert bot.texts(COURIER).count(reminder) == 1


async def test_attendance_is_marked_by_the_coordinator_and_exported_without_formulas(bot) -> None:
    activity_id = await publish_file(bot, places=2)
    for person in (COURIER, ZH_COURIER):
        await open_activity(bot, person)
        await bot.press(person, t(bot, "en" if person == COURIER else "zh", "activities.button_join"))
    bot.user(2001, "=HYPERLINK(1)")
    await bot.say(2001, "/start")
    await open_activity(bot, 2001)
    await bot.press(2001, t(bot, "en", "activities.button_wait"))

    activity = await bot.services.storage.activities.get(activity_id)
    await bot.at(activity.starts_at - timedelta(minutes=30))
    await bot.say(COORDINATOR, "/activities")
    assert "2/2 signed up, 1 waiting" in bot.last_text(COORDINATOR)
    await bot.press(COORDINATOR, "1. ")
    roster = bot.last_text(COORDINATOR)
    assert "\n1. P1001\n2. Wang\n" in roster and "\n1. =HYPERLINK(1)" in roster and "·" not in roster
    assert labels(bot, COORDINATOR)[:2] == ["1. P1001", "2. Wang"]
    await bot.press(COORDINATOR, "1. P1001")
    assert "\n1. P1001 (came)\n2. Wang\n" in bot.last_text(COORDINATOR)
    await bot.press(COORDINATOR, "2. Wang")
    await bot.press(COORDINATOR, "✓ 2. Wang")
    assert "\n2. Wang (did not come)\n" in bot.last_text(COORDINATOR)
    assert labels(bot, COORDINATOR)[:2] == ["✓ 1. P1001", "✗ 2. Wang"]
    # A courier cannot mark attendance, whatever the button says.
    (data,) = [
        d for label, d in bot.core.inline_buttons(bot.core.bot_messages(COORDINATOR)[-1]) if label.startswith("✓ 1.")
    ]
    query = bot.core.press_button(COURIER, bot.core.bot_messages(COURIER)[-1]["message_id"], data)
    await bot.deliver()
    assert toast(bot, query) == t(bot, "en", "coord.not_coordinator")

    await bot.say(COORDINATOR, "/activities export")
    documents = [m["document"] for m in bot.core.bot_messages(COORDINATOR)[-3:]]
    assert [d["file_name"] for d in documents] == ["activities.csv", "attendance.csv", "activities.xlsx"]
    attendance = bot.core.file_bytes(bot.core.file_path(documents[1]["file_id"])).decode("utf-8-sig")
    assert '"P1001",1001,"has a place"' in attendance and '"yes"' in attendance and '"no"' in attendance
    assert '"\'=HYPERLINK(1)"' in attendance
    book = load_workbook(io.BytesIO(bot.core.file_bytes(bot.core.file_path(documents[2]["file_id"]))))
    assert book.sheetnames == ["Activities", "Attendance"]
    names = [row[2] for row in book["Attendance"].iter_rows(min_row=2, values_only=True)]
    assert names == ["P1001", "Wang", "=HYPERLINK(1)"]
    assert book["Attendance"]["C4"].data_type == "s"
    assert [row[7] for row in book["Activities"].iter_rows(min_row=2, values_only=True)] == [1]


async def test_many_taps_in_the_same_second_never_exceed_the_places(bot) -> None:
    activity_id = await publish_file(bot, places=5)
    messages = {}
    for person in OTHERS:
        bot.user(person, f"R{person}")
        await bot.say(person, "/start")
        await open_activity(bot, person)
        messages[person] = bot.core.bot_messages(person)[-1]
    join = dict(bot.core.inline_buttons(messages[OTHERS[0]]))[t(bot, "en", "activities.button_join")]
    for person in OTHERS:  # each taps twice
        for _ in range(2):
            bot.core.press_button(person, messages[person]["message_id"], join)
    updates = [Update.de_json(u, bot.app.bot) for u in bot.core.take_updates()]
    await asyncio.gather(*(bot.app.process_update(u) for u in updates))
    roster = await bot.services.storage.activities.roster(activity_id)
    assert sum(s.state == "in" for s in roster) == 5
    assert len(roster) == len(OTHERS)  # one sign-up each, however many taps
    assert [s.id for s in roster if s.state == "waiting"] == sorted(s.id for s in roster if s.state == "waiting")
    # Two cancels at once: two places go to the first two waiting, never more.
    placed = [s.person_id for s in roster if s.state == "in"][:2]
    for person in placed:
        await bot.press(person, t(bot, "en", "activities.button_leave"))
    for person in placed:
        bot.core.press(person, t(bot, "en", "activities.button_leave_yes"))
    updates = [Update.de_json(u, bot.app.bot) for u in bot.core.take_updates()]
    await asyncio.gather(*(bot.app.process_update(u) for u in updates))
    after = await bot.services.storage.activities.roster(activity_id)
    assert sum(s.state == "in" for s in after) == 5
    first_waiting = [s.person_id for s in roster if s.state == "waiting"][:2]
    assert set(first_waiting) <= {s.person_id for s in after if s.state == "in"}
    assert not set(placed) & {s.person_id for s in after}
    assert await check_database(bot.services.storage.db) == []


async def test_forged_and_stale_presses_are_refused(bot) -> None:
    activity_id = await publish_file(bot)
    await bot.say(COURIER, "/activities")
    message = bot.core.bot_messages(COURIER)[-1]["message_id"]
    for data, key in (
        ("ac:join:999", "activities.gone"),
        ("ac:join:x", None),  # undecodable
        (f"ac:list:{activity_id}", "coord.not_coordinator"),
        (f"ac:came:{activity_id}.1", "coord.not_coordinator"),
        ("ac:pub", "coord.not_coordinator"),
        ("ac:who:everyone", "coord.not_coordinator"),
    ):
        query = bot.core.press_button(COURIER, message, data)
        await bot.deliver()
        expected = t(bot, "en", key) if key else t(bot, "en", "press.invalid")
        assert toast(bot, query) == expected, data
    # A station worker cannot sign up for a couriers' activity.
    query = bot.core.press_button(STAFF, bot.core.bot_messages(STAFF)[-1]["message_id"], f"ac:join:{activity_id}")
    await bot.deliver()
    assert toast(bot, query) == t(bot, "en", "activities.not_for_you")
    # Their list does not say there are none: there is one, for couriers.
    await bot.say(STAFF, "/activities")
    assert bot.last_text(STAFF) == t(bot, "en", "activities3.for_couriers", count=1)
    # Sign-up closes at its deadline.
    await bot.at(START.replace(day=29, hour=18, minute=1))
    query = bot.core.press_button(COURIER, message, f"ac:join:{activity_id}")
    await bot.deliver()
    assert toast(bot, query) == t(bot, "en", "activities.status_closed")
    assert await bot.services.storage.activities.roster(activity_id) == []


async def test_chinese_courier_reads_it_all_in_chinese(bot) -> None:
    await publish_file(bot)
    await bot.say(ZH_COURIER, t(bot, "zh", "activities.menu"))
    assert bot.last_text(ZH_COURIER).startswith("可报名的活动：")
    await bot.press(ZH_COURIER, "1. ")
    card = bot.last_text(ZH_COURIER)
    assert "时间：11月30日 周一 09:00" in card and "地点：长宁驿站（长宁路1号）" in card
    assert "报名截止：11月29日 周日 18:00" in card
    assert labels(bot, ZH_COURIER) == ["报名", "📍 导航", "« 全部活动"]
    await bot.press(ZH_COURIER, "报名")
    assert "您已报名成功" in bot.last_text(ZH_COURIER)
    assert json.loads(json.dumps(labels(bot, ZH_COURIER))) == ["取消报名", "📍 导航", "« 全部活动"]


async def test_the_sandbox_district_has_next_weeks_childcare_class(tmp_path) -> None:
    from bot.sandbox_run import district_config, load_sample_activity, load_sample_stations

    config = on_this_backend(district_config(None), tmp_path / "s.sqlite3")
    await load_sample_stations(config)
    assert await load_sample_activity(config, START) == 1
    assert await load_sample_activity(config, START) == 0  # once: a restarted sandbox keeps its activity
    async with running_bot(tmp_path / "s.sqlite3") as bot:
        (activity,) = await bot.services.storage.activities.upcoming(bot.clock())
        assert (activity.places, activity.station_id, activity.audience) == (20, "hp-001", "couriers")
        assert activity.title_for("en") == "Childcare class for couriers' children"
        assert activity.title_for("zh") == "骑手子女爱心托管班"
        local = activity.starts_at.astimezone(START.tzinfo)
        assert (local.date().isoformat(), local.hour) == ("2026-11-30", 9)  # START is Monday 23 November


async def test_a_place_freed_by_erasure_goes_to_the_first_waiting_at_the_next_tick(bot) -> None:
    activity_id = await publish_file(bot, places=1)
    await open_activity(bot, COURIER)
    await bot.press(COURIER, t(bot, "en", "activities.button_join"))
    await open_activity(bot, ZH_COURIER)
    await bot.press(ZH_COURIER, t(bot, "zh", "activities.button_wait"))
    await bot.services.storage.privacy.erase(COURIER, bot.clock())
    await bot.tick()
    assert bot.last_text(ZH_COURIER).startswith("“Holiday childcare class”有名额空出")
    roster = await bot.services.storage.activities.roster(activity_id)
    assert [(s.person_id, s.state) for s in roster] == [(ZH_COURIER, "in")]
    assert await check_database(bot.services.storage.db) == []


async def test_the_schema_itself_refuses_a_place_past_the_count(bot) -> None:
    """Whatever code writes the rows, the schema's triggers refuse one place too many (storage/migrations.py,
    storage/postgres_migrations.py)."""
    activity_id = await publish_file(bot, places=1)

    def overfill(conn) -> None:
        for person, state in ((1, "in"), (2, "waiting")):
            conn.execute(
                "INSERT INTO activity_signups (activity_id, person_id, state, at) VALUES (?, ?, ?, 0)",
                (activity_id, person, state),
            )
        conn.execute("UPDATE activity_signups SET state = 'in' WHERE person_id = 2")

    with pytest.raises(INTEGRITY_ERRORS, match="activity full"):
        await bot.services.storage.db.write(overfill)
    assert await bot.services.storage.activities.roster(activity_id) == []  # the whole transaction rolled back


async def test_a_chinese_coordinator_publishes_at_a_station_open_until_it_starts(bot) -> None:
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    await bot.say(COORDINATOR, "/activity new")
    assert bot.last_text(COORDINATOR) == t(bot, "zh", "activities.ask_title")
    await bot.say(COORDINATOR, "夏季清凉包发放")
    assert bot.last_text(COORDINATOR) == t(bot, "zh", "activity_more.ask_title_en")
    await bot.say(COORDINATOR, "Summer cool-down packages")
    for typed in ("2026-11-26 10:00", "st-a", "50"):
        await bot.say(COORDINATOR, typed)
    assert bot.last_text(COORDINATOR) == t(bot, "zh", "activities.ask_until")
    await bot.press(COORDINATOR, "开始前均可报名")
    await bot.press(COORDINATOR, "骑手")
    shown = bot.last_text(COORDINATOR)
    assert (
        "地点：长宁驿站（长宁路1号）" in shown
        and "报名截止：11月26日 周四 10:00" in shown
        and "报名对象：骑手" in shown
        and "活动名称（中文／英文）：夏季清凉包发放／Summer cool-down packages" in shown
    )
    await bot.press(COORDINATOR, "确认发布")
    assert bot.texts(COORDINATOR)[-3] == t(bot, "zh", "activities.published", count=1)
    assert bot.last_text(COORDINATOR).startswith(t(bot, "zh", "sending.ask_announce_activity", title="夏季清凉包发放"))
    (activity,) = await bot.services.storage.activities.upcoming(bot.clock())
    assert (activity.station_id, activity.places, activity.signup_until) == ("st-a", 50, activity.starts_at)
    assert (activity.title, activity.title_en) == ("夏季清凉包发放", "Summer cool-down packages")


async def test_a_notices_activity_button_opens_the_activity_to_sign_up(bot) -> None:
    """A coordinator's notice can carry a button to an activity (handlers/outreach.py); pressed, it shows the
    activity with its Sign up button, as /activities does."""
    number = await publish_file(bot)
    data = callbacks.encode(Family.LINK, LinkVerb.ACTIVITY, str(number))
    before = bot.core.bot_messages(COURIER)[-1]
    await press_data(bot, COURIER, data)
    assert bot.last_text(COURIER).startswith("📌 Holiday childcare class")
    # In a new message: the one the button was under (the notice) stays as it was.
    assert bot.core.bot_messages(COURIER)[-2]["message_id"] == before["message_id"]
    assert bot.core.bot_messages(COURIER)[-2].get("text") == before.get("text")
    assert t(bot, "en", "activities.button_join") in labels(bot, COURIER)
