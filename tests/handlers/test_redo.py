"""Redo (重办) is counted: "Not solved" reopens the appeal for its unit as redo 1, 2, ... with the redo
deadline (deadlines.redo); once feedback.max_redos are used up it goes to a coordinator instead. The
card, the digest and the export show the count. Through the real Application, in en and zh."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from bot.config import ConfigError
from domain.commands import ActOnAppeal, EventArgs
from domain.deadlines import Priority
from domain.lifecycle import Event, State
from domain.names import Timer
from handlers import callbacks, ledger_files
from handlers.callbacks import AppealVerb
from handlers.telegram_text import said
from storage.invariants import check_database
from tests.harness import district_config, running_bot
from tests.helpers import file_appeal, press_data, submit_appeal

COURIER, HR_STAFF, COORDINATOR = 1001, 600, 900
STILL = {"en": "Only half of the wages was paid", "zh": "工资只发了一半，还差一半"}
# Long enough a handling span that a redo's 3 working days cannot be mistaken for it.
LONG_HANDLE = {"deadlines": {"handle": "8wd"}}


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "redo.sqlite3", **LONG_HANDLE) as running:
        yield running


def _t(bot, lang: str):
    return lambda key, **kw: bot.services.text(lang, key, **kw)


def _labels(bot, person: int) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(bot.core.last_message(person))]


async def _accepted_appeal(bot, lang: str) -> int:
    """A wage appeal filed in `lang`, routed to HR and accepted there; everyone reads `lang`."""
    bot.user(COURIER, "Li", language_code=lang)
    for person in (HR_STAFF, COORDINATOR):
        bot.user(person, f"P{person}", language_code=lang)
        await bot.services.storage.people.set_language(person, lang)
    number = await file_appeal(bot, COURIER, bot.services.category("work").name(lang), "Wages unpaid", lang=lang)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.ACCEPT))
    return number


async def _resolve(bot, number: int, lang: str) -> None:
    """HR resolves the appeal from its card, with a result, and confirms it."""
    t = _t(bot, lang)
    bot.clock.advance(minutes=20)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.RESOLVE))
    await bot.say(HR_STAFF, "Paid in full on Friday" if lang == "en" else "工资已于周五全额发放")
    await bot.press(HR_STAFF, t("confirm.button_resolve"))
    assert (await bot.services.storage.appeals.get(number)).state == State.FEEDBACK


async def _not_solved(bot, number: int, lang: str) -> None:
    """The courier presses Not solved under the resolution notice and says what is still wrong."""
    t = _t(bot, lang)
    bot.clock.advance(minutes=20)
    assert _labels(bot, COURIER) == [t("button.satisfied"), t("button.fairly_satisfied"), t("button.not_solved")]
    await bot.press(COURIER, t("button.not_solved"))
    assert bot.last_text(COURIER) == t("appeal.prompt_unsatisfied", number=number)
    await bot.say(COURIER, STILL[lang])


async def _timers(bot, number: int) -> dict[Timer, object]:
    return {Timer(row.kind): row for row in await bot.services.storage.appeals.timers(number)}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_not_solved_is_redo_1_then_2_then_goes_to_a_coordinator(bot, lang) -> None:
    """Each of the first two "Not solved" reopens it for HR as a counted redo with 3 working days (not the
    8 of a handling span), told as redo 1 and 2 on a card that shows the count; the third (max_redos 2)
    sends it to triage: the coordinators are told the redos are used up, the courier that a coordinator
    will look at it."""
    t = _t(bot, lang)
    unit = "HR Bureau" if lang == "en" else "人社局"
    calendar = bot.config.working_calendar()
    number = await _accepted_appeal(bot, lang)

    for redo in (1, 2):
        await _resolve(bot, number, lang)
        await _not_solved(bot, number, lang)
        pressed_at = bot.clock()
        assert bot.last_text(COURIER) == t("appeal.done_rate_unsatisfied", number=number)
        told = bot.last_text(HR_STAFF)
        assert told.startswith(t("notice.rate_unsatisfied.unit", number=number, redo=redo, note=said(STILL[lang])))
        assert t("redo.card_count", count=redo) in told  # the card under the notice shows the count
        appeal = await bot.services.storage.appeals.get(number)
        assert (appeal.state, appeal.accepted, appeal.reopens, appeal.unit_id) == (State.HANDLING, True, redo, "hr")
        timers = await _timers(bot, number)
        assert set(timers) == {Timer.HANDLE}
        assert timers[Timer.HANDLE].due_at == calendar.add_working_days(pressed_at, 3)

    await _resolve(bot, number, lang)
    await _not_solved(bot, number, lang)
    assert bot.last_text(COURIER) == t("appeal.done_escalate_unsolved", number=number)
    told = bot.last_text(COORDINATOR)
    assert told.startswith(t("notice.escalate_unsolved.coordinators", number=number, unit=unit, note=said(STILL[lang])))
    assert t("button.assign") in _labels(bot, COORDINATOR) and t("button.reject") in _labels(bot, COORDINATOR)
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.state, appeal.accepted, appeal.reopens) == (State.ASSESSING, False, 2)
    assert set(await _timers(bot, number)) == {Timer.TRIAGE}
    ledger = [e.event for e in await bot.services.storage.appeals.ledger(number)]
    assert ledger[-1] is Event.ESCALATE_UNSOLVED and ledger.count(Event.RATE_UNSATISFIED) == 2
    # The unit hears nothing more about it: the coordinator decides.
    assert not bot.last_text(HR_STAFF).startswith(t("notice.rate_unsatisfied.unit", number=number, redo=3, note=""))
    assert await check_database(bot.services.storage.db) == []


async def test_a_coordinator_assigns_it_again_after_the_redos(bot) -> None:
    """After the redos, the coordinator's Assign gives another unit a fresh handling span; the count stays."""
    t = _t(bot, "en")
    number = await _accepted_appeal(bot, "en")
    for _ in range(3):
        await _resolve(bot, number, "en")
        await _not_solved(bot, number, "en")
    await bot.press(COORDINATOR, t("button.assign"))
    await bot.press(COORDINATOR, "Station One")
    await bot.press(COORDINATOR, t("button.normal"))
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.state, appeal.accepted, appeal.reopens, appeal.unit_id) == (State.HANDLING, False, 2, "st1")
    timers = await _timers(bot, number)
    assert timers[Timer.HANDLE].due_at == bot.config.working_calendar().add_working_days(bot.clock(), 8)
    assert await check_database(bot.services.storage.db) == []


async def test_no_redos_sends_the_first_not_solved_to_a_coordinator(tmp_path) -> None:
    """feedback.max_redos = 0: the unit gets no redo; the first "Not solved" goes to triage."""
    async with running_bot(tmp_path / "none.sqlite3", feedback={"max_redos": 0}) as bot:
        t = _t(bot, "en")
        number = await _accepted_appeal(bot, "en")
        await _resolve(bot, number, "en")
        await _not_solved(bot, number, "en")
        assert bot.last_text(COURIER) == t("appeal.done_escalate_unsolved", number=number)
        appeal = await bot.services.storage.appeals.get(number)
        assert (appeal.state, appeal.reopens) == (State.ASSESSING, 0)
        assert await check_database(bot.services.storage.db) == []


async def test_the_redo_length_comes_from_the_config_and_its_overrides(tmp_path) -> None:
    """deadlines.redo sets the redo's handling deadline; an urgent override applies as for the other lengths."""
    overrides = {"deadlines": {"redo": "1wd", "urgent": {"redo": "4h"}}}
    async with running_bot(tmp_path / "one.sqlite3", **overrides) as bot:
        assert str(bot.config.spans("work", Priority.NORMAL).redo) == "1wd"
        assert str(bot.config.spans("work", Priority.URGENT).redo) == "4h"
        number = await _accepted_appeal(bot, "en")
        await _resolve(bot, number, "en")
        await _not_solved(bot, number, "en")
        due = (await _timers(bot, number))[Timer.HANDLE].due_at
        assert due == bot.config.working_calendar().add_working_days(bot.clock(), 1)


@pytest.mark.parametrize(
    "overrides",
    [
        {"feedback": {"max_redos": -1}},
        {"feedback": {"max_redos": 11}},
        {"feedback": {"max_redos": "two"}},
        {"feedback": {"redos": 2}},
        {"deadlines": {"redo": "three days"}},
        {"deadlines": {"redo": "0wd"}},
    ],
)
def test_bad_redo_settings_are_refused(tmp_path, overrides) -> None:
    with pytest.raises(ConfigError):
        district_config(tmp_path / "bad.sqlite3", **overrides)


def test_the_defaults_are_two_redos_of_three_working_days(tmp_path) -> None:
    config = district_config(tmp_path / "default.sqlite3")
    assert config.feedback.max_redos == 2
    assert str(config.deadlines.redo) == "3wd"
    assert str(config.spans("work", Priority.NORMAL).redo) == "3wd"


async def _apply(bot, number: int, event: Event, actor: int, note: str | None = None) -> None:
    await bot.services.storage.appeals.apply(ActOnAppeal(number, event, actor, EventArgs(note=note)), bot.clock())


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_digest_shows_the_redo_rate_and_the_appeals_redone_twice(bot, lang) -> None:
    """Three appeals resolved in the period, one redone twice and one once: redo rate 2/3, and only the
    one redone twice is listed."""
    t = _t(bot, lang)
    await bot.start(COORDINATOR, COURIER, COURIER + 1, COURIER + 2)
    await bot.services.storage.people.set_language(COORDINATOR, lang)
    twice, once, never = [await submit_appeal(bot, COURIER + i) for i in range(3)]
    couriers = {twice: COURIER, once: COURIER + 1, never: COURIER + 2}
    for number in couriers:
        await _apply(bot, number, Event.ACCEPT, HR_STAFF)
        await _apply(bot, number, Event.RESOLVE, HR_STAFF, "Paid in full")
    for number in (twice, once, twice):
        await _apply(bot, number, Event.RATE_UNSATISFIED, couriers[number], "Only half was paid")
        await _apply(bot, number, Event.RESOLVE, HR_STAFF, "Paid the rest")
    bot.clock.advance(hours=1)
    await bot.say(COORDINATOR, "/digest")
    text = "\n".join(bot.texts(COORDINATOR)[-3:])
    assert t("redo.digest_rate", rate="66.7%", part=2, whole=3, definition=t("redo.def_rate")) in text
    assert t("redo.digest_twice", numbers=f"#{twice}") in text
    assert f"#{once}" not in t("redo.digest_twice", numbers=f"#{twice}")


@pytest.mark.parametrize(("lang", "header"), [("en", "Redos"), ("zh", "重办次数")])
async def test_the_ledger_table_has_the_redo_count(bot, lang, header) -> None:
    """The export's Redos / 重办次数 column (the reopen count, renamed: one column, not two) holds each
    appeal's count, in the table both files are built from (the files themselves: the slow test below)."""
    number = await _accepted_appeal(bot, lang)
    for _ in range(2):
        await _resolve(bot, number, lang)
        await _not_solved(bot, number, lang)
    lines = await bot.services.storage.ledger.lines(bot.clock() - timedelta(days=1), bot.clock() + timedelta(hours=1))
    headers, rows = ledger_files.table(lines, bot.services.catalog, lang, bot.services.zone, str)
    assert headers.count(header) == 1
    assert [row[headers.index(header)] for row in rows] == [2]


@pytest.mark.slow  # the bot's worker process builds the files
async def test_the_export_has_the_redo_count(bot) -> None:
    """The ledger's Redos column (the existing reopen count, now named for redos) holds each appeal's count."""
    number = await _accepted_appeal(bot, "en")
    for _ in range(2):
        await _resolve(bot, number, "en")
        await _not_solved(bot, number, "en")
    await bot.say(COORDINATOR, "/export")
    await bot.press(COORDINATOR, "This week")
    found = [m for m in bot.core.bot_messages(COORDINATOR) if "document" in m][-2:]
    data = bot.core.file_bytes(bot.core.file_path(found[0]["document"]["file_id"]))
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[:2]
    assert header.count("Redos") == 1 and "Reopened" not in header
    assert row[header.index("Redos")] == "2"
    sheet = load_workbook(io.BytesIO(bot.core.file_bytes(bot.core.file_path(found[1]["document"]["file_id"])))).active
    titles = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=titles.index("Redos") + 1).value == 2
