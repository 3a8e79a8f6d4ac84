"""/export: coordinators get the ledger as CSV and Excel; LibreOffice reads the Excel file the same."""

import asyncio
import csv
import io
import shutil
import subprocess
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event
from storage.stations import Station
from tests.harness import START, TZ, running_bot

COURIER, STAFF, HR_STAFF, COORDINATOR, STRANGER = 1001, 500, 600, 900, 1999
H = timedelta(hours=1)

EN_HEADERS = [
    "Number",
    "Category",
    "Unit",
    "Station",
    "Place",
    "Priority",
    "State",
    "Outcome",
    "Submitted",
    "Accepted",
    "Sent back",
    "Resolved",
    "Rated",
    "Closed",
    "Accepted in time",
    "Resolved in time",
    "Rating",
    "Redos",
    "Extensions",
    "Co-handling units",
    "Description",
    "Results",
]


async def file_appeals(bot) -> tuple[int, int, int]:
    """Last week's wage appeal; this week's charger appeal through the whole loop; one waiting for triage."""
    storage = bot.services.storage
    await storage.stations.upsert([Station(id="s-1", name="People's Square", lat=31.23, lon=121.47, grade="A")])
    await storage.people.seen(COURIER, "en", START)
    old = await storage.appeals.submit(
        NewAppeal(courier_id=COURIER, category="work", description="Unpaid", language="en"),
        "hr",
        START - timedelta(days=7),
    )
    loop = await storage.appeals.submit(
        NewAppeal(courier_id=COURIER, category="facilities", description="Charger", language="en", station_id="s-1"),
        "st1",
        START,
    )
    number = loop.appeal.id
    for hours, (event, actor, args) in enumerate(
        [
            (Event.SEND_BACK, STAFF, EventArgs(note="Not ours to handle")),
            (Event.ASSIGN, COORDINATOR, EventArgs(unit="st1")),
            (Event.ACCEPT, STAFF, EventArgs()),
            (Event.RESOLVE, STAFF, EventArgs(note="Fixed the charger")),
            (Event.RATE_UNSATISFIED, COURIER, EventArgs(note="Still broken")),
            (Event.RESOLVE, STAFF, EventArgs(note="Fixed again")),
            (Event.RATE_FAIRLY_SATISFIED, COURIER, EventArgs()),
        ],
        1,
    ):
        await storage.appeals.apply(ActOnAppeal(number, event, actor, args), START + hours * H)
    waiting = await storage.appeals.submit(
        NewAppeal(
            courier_id=COURIER,
            category="suggestion",
            description="More seats",
            language="en",
            place="East gate of Wanda Plaza",
        ),
        None,
        START + 8 * H,
    )
    return old.appeal.id, number, waiting.appeal.id


@pytest.fixture
async def bot(tmp_path):
    """The district with three appeals, and its people."""
    async with running_bot(tmp_path / "export.sqlite3") as running:
        for person in (COURIER, STAFF, HR_STAFF, COORDINATOR):
            running.user(person, f"P{person}")
        await file_appeals(running)
        running.clock.now = START + 9 * H
        await running.app.bot_data.sender.flush()  # the notices the appeals caused, out of the way
        yield running


def documents(bot, user: int, count: int) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, caption) of the newest `count` documents the bot sent."""
    found = [m for m in bot.core.bot_messages(user) if "document" in m][-count:]
    return [
        (
            m["document"]["file_name"],
            bot.core.file_bytes(bot.core.file_path(m["document"]["file_id"])),
            m.get("caption", ""),
        )
        for m in found
    ]


def rows_of(data: bytes) -> list[list[str]]:
    """A CSV file's rows (UTF-8, with or without a byte-order mark)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_this_week_as_csv_and_excel(bot, tmp_path) -> None:
    """Both files hold this week's two appeals with every timestamp; the Excel file has frozen headers and widths."""
    await bot.say(COORDINATOR, "/export")
    assert bot.last_text(COORDINATOR).startswith("Export the ledger for which period?")
    await bot.press(COORDINATOR, "This week")
    (csv_name, csv_data, caption), (xlsx_name, xlsx_data, _) = documents(bot, COORDINATOR, 2)
    assert (csv_name, xlsx_name) == ("ledger-2026-11-23-2026-11-29.csv", "ledger-2026-11-23-2026-11-29.xlsx")
    assert caption == "Ledger 2026-11-23 – 2026-11-29. Appeals: 2"
    header, loop, waiting = rows_of(csv_data)
    assert header == EN_HEADERS
    assert loop == [
        "2",
        "Station facilities",
        "Station One",
        "People's Square",
        "",
        "Normal",
        "closed",
        "resolved",
        "2026-11-23 10:00",
        "2026-11-23 13:00",
        "2026-11-23 11:00",
        "2026-11-23 16:00",
        "2026-11-23 17:00",
        "2026-11-23 17:00",
        "yes",
        "yes",
        "fairly satisfied",
        "1",
        "0",
        "",
        "Charger",
        "2026-11-23 14:00 Fixed the charger\n2026-11-23 16:00 Fixed again",
    ]
    assert waiting[:9] == [
        "3",
        "Suggestions",
        "",
        "",
        "East gate of Wanda Plaza",
        "Normal",
        "waiting to be assigned to a unit",
        "",
        "2026-11-23 18:00",
    ]
    assert waiting[9:] == ["", "", "", "", "", "", "", "", "0", "0", "", "More seats", ""]

    book = load_workbook(io.BytesIO(xlsx_data))
    sheet = book["Ledger"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == EN_HEADERS and all(c.font.b for c in sheet[1])
    submitted = sheet.cell(row=2, column=9)
    assert submitted.value == datetime(2026, 11, 23, 10, 0) and submitted.number_format == "yyyy-mm-dd hh:mm"
    widths = {letter: dim.width for letter, dim in sheet.column_dimensions.items()}
    assert 6 <= widths["A"] < widths["I"] <= 40  # a number is narrow, a timestamp wider


@pytest.mark.slow  # a process of its own
async def test_libreoffice_reads_the_excel_file_as_the_csv(bot, tmp_path) -> None:
    """LibreOffice, headless, converts the .xlsx to CSV with the same cells as the bot's CSV."""
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    if soffice is None:
        pytest.fail("this test needs LibreOffice Calc: apt-get install libreoffice-calc (python3 dev.py test does it)")
    await bot.say(COORDINATOR, "/export 2026-11-16 2026-11-29")
    (_, csv_data, caption), (_, xlsx_data, _) = documents(bot, COORDINATOR, 2)
    assert caption.endswith("Appeals: 3")
    source = tmp_path / "ledger.xlsx"
    source.write_bytes(xlsx_data)
    command = [
        soffice,
        f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
        "--headless",
        # 44 = comma, 34 = double quote, 76 = UTF-8.
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76",
        "--outdir",
        str(tmp_path / "out"),
        str(source),
    ]
    result = await asyncio.to_thread(subprocess.run, command, capture_output=True, timeout=180)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    converted = rows_of((tmp_path / "out" / "ledger.csv").read_bytes())
    assert converted == rows_of(csv_data)
    assert len(converted) == 4 and converted[1][0] == "1"


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_headers_and_values_in_chinese(bot) -> None:
    """A Chinese-speaking coordinator gets Chinese headers, names and states."""
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    await bot.say(COORDINATOR, "/export")
    await bot.press(COORDINATOR, "本周")
    (_, csv_data, caption), (_, xlsx_data, _) = documents(bot, COORDINATOR, 2)
    header, loop, _ = rows_of(csv_data)
    assert header[:5] == ["编号", "类别", "承办单位", "驿站", "地点"] and header[-5:] == [
        "重办次数",
        "延期次数",
        "协办单位",
        "诉求内容",
        "办理结果",
    ]
    assert loop[1:3] == ["站点设施", "一号驿站"] and loop[7] == "已解决" and loop[16] == "基本满意"
    assert load_workbook(io.BytesIO(xlsx_data)).sheetnames == ["台账"]
    assert caption == "台账 2026-11-23 至 2026-11-29，诉求 2 件"


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_other_periods_typed_dates_and_bad_input(bot) -> None:
    """Last week holds the old appeal; an empty period says so; bad dates get the usage, not a traceback."""
    await bot.say(COORDINATOR, "/export")
    await bot.press(COORDINATOR, "Last week")
    (_, csv_data, _), _ = documents(bot, COORDINATOR, 2)
    assert [row[0] for row in rows_of(csv_data)[1:]] == ["1"]
    await bot.say(COORDINATOR, "/export")
    await bot.press(COORDINATOR, "Last month")
    assert bot.last_text(COORDINATOR) == "No appeals were filed from 2026-10-01 to 2026-10-31."
    usage = bot.services.text("en", "export.usage")
    for text in (
        "/export 2026-11-30 2026-11-01",
        "/export tomorrow today",
        "/export 2026-11-01",
        "/export 2020-01-01 2026-01-01",
    ):
        await bot.say(COORDINATOR, text)
        assert bot.last_text(COORDINATOR) == usage, text


@pytest.mark.parametrize("person", [STRANGER, COURIER, STAFF])
async def test_only_coordinators_export(bot, person) -> None:
    """The command, typed dates and forged period buttons are refused to everyone else; no file is sent."""
    if person == STRANGER:
        bot.user(STRANGER, "Stranger")
    refusal = bot.services.text("en", "coord.not_coordinator")
    for command in ("/export", "/export 2026-11-01 2026-11-30"):
        await bot.say(person, command)
        assert bot.last_text(person) == refusal
    query = bot.core.press_button(person, bot.core.last_message(person)["message_id"], "ex:period:this_week")
    await bot.deliver()
    assert bot.core.answered_callback(query) == {"text": refusal, "show_alert": True}
    assert not any("document" in m for m in bot.core.bot_messages(person))


async def test_a_forged_period_is_invalid(bot) -> None:
    """Only the four periods exist."""
    await bot.say(COORDINATOR, "/export")
    query = bot.core.press_button(COORDINATOR, bot.core.last_message(COORDINATOR)["message_id"], "ex:period:forever")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == bot.services.text("en", "press.invalid")


def test_periods_in_district_time() -> None:
    """Weeks start on Monday; months end on their last day, December into January included."""
    from domain.periods import bounds, named

    day = datetime(2026, 1, 1).date()
    assert named("last_month", day) == (datetime(2025, 12, 1).date(), datetime(2025, 12, 31).date())
    assert named("this_month", datetime(2026, 2, 10).date())[1] == datetime(2026, 2, 28).date()
    assert named("this_week", datetime(2026, 11, 29).date())[0] == datetime(2026, 11, 23).date()
    start, end = bounds(*named("this_week", datetime(2026, 11, 25).date()), TZ)
    assert (start, end) == (datetime(2026, 11, 23, tzinfo=TZ), datetime(2026, 11, 30, tzinfo=TZ))
