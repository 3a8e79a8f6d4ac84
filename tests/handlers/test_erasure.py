"""Erasure means erased: after /privacy's delete or the retention run, no byte of what a courier gave
the bot (texts, phone, location, file ids, Telegram identity) is left in the database, its
write-ahead log or its journal."""

import json
import struct
from pathlib import Path

import pytest

from bot.retention import run_retention
from domain.commands import ActOnAppeal, NewAppeal
from domain.lifecycle import Event
from handlers.telegram_text import said
from storage.dialect import table_names
from tests.harness import running_bot

# A Telegram id no other number in the database comes near, so its bytes cannot turn up by chance.
COURIER = 7_318_264_905
HR_STAFF, COORDINATOR, OTHER = 600, 900, 1002
FIRST, LAST, USERNAME = "Quentavius", "Marchbanks", "quentavius_rides_9"
PHONE = "+8613912345678"
DESCRIPTION = "Zephyrine Logistics withheld my November wages 工资被扣押七千三百元"
ANSWER = "I ride for Quillfeather Express 我在羽毛快递跑单"
DRAFT = "Half-written complaint about Vexmoor Depot 未写完的投诉"
PLACE = (31.2417361, 121.4966823)  # where the appeal happened
NEAREST = (31.2088457, 121.4310892)  # shared with "Nearest station"
PLACE_WORDS = "behind the Obsidian Lantern market 黑灯笼市场后面"


def _varint(n: int) -> bytes:
    """SQLite's variable-length integer (rowids and record headers)."""
    if n > 0x00FFFFFFFFFFFFFF:
        raise ValueError("nine-byte varints are not needed here")
    groups = []
    while True:
        groups.append(n & 0x7F)
        n >>= 7
        if not n:
            break
    groups.reverse()
    return bytes(g | 0x80 for g in groups[:-1]) + bytes([groups[-1]])


def encodings(value: object) -> list[bytes]:
    """Every way SQLite (or JSON inside a text column) could hold `value`."""
    if isinstance(value, str):
        forms = {value.encode(), json.dumps(value)[1:-1].encode(), json.dumps(value, ensure_ascii=False)[1:-1].encode()}
        return sorted(forms)
    if isinstance(value, float):
        return [repr(value).encode(), f"{value:.5f}".encode(), struct.pack(">d", value)]
    if isinstance(value, int):
        size = next(n for n in (1, 2, 3, 4, 6, 8) if value < 2 ** (8 * n - 1))
        return [str(value).encode(), value.to_bytes(size, "big"), value.to_bytes(8, "big"), _varint(value)]
    raise TypeError(value)


def database_files(path: Path) -> dict[str, bytes]:
    """The raw bytes of the database file and its -wal, -journal and -shm companions that exist."""
    found = {}
    for suffix in ("", "-wal", "-journal", "-shm"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            found[file.name] = file.read_bytes()
    return found


def leftovers(path: Path, values: dict[str, object]) -> list[str]:
    """Which of `values` (by name) still appear in any database file, in any encoding."""
    files = database_files(path)
    assert files, "no database file"
    found = []
    for name, value in values.items():
        for form in encodings(value):
            for file, data in files.items():
                if form in data:
                    found.append(f"{name} ({form!r}) in {file}")
    return found


def text_forms(value: object) -> list[str]:
    """Every way a row could hold `value` as text (PostgreSQL's numbers read back as Python's)."""
    if isinstance(value, str):
        return [form.decode() for form in encodings(value)]
    if isinstance(value, float):
        return [repr(value), f"{value:.5f}"]
    return [str(value)]


async def rows_holding(db, values: dict[str, object]) -> list[str]:
    """Which of `values` (by name) a row of any table holds, as a value or inside a text: on either backend
    (PostgreSQL's files are its server's, and rows it deleted stay in them until vacuumed)."""
    forms = {name: text_forms(value) for name, value in values.items()}

    def scan(conn) -> list[str]:
        found = []
        for (table,) in conn.execute(table_names(conn)).fetchall():
            for row in conn.execute(f"SELECT * FROM {table}").fetchall():
                cells = [str(cell) for cell in row if cell is not None]
                for name, texts in forms.items():
                    found += [f"{name} ({text!r}) in {table}" for text in texts if any(text in cell for cell in cells)]
        return found

    return await db.run(scan)


def t(bot, key: str, **values) -> str:
    return bot.services.text("en", key, **values)


async def file_with_everything(bot) -> tuple[int, list[str]]:
    """The courier files a wage appeal with a photo, a voice note, a document, a place and their phone;
    returns its number and the file ids Telegram gave."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, bot.services.category("work").name("en"))
    file_ids = []
    sent = bot.core.send_photo(COURIER, b"payslip photo")
    file_ids += [size["file_id"] for size in sent["photo"]] + [size["file_unique_id"] for size in sent["photo"]]
    await bot.deliver()
    sent = bot.core.send_voice(COURIER, b"voice note", duration=3)
    file_ids += [sent["voice"]["file_id"], sent["voice"]["file_unique_id"]]
    await bot.deliver()
    sent = bot.core.send_document(COURIER, b"%PDF contract", "contract-quentavius.pdf", "application/pdf")
    file_ids += [sent["document"]["file_id"], sent["document"]["file_unique_id"]]
    await bot.deliver()
    await bot.say(COURIER, DESCRIPTION)
    assert bot.last_text(COURIER) == t(bot, "filing.ask_place")
    bot.core.share_location(COURIER, *PLACE)
    await bot.deliver()
    assert bot.last_text(COURIER).endswith(t(bot, "filing.ask_contact"))
    bot.core.share_contact(COURIER, PHONE, FIRST, contact_user_id=COURIER)
    await bot.deliver()
    review = bot.last_text(COURIER)
    assert DESCRIPTION in review and PHONE in review
    await bot.press(COURIER, t(bot, "button.confirm"))
    number = int(bot.last_text(COURIER).split("#")[1].split()[0])
    return number, file_ids


async def erase_me(bot) -> None:
    """The courier asks /privacy to delete their data and confirms; the bot says it is done."""
    await bot.say(COURIER, "/privacy")
    await bot.press(COURIER, "Delete my data")
    await bot.press(COURIER, "Yes, delete it")
    assert bot.last_text(COURIER).startswith("Done: your data is deleted.")


async def leave_traces(bot) -> tuple[int, dict[str, object]]:
    """Everything a courier can leave: an appeal with files, a question answered, a place typed in a
    second appeal, a draft, a shared location; the values to look for afterwards."""
    bot.core.add_user(COURIER, FIRST, last_name=LAST, username=USERNAME, language_code="en")
    bot.users[COURIER] = FIRST
    await bot.say(COURIER, "/start")
    number, file_ids = await file_with_everything(bot)

    bot.clock.advance(minutes=10)
    await bot.press(HR_STAFF, t(bot, "button.accept"))
    await bot.press(HR_STAFF, t(bot, "button.ask"))
    await bot.say(HR_STAFF, "Which platform do you ride for?")
    await bot.press(COURIER, t(bot, "button.reply"))
    await bot.say(COURIER, ANSWER)
    assert bot.last_text(HR_STAFF).startswith(t(bot, "notice.answer.unit", number=number, note=said(ANSWER)))

    # A second appeal whose place is typed, not shared.
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, bot.services.category("work").name("en"))
    await bot.say(COURIER, "Second appeal by the same courier about the Obsidian market")
    await bot.say(COURIER, PLACE_WORDS)
    await bot.press(COURIER, t(bot, "button.anonymous"))
    await bot.press(COURIER, t(bot, "button.confirm"))
    typed = await bot.services.storage.appeals.get(number + 1)
    assert typed.place == PLACE_WORDS and PLACE_WORDS not in typed.description  # its own column, not the description

    # A location shared to find a station, and a draft left half-way.
    bot.core.share_location(COURIER, *NEAREST)
    await bot.deliver()
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, bot.services.category("life").name("en"))
    await bot.say(COURIER, DRAFT)
    await bot.app.bot_data.sender.flush()

    # The ledger of people actions names them: limits lifted, a mute, ended early.
    await bot.say(COORDINATOR, f"/lift {number}")
    await bot.press(COORDINATOR, "Lift the limits")
    await bot.say(COORDINATOR, f"/mute {number}")
    await bot.press(COORDINATOR, "1 hour")
    await bot.press(COORDINATOR, "Mute")
    await bot.say(COURIER, "Written while muted")
    await bot.say(COORDINATOR, f"/unmute {number}")
    await bot.app.bot_data.sender.flush()
    assert len(await bot.services.storage.people_actions.of(COURIER)) == 3

    values: dict[str, object] = {
        "telegram id": COURIER,
        "first name": FIRST,
        "last name": LAST,
        "username": USERNAME,
        "phone": PHONE,
        "phone digits": PHONE.lstrip("+"),
        "description": DESCRIPTION,
        "answer": ANSWER,
        "draft": DRAFT,
        "typed place": PLACE_WORDS,
        "place lat": PLACE[0],
        "place lon": PLACE[1],
        "nearest lat": NEAREST[0],
        "nearest lon": NEAREST[1],
    }
    values.update({f"file id {i}": file_id for i, file_id in enumerate(file_ids)})
    return number, values


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "erasure.sqlite3") as running:
        await running.start(HR_STAFF, COORDINATOR, OTHER)
        yield running


@pytest.mark.sqlite_only  # the byte scans read SQLite's files
async def test_the_values_are_found_before_erasure(bot, tmp_path) -> None:
    """The scan finds what the courier gave while it is kept (else a clean scan would prove nothing)."""
    _, values = await leave_traces(bot)
    found = {entry.split(" (")[0] for entry in leftovers(tmp_path / "erasure.sqlite3", values)}
    for name in ("telegram id", "phone", "description", "answer", "draft", "typed place", "place lat", "nearest lat"):
        assert name in found, name


@pytest.mark.sqlite_only  # the byte scans read SQLite's files
async def test_privacy_delete_leaves_no_byte_behind(bot, tmp_path) -> None:
    """Delete my data: the database file, its WAL and journal hold none of the courier's values, in any encoding."""
    number, values = await leave_traces(bot)
    new = NewAppeal(
        courier_id=OTHER,
        category="work",
        description="Someone else's words",
        language="en",
        contact_phone="+8613700000000",
    )
    others = (await bot.services.storage.appeals.submit(new, "hr", bot.clock())).appeal.id
    await erase_me(bot)
    # Nobody else's data is touched: their appeal, their records of handled updates.
    kept = await bot.services.storage.appeals.get(others)
    assert (kept.courier_id, kept.description, kept.contact_phone) == (OTHER, "Someone else's words", "+8613700000000")
    handled = await bot.services.storage.db.fetchone(
        "SELECT count(*) FROM handled_updates WHERE digest LIKE ?", (f"m:{OTHER}:%",)
    )
    assert handled[0] > 0
    # The unit still hears of the withdrawal, and others keep working meanwhile.
    assert t(bot, "notice.withdraw.unit", number=number) in bot.texts(HR_STAFF)
    await bot.say(OTHER, "/my")
    assert leftovers(tmp_path / "erasure.sqlite3", values) == []
    # The ledger keeps the appeals for the statistics, anonymous.
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.courier_id, appeal.description, appeal.contact_phone, appeal.lat) == (None, "", None, None)
    typed = await bot.services.storage.appeals.get(number + 1)
    assert (typed.courier_id, typed.description, typed.place) == (None, "", None)
    ledger = await bot.services.storage.appeals.ledger(number)
    assert len(ledger) >= 4 and all(entry.note is None for entry in ledger)


@pytest.mark.sqlite_only  # the byte scans read SQLite's files
async def test_retention_leaves_no_byte_behind(bot, tmp_path) -> None:
    """The courier's closed appeals past the retention, and the courier, leave nothing behind either."""
    number, values = await leave_traces(bot)
    # The courier withdraws both appeals and drops the draft; two years on, retention runs.
    for appeal in (number, number + 1):
        await bot.services.storage.appeals.apply(ActOnAppeal(appeal, Event.WITHDRAW, COURIER), bot.clock.now)
    await bot.app.bot_data.sender.flush()
    bot.clock.advance(days=bot.config.privacy.retention_days + 1)
    expired = await run_retention(bot.services, bot.config.privacy.retention_days)
    assert (expired.appeals, expired.drafts, expired.locations) == (2, 1, 1)
    assert await bot.services.storage.people.get(COURIER) is None
    assert (await bot.services.storage.appeals.get(number + 1)).place is None
    assert leftovers(tmp_path / "erasure.sqlite3", values) == []


@pytest.mark.sqlite_only  # the byte scans read SQLite's files
async def test_erasure_survives_a_restart_with_nothing_left(tmp_path) -> None:
    """Closed and opened again, the files still hold nothing (nothing was waiting in a log to come back)."""
    path = tmp_path / "erasure.sqlite3"
    async with running_bot(path) as bot:
        await bot.start(HR_STAFF, COORDINATOR, OTHER)
        _, values = await leave_traces(bot)
        await erase_me(bot)
    assert leftovers(path, values) == []
    async with running_bot(path) as bot:
        await bot.start(OTHER)
        await bot.say(OTHER, "/my")
    assert leftovers(path, values) == []


def postgresql_encodings(value: object) -> list[bytes]:
    """Every way PostgreSQL (or JSON inside a text column) could hold `value` in a table's pages (x86: little-endian)."""
    if isinstance(value, str):
        return encodings(value)
    if isinstance(value, float):
        return [repr(value).encode(), f"{value:.5f}".encode(), struct.pack("<d", value)]
    if isinstance(value, int):
        return [str(value).encode(), value.to_bytes(8, "little")]
    raise TypeError(value)


# The bot's tables, their TOAST tables, and the indexes of both.
_RELATIONS = """
WITH own AS (SELECT oid, reltoastrelid FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'),
tables AS (SELECT oid FROM own UNION SELECT reltoastrelid FROM own WHERE reltoastrelid <> 0)
SELECT relname, pg_relation_filepath(oid) FROM pg_class
WHERE oid IN (SELECT oid FROM tables) OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM tables))
"""


def seen_by_another(url: str, sql: str) -> int:
    """One number read on a connection of its own."""
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def postgresql_leftovers(server, url: str, values: dict[str, object]) -> list[str]:
    """Which of `values` (by name) still appear in the files of the bot's tables and indexes, in any encoding,
    after a checkpoint has written every changed page to them (the test owns the server's data directory)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        relations = conn.execute(_RELATIONS).fetchall()
    assert len(relations) > 50, relations
    found = []
    for relation, path in relations:
        segments = [server.root / "data" / path]
        while (following := server.root / "data" / f"{path}.{len(segments)}").exists():
            segments.append(following)
        data = b"".join(segment.read_bytes() for segment in segments if segment.exists())
        for name, value in values.items():
            found += [f"{name} ({form!r}) in {relation}" for form in postgresql_encodings(value) if form in data]
    return found


@pytest.mark.postgresql_only  # the byte scans read PostgreSQL's files
async def test_privacy_delete_leaves_no_byte_in_postgresql_files(bot, request) -> None:
    """Delete my data on PostgreSQL: after the night's retention run the files of the bot's tables, their TOAST
    tables and indexes hold none of the courier's values (the old row versions are rewritten away, storage/postgres.py's scrub)."""
    server, url = request.getfixturevalue("postgres_server"), bot.services.storage.db.path
    _, values = await leave_traces(bot)
    found = {entry.split(" (")[0] for entry in postgresql_leftovers(server, url, values)}
    for name in ("telegram id", "phone", "description", "answer", "draft", "typed place", "place lat", "nearest lat"):
        assert name in found, name
    await erase_me(bot)
    await bot.say(OTHER, "/my")
    # Old row versions stay in the tables' pages until the night's retention run rewrites them.
    assert postgresql_leftovers(server, url, values) != []
    await run_retention(bot.services, bot.config.privacy.retention_days)
    assert postgresql_leftovers(server, url, values) == []
    assert seen_by_another(url, "SELECT count(*) FROM scrub_due") == 0  # nothing left for the next night


@pytest.mark.postgresql_only  # the byte scans read PostgreSQL's files
async def test_retention_leaves_no_byte_in_postgresql_files(bot, request) -> None:
    """The courier's closed appeals past the retention, and the courier, leave no byte in PostgreSQL's files either."""
    server, url = request.getfixturevalue("postgres_server"), bot.services.storage.db.path
    number, values = await leave_traces(bot)
    for appeal in (number, number + 1):
        await bot.services.storage.appeals.apply(ActOnAppeal(appeal, Event.WITHDRAW, COURIER), bot.clock.now)
    await bot.app.bot_data.sender.flush()
    bot.clock.advance(days=bot.config.privacy.retention_days + 1)
    await run_retention(bot.services, bot.config.privacy.retention_days)
    assert await bot.services.storage.people.get(COURIER) is None
    assert postgresql_leftovers(server, url, values) == []


async def test_privacy_delete_leaves_no_row_behind(bot) -> None:
    """Delete my data: on either backend, no row of any table holds any of the courier's values (found there before)."""
    _, values = await leave_traces(bot)
    found = {entry.split(" (")[0] for entry in await rows_holding(bot.services.storage.db, values)}
    for name in ("telegram id", "phone", "description", "answer", "draft", "typed place", "place lat", "nearest lat"):
        assert name in found, name
    await erase_me(bot)
    assert await rows_holding(bot.services.storage.db, values) == []


async def test_retention_leaves_no_row_behind(bot) -> None:
    """The courier's closed appeals past the retention, and the courier: on either backend, no row holds them."""
    number, values = await leave_traces(bot)
    for appeal in (number, number + 1):
        await bot.services.storage.appeals.apply(ActOnAppeal(appeal, Event.WITHDRAW, COURIER), bot.clock.now)
    await bot.app.bot_data.sender.flush()
    assert await rows_holding(bot.services.storage.db, values) != []
    bot.clock.advance(days=bot.config.privacy.retention_days + 1)
    await run_retention(bot.services, bot.config.privacy.retention_days)
    assert await rows_holding(bot.services.storage.db, values) == []


@pytest.mark.sqlite_only  # a pure function of the scan
def test_the_scan_knows_sqlite_integers() -> None:
    """The integer forms are SQLite's: a 6-byte big-endian value in a record, a varint as a rowid."""
    forms = encodings(COURIER)
    assert COURIER.to_bytes(6, "big") in forms and _varint(300) == b"\x82\x2c"
