"""Digests: calendar-day periods, the figures and rates, human durations, hot spots to action, the chart."""

import struct
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.commands import ActOnAppeal, EventArgs
from domain.lifecycle import Event, State
from handlers.chart import CJK_FAMILY, ChartLabels, chart_language, daily_chart, daily_figure, font_family
from handlers.digest import digest_parts, split_lines
from storage.stations import Station
from tests.harness import running_bot
from tests.helpers import submit_appeal

TZ = ZoneInfo("Asia/Shanghai")
COORDINATOR, HR, STATION_STAFF = 900, 600, 500
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def bot(tmp_path):
    """A district with a station, its worker, HR and a coordinator, all in English."""
    async with running_bot(tmp_path / "digest.sqlite3") as running:
        await running.services.storage.stations.upsert(
            [Station(id="s1", name="Fuzhou Rd Station", lat=31.2320, lon=121.4760, grade="B", unit_id="st1")]
        )
        await running.start(COORDINATOR, HR, STATION_STAFF, *range(1001, 1008))
        yield running


async def apply(bot, number: int, event: Event, actor: int, note: str | None = None) -> None:
    """An event, now."""
    await bot.services.storage.appeals.apply(ActOnAppeal(number, event, actor, EventArgs(note=note)), bot.clock())


async def test_digest_figures_rates_and_lists(bot) -> None:
    """Four appeals through different fates give the counts and rates their definitions promise."""
    a, b, c, d = [await submit_appeal(bot, 1001 + i) for i in range(4)]
    bot.clock.advance(minutes=30)
    for number in (a, b, c):
        await apply(bot, number, Event.ACCEPT, HR)
    bot.clock.advance(hours=1)
    for number in (a, b, c):
        await apply(bot, number, Event.RESOLVE, HR, "done in full")
    await apply(bot, a, Event.RATE_SATISFIED, 1001)
    await apply(bot, b, Event.RATE_UNSATISFIED, 1002, "still broken")
    await apply(bot, c, Event.RATE_FAIRLY_SATISFIED, 1003)
    bot.clock.advance(days=3)  # d was never accepted: overdue now
    await bot.say(COORDINATOR, "/digest")
    text = "\n".join(bot.texts(COORDINATOR)[-2:])
    assert text.startswith("Digest, last 7 days: Fri 20 Nov – Thu 26 Nov 11:30\n")
    assert "New 4 · accepted 3 · resolved 3 · closed 2 · redone 1" in text
    assert (
        "Response rate 75.0% (accepted in time / due to be accepted, the lead and each co-handling unit counted: 3/4)"
        in text
    )
    assert "Resolution rate 100.0% (solved / valid appeals closed: 2/2)" in text
    assert (
        "Satisfaction rate 66.7% (satisfied or fairly satisfied / appeals rated, each by its last rating: 2/3)" in text
    )
    assert "Average time to accept 30 min; to resolve 1 h 30 min" in text
    assert f"Redone: #{b}" in text
    assert f"#{d} — acceptance, HR Bureau" in text
    chart = bot.core.last_message(COORDINATOR)
    assert chart["caption"] == "Appeals per day, Fri 20 Nov – Thu 26 Nov 11:30"
    file_path = (await bot.core.call("getFile", {"file_id": chart["photo"][-1]["file_id"]}))["file_path"]
    assert bot.core.file_bytes(file_path).startswith(PNG)


async def test_an_appeal_its_unit_still_has_time_to_accept_is_not_counted_late(bot) -> None:
    """The response rate judges an assignment once it is accepted or its acceptance deadline has passed."""
    early, _waiting = await submit_appeal(bot, 1001), await submit_appeal(bot, 1002)
    bot.clock.advance(minutes=3)
    await apply(bot, early, Event.ACCEPT, HR)
    await bot.say(COORDINATOR, "/digest")
    assert (
        "Response rate 100.0% (accepted in time / due to be accepted, the lead and each co-handling unit counted: 1/1)"
        in "\n".join(bot.texts(COORDINATOR)[-2:])
    )
    bot.clock.advance(days=3)  # the acceptance deadline of `waiting` has passed: now it counts, as late
    await bot.say(COORDINATOR, "/digest")
    assert (
        "Response rate 50.0% (accepted in time / due to be accepted, the lead and each co-handling unit counted: 1/2)"
        in "\n".join(bot.texts(COORDINATOR)[-2:])
    )


async def appeals_in_every_state(bot) -> dict[str, list[int]]:
    """Appeals filed now, one or more in each state the digest names; three at one station make a hot spot."""
    numbers = {
        "assessing": [await submit_appeal(bot, 1001 + i, "facilities", None, station_id="s1") for i in range(3)],
        "assigned": [await submit_appeal(bot, 1004)],
        **{
            state: [await submit_appeal(bot, 1005) for _ in range(count)]
            for state, count in (("accepted", 3), ("awaiting", 1), ("feedback", 1), ("closed", 1))
        },
    }
    for state in ("accepted", "awaiting", "feedback", "closed"):
        for number in numbers[state]:
            await apply(bot, number, Event.ACCEPT, HR)
    await apply(bot, numbers["awaiting"][0], Event.ASK, HR, "which month?")
    a, b, c = numbers["accepted"]
    for number in (b, c, *numbers["feedback"], *numbers["closed"]):
        await apply(bot, number, Event.RESOLVE, HR, "paid in full")
    for number in (b, c):  # reopened: the unit that accepted it handles it again
        await apply(bot, number, Event.RATE_UNSATISFIED, 1005, "not paid")
    await apply(bot, numbers["closed"][0], Event.RATE_SATISFIED, 1005)
    return numbers


async def read_digest(bot, lang: str) -> list[str]:
    """The lines of the digest a coordinator reading `lang` gets from /digest."""
    await bot.services.storage.people.set_language(COORDINATOR, lang)
    await bot.app.bot_data.sender.flush()  # the new appeals' cards first, so the replies are the digest alone
    replies = await bot.say(COORDINATOR, "/digest")
    return "\n".join(m.get("text") or m.get("caption") or "" for m in replies).splitlines()


async def test_by_state_names_what_each_appeal_is_waiting_for(bot) -> None:
    """Accepted (and reopened) appeals count as being handled, not as waiting to be accepted, in both languages."""
    await appeals_in_every_state(bot)
    english = await read_digest(bot, "en")
    assert (
        "By state now (new appeals): to be assigned 3, to be accepted 1, being handled 3,"
        " waiting for the courier 1, waiting for a rating 1, closed 1"
    ) in english
    assert not [line for line in english if bot.services.text("en", "state.handling") in line]
    chinese = await read_digest(bot, "zh")
    assert (
        "新增诉求当前状态：待分派 3 件、待签收 1 件、办理中 3 件、待诉求人答复 1 件、待评价 1 件、已关闭 1 件"
        in chinese
    )
    assert not [line for line in chinese if bot.services.text("zh", "state.handling") in line]


async def test_lists_use_the_languages_own_separator(bot) -> None:
    """Chinese lists are joined with 、 and no ASCII comma anywhere; English ones with ", "."""
    numbers = await appeals_in_every_state(bot)
    _, b, c = numbers["accepted"]
    hot = numbers["assessing"]
    english = await read_digest(bot, "en")
    assert "By category: Work protection 7, Station facilities 3" in english
    assert "By unit: HR Bureau 7, no unit 3" in english
    assert f"Redone: #{b}, #{c}" in english
    lines = await read_digest(bot, "zh")
    assert "按类别：工作保障 7 件、站点设施 3 件" in lines
    assert "按承办单位：人社局 7 件、无承办单位 3 件" in lines
    assert "按驿站：Fuzhou Rd Station 3 件" in lines
    assert f"重办诉求：#{b}、#{c}" in lines
    assert f"1. Fuzhou Rd Station：站点设施诉求 3 件（#{hot[0]}、#{hot[1]}、#{hot[2]}）" in lines
    assert not [line for line in lines if "," in line]  # ASCII commas: none
    await bot.press(COORDINATOR, "将热点 1 合并为一件诉求")
    appeal = await bot.services.storage.appeals.get(max(max(n) for n in numbers.values()) + 1)
    assert f"（#{hot[0]}、#{hot[1]}、#{hot[2]}）" in appeal.description


async def test_only_coordinators_get_a_digest(bot) -> None:
    """Couriers and staff are told it is not theirs."""
    (reply,) = await bot.say(HR, "/digest")
    assert reply["text"] == bot.services.text("en", "coord.not_coordinator")


async def test_a_hot_spot_becomes_one_appeal_whose_result_reaches_every_courier(bot) -> None:
    """Three broken-charger appeals at one station: the coordinator makes one appeal; its result reaches all three."""
    numbers = [await submit_appeal(bot, 1001 + i, "facilities", None, station_id="s1") for i in range(3)]
    await submit_appeal(bot, 1004, "facilities", None, station_id=None, lat=31.2, lon=121.4)  # alone: no spot
    await bot.say(COORDINATOR, "/digest")
    spots = [t for t in bot.texts(COORDINATOR) if t.startswith("Hot spots this week: 1")]
    assert spots and f"3 × Station facilities at Fuzhou Rd Station: #{numbers[0]}" in spots[-1]
    await bot.press(COORDINATOR, "One appeal for hot spot 1")
    proactive = max(numbers) + 2
    appeal = await bot.services.storage.appeals.get(proactive)
    assert (appeal.state, appeal.courier_id, appeal.station_id) == (State.ASSESSING, None, "s1")
    assert "Hot spot: 3 appeals about Station facilities at Fuzhou Rd Station" in appeal.description
    # Pressing again finds no hot spot: its appeals are linked now.
    query = bot.core.press(COORDINATOR, "One appeal for hot spot 1")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == bot.services.text("en", "digest.hotspot_gone")
    # The coordinator assigns it; the station resolves it; every courier hears the result.
    await bot.press(COORDINATOR, "Assign")
    await bot.press(COORDINATOR, "Station One")
    await bot.press(COORDINATOR, "Normal")
    await bot.press(STATION_STAFF, "Accept")
    await bot.press(STATION_STAFF, "Resolve")
    await bot.say(STATION_STAFF, "All chargers replaced")
    await bot.press(STATION_STAFF, "Confirm resolve")
    for courier in (1001, 1002, 1003):
        assert "resolved by the unit: Station One. The result:\n│ All chargers replaced" in bot.last_text(courier)
    assert "All chargers replaced" not in bot.last_text(1004)


async def test_a_stranger_cannot_turn_a_hot_spot_into_an_appeal(bot) -> None:
    """The button is checked against the presser's role, not trusted."""
    for i in range(3):
        await submit_appeal(bot, 1001 + i, "facilities", None, station_id="s1")
    message = bot.core.send_text(1005, "hello")
    query = bot.core.press_button(1005, message["message_id"], "hs:mk:st.s1.facilities")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == bot.services.text("en", "coord.not_coordinator")
    count = await bot.services.storage.db.fetchone("SELECT count(*) FROM appeals")
    assert count[0] == 3


def test_long_text_splits_at_line_boundaries() -> None:
    """Every chunk is under the limit, no line is broken unless it alone is too long, nothing is lost."""
    lines = [f"line {i} " + "x" * (i % 50) for i in range(400)]
    text = "\n".join(lines)
    chunks = split_lines(text, 1000)
    assert all(len(chunk) <= 1000 for chunk in chunks)
    assert "\n".join(chunks) == text
    assert split_lines("y" * 2500, 1000) == ["y" * 1000, "y" * 1000, "y" * 500]


async def test_the_scheduled_digest_is_delivered_in_parts(bot) -> None:
    """The daily digest arrives as text and a chart, through the outbox."""
    await submit_appeal(bot, 1001)
    await bot.tick()  # the first slot a database sees is only recorded
    evening = datetime.combine(bot.clock().astimezone(TZ).date(), datetime.min.time(), TZ) + timedelta(hours=18)
    await bot.at(evening + timedelta(minutes=1))
    texts = bot.texts(COORDINATOR)
    assert any(t.startswith("Daily digest:") for t in texts)
    assert bot.core.last_message(COORDINATOR)["caption"] == "Appeals per day, Sun 22 Nov"  # the day before
    rows = await bot.services.storage.db.fetchall("SELECT template, status FROM outbox WHERE template LIKE 'digest.%'")
    assert [tuple(r) for r in rows] == [("digest.daily", "sent")]


async def digest_text(bot, lang: str, start: datetime, end: datetime, title: str = "digest.title_weekly") -> str:
    """A digest's text as a coordinator reading `lang` gets it."""
    data = await bot.services.storage.reports.digest(start, end, bot.clock())
    parts = await digest_parts(bot.services, lang, data, title)
    return "\n".join(part.text for part in parts if part.photo is None)


async def test_the_scheduled_digests_cover_whole_calendar_days(bot) -> None:
    """Monday 7 Dec: the weekly digest (09:00) is Mon 30 Nov – Sun 6 Dec, the daily one (18:00) Sun 6 Dec."""
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    await bot.tick()  # the first slots a database sees are only recorded
    bot.clock.now = datetime(2026, 11, 29, 23, 30, tzinfo=TZ)
    await submit_appeal(bot, 1001)  # Sunday before: in neither
    bot.clock.now = datetime(2026, 12, 6, 23, 30, tzinfo=TZ)
    await submit_appeal(bot, 1002)  # Sunday night: in both
    bot.clock.now = datetime(2026, 12, 7, 8, 0, tzinfo=TZ)
    await submit_appeal(bot, 1003)  # Monday morning, before the digests: in neither
    await bot.at(datetime(2026, 12, 7, 9, 1, tzinfo=TZ))
    await bot.at(datetime(2026, 12, 7, 18, 1, tzinfo=TZ))
    texts = bot.texts(COORDINATOR)
    weekly = next(t for t in texts if t.startswith("每周简报"))
    daily = [t for t in texts if t.startswith("每日简报")][-1]
    assert weekly.startswith("每周简报：11月30日 周一 至 12月6日 周日\n新增 1 件，")
    assert daily.startswith("每日简报：12月6日 周日\n新增 1 件，")
    captions = [m["caption"] for m in bot.core.bot_messages(COORDINATOR) if "caption" in m]
    assert "每日诉求数（11月30日 周一 至 12月6日 周日）" in captions
    assert weekly.count("周") >= 2 and "–" not in weekly.splitlines()[0]
    english = await digest_text(bot, "en", datetime(2026, 11, 30, tzinfo=TZ), datetime(2026, 12, 7, tzinfo=TZ))
    assert english.startswith("Weekly digest: Mon 30 Nov – Sun 6 Dec\n")


async def test_durations_read_as_people_say_them(bot) -> None:
    """An accept after 3 h 20 min and a resolution after 2 days 4 hours, in both languages."""
    number = await submit_appeal(bot, 1001)
    bot.clock.advance(hours=3, minutes=20)
    await apply(bot, number, Event.ACCEPT, HR)
    bot.clock.advance(hours=48, minutes=40)
    await apply(bot, number, Event.RESOLVE, HR, "paid in full")
    start, end = datetime(2026, 11, 23, tzinfo=TZ), bot.clock() + timedelta(seconds=1)
    assert "平均签收用时 3 小时 20 分，平均办结用时 2 天 4 小时" in await digest_text(bot, "zh", start, end)
    assert "Average time to accept 3 h 20 min; to resolve 2 d 4 h" in await digest_text(bot, "en", start, end)


async def test_satisfaction_counts_each_appeals_last_rating_once(bot) -> None:
    """Rated "not solved", resolved again and rated "satisfied": one appeal, satisfied; reopened still listed."""
    a, b = await submit_appeal(bot, 1001), await submit_appeal(bot, 1002)
    for number in (a, b):
        await apply(bot, number, Event.ACCEPT, HR)
        await apply(bot, number, Event.RESOLVE, HR, "done in full")
    await apply(bot, a, Event.RATE_UNSATISFIED, 1001, "still not paid")
    await apply(bot, b, Event.RATE_FAIRLY_SATISFIED, 1002)
    bot.clock.advance(hours=2)
    await apply(bot, a, Event.RESOLVE, HR, "paid in full")
    await apply(bot, a, Event.RATE_SATISFIED, 1001)
    await bot.say(COORDINATOR, "/digest")
    text = "\n".join(bot.texts(COORDINATOR)[-2:])
    assert (
        "Satisfaction rate 100.0% (satisfied or fairly satisfied / appeals rated, each by its last rating: 2/2)" in text
    )
    assert "New 2 · accepted 2 · resolved 2 · closed 2 · redone 1" in text
    assert f"Redone: #{a}" in text
    # Before the second rating, the same appeal counted as not satisfied: the digest of a period
    # that ended then says so, whenever it is read.
    data = await bot.services.storage.reports.digest(
        datetime(2026, 11, 23, tzinfo=TZ), bot.clock() - timedelta(hours=1), bot.clock()
    )
    assert (data.counts.rated, data.counts.satisfied, data.counts.fairly_satisfied) == (2, 0, 1)


async def test_the_chart_speaks_the_readers_language_on_whole_number_ticks(bot, tmp_path) -> None:
    """A zh coordinator's chart is a phone-sized PNG in Noto Sans CJK with Chinese labels; en is in English."""
    for i in range(3):
        number = await submit_appeal(bot, 1001 + i)
        await apply(bot, number, Event.ACCEPT, HR)
        if i:
            await apply(bot, number, Event.RESOLVE, HR, "done in full")
        bot.clock.advance(days=1)
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    await bot.say(COORDINATOR, "/digest")
    photo = bot.core.last_message(COORDINATOR)
    assert photo["caption"].startswith("每日诉求数（11月20日 周五 至 11月26日 周四")
    png = bot.core.file_bytes(bot.core.file_path(photo["photo"][-1]["file_id"]))
    assert png.startswith(PNG) and struct.unpack(">II", png[16:24]) == (900, 600)  # the IHDR's width and height

    data = await bot.services.storage.reports.digest(datetime(2026, 11, 20, tzinfo=TZ), bot.clock(), bot.clock())
    assert chart_language("zh") == "zh", "fonts-noto-cjk is not installed (dev.py test installs it)"
    zh = daily_figure(data.per_day, ChartLabels("每日新增与办结诉求", "新增", "办结"), "zh")
    zh.canvas.draw()  # tick labels are only set when drawn
    (axes,) = zh.axes
    assert zh.get_suptitle() == "每日新增与办结诉求"
    assert [label.get_text() for label in axes.get_xticklabels()][:2] == ["周五\n11/20", "周六\n11/21"]
    assert {label.get_fontname() for label in axes.get_xticklabels()} == {CJK_FAMILY}
    ticks = [label.get_text() for label in axes.get_yticklabels()]
    assert ticks and all(text.isdigit() for text in ticks)  # whole numbers only
    assert [t.get_text() for t in zh.legends[0].get_texts()] == ["新增", "办结"]

    en = daily_figure(data.per_day, ChartLabels("New and resolved appeals per day", "New", "Resolved"), "en")
    en.canvas.draw()
    assert [label.get_text() for label in en.axes[0].get_xticklabels()][0] == "Fri\n20 Nov"
    assert daily_chart(
        data.per_day, ChartLabels("New and resolved appeals per day", "New", "Resolved"), "en"
    ).startswith(PNG)
    # Without the CJK font a Chinese reader gets the chart in English, not in boxes.
    assert chart_language("zh", tmp_path / "no-such-font.ttc") == "en"
    assert font_family("en") == "DejaVu Sans"
