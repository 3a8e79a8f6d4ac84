"""Nearest station, more: opening hours across midnight, amenity filters on the kept location, poor accuracy."""

from datetime import datetime

import pytest

from domain.hours import WEEKDAYS
from storage.stations import Station
from tests.harness import TZ, running_bot

COURIER, OTHER = 1001, 1002
DAY = {d: "07:00-22:00" for d in WEEKDAYS}
NIGHT = {**DAY, "mon": "22:00-06:00", "tue": "closed"}
ALWAYS = {d: "00:00-24:00" for d in WEEKDAYS}
STATIONS = [
    Station(id="s-day", name="Day Station", address="1 Fuzhou Rd", lat=31.2320, lon=121.4760, grade="A",
            amenities=("water", "charging"), hours=DAY, unit_id="st1"),
    Station(id="s-night", name="Night Station", address="2 Hankou Rd", lat=31.2330, lon=121.4770, grade="B",
            amenities=("toilet", "first_aid"), hours=NIGHT),
    Station(id="s-always", name="Always Station", address="3 Jiujiang Rd", lat=31.2400, lon=121.4800, grade="C",
            amenities=("water", "microwave"), hours=ALWAYS),
    Station(id="s-far", name="Far Station", lat=31.3000, lon=121.6000, grade="C", amenities=("first_aid",)),
    Station(id="s-sydney", name="Sydney Station", lat=-33.86, lon=151.21, grade="A", amenities=("rest",)),
]


@pytest.fixture
async def bot(tmp_path):
    """The bot with five stations: day, night, always open, far away, and one in Sydney."""
    async with running_bot(tmp_path / "near.sqlite3") as running:
        await running.services.storage.stations.upsert(STATIONS)
        running.user(COURIER, "Li")
        yield running


async def share(bot, lat: float = 31.2317, lon: float = 121.4753, accuracy: float | None = None, user: int = COURIER) -> str:
    """Share a location; the listing the bot answers with."""
    bot.core.share_location(user, lat, lon, horizontal_accuracy=accuracy)
    await bot.deliver()
    return bot.last_text(user)


def block(listing: str, name: str) -> str:
    """The lines about one station in a listing."""
    return next(part for part in listing.split("\n\n") if name in part)


@pytest.mark.parametrize(
    ("when", "day", "night"),
    [
        (datetime(2026, 11, 23, 10, 0), "open now, until 22:00", "Today 22:00-06:00 · closed now"),
        (datetime(2026, 11, 23, 23, 30), "Today 07:00-22:00 · closed now", "open now, until 06:00"),
        # Tuesday 02:00: Tuesday itself is closed, but Monday night's period still runs.
        (datetime(2026, 11, 24, 2, 0), "Today 07:00-22:00 · closed now", "Today closed · open now, until 06:00"),
        (datetime(2026, 11, 24, 6, 0), "Today 07:00-22:00 · closed now", "Today closed · closed now"),
    ],
)
async def test_todays_hours_and_open_now_in_district_time(bot, when, day, night) -> None:
    """Each station shows today's hours and whether it is open, correctly across midnight."""
    bot.clock.now = when.replace(tzinfo=TZ)
    listing = await share(bot)
    assert day in block(listing, "Day Station")
    assert night in block(listing, "Night Station")
    assert "Open 24 hours today" in block(listing, "Always Station")
    assert "Opening hours not known" in block(listing, "Far Station")


async def test_five_nearest_with_filters_that_reuse_the_kept_location(bot) -> None:
    """Amenity buttons search again around the last shared location, and 'All stations' undoes the filter."""
    listing = await share(bot)
    assert [line.split(" —")[0] for line in listing.split("\n\n")[1:]] == [
        "1. Day Station", "2. Night Station", "3. Always Station", "4. Far Station", "5. Sydney Station"
    ]
    await bot.press(COURIER, "first-aid kit")
    filtered = bot.last_text(COURIER)
    assert filtered.startswith("Nearest rest stations with first-aid kit:")
    assert "1. Night Station" in filtered and "2. Far Station" in filtered and "Day Station" not in filtered
    labels = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(COURIER))]
    assert "✓ first-aid kit" in labels and "All stations" in labels
    await bot.press(COURIER, "seats")
    assert "1. Sydney Station" in bot.last_text(COURIER)  # the only station with seats, half a world away
    await bot.press(COURIER, "All stations")
    assert bot.last_text(COURIER) == listing

    # A new location replaces the kept one: Sydney's courier filters around Sydney.
    assert "1. Sydney Station — 1.4 km" in await share(bot, -33.87, 151.20)
    await bot.press(COURIER, "drinking water")
    assert "1. Day Station — 7" in bot.last_text(COURIER)  # about 7,900 km away
    assert (await bot.services.storage.stations.last_location(COURIER)).lat == -33.87


async def test_a_filter_nobody_offers_says_so_and_keeps_the_buttons(bot) -> None:
    """No open station with a microwave once the only one closes: a clear message, other filters offered."""
    await bot.services.storage.stations.set_active("s-always", False)
    await share(bot)
    await bot.press(COURIER, "microwave")
    assert bot.last_text(COURIER).startswith("No open station offers microwave.")
    assert "drinking water" in [label for label, _ in bot.core.inline_buttons(bot.core.last_message(COURIER))]


async def test_poor_accuracy_is_mentioned(bot) -> None:
    """Over 1 km of uncertainty, the courier is told the distances may be off; under it, nothing."""
    assert "accurate only to about 1.4 km" in await share(bot, accuracy=1400)
    assert "accurate only" not in await share(bot, accuracy=65)
    await bot.press(COURIER, "charging")
    assert "accurate only" not in bot.last_text(COURIER)


async def test_a_filter_without_a_shared_location_is_refused(bot) -> None:
    """Someone who never shared a location (a forwarded or forged button) is asked to share one."""
    bot.user(OTHER, "Wang")
    await bot.say(OTHER, "/start")
    message_id = bot.core.last_message(OTHER)["message_id"]
    query = bot.core.press_button(OTHER, message_id, "st:near:water")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == bot.services.text("en", "nearest.no_location")
    query = bot.core.press_button(OTHER, message_id, "st:near:wifi")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == bot.services.text("en", "press.invalid")


async def test_the_listing_speaks_chinese(bot) -> None:
    """The same journey in zh: title, hours and filter labels."""
    bot.user(OTHER, "王", language_code="zh-hans")
    listing = await share(bot, user=OTHER)
    assert listing.startswith("最近的爱心驿站：")
    assert "今天 07:00-22:00 · 正在开放，到 22:00" in listing
    await bot.press(OTHER, "急救")
    assert bot.last_text(OTHER).startswith("附近有急救")
