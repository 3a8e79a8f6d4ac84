"""Coordinators add, edit, close and reopen stations from the bot; everyone else is refused."""

import csv
import io
import json

import pytest

from domain.stations_file import COLUMNS, read_stations
from storage.stations import Station
from tests.harness import running_bot

COURIER, STAFF, COORDINATOR, STRANGER = 1001, 500, 900, 1999
HOURS = {d: "07:00-22:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
STATIONS = [
    Station(
        id="s-1",
        name="First Station",
        address="1 Fuzhou Rd",
        lat=31.232,
        lon=121.476,
        grade="A",
        amenities=("water",),
        hours=HOURS,
        unit_id="st1",
    ),
    Station(id="s-2", name="Second Station", lat=31.24, lon=121.48, grade="B", active=False),
]


@pytest.fixture
async def bot(tmp_path):
    """Two stations (one closed); a courier, station staff and a coordinator who have said hello."""
    async with running_bot(tmp_path / "admin.sqlite3") as running:
        await running.services.storage.stations.upsert(STATIONS)
        for person, name in ((COURIER, "Li"), (STAFF, "Station worker"), (COORDINATOR, "Coordinator")):
            running.user(person, name)
            await running.say(person, "/start")
        yield running


def sent_file(bot, user: int) -> tuple[str, bytes]:
    """The name and bytes of the newest document the bot sent."""
    document = bot.core.last_message(user)["document"]
    return document["file_name"], bot.core.file_bytes(bot.core.file_path(document["file_id"]))


async def test_close_and_reopen_with_buttons(bot) -> None:
    """/stations lists closed stations with Reopen; a station's card closes it after asking, and couriers stop seeing it."""
    await bot.say(COORDINATOR, "/stations")
    assert bot.last_text(COORDINATOR).startswith("Stations: 1 open, 1 closed.")
    await bot.press(COORDINATOR, "Reopen Second Station")
    assert (await bot.services.storage.stations.get("s-2")).active is True
    assert "Second Station (s-2) · open" in bot.last_text(COORDINATOR)

    await bot.say(COORDINATOR, "/stations s-1")
    card = bot.last_text(COORDINATOR)
    assert card.startswith("First Station (s-1) · open") and card.endswith("unit: Station One")
    shown = len(bot.texts(COORDINATOR))
    await bot.press(COORDINATOR, "Close First Station")
    # Asked first, in place of the card: what closing does, and nothing closed yet.
    assert len(bot.texts(COORDINATOR)) == shown
    assert bot.last_text(COORDINATOR) == bot.services.text("en", "station_pick.close_confirm", name="First Station")
    assert (await bot.services.storage.stations.get("s-1")).active is True
    await bot.press(COORDINATOR, "Back")
    assert bot.last_text(COORDINATOR).startswith("First Station (s-1) · open")
    await bot.press(COORDINATOR, "Close First Station")
    confirm = bot.core.last_message(COORDINATOR)
    query = await bot.press(COORDINATOR, "Yes, close it")
    assert bot.core.answered_callback(query)["text"] == "First Station is closed: couriers no longer see it."
    assert bot.last_text(COORDINATOR).startswith("First Station (s-1) · closed")
    # A second tap of the same confirm button: already done, said quietly, nothing else changes.
    again = bot.core.press_button(COORDINATOR, confirm["message_id"], "sa:shuty:s-1")
    await bot.deliver()
    assert bot.core.answered_callback(again)["text"] == "First Station is closed: couriers no longer see it."
    assert (await bot.services.storage.stations.get("s-1")).active is False
    bot.core.share_location(COURIER, 31.232, 121.476)
    await bot.deliver()
    assert "First Station" not in bot.last_text(COURIER)

    await bot.say(COORDINATOR, "/stations nowhere")
    assert bot.last_text(COORDINATOR) == bot.services.text("en", "station_pick.none", query="nowhere")
    await bot.say(COORDINATOR, "/stations set")
    assert bot.last_text(COORDINATOR) == bot.services.text("en", "station_admin.usage")


async def test_find_stations_by_name(bot) -> None:
    """/stations with part of a name: one match shows its card, several are buttons by name (open first)."""
    await bot.say(COORDINATOR, "/stations second")
    assert bot.last_text(COORDINATOR).startswith("Second Station (s-2) · closed")
    await bot.say(COORDINATOR, "/stations station")
    message = bot.core.last_message(COORDINATOR)
    assert message["text"] == bot.services.text("en", "station_pick.found", query="station")
    assert [label for label, _ in bot.core.inline_buttons(message)] == ["First Station", "Second Station · closed"]
    await bot.press(COORDINATOR, "Second Station")
    assert bot.last_text(COORDINATOR).startswith("Second Station (s-2) · closed")
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    await bot.say(COORDINATOR, "/stations first  STATION")
    assert bot.last_text(COORDINATOR).startswith("First Station（s-1）· 开放")
    assert bot.last_text(COORDINATOR).endswith("所属单位：一号驿站")


async def test_add_and_edit_with_the_one_line_form(bot) -> None:
    """A new station needs every required field; an edit changes only what it names; problems say why."""
    await bot.say(
        COORDINATOR,
        '/stations set id=s-3 name="Third Station" lat=31.25 lon=121.49 grade=C '
        "amenities=water;toilet hours=08:00-20:00 sun=closed unit=st1",
    )
    assert bot.texts(COORDINATOR)[-2] == "Station s-3 added."
    added = await bot.services.storage.stations.get("s-3")
    assert (added.name, added.amenities, added.hours["sun"], added.hours["mon"], added.unit_id) == (
        "Third Station",
        ("water", "toilet"),
        "closed",
        "08:00-20:00",
        "st1",
    )

    await bot.say(COORDINATOR, "/stations set id=s-1 mon=22:00-06:00 grade=B")
    assert bot.texts(COORDINATOR)[-2] == "Station s-1 updated."
    edited = await bot.services.storage.stations.get("s-1")
    assert (edited.name, edited.grade, edited.hours["mon"], edited.hours["tue"]) == (
        "First Station",
        "B",
        "22:00-06:00",
        "07:00-22:00",
    )

    await bot.say(COORDINATOR, "/stations set id=s-4 name=Fourth lat=100 grade=Z unit=moon")
    problems = bot.last_text(COORDINATOR)
    assert problems.startswith("Problems found: 4")
    for expected in (
        "column lat: 100 is not a latitude",
        "column lon: is missing",
        "column grade: 'Z'",
        "column unit: no unit has the id 'moon'",
    ):
        assert expected in problems
    assert problems.endswith("Nothing was changed. Fix these and send it again.")
    assert await bot.services.storage.stations.get("s-4") is None

    await bot.say(COORDINATOR, '/stations set name="no id"')
    assert "column id: is missing" in bot.last_text(COORDINATOR)
    await bot.say(COORDINATOR, '/stations set id=s-1 name="unclosed')
    assert "close every quote" in bot.last_text(COORDINATOR)


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_a_station_file_sent_as_a_document(bot) -> None:
    """A valid JSON file is imported by id; a CSV with problems lists them all and changes nothing."""
    stations = {
        "stations": [
            {"id": "s-1", "name": "First, renamed", "lat": 31.232, "lon": 121.476, "grade": "A", "unit": "st1"},
            {"id": "s-9", "name": "Ninth", "lat": 31.3, "lon": 121.5, "grade": "C", "amenities": ["charging"]},
        ]
    }
    bot.core.send_document(COORDINATOR, json.dumps(stations).encode(), "stations.json", "application/json")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == "Stations imported: 1 new, 1 updated."
    assert (await bot.services.storage.stations.get("s-1")).name == "First, renamed"

    before_english = COLUMNS[: COLUMNS.index("name_en")]  # a file from before the English columns
    bad = ",".join(before_english) + "\ns-1,,,91,121,A,,,,,,,,,,\ns-7,Seven,,31,121,A,wifi,,,,,,,,nowhere,\n"
    bot.core.send_document(COORDINATOR, bad.encode(), "Stations.CSV", "text/csv")
    await bot.deliver()
    reply = bot.last_text(COORDINATOR)
    assert reply.startswith("Problems found: 4")
    assert "line 2, column name: is missing" in reply and "line 3, column unit" in reply
    assert await bot.services.storage.stations.get("s-7") is None
    assert (await bot.services.storage.stations.get("s-1")).name == "First, renamed"

    bot.core.send_document(COORDINATOR, b"\xff\xfe\x00", "stations.csv", "text/csv")
    await bot.deliver()
    assert "line 1: is not UTF-8 text" in bot.last_text(COORDINATOR)


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_the_stations_file_round_trips_through_the_bot(bot) -> None:
    """/stations file sends a CSV that, sent back, changes nothing."""
    await bot.say(COORDINATOR, "/stations file")
    name, data = sent_file(bot, COORDINATOR)
    assert name == "stations.csv" and data.startswith('\ufeff"id","name"'.encode())
    records = read_stations(data, "csv", {"st1", "hr"})
    assert [r.id for r in records] == ["s-1", "s-2"] and records[1].active is False
    bot.core.send_document(COORDINATOR, data, name, "text/csv")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == "Stations imported: 0 new, 2 updated."
    assert [s.model_dump() for s in await bot.services.storage.stations.all()] == [s.model_dump() for s in STATIONS]


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_english_names_by_form_file_and_import(bot) -> None:
    """`/stations set name_en=… address_en=…` stores them, the CSV carries them, and a file without them keeps them."""
    await bot.say(COORDINATOR, '/stations set id=s-1 name_en="Fuzhou Road Station" address_en="1 Fuzhou Road"')
    assert bot.texts(COORDINATOR)[-2] == "Station s-1 updated."
    station = await bot.services.storage.stations.get("s-1")
    assert (station.name, station.name_en, station.address_en) == (
        "First Station",
        "Fuzhou Road Station",
        "1 Fuzhou Road",
    )
    await bot.say(COORDINATOR, "/stations fuzhou road")  # found by its English name too
    assert bot.last_text(COORDINATOR).startswith("First Station (s-1)")

    await bot.say(COORDINATOR, "/stations file")
    _, data = sent_file(bot, COORDINATOR)
    header, first = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[:2]
    assert header[-2:] == ["name_en", "address_en"] and first[-2:] == ["Fuzhou Road Station", "1 Fuzhou Road"]

    renamed = {"stations": [{"id": "s-1", "name": "第一驿站", "lat": 31.232, "lon": 121.476, "grade": "A"}]}
    bot.core.send_document(COORDINATOR, json.dumps(renamed).encode(), "stations.json", "application/json")
    await bot.deliver()
    station = await bot.services.storage.stations.get("s-1")
    assert (station.name, station.name_en) == ("第一驿站", "Fuzhou Road Station")
    cleared = "id,name,lat,lon,grade,name_en\ns-1,第一驿站,31.232,121.476,A,\n"
    bot.core.send_document(COORDINATOR, cleared.encode(), "stations.csv", "text/csv")
    await bot.deliver()
    assert (await bot.services.storage.stations.get("s-1")).name_en == ""


@pytest.mark.parametrize("person", [STRANGER, COURIER, STAFF])
async def test_only_coordinators_manage_stations(bot, person) -> None:
    """/stations, its forms, station files and forged Close/Reopen buttons are refused to everyone else."""
    if person == STRANGER:
        bot.user(STRANGER, "Stranger")
    refusal = bot.services.text("en", "coord.not_coordinator")
    for command in ("/stations", "/stations s-1", "/stations set id=s-1 name=Mine", "/stations file"):
        assert await bot.say(person, command) and bot.last_text(person) == refusal
    message_id = bot.core.last_message(person)["message_id"]
    for data in ("sa:shut:s-1", "sa:reopen:s-2"):
        query = bot.core.press_button(person, message_id, data)
        await bot.deliver()
        assert bot.core.answered_callback(query) == {"text": refusal, "show_alert": True}
    bot.core.send_document(person, b'{"stations": []}', "stations.json", "application/json")
    await bot.deliver()
    # Not a station file for them: a file like any other, which they may file as an appeal.
    assert bot.texts(person)[-2] == bot.services.text("en", "freetext.offer_file")
    assert [(s.id, s.name, s.active) for s in await bot.services.storage.stations.all()] == [
        ("s-1", "First Station", True),
        ("s-2", "Second Station", False),
    ]


async def test_a_courier_writing_an_appeal_can_still_send_a_file(bot) -> None:
    """A document during the filing dialog goes to the dialog, as before station files existed."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Suggestions")
    bot.core.send_document(COURIER, b"id,name\n", "list.csv", "text/csv", caption="Please add these stations")
    await bot.deliver()
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert draft.description == "Please add these stations"


async def test_forged_tool_buttons_are_invalid(bot) -> None:
    """Unknown verbs in a tool family are refused, for coordinators too."""
    message_id = bot.core.last_message(COORDINATOR)["message_id"]
    query = bot.core.press_button(COORDINATOR, message_id, "sa:delete:s-1")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == bot.services.text("en", "press.invalid")
    query = bot.core.press_button(COORDINATOR, message_id, "sa:shut:no-such")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == "There is no station with the id no-such."


async def test_a_huge_form_gets_its_problems_in_one_message(bot) -> None:
    """A form of thousands of characters: the problems quote it shortened, within Telegram's 4096."""
    (answer,) = await bot.say(COORDINATOR, "/stations set " + "0" * 4000)
    assert answer["text"].startswith(bot.services.text("en", "station_admin.problems", count=1).split("{")[0][:10])
    assert len(answer["text"]) <= 4096 and "…" in answer["text"]
