"""Digests: the figures, the three rates, overdue and reopened lists, hot spots to action, the chart."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.lifecycle import Event, State
from handlers.digest import split_lines
from storage.appeals import EventArgs
from storage.models import NewAppeal
from storage.stations import Station
from tests.harness import running_bot

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


async def file(bot, courier: int, category: str = "work", unit: str | None = "hr", **place) -> int:
    """An appeal filed now."""
    new = NewAppeal(courier_id=courier, category=category, description="x", language="en", **place)
    return (await bot.services.storage.appeals.submit(new, unit, bot.clock())).appeal.id


async def apply(bot, number: int, event: Event, actor: int, note: str | None = None) -> None:
    """An event, now."""
    await bot.services.storage.appeals.apply(number, event, actor, bot.clock(), EventArgs(note=note))


async def test_digest_figures_rates_and_lists(bot) -> None:
    """Four appeals through different fates give the counts and rates their definitions promise."""
    a, b, c, d = [await file(bot, 1001 + i) for i in range(4)]
    bot.clock.advance(minutes=30)
    for number in (a, b, c):
        await apply(bot, number, Event.ACCEPT, HR)
    bot.clock.advance(hours=1)
    for number in (a, b, c):
        await apply(bot, number, Event.RESOLVE, HR, "done")
    await apply(bot, a, Event.RATE_SATISFIED, 1001)
    await apply(bot, b, Event.RATE_UNSATISFIED, 1002, "still broken")
    await apply(bot, c, Event.RATE_FAIRLY_SATISFIED, 1003)
    bot.clock.advance(days=3)  # d was never accepted: overdue now
    await bot.say(COORDINATOR, "/digest")
    text = "\n".join(bot.texts(COORDINATOR)[-2:])
    assert "New 4 · accepted 3 · resolved 3 · closed 2 · reopened 1" in text
    assert "Response rate 75.0% — accepted in time / assigned: 3/4" in text
    assert "Resolution rate 100.0% — solved / asked: 2/2" in text
    assert "Satisfaction rate 66.7% — (satisfied + fairly satisfied) / rated: 2/3" in text
    assert "Average time to accept 0 d 0 h 30 min; to resolve 0 d 1 h 30 min" in text
    assert f"Reopened: #{b}" in text
    assert f"#{d} — acceptance, HR Bureau" in text
    chart = bot.core.last_message(COORDINATOR)
    assert chart["caption"] == "Blue: new appeals. Green: resolved."
    file_path = (await bot.core.call("getFile", {"file_id": chart["photo"][-1]["file_id"]}))["file_path"]
    assert bot.core.file_bytes(file_path).startswith(PNG)


async def test_only_coordinators_get_a_digest(bot) -> None:
    """Couriers and staff are told it is not theirs."""
    (reply,) = await bot.say(HR, "/digest")
    assert reply["text"] == bot.services.text("en", "coord.not_coordinator")


async def test_a_hot_spot_becomes_one_appeal_whose_result_reaches_every_courier(bot) -> None:
    """Three broken-charger appeals at one station: the coordinator makes one appeal; its result reaches all three."""
    numbers = [await file(bot, 1001 + i, "facilities", None, station_id="s1") for i in range(3)]
    await file(bot, 1004, "facilities", None, station_id=None, lat=31.2, lon=121.4)  # alone: no spot
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
        assert "resolved by Station One: All chargers replaced" in bot.last_text(courier)
    assert "All chargers replaced" not in bot.last_text(1004)


async def test_a_stranger_cannot_turn_a_hot_spot_into_an_appeal(bot) -> None:
    """The button is checked against the presser's role, not trusted."""
    for i in range(3):
        await file(bot, 1001 + i, "facilities", None, station_id="s1")
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
    await file(bot, 1001)
    await bot.tick()  # the first slot a database sees is only recorded
    evening = datetime.combine(bot.clock().astimezone(TZ).date(), datetime.min.time(), TZ) + timedelta(hours=18)
    await bot.at(evening + timedelta(minutes=1))
    texts = bot.texts(COORDINATOR)
    assert any(t.startswith("Daily digest:") for t in texts)
    assert bot.core.last_message(COORDINATOR)["caption"] == "Blue: new appeals. Green: resolved."
    rows = await bot.services.storage.db.fetchall("SELECT template, status FROM outbox WHERE template LIKE 'digest.%'")
    assert [tuple(r) for r in rows] == [("digest.daily", "sent")]
