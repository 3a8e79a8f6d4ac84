"""Nearest station, more: open ones first, a list for a phone, hours across midnight, English names, amenity filters."""

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
    Station(
        id="s-day",
        name="Day Station",
        address="1 Fuzhou Rd",
        lat=31.2320,
        lon=121.4760,
        grade="A",
        amenities=("water", "charging"),
        hours=DAY,
        unit_id="st1",
    ),
    Station(
        id="s-night",
        name="Night Station",
        address="2 Hankou Rd",
        lat=31.2330,
        lon=121.4770,
        grade="B",
        amenities=("toilet", "first_aid"),
        hours=NIGHT,
    ),
    Station(
        id="s-always",
        name="Always Station",
        address="3 Jiujiang Rd",
        lat=31.2400,
        lon=121.4800,
        grade="C",
        amenities=("water", "microwave"),
        hours=ALWAYS,
    ),
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


async def share(
    bot, lat: float = 31.2317, lon: float = 121.4753, accuracy: float | None = None, user: int = COURIER
) -> str:
    """Share a location; the listing the bot answers with."""
    bot.core.share_location(user, lat, lon, horizontal_accuracy=accuracy)
    await bot.deliver()
    return seen(bot.last_text(user))


def seen(text: str) -> str:
    """Text as it looks: the no-break spaces that keep "74 m" on one line read as spaces."""
    return text.replace("\u00a0", " ")


def stations_of(listing: str) -> list[str]:
    """Each listed station's two lines, in the listing's order (the last paragraph holds them)."""
    lines = listing.split("\n\n")[-1].split("\n")
    return ["\n".join(lines[i : i + 2]) for i in range(0, len(lines), 2)]


def block(listing: str, name: str) -> str:
    """The lines about one station in a listing."""
    return next(part for part in stations_of(listing) if name in part)


@pytest.mark.parametrize(
    ("when", "day", "night"),
    [
        (datetime(2026, 11, 23, 10, 0), "🟢 Open until 22:00", "🔴 Closed now, opens at 22:00"),
        (datetime(2026, 11, 23, 23, 30), "🔴 Closed for the rest of today", "🟢 Open until 06:00 tomorrow"),
        # Tuesday 02:00: Tuesday itself is closed, but Monday night's period still runs.
        (datetime(2026, 11, 24, 2, 0), "🔴 Closed now, opens at 07:00", "🟢 Open until 06:00 ·"),
        (datetime(2026, 11, 24, 6, 0), "🔴 Closed now, opens at 07:00", "🔴 Closed for the rest of today"),
    ],
)
async def test_open_or_closed_now_in_district_time(bot, when, day, night) -> None:
    """Each station says whether it is open now and until when, or when it opens, correctly across midnight."""
    bot.clock.now = when.replace(tzinfo=TZ)
    listing = await share(bot)
    assert day in block(listing, "Day Station")
    assert night in block(listing, "Night Station")
    assert "🟢 Open 24 hours" in block(listing, "Always Station")
    assert "⚪ Opening hours not known" in block(listing, "Far Station")


def marks_and_names(listing: str) -> list[str]:
    """Each listed station's mark and name, in the listing's order."""
    return [part.split(" · ")[0] for part in stations_of(listing)]


async def test_closed_now_is_ranked_after_the_open_and_marked(bot) -> None:
    """Monday 10:00: Night Station, second nearest, is closed, so it comes last, marked, with when it opens."""
    listing = await share(bot)
    assert marks_and_names(listing) == [
        "① Day Station",
        "② Always Station",
        "③ Far Station",
        "④ Sydney Station",
        "⑤ Night Station",
    ]
    assert block(listing, "Night Station") == "⑤ Night Station · 217 m · grade B\n🔴 Closed now, opens at 22:00 · 🚻🩹"
    assert block(listing, "Day Station") == "① Day Station · 74 m · grade A\n🟢 Open until 22:00 · 🚰🔌"
    # At 23:30 Day Station has closed and Night Station opened: they trade places.
    bot.clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=TZ)
    assert marks_and_names(await share(bot))[0] == "① Night Station"
    assert marks_and_names(seen(bot.last_text(COURIER)))[-1] == "⑤ Day Station"


async def test_the_nearest_open_ones_push_a_closed_one_out_of_a_full_list(bot) -> None:
    """With five open stations nearer than the sixth candidate, a closed one is left out rather than shown first."""
    more = [
        Station(id=f"s-open{i}", name=f"Open {i}", lat=31.2317 + 0.001 * i, lon=121.4753, grade="B", hours=ALWAYS)
        for i in range(1, 5)
    ]
    await bot.services.storage.stations.upsert(more)
    names = marks_and_names(await share(bot))
    assert names == ["① Day Station", "② Open 1", "③ Open 2", "④ Open 3", "⑤ Open 4"]
    assert "Night Station" not in seen(bot.last_text(COURIER))


async def test_each_station_has_its_own_row_of_buttons_named_by_its_mark(bot) -> None:
    """Row n holds ⓝ Navigate and ⓝ New appeal, for the station listed ⓝ — even when ranking moved it."""
    listing = await share(bot)
    labels = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(COURIER))]
    marks = "①②③④⑤"
    assert labels[:10] == [f"{m} {verb}" for m in marks for verb in ("Navigate", "New appeal")]
    await bot.press(COURIER, "⑤ Navigate")  # Night Station: second nearest, listed fifth
    venue = bot.core.last_message(COURIER)["venue"]
    assert (venue["title"], venue["address"]) == ("Night Station", "2 Hankou Rd")
    assert "⑤ Night Station" in listing
    # The whole listing fits a phone screen: a title and five stations in two short lines each.
    assert len(listing.splitlines()) == 12 and max(len(line) for line in listing.splitlines()) <= 48


async def test_english_readers_see_english_names_where_there_are_some(tmp_path) -> None:
    """name_en and address_en for English readers, the Chinese for Chinese readers and where no English is given."""
    both = Station(
        id="s-fz",
        name="福州路爱心驿站",
        name_en="Fuzhou Road Rest Station",
        address="黄浦区福州路402号",
        address_en="No. 402 Fuzhou Road, Huangpu",
        lat=31.2320,
        lon=121.4760,
        grade="A",
        hours=DAY,
    )
    chinese_only = Station(
        id="s-hk", name="汉口路爱心驿站", address="黄浦区汉口路398号", lat=31.2330, lon=121.4770, grade="B", hours=DAY
    )
    async with running_bot(tmp_path / "en.sqlite3") as bot:
        await bot.services.storage.stations.upsert([both, chinese_only])
        bot.user(COURIER, "Li")
        bot.user(OTHER, "王", language_code="zh-hans")
        english = await share(bot)
        assert marks_and_names(english) == ["① Fuzhou Road Rest Station", "② 汉口路爱心驿站"]
        await bot.press(COURIER, "① Navigate")
        venue = bot.core.last_message(COURIER)["venue"]
        assert (venue["title"], venue["address"]) == ("Fuzhou Road Rest Station", "No. 402 Fuzhou Road, Huangpu")
        assert marks_and_names(await share(bot, user=OTHER)) == ["① 福州路爱心驿站", "② 汉口路爱心驿站"]
        await bot.press(OTHER, "① 导航")
        assert bot.core.last_message(OTHER)["venue"]["title"] == "福州路爱心驿站"


async def test_five_nearest_with_filters_that_reuse_the_kept_location(bot) -> None:
    """Amenity buttons search again around the last shared location, and 'All stations' undoes the filter."""
    listing = await share(bot)
    await bot.press(COURIER, "🩹 First aid")
    filtered = seen(bot.last_text(COURIER))
    assert filtered.startswith("Nearest rest stations with a first-aid kit:")
    assert marks_and_names(filtered) == ["① Far Station", "② Night Station"]  # Night is closed at 10:00
    labels = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(COURIER))]
    assert "✓ First aid" in labels and "All stations" in labels
    await bot.press(COURIER, "🪑 Seats")
    assert "① Sydney Station" in seen(bot.last_text(COURIER))  # the only station with seats, half a world away
    await bot.press(COURIER, "All stations")
    assert seen(bot.last_text(COURIER)) == listing

    # A new location replaces the kept one: Sydney's courier filters around Sydney.
    assert "① Sydney Station · 1.4 km" in await share(bot, -33.87, 151.20)
    await bot.press(COURIER, "🚰 Water")
    assert "① Day Station · 7,8" in seen(bot.last_text(COURIER))  # about 7,900 km away
    assert (await bot.services.storage.stations.last_location(COURIER)).lat == -33.87


async def test_a_filter_nobody_offers_says_so_and_keeps_the_buttons(bot) -> None:
    """No open station with a microwave once the only one closes: a clear message, other filters offered."""
    await bot.services.storage.stations.set_active("s-always", False)
    await share(bot)
    await bot.press(COURIER, "🍱 Microwave")
    assert seen(bot.last_text(COURIER)).startswith("No open station offers microwave.")
    assert "🚰 Water" in [label for label, _ in bot.core.inline_buttons(bot.core.last_message(COURIER))]


async def test_poor_accuracy_is_mentioned(bot) -> None:
    """Over 1 km of uncertainty, the courier is told the distances may be off; under it, nothing."""
    assert "accurate only to about 1.4 km" in await share(bot, accuracy=1400)
    assert "accurate only" not in await share(bot, accuracy=65)
    await bot.press(COURIER, "🔌 Charging")
    assert "accurate only" not in seen(bot.last_text(COURIER))


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
    assert "① Day Station · 74 m · A 级\n🟢 开放至 22:00 · 🚰🔌" in listing
    assert "⑤ Night Station · 217 m · B 级\n🔴 现在未开放，22:00 开放 · 🚻🩹" in listing
    labels = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(OTHER))]
    assert labels[:2] == ["① 导航", "① 反映问题"]
    await bot.press(OTHER, "🩹 急救")
    assert seen(bot.last_text(OTHER)).startswith("附近有急救")
