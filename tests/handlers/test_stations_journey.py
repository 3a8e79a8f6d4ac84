"""Nearest station: share a location, see the nearest stations, navigate, or file an appeal about one."""

import pytest

from storage.stations import Station
from tests.harness import running_bot

COURIER = 1001
STATIONS = [
    Station(
        id="s-near",
        name="Near Station",
        address="1 Fuzhou Rd",
        lat=31.2320,
        lon=121.4760,
        grade="A",
        amenities=("water", "charging", "first_aid"),
        unit_id="st1",
    ),
    Station(
        id="s-mid",
        name="Mid Station",
        address="9 Hankou Rd",
        lat=31.2400,
        lon=121.4800,
        grade="B",
        amenities=("water",),
        unit_id="st1",
    ),
    Station(id="s-far", name="Far Station", address="Pudong", lat=31.3000, lon=121.6000, grade="C", unit_id="st1"),
    Station(id="s-closed", name="Closed Station", lat=31.2318, lon=121.4755, grade="B", active=False),
]


@pytest.fixture
async def bot(tmp_path):
    """The bot with four stations, one of them closed; station facilities route by station."""
    routing = [{"category": "facilities", "station": "s-near", "unit": "st1"}]
    async with running_bot(tmp_path / "st.sqlite3", routing=routing) as running:
        await running.services.storage.stations.upsert(STATIONS)
        running.user(COURIER, "Li")
        yield running


async def test_nearest_stations_in_order_with_amenities(bot) -> None:
    """Open stations only, nearest first, with distance, grade and amenities."""
    await bot.say(COURIER, "/station")
    assert bot.last_text(COURIER) == bot.services.text("en", "stations.ask_location")
    assert bot.core.reply_keyboard(COURIER)["keyboard"][1] == [
        {"request_contact": False, "request_location": True, "text": "Nearest station"},
        {"text": "Micro-wish"},
    ]  # the menu's own button shares the location in one tap
    sent = len(bot.core.bot_messages(COURIER))
    bot.core.share_location(COURIER, 31.2317, 121.4753)
    await bot.deliver()
    assert len(bot.core.bot_messages(COURIER)) == sent + 1  # the listing alone: the menu stayed up
    assert bot.reply_labels(COURIER) == [
        "New appeal",
        "My appeals",
        "Nearest station",
        "Micro-wish",
        "Activities",
        "Help",
        "Language / 语言",
        "Settings",
    ]
    listing = bot.last_text(COURIER).replace("\u00a0", " ")  # no-break spaces keep "74 m" on one line
    assert listing.index("Near Station") < listing.index("Mid Station") < listing.index("Far Station")
    assert "Closed Station" not in listing
    assert "① Near Station · 74 m · grade A\n⚪ Opening hours not known · 🚰🔌🩹" in listing


async def test_navigate_sends_a_venue_and_appeal_starts_with_the_station(bot) -> None:
    """The venue button sends the station's place; the appeal button files about that station."""
    bot.core.share_location(COURIER, 31.2317, 121.4753)
    await bot.deliver()
    await bot.press(COURIER, "① Navigate")
    venue = bot.core.last_message(COURIER)["venue"]
    assert (venue["title"], venue["location"]["latitude"]) == ("Near Station", 31.2320)
    await bot.press(COURIER, "① New appeal")
    about = bot.services.text("en", "filing2.about_station", station="Near Station")
    assert bot.last_text(COURIER).startswith(about + "\n")  # every step names the station
    await bot.press(COURIER, "Station facilities")
    assert bot.last_text(COURIER).startswith(about + "\n")
    await bot.say(COURIER, "The charger is broken")
    assert bot.texts(COURIER)[-2].startswith(about + "\n")
    assert bot.last_text(COURIER) == bot.services.text("en", "filing.ask_contact")  # the place is known
    await bot.press(COURIER, "Skip")
    assert "Station: Near Station" in bot.last_text(COURIER)
    await bot.press(COURIER, "Confirm")
    appeal = await bot.services.storage.appeals.get(1)
    assert (appeal.station_id, appeal.unit_id) == ("s-near", "st1")


async def test_a_stale_station_button_is_refused(bot) -> None:
    """A station closed after the list was shown is not sent."""
    bot.core.share_location(COURIER, 31.2317, 121.4753)
    await bot.deliver()
    await bot.services.storage.stations.upsert([STATIONS[0].model_copy(update={"active": False})])
    query = bot.core.press(COURIER, "① Navigate")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == bot.services.text("en", "stations.gone")


async def test_a_location_in_the_dialog_offers_the_stations_near_it_in_one_message(bot) -> None:
    """Near stations: one message says the location came and offers them; none near: straight on to the phone."""
    t = lambda key, **kw: bot.services.text("en", key, **kw)  # noqa: E731
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Daily-life")
    await bot.say(COURIER, "No hot water")
    sent = len(bot.texts(COURIER))
    bot.core.share_location(COURIER, 31.2317, 121.4753)
    await bot.deliver()
    assert bot.texts(COURIER)[sent:] == [t("filing.location_received") + "\n" + t("filing.which_station")]
    offered = [label for label, _ in bot.core.inline_buttons(bot.core.bot_messages(COURIER)[-1])]
    # Mid Station is 1.0 km away, Far 14 km; Back and Cancel stay with the list, the place question lost its own.
    assert offered == ["Near Station · 74 m", t("button.no_station"), t("button.back"), t("button.cancel")]
    assert bot.core.inline_buttons(bot.core.bot_messages(COURIER)[-2]) == []
    await bot.press(COURIER, "Near Station")
    assert bot.last_text(COURIER) == t("filing.ask_contact")
    assert bot.reply_labels(COURIER) == [t("button.share_phone")]
    assert (await bot.services.storage.dialogs.draft(COURIER)).station == "s-near"

    await bot.press(COURIER, "Cancel")
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Daily-life")
    await bot.say(COURIER, "No hot water")
    sent = len(bot.texts(COURIER))
    bot.core.share_location(COURIER, 31.1, 121.2)  # kilometres from any station
    await bot.deliver()
    assert bot.texts(COURIER)[sent:] == [
        t("filing.location_received") + "\n" + t("filing.ask_contact_keyboard"),
        t("filing.ask_contact"),
    ]
    assert bot.reply_labels(COURIER) == [t("button.share_phone")]
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.lat, draft.station) == ("contact", 31.1, None)
