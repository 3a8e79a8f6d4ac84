"""Extensions (延期申请): the unit asks for more working time with how long and why; a coordinator grants
it (as asked, or another length) or refuses it with a reason; the handling deadline the ladder climbs
moves, and "resolved in time" is judged against it. Through the real Application, in en and zh."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError
from domain.names import Timer
from handlers import callbacks
from handlers.callbacks import AppealVerb
from handlers.telegram_text import said
from handlers.text_prompts import days_text
from storage.invariants import check_database
from storage.models import from_ts
from tests.every_state import confirm_if_asked
from tests.harness import district_config, running_bot
from tests.helpers import file_appeal, press_data

COURIER, HR_STAFF, COORDINATOR, SECOND_COORDINATOR = 1001, 600, 900, 901
REASON = "We need the platform's payroll records for October"
REASON_ZH = "需要平台提供十月份工资发放记录，正在调取"


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "extensions.sqlite3") as running:
        yield running


def _t(bot, lang: str):
    return lambda key, **kw: bot.services.text(lang, key, **kw)


async def _accepted_appeal(bot, lang: str = "en", courier: int = COURIER) -> int:
    """A wage appeal filed in `lang`, routed to HR and accepted there; its number. Everyone reads `lang`."""
    t = _t(bot, lang)
    bot.user(courier, "Li", language_code=lang)
    for person in (HR_STAFF, COORDINATOR):
        bot.user(person, f"P{person}", language_code=lang)
        await bot.services.storage.people.set_language(person, lang)
    number = await file_appeal(bot, courier, bot.services.category("work").name(lang), "Wages unpaid", lang=lang)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.ACCEPT))
    assert (await bot.services.storage.appeals.get(number)).accepted
    assert bot.last_text(HR_STAFF) == t("appeal.done_accept", number=number)
    return number


async def _handle_due(bot, number: int):
    timers = {row.kind: row for row in await bot.services.storage.appeals.timers(number)}
    return timers[Timer.HANDLE]


async def _ladder(bot, number: int) -> tuple[str, int | None]:
    """The handling deadline's next ladder step and when it fires (Unix seconds)."""
    row = await bot.services.storage.db.fetchone(
        "SELECT stage, fire_at FROM timers WHERE appeal_id = ? AND kind = ?", (number, Timer.HANDLE.value)
    )
    return row["stage"], row["fire_at"]


async def _ask_for_more_time(bot, number: int, lang: str = "en", days: int = 2, reason: str = REASON) -> None:
    """HR presses Request more time on the appeal's card, picks `days`, and writes why."""
    t = _t(bot, lang)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.REQUEST_EXTENSION))
    assert bot.last_text(HR_STAFF) == t("extension.how_long", number=number)
    labels = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(HR_STAFF))]
    assert labels == [days_text(bot.services, lang, n) for n in (1, 2, 3)] + [t("button.cancel")]
    chooser = bot.core.last_message(HR_STAFF)["message_id"]
    await bot.press(HR_STAFF, days_text(bot.services, lang, days))
    # Chosen: the other lengths are no longer offered, so a second tap cannot meet a stale answer.
    (now,) = [m for m in bot.core.messages(HR_STAFF) if m["message_id"] == chooser]
    assert bot.core.inline_buttons(now) == []
    assert bot.last_text(HR_STAFF) == t(
        "appeal.prompt_request_extension", number=number, days=days_text(bot.services, lang, days)
    )
    await bot.say(HR_STAFF, reason)


async def _count(bot, sql: str, params: tuple = ()) -> tuple[int]:
    return tuple(await bot.services.storage.db.fetchone(sql, params))


def _labels(bot, person: int) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(bot.core.last_message(person))]


async def _row(bot, number: int):
    return await bot.services.storage.db.fetchone("SELECT * FROM extensions WHERE appeal_id = ?", (number,))


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_request_approved_moves_the_deadline_and_both_are_told(bot, lang) -> None:
    """Ask 2 working days with a reason; the coordinators get Approve and Refuse; Approve offers the asked
    length first; the handling deadline (and its ladder) moves 2 working days; the unit and courier hear it."""
    t = _t(bot, lang)
    reason = REASON if lang == "en" else REASON_ZH
    number = await _accepted_appeal(bot, lang)
    unit = "HR Bureau" if lang == "en" else "人社局"
    before = await _handle_due(bot, number)
    old_due = before.due_at

    await _ask_for_more_time(bot, number, lang, reason=reason)
    assert bot.last_text(HR_STAFF) == t("appeal.done_request_extension", number=number)
    appeal = await bot.services.storage.appeals.get(number)
    assert appeal.extension_pending and appeal.extensions == 0
    assert (await _handle_due(bot, number)).due_at == old_due  # nothing moves until a coordinator agrees
    two = days_text(bot.services, lang, 2)
    assert bot.last_text(COORDINATOR) == t(
        "notice.request_extension.coordinators",
        unit=unit,
        number=number,
        days=two,
        when=bot.services.local(old_due, lang),
        note=said(reason),
    )
    assert _labels(bot, COORDINATOR) == [t("button.approve_extension"), t("button.refuse_extension")]
    # While it waits, the unit cannot ask again: its card no longer offers it.
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("button.request_extension") not in _labels(bot, HR_STAFF)

    bot.clock.advance(minutes=30)
    await bot.press(COORDINATOR, t("button.approve_extension"))
    assert bot.last_text(COORDINATOR) == t("extension.grant_question", number=number, days=two)
    assert _labels(bot, COORDINATOR) == [
        t("extension.button_grant_asked", days=two),
        t("extension.button_grant", days=days_text(bot.services, lang, 1)),
        t("extension.button_grant", days=days_text(bot.services, lang, 3)),
        t("button.back"),
    ]
    await bot.press(COORDINATOR, t("extension.button_grant_asked", days=two))
    calendar = bot.config.working_calendar()
    new_due = calendar.add_working_days(old_due, 2)
    # The coordinator reads the deadline they just moved.
    moved = t("deadline.handle", when=bot.services.local(new_due, lang))
    assert bot.last_text(COORDINATOR) == t("appeal.done_approve_extension", number=number, unit=unit, deadline=moved)
    assert (await _handle_due(bot, number)).due_at == new_due
    # The ladder is re-armed from the new due time: its reminder comes before the new deadline.
    stage, fire_at = await _ladder(bot, number)
    assert stage == "remind" and old_due < from_ts(fire_at) < new_due
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.extension_pending, appeal.extensions) == (False, 1)
    row = await _row(bot, number)
    assert (row["state"], row["asked_days"], row["granted_days"]) == ("approved", 2, 2)
    assert (row["due_before"], row["due_after"]) == (int(old_due.timestamp()), int(new_due.timestamp()))

    when = bot.services.local(new_due, lang)
    assert bot.last_text(HR_STAFF) == t(
        "notice.approve_extension.unit", number=number, days=two, when=when, note=said(reason)
    )
    assert bot.last_text(COURIER) == t(
        "notice.approve_extension.courier", number=number, unit=unit, when=when, note=said(reason)
    )
    # The date reads as the bot's deadlines do: Wed 25 Nov 18:00 / 11月25日 周三 18:00 and the like.
    assert when.split()[-1].count(":") == 1
    # The appeal's history says so.
    await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("history.approve_extension") in bot.last_text(COORDINATOR)
    assert await check_database(bot.services.storage.db) == []


async def test_the_timers_climb_the_new_deadline_not_the_old(bot) -> None:
    """At the old deadline nothing chases the unit; the chase-up comes at the new one."""
    t = _t(bot, "en")
    number = await _accepted_appeal(bot)
    old_due = (await _handle_due(bot, number)).due_at
    await _ask_for_more_time(bot, number)
    await bot.press(COORDINATOR, t("button.approve_extension"))
    await bot.press(COORDINATOR, t("extension.button_grant", days="1 working day"))
    new_due = bot.config.working_calendar().add_working_days(old_due, 1)
    assert (await _handle_due(bot, number)).due_at == new_due
    row = await _row(bot, number)
    assert (row["asked_days"], row["granted_days"]) == (2, 1)  # granted less than asked

    seen = len(bot.texts(HR_STAFF))
    await bot.at(old_due + timedelta(minutes=1))
    assert not any(f"#{number}" in text for text in bot.texts(HR_STAFF)[seen:] if "overdue" in text.lower())
    stage, remind_at = await _ladder(bot, number)
    assert stage == "remind" and from_ts(remind_at) > old_due
    await bot.at(from_ts(remind_at) + timedelta(minutes=1))
    assert await _ladder(bot, number) == (
        "due",
        int(new_due.timestamp()),
    )  # reminded; the chase-up is at the new deadline
    await bot.at(new_due + timedelta(minutes=1))
    assert (await _ladder(bot, number))[0] == "escalate"  # the chase-up at the new deadline has fired
    assert await check_database(bot.services.storage.db) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_refusal_needs_a_reason_and_keeps_the_deadline(bot, lang) -> None:
    t = _t(bot, lang)
    number = await _accepted_appeal(bot, lang)
    old_due = (await _handle_due(bot, number)).due_at
    await _ask_for_more_time(bot, number, lang)

    await bot.press(COORDINATOR, t("button.refuse_extension"))
    assert bot.last_text(COORDINATOR) == t("appeal.prompt_refuse_extension", number=number)
    await bot.say(COORDINATOR, "no")  # not a reason
    assert bot.last_text(COORDINATOR) == t("confirm.bad_note_too_thin")
    reason = "Two more days are not needed for this" if lang == "en" else "该事项按期可以办结，无需延期"
    await bot.say(COORDINATOR, reason)
    assert bot.last_text(COORDINATOR) == t("appeal.done_refuse_extension", number=number)
    assert bot.last_text(HR_STAFF) == t(
        "notice.refuse_extension.unit", number=number, when=bot.services.local(old_due, lang), note=said(reason)
    )
    assert (await _handle_due(bot, number)).due_at == old_due
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.extension_pending, appeal.extensions) == (False, 0)
    assert (await _row(bot, number))["state"] == "refused"
    # A refusal uses up nothing: the unit may ask again, with a better reason.
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("button.request_extension") in _labels(bot, HR_STAFF)
    assert await check_database(bot.services.storage.db) == []


async def test_the_reason_for_asking_needs_real_words(bot) -> None:
    t = _t(bot, "en")
    number = await _accepted_appeal(bot)
    await _ask_for_more_time(bot, number, reason="ok")
    assert bot.last_text(HR_STAFF) == t("confirm.bad_note_too_thin")
    assert not (await bot.services.storage.appeals.get(number)).extension_pending
    await bot.say(HR_STAFF, REASON)  # the question still waits for the reason
    assert (await bot.services.storage.appeals.get(number)).extension_pending


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_at_most_max_extensions_per_appeal(bot, lang) -> None:
    """After one approved extension (the default limit) the unit is told at once it may not ask again."""
    t = _t(bot, lang)
    number = await _accepted_appeal(bot, lang)
    await _ask_for_more_time(bot, number, lang)
    await bot.press(COORDINATOR, t("button.approve_extension"))
    await bot.press(COORDINATOR, t("extension.button_grant_asked", days=days_text(bot.services, lang, 2)))
    assert (await bot.services.storage.appeals.get(number)).extensions == 1
    # The worker's card no longer offers what could only be refused; an old button says why.
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    offered = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(HR_STAFF))]
    assert t("button.resolve") in offered and t("button.request_extension") not in offered

    query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.REQUEST_EXTENSION))
    assert bot.core.answered_callback(query) == {"text": t("extension.refused_limit", limit=1), "show_alert": True}
    query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.EXTENSION_DAYS, "2"))
    assert bot.core.answered_callback(query) == {"text": t("extension.refused_limit", limit=1), "show_alert": True}
    assert await bot.services.storage.dialogs.prompt(HR_STAFF) is None
    assert await _count(bot, "SELECT count(*) FROM extensions") == (1,)


async def test_the_limit_comes_from_the_config(tmp_path) -> None:
    async with running_bot(tmp_path / "two.sqlite3", deadlines={"max_extensions": 2}) as bot:
        t = _t(bot, "en")
        number = await _accepted_appeal(bot)
        for _ in range(2):
            await _ask_for_more_time(bot, number)
            await bot.press(COORDINATOR, t("button.approve_extension"))
            await bot.press(COORDINATOR, t("extension.button_grant_asked", days="2 working days"))
        assert (await bot.services.storage.appeals.get(number)).extensions == 2
        query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.REQUEST_EXTENSION))
        assert bot.core.answered_callback(query)["text"] == t("extension.refused_limit", limit=2)
        assert await check_database(bot.services.storage.db) == []


async def test_no_extensions_when_the_config_allows_none(tmp_path) -> None:
    async with running_bot(tmp_path / "none.sqlite3", deadlines={"max_extensions": 0}) as bot:
        number = await _accepted_appeal(bot)
        await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
        offered = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(HR_STAFF))]
        assert "Resolve" in offered and "Request more time" not in offered
        query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.REQUEST_EXTENSION))
        assert bot.core.answered_callback(query)["text"] == _t(bot, "en")("extension.refused_limit", limit=0)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_request_after_the_deadline_is_refused(bot, lang) -> None:
    t = _t(bot, lang)
    number = await _accepted_appeal(bot, lang)
    due = (await _handle_due(bot, number)).due_at
    await bot.at(due + timedelta(minutes=1))
    query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.REQUEST_EXTENSION))
    assert bot.core.answered_callback(query) == {"text": t("extension.refused_too_late"), "show_alert": True}
    assert await _count(bot, "SELECT count(*) FROM extensions") == (0,)


async def test_a_reason_typed_after_the_deadline_passed_is_refused(bot) -> None:
    """The length was chosen in time, but the reason came after the deadline: refused, nothing stored."""
    t = _t(bot, "en")
    number = await _accepted_appeal(bot)
    due = (await _handle_due(bot, number)).due_at
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.REQUEST_EXTENSION))
    await bot.press(HR_STAFF, "2 working days")
    bot.clock.now = due + timedelta(minutes=1)
    await bot.say(HR_STAFF, REASON)
    assert bot.last_text(HR_STAFF) == t("extension.refused_too_late")
    assert not (await bot.services.storage.appeals.get(number)).extension_pending
    assert await check_database(bot.services.storage.db) == []


async def test_only_coordinators_may_approve_or_refuse(bot) -> None:
    """The unit, the courier, or someone no longer a coordinator pressing Approve or a length is refused and
    nothing changes; the role is read from the database at each press, never from the button."""
    t = _t(bot, "en")
    await bot.services.storage.people.add(SECOND_COORDINATOR, "coordinator", None, now=bot.clock())
    bot.user(SECOND_COORDINATOR, "C2")
    await bot.services.storage.people.set_language(SECOND_COORDINATOR, "en")
    number = await _accepted_appeal(bot)
    await _ask_for_more_time(bot, number)
    assert bot.last_text(SECOND_COORDINATOR).startswith(
        f"The unit (HR Bureau) asks for more time on appeal #{number}: 2 working days."
    )
    version = (await bot.services.storage.appeals.get(number)).version
    grant = callbacks.appeal(number, AppealVerb.EXTENSION_GRANT, f"2.{version}")
    for person in (HR_STAFF, COURIER):
        for data in (callbacks.appeal(number, AppealVerb.APPROVE_EXTENSION), grant):
            query = await press_data(bot, person, data)
            assert bot.core.answered_callback(query) == {"text": t("appeal.not_permitted"), "show_alert": True}
    # The second coordinator is made a courier again: their notice's buttons no longer work for them.
    await bot.services.storage.people.add(SECOND_COORDINATOR, "courier", None, now=bot.clock())
    notice = [m for m in bot.core.bot_messages(SECOND_COORDINATOR) if f"#{number}" in m.get("text", "")][-1]
    query = bot.core.press_button(SECOND_COORDINATOR, notice["message_id"], grant)
    await bot.deliver()
    assert bot.core.answered_callback(query) == {"text": t("appeal.not_found"), "show_alert": True}
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.extension_pending, appeal.extensions, appeal.version) == (True, 0, version)


async def test_a_double_tap_grants_once_and_a_stale_button_says_what_happened(bot) -> None:
    t = _t(bot, "en")
    await bot.services.storage.people.add(SECOND_COORDINATOR, "coordinator", None, now=bot.clock())
    bot.user(SECOND_COORDINATOR, "C2")
    await bot.services.storage.people.set_language(SECOND_COORDINATOR, "en")
    number = await _accepted_appeal(bot)
    old_due = (await _handle_due(bot, number)).due_at
    await _ask_for_more_time(bot, number)
    other_notice = bot.core.last_message(SECOND_COORDINATOR)

    await bot.press(COORDINATOR, t("button.approve_extension"))
    question = bot.core.last_message(COORDINATOR)
    data = next(d for label, d in bot.core.inline_buttons(question) if label.startswith("Grant 2"))
    first = bot.core.press_button(COORDINATOR, question["message_id"], data)
    second = bot.core.press_button(COORDINATOR, question["message_id"], data)
    await bot.deliver()
    assert bot.core.answered_callback(first)["show_alert"] is False
    assert bot.core.answered_callback(second)["text"] == t("stale.already_done", number=number)
    appeal = await bot.services.storage.appeals.get(number)
    assert appeal.extensions == 1
    assert (await _handle_due(bot, number)).due_at == bot.config.working_calendar().add_working_days(old_due, 2)
    assert await _count(
        bot, "SELECT count(*) FROM events WHERE appeal_id = ? AND event = 'approve_extension'", (number,)
    ) == (1,)

    # The other coordinator's notice: Approve or Refuse now says it was granted, and acts on nothing.
    approve = next(d for label, d in bot.core.inline_buttons(other_notice) if label == t("button.approve_extension"))
    query = bot.core.press_button(SECOND_COORDINATOR, other_notice["message_id"], approve)
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t("stale.approve_extension", number=number)
    assert bot.core.inline_buttons(bot.core.messages(SECOND_COORDINATOR)[other_notice["message_id"] - 1]) == []
    assert (await bot.services.storage.appeals.get(number)).version == appeal.version
    assert await check_database(bot.services.storage.db) == []


async def test_resolved_after_the_old_deadline_but_before_the_new_one_is_on_time(bot) -> None:
    """The ledger's on_time for resolve is judged against the approved deadline; an appeal not extended
    and resolved at the same moment is late."""
    t = _t(bot, "en")
    extended = await _accepted_appeal(bot)
    plain = await _accepted_appeal(bot, courier=COURIER + 1)
    old_due = (await _handle_due(bot, extended)).due_at
    assert (await _handle_due(bot, plain)).due_at == old_due
    await _ask_for_more_time(bot, extended)
    await bot.press(COORDINATOR, t("button.approve_extension"))
    await bot.press(COORDINATOR, t("extension.button_grant_asked", days="2 working days"))

    await bot.at(old_due + timedelta(hours=1))
    for number in (extended, plain):
        await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.RESOLVE))
        await bot.say(HR_STAFF, "Paid in full on Tuesday")
        await confirm_if_asked(bot, HR_STAFF, number)
    on_time = {
        row["appeal_id"]: row["on_time"]
        for row in await bot.services.storage.db.fetchall(
            "SELECT appeal_id, on_time FROM events WHERE event = 'resolve'"
        )
    }
    assert on_time == {extended: 1, plain: 0}

    # The digest counts the extended appeal; the export has its number of extensions.
    await bot.say(COORDINATOR, "/digest")
    assert t("extension.digest_extended", count=1) in "\n".join(bot.texts(COORDINATOR)[-3:])
    start = bot.clock() - timedelta(days=7)
    lines = {line.number: line for line in await bot.services.storage.ledger.lines(start, bot.clock())}
    assert (lines[extended].extensions, lines[plain].extensions) == (1, 0)
    assert (lines[extended].resolve_on_time, lines[plain].resolve_on_time) == (True, False)
    assert await check_database(bot.services.storage.db) == []


async def test_a_pending_request_lapses_when_the_appeal_is_reassigned(bot) -> None:
    """A coordinator moves the appeal to another unit before answering: the request is the old unit's and lapses."""
    t = _t(bot, "en")
    number = await _accepted_appeal(bot)
    await _ask_for_more_time(bot, number)
    notice = bot.core.last_message(COORDINATOR)
    await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.REASSIGN))
    await bot.press(COORDINATOR, "Station One")
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.unit_id, appeal.extension_pending) == ("st1", False)
    assert (await _row(bot, number))["state"] == "lapsed"
    approve = next(d for label, d in bot.core.inline_buttons(notice) if label == t("button.approve_extension"))
    query = bot.core.press_button(COORDINATOR, notice["message_id"], approve)
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t("stale.reassign", number=number, unit="Station One")
    assert await check_database(bot.services.storage.db) == []


async def test_granted_while_the_courier_is_asked_the_paused_deadline_keeps_more_time(bot) -> None:
    """The unit asked for more time, then asked the courier (the deadline paused): approving adds the
    working days to the time it keeps; no request can be made while the courier is asked."""
    t = _t(bot, "en")
    number = await _accepted_appeal(bot)
    await _ask_for_more_time(bot, number)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.ASK))
    await bot.say(HR_STAFF, "Which platform do you ride for?")
    left = (await _handle_due(bot, number)).remaining_s
    assert left > 0
    await bot.press(COORDINATOR, t("button.approve_extension"))
    await bot.press(COORDINATOR, t("extension.button_grant_asked", days="2 working days"))
    day = int(bot.config.working_calendar().day_length().total_seconds())
    assert (await _handle_due(bot, number)).remaining_s == left + 2 * day
    would_be = bot.config.working_calendar().add(bot.clock(), timedelta(seconds=left + 2 * day))
    assert bot.services.local(would_be, "en") in bot.last_text(HR_STAFF)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("button.request_extension") not in _labels(bot, HR_STAFF)
    assert await check_database(bot.services.storage.db) == []


def test_max_extensions_is_checked_with_the_config() -> None:
    """deadlines.max_extensions: 0 to 5, one by default."""
    assert district_config(Path("x.sqlite3")).deadlines.max_extensions == 1
    assert district_config(Path("x.sqlite3"), deadlines={"max_extensions": 0}).deadlines.max_extensions == 0
    for wrong in (-1, 6, "two"):
        with pytest.raises(ConfigError, match="deadlines.max_extensions"):
            district_config(Path("x.sqlite3"), deadlines={"max_extensions": wrong})
