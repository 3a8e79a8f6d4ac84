"""Heavy work never holds the bot up: during a large station import or ledger export, another person's
/start is answered while the work goes on (how fast is bench/'s to measure, not a test's); station files are refused over their limits before they are parsed;
a problem report lists the first problems and counts the rest; an export too large to send says so
before it is built and offers shorter periods.
"""

import asyncio
import gc
import json
from datetime import timedelta

import pytest
from telegram import Update

from domain.commands import NewAppeal
from domain.stations_file import MAX_DEPTH, MAX_FILE_BYTES, MAX_ROWS, SHOWN_PROBLEMS, StationRecord, to_csv
from handlers import export
from handlers.ledger_files import estimated_bytes
from tests.harness import START, running_bot

COORDINATOR, COURIER = 900, 1001
PROBE_EVERY_S = 0.05


def stations_csv(count: int, prefix: str = "s") -> bytes:
    """A valid station file of `count` stations with hours and amenities (the checks' full work)."""
    hours = {d: "07:00-22:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    records = [
        StationRecord(
            f"{prefix}-{i}",
            f"驿站 {i} 号",
            31 + i / 1e5,
            121 + i / 1e5,
            "ABC"[i % 3],
            f"地址 {i} 号",
            ("water", "charging"),
            hours,
            "st1",
            True,
            f"Station {i}",
            f"{i} Road",
        )
        for i in range(count)
    ]
    return to_csv(records).encode("utf-8-sig")


@pytest.fixture
async def bot(tmp_path):
    """A coordinator who has said hello."""
    async with running_bot(tmp_path / "heavy.sqlite3") as running:
        running.user(COORDINATOR, "Coordinator")
        await running.say(COORDINATOR, "/start")
        yield running


@pytest.fixture
def frozen_heap():
    """The heap as a running bot has it: bot.app freezes its startup objects (the harness's bot runs without
    `background`, so the test does it), and the collector's full passes walk only what came after."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


def handle(bot, raw: dict) -> asyncio.Task:
    """Hand one update to the Application as a task of its own, as concurrent updates run."""
    return asyncio.create_task(bot.app.process_update(Update.de_json(raw, bot.app.bot)))


async def probe_while(bot, busy: asyncio.Task) -> list[bool]:
    """Until `busy` ends, a new person sends /start every PROBE_EVERY_S or so (waiting on `busy` meanwhile);
    for each, whether its reply came while `busy` still ran."""
    during: list[bool] = []
    person = 20_000
    while not busy.done():
        person += 1
        bot.user(person, f"Probe {person}", language_code="zh")
        replied = asyncio.Event()
        unsubscribe = bot.core.subscribe(lambda chat, person=person, replied=replied: chat == person and replied.set())
        bot.core.send_text(person, "/start")
        (raw,) = bot.core.take_updates()
        probe = handle(bot, raw)
        try:
            await asyncio.wait_for(replied.wait(), timeout=10)
        finally:
            unsubscribe()
        during.append(not busy.done())
        await probe
        await asyncio.wait({busy}, timeout=PROBE_EVERY_S)
    await busy
    return during


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_a_large_station_import_leaves_others_answered(bot, frozen_heap) -> None:
    """While a coordinator's file of the most stations allowed is checked and written, every probe's reply
    comes while the import goes on, and the import ends with every station in."""
    bot.core.send_document(COORDINATOR, stations_csv(MAX_ROWS), "stations.csv", "text/csv")
    (raw,) = bot.core.take_updates()
    importing = handle(bot, raw)
    during = await probe_while(bot, importing)
    assert bot.last_text(COORDINATOR) == f"Stations imported: {MAX_ROWS} new, 0 updated."
    assert await bot.services.storage.stations.counts() == (MAX_ROWS, 0)
    # The import took a while and probes were answered all through it (the last may meet its end).
    assert len(during) >= 5 and all(during[:-1]), during


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_a_large_export_leaves_others_answered(bot, frozen_heap) -> None:
    """While a month of thousands of appeals is read and built into CSV and Excel, every probe's reply comes
    while the work goes on."""
    storage = bot.services.storage
    await storage.people.seen(COURIER, "en", START)
    count = 4000
    for i in range(count):
        await storage.appeals.submit(
            NewAppeal(
                courier_id=COURIER, category="work", description=f"工资未按时发放，第 {i} 次反映" * 4, language="zh"
            ),
            "hr",
            START + timedelta(seconds=i),
        )
    await bot.app.bot_data.sender.flush()
    bot.core.send_text(COORDINATOR, "/export 2026-11-01 2026-11-30")
    (raw,) = bot.core.take_updates()
    exporting = handle(bot, raw)
    during = await probe_while(bot, exporting)
    documents = [m for m in bot.core.bot_messages(COORDINATOR) if "document" in m]
    assert [d["caption"] for d in documents[-2:]] == [f"Ledger 2026-11-01 – 2026-11-30. Appeals: {count}"] * 2
    assert len(during) >= 5 and all(during[:-1]), during


async def test_a_file_over_the_size_limit_is_never_downloaded(bot) -> None:
    """Telegram's file_size says the file is too large: the bot says so, in the reader's language, without
    fetching it."""
    bot.core.send_document(COORDINATOR, b"x" * (MAX_FILE_BYTES + 1), "stations.csv", "text/csv")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == bot.services.text("en", "heavy.station_file_bytes", size="10", limit="10")
    assert "getFile" not in [name for name, _ in bot.core.calls]
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    bot.core.send_document(COORDINATOR, b"x" * (MAX_FILE_BYTES + 2**20), "stations.json", "application/json")
    await bot.deliver()
    assert (
        bot.last_text(COORDINATOR)
        == "该文件 11 MB，驿站文件不能超过 10 MB。请拆分成几个较小的文件，逐个发送。本次未导入任何驿站。"
    )


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_too_many_rows_and_too_deep_nesting_are_clear_errors(bot) -> None:
    """A CSV over the row limit, a JSON list over it, and JSON nested too deep (even 100,000 deep, which
    json.loads cannot parse) are each refused with what the limit is; nothing is imported."""
    bot.core.send_document(COORDINATOR, stations_csv(MAX_ROWS + 1), "stations.csv", "text/csv")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == bot.services.text(
        "en", "heavy.station_file_rows", count=MAX_ROWS + 1, limit=MAX_ROWS
    )
    listed = {"stations": [{"id": f"s-{i}"} for i in range(MAX_ROWS + 1)]}
    bot.core.send_document(COORDINATOR, json.dumps(listed).encode(), "stations.json", "application/json")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == bot.services.text(
        "en", "heavy.station_file_rows", count=MAX_ROWS + 1, limit=MAX_ROWS
    )

    nested = '{"stations": [\n{"id": "s-1", "hours": {"mon": [[[[["07:00"]]]]]}}]}'
    bot.core.send_document(COORDINATOR, nested.encode(), "stations.json", "application/json")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == bot.services.text("en", "heavy.station_file_depth", line=2, limit=MAX_DEPTH)
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    bot.core.send_document(COORDINATOR, b"[" * 100_000, "stations.json", "application/json")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == (
        f"该文件不是驿站文件：自第 1 行起，列表和对象嵌套超过 {MAX_DEPTH} 层。驿站文件应为一个对象，内含驿站列表。本次未导入任何驿站。"
    )
    # Brackets inside texts are text, not nesting: this file's only problem is its unknown field.
    bracketed = json.dumps(
        {"stations": [{"id": "s-1", "name": "[[[[[[[[[[", "lat": 31, "lon": 121, "grade": "A", "x": 1}]}
    )
    bot.core.send_document(COORDINATOR, bracketed.encode(), "stations.json", "application/json")
    await bot.deliver()
    assert "column x: is not a station field" in bot.last_text(COORDINATOR)
    assert await bot.services.storage.stations.counts() == (0, 0)


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_a_problem_report_lists_the_first_problems_and_counts_the_rest(bot) -> None:
    """52 bad rows: the first 15 are listed, the other 37 counted, in Chinese as a government service writes."""
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    rows = "\n".join(f"s-{i},驿站,,95,121,A" for i in range(52))
    bot.core.send_document(COORDINATOR, f"id,name,address,lat,lon,grade\n{rows}\n".encode(), "stations.csv", "text/csv")
    await bot.deliver()
    report = bot.last_text(COORDINATOR).split("\n")
    assert report[0] == "发现问题 52 处："
    assert len([line for line in report if line.startswith("• ")]) == SHOWN_PROBLEMS
    assert report[1].startswith("• line 2, column lat: 95 is not a latitude")
    assert "还有 37 处问题未列出。" in report


@pytest.mark.slow  # the bot's worker process builds or checks the file
async def test_an_export_too_large_to_send_offers_its_halves(bot, monkeypatch) -> None:
    """Sized before it is built: over the upload limit, the bot says so with the two halves as buttons; a
    half that fits is sent; a single day too large says to use the server."""
    storage = bot.services.storage
    await storage.people.seen(COURIER, "en", START)
    for day in range(4):
        await storage.appeals.submit(
            NewAppeal(courier_id=COURIER, category="work", description="Unpaid", language="en"),
            "hr",
            START + timedelta(days=day),
        )
    # Room for two appeals: the limit a 50 MB file would be, scaled down to this test's four appeals.
    monkeypatch.setattr(export, "MAX_UPLOAD_BYTES", estimated_bytes(2, 2 * len("Unpaid")))
    await bot.say(COORDINATOR, "/export 2026-11-23 2026-11-26")
    message = bot.core.last_message(COORDINATOR)
    assert message["text"] == (
        "The ledger for Mon 23 Nov – Thu 26 Nov holds 4 appeals, about 1 MB: more than a bot may send in one file"
        " (50 MB). Nothing was built.\nChoose a shorter period:"
    )
    assert bot.core.inline_buttons(message) == [
        ("Mon 23 Nov – Tue 24 Nov", "ex:days:20261123.20261124"),
        ("Wed 25 Nov – Thu 26 Nov", "ex:days:20261125.20261126"),
    ]
    assert not any("document" in m for m in bot.core.bot_messages(COORDINATOR))
    await bot.press(COORDINATOR, "Mon 23 Nov – Tue 24 Nov")
    sent = [m for m in bot.core.bot_messages(COORDINATOR) if "document" in m]
    assert [m["caption"] for m in sent] == ["Ledger 2026-11-23 – 2026-11-24. Appeals: 2"] * 2
    sizes = [len(bot.core.file_bytes(bot.core.file_path(m["document"]["file_id"]))) for m in sent]
    assert max(sizes) <= export.MAX_UPLOAD_BYTES

    monkeypatch.setattr(export, "MAX_UPLOAD_BYTES", 100)
    await bot.say(COORDINATOR, "/export 2026-11-23 2026-11-23")
    message = bot.core.last_message(COORDINATOR)
    assert message["text"].endswith(
        "\nEven one day is too large to send here: use `python -m bot export` on the server."
    )
    assert "reply_markup" not in message
