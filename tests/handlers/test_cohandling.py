"""Lead and co-handling units (主办 / 协办): a coordinator adds units beside the lead, when assigning or later;
each signs for its part (签收) and says when it is done, with what it did; only the lead resolves, once the
parts are done or a coordinator allows it. Each part has its own deadlines and reminders; the digest's
response rate counts each unit's acceptance; the export lists the co-handlers. Through the real Application."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.config import ConfigError
from handlers import callbacks, ledger_files
from handlers.callbacks import AppealVerb
from storage.invariants import check_database
from storage.models import from_ts
from tests.every_state import confirm_if_asked
from tests.harness import district_config, running_bot
from tests.helpers import file_appeal, press_data, submit_appeal

COURIER, HR_STAFF, ST_STAFF, ST_STAFF_2, COORDINATOR = 1001, 600, 500, 501, 900
CONTRIBUTION = {
    "en": "Our station checked the rider's shift records for October",
    "zh": "本驿站已核对该骑手十月份的排班记录",
}
RESULT = {"en": "Paid in full on Tuesday after the checks", "zh": "经核对，工资已于周二全额发放"}
NAMES = {"en": ("HR Bureau", "Station One"), "zh": ("人社局", "一号驿站")}


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "cohandling.sqlite3") as running:
        yield running


def _t(bot, lang: str):
    return lambda key, **kw: bot.services.text(lang, key, **kw)


def _labels(bot, person: int) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(bot.core.last_message(person))]


async def _people(bot, lang: str) -> None:
    """Everyone reads `lang`."""
    for person in (COURIER, HR_STAFF, ST_STAFF, ST_STAFF_2, COORDINATOR):
        bot.user(person, f"P{person}", language_code=lang)
        await bot.services.storage.people.set_language(person, lang)


async def _with_co_handler(bot, lang: str = "en") -> int:
    """A wage appeal filed in `lang` (routed to HR, the lead) that HR accepted; a coordinator adds Station One
    from the card. Its number."""
    t = _t(bot, lang)
    await _people(bot, lang)
    number = await file_appeal(bot, COURIER, bot.services.category("work").name(lang), "Wages unpaid", lang=lang)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.ACCEPT))
    await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("button.add_cohandler") in _labels(bot, COORDINATOR)
    await bot.press(COORDINATOR, t("button.add_cohandler"))
    assert bot.last_text(COORDINATOR) == t("cohandle.choose_unit", number=number)
    offered = _labels(bot, COORDINATOR)
    assert NAMES[lang][1] in offered and NAMES[lang][0] not in offered  # never the lead
    await bot.press(COORDINATOR, NAMES[lang][1])
    assert bot.last_text(COORDINATOR) == t("appeal.done_add_cohandler", number=number, unit=NAMES[lang][0])
    return number


async def _finish_part(bot, number: int, lang: str, person: int = ST_STAFF) -> None:
    """Station One's worker says its part is done, with what it did, and confirms."""
    t = _t(bot, lang)
    await press_data(bot, person, callbacks.appeal(number, AppealVerb.FINISH_PART))
    assert bot.last_text(person) == t("appeal.prompt_finish_part", number=number)
    await bot.say(person, CONTRIBUTION[lang])
    await confirm_if_asked(bot, person, number)
    assert bot.last_text(person) == t("appeal.done_finish_part", number=number)


async def _resolve(bot, number: int, lang: str) -> None:
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.RESOLVE))
    await bot.say(HR_STAFF, RESULT[lang])
    await confirm_if_asked(bot, HR_STAFF, number)


async def _part(bot, number: int, unit: str = "st1"):
    return await bot.services.storage.db.fetchone(
        "SELECT * FROM cohandlers WHERE appeal_id = ? AND unit_id = ?", (number, unit)
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_assigned_with_a_co_handler_the_lead_resolves_once_its_part_is_done(bot, lang) -> None:
    """A coordinator assigns to HR and adds Station One; both sign; HR's Resolve waits, saying whose part is
    open; Station One contributes (HR and the coordinators are told, the courier is not); HR resolves."""
    t = _t(bot, lang)
    lead, co = NAMES[lang]
    await _people(bot, lang)
    await bot.say(COURIER, "/start")
    number = await submit_appeal(bot, COURIER, unit=None)
    await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.ASSIGN))
    await bot.press(COORDINATOR, lead)
    await bot.press(COORDINATOR, t("button.normal"))
    # Assigned: the priority question becomes the offer of co-handling units, above the news of it.
    assert bot.last_text(COORDINATOR) == t("appeal.done_assign", number=number, unit=lead, priority=t("button.normal"))
    assert bot.texts(COORDINATOR)[-2] == t("cohandle.offer", number=number)
    await bot.press(COORDINATOR, t("button.add_cohandler"))
    await bot.press(COORDINATOR, co)
    assert bot.last_text(COORDINATOR) == t("appeal.done_add_cohandler", number=number, unit=lead)

    # Station One's workers get the card, labelled 协办 with the lead's name, and a Sign button.
    part = await _part(bot, number)
    when = bot.services.local(from_ts(part["part_due"]), lang)
    sign_by = bot.services.local(from_ts(part["accept_due"]), lang)
    told = t("notice.add_cohandler.cohandler_added", number=number, part_unit=co, unit=lead, when=when)
    for worker in (ST_STAFF, ST_STAFF_2):
        notice = bot.last_text(worker)
        assert notice.startswith(told)
        assert t("cohandle.card_lead", unit=lead) in notice
        # Each part's own deadline stays on the card: to sign by, then to finish by.
        assert t("cohandle.card_parts", parts=t("cohandle.part_open", unit=co, accept_due=sign_by)) in notice
        assert _labels(bot, worker) == [t("button.sign_part"), t("button.co_note")]
    assert bot.last_text(HR_STAFF) == t("notice.add_cohandler.unit", number=number, part_unit=co)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.ACCEPT))
    courier_messages = len(bot.texts(COURIER))  # from here on, co-handling is internal: the courier hears nothing
    await press_data(bot, ST_STAFF, callbacks.appeal(number, AppealVerb.SIGN_PART))
    assert bot.last_text(ST_STAFF) == t("appeal.done_sign_part", number=number, unit=lead)
    assert bot.last_text(HR_STAFF) == t("notice.sign_part.unit", number=number, part_unit=co)
    assert (await _part(bot, number))["state"] == "accepted"
    await press_data(bot, ST_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("cohandle.part_accepted", unit=co, part_due=when) in bot.last_text(ST_STAFF)
    # Station One's /queue lists the part it co-handles above its own appeals (it has none).
    await bot.say(ST_STAFF, "/queue")
    co_list, own = bot.texts(ST_STAFF)[-2:]
    assert co_list.startswith(t("cohandle.queue_title")) and f"#{number}" in co_list
    assert own == t("cohandle.queue_empty_own")

    # The lead's card has no Resolve while the part is open, and says why; a Resolve pressed anyway is refused.
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("button.resolve") not in _labels(bot, HR_STAFF)
    assert t("cohandle.button_resolve_waiting") in _labels(bot, HR_STAFF)  # pressed, it says whose part is open
    assert t("cohandle.card_waiting") in bot.last_text(HR_STAFF)
    query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.RESOLVE))
    refusal = bot.core.answered_callback(query)
    assert refusal["text"] == t("cohandle.resolve_waits", number=number, units=co) and refusal["show_alert"]
    assert (await bot.services.storage.appeals.get(number)).state == "handling"

    # The co-handler notes and contributes; the lead and the coordinators hear of it, the courier does not.
    await press_data(bot, ST_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    card = bot.last_text(ST_STAFF)
    assert card.startswith(t("cohandle.card_label")) and t("cohandle.card_lead", unit=lead) in card
    assert _labels(bot, ST_STAFF) == [t("button.co_note"), t("button.finish_part")]
    await bot.press(ST_STAFF, t("button.co_note"))
    assert bot.last_text(ST_STAFF) == t("appeal.prompt_co_note", number=number)
    await bot.say(ST_STAFF, "Shift records requested")
    assert bot.last_text(ST_STAFF) == t("appeal.done_co_note", number=number)
    assert bot.last_text(HR_STAFF).startswith(t("notice.co_note.unit", number=number, part_unit=co, note=""))
    for forbidden in (AppealVerb.RESOLVE, AppealVerb.REASSIGN, AppealVerb.ACCEPT):
        assert callbacks.appeal(number, forbidden) not in [
            d for _, d in bot.core.inline_buttons(bot.core.last_message(ST_STAFF))
        ]
    await _finish_part(bot, number, lang)
    assert CONTRIBUTION[lang] in bot.last_text(HR_STAFF)
    assert bot.last_text(HR_STAFF).startswith(t("notice.finish_part.unit", number=number, part_unit=co, note=""))
    assert bot.last_text(COORDINATOR).startswith(
        t("notice.finish_part.coordinators", number=number, part_unit=co, unit=lead, note="")
    )
    assert len(bot.texts(COURIER)) == courier_messages
    # The courier's own card tells the story without the co-handler's words; the lead's shows them.
    await press_data(bot, COURIER, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("history.finish_part", part_unit=co) in bot.last_text(COURIER)
    assert CONTRIBUTION[lang] not in bot.last_text(COURIER)
    assert t("cohandle.card_parts", parts="") not in bot.last_text(COURIER)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    assert CONTRIBUTION[lang] in bot.last_text(HR_STAFF)
    courier_messages = len(bot.texts(COURIER))
    part = await _part(bot, number)
    assert (part["state"], part["accept_on_time"], part["done_id"] is not None) == ("done", 1, True)

    await _resolve(bot, number, lang)
    assert (await bot.services.storage.appeals.get(number)).state == "feedback"
    # The co-handling unit hears how the appeal it helped with ended.
    for worker in (ST_STAFF, ST_STAFF_2):
        assert bot.last_text(worker).startswith(t("notice.resolve.cohandlers", number=number, unit=lead, note=""))
        assert RESULT[lang] in bot.last_text(worker)
    roles = await bot.services.storage.db.fetchall(
        "SELECT event, actor_role FROM events WHERE appeal_id = ? AND actor_role = 'cohandler' ORDER BY id", (number,)
    )
    assert [r["event"] for r in roles] == ["sign_part", "co_note", "finish_part"]
    assert await check_database(bot.services.storage.db) == []


async def test_a_coordinator_allows_the_lead_to_resolve_without_the_open_part(bot) -> None:
    """The co-handling unit has not signed; a coordinator presses Allow resolving now: the lead is told and may
    resolve. A unit added after the allowance is waited for again."""
    t = _t(bot, "en")
    number = await _with_co_handler(bot)
    await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("button.allow_resolve") in _labels(bot, COORDINATOR)
    await bot.press(COORDINATOR, t("button.allow_resolve"))
    # Asked first, naming whose part would not be waited for.
    assert bot.last_text(COORDINATOR) == t("cohandle.allow_confirm", number=number, units="Station One")
    assert (await bot.services.storage.appeals.get(number)).parts_waived is False
    await bot.press(COORDINATOR, t("cohandle.button_allow_confirm"))
    assert bot.last_text(COORDINATOR) == t("appeal.done_allow_resolve", number=number, unit="HR Bureau")
    assert bot.last_text(HR_STAFF) == t("notice.allow_resolve.unit", number=number)
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.OPEN))
    assert t("button.resolve") in _labels(bot, HR_STAFF)
    assert t("cohandle.card_waiting") not in bot.last_text(HR_STAFF)
    await _resolve(bot, number, "en")
    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.state, appeal.parts_open, appeal.parts_waived) == ("feedback", 1, True)
    assert (await _part(bot, number))["state"] == "open"  # the unit's part stays as it was
    assert await check_database(bot.services.storage.db) == []


async def test_with_every_other_unit_beside_the_lead_the_list_says_so(bot) -> None:
    """The district has two units: once Station One co-handles, Add co-handling unit says none is left."""
    t = _t(bot, "en")
    number = await _with_co_handler(bot)
    query = await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.ADD_COHANDLER))
    assert bot.core.answered_callback(query)["text"] == t("cohandle.no_units", number=number)


async def test_each_part_is_reminded_once_when_its_signing_and_then_its_part_are_late(bot) -> None:
    """deadlines.cohandle_accept (1 working day) and cohandle_part (3): Station One's workers and the
    coordinators are reminded once at each, on the test clock; HR, the lead, is not bothered with the signing."""
    t = _t(bot, "en")
    number = await _with_co_handler(bot)
    part = await _part(bot, number)
    # Added on Monday 10:00: signed for by Tuesday 10:00, done by Thursday 10:00.
    added = from_ts(part["added_at"])
    accept_due, part_due = from_ts(part["accept_due"]), from_ts(part["part_due"])
    assert (accept_due - added, part_due - added) == (timedelta(days=1), timedelta(days=3))
    sign_late = t(
        "cohandle.remind_sign", number=number, part_unit="Station One", when=bot.services.local(accept_due, "en")
    )
    part_late = t(
        "cohandle.remind_part",
        number=number,
        part_unit="Station One",
        unit="HR Bureau",
        when=bot.services.local(part_due, "en"),
    )
    told = lambda person, text: sum(m.startswith(text) for m in bot.texts(person))  # noqa: E731

    await bot.at(accept_due - timedelta(minutes=1))
    assert [told(p, sign_late) for p in (ST_STAFF, ST_STAFF_2, COORDINATOR, HR_STAFF)] == [0, 0, 0, 0]
    await bot.at(accept_due + timedelta(minutes=1))
    await bot.at(accept_due + timedelta(minutes=30))
    assert [told(p, sign_late) for p in (ST_STAFF, ST_STAFF_2, COORDINATOR, HR_STAFF)] == [1, 1, 1, 0]
    # The reminder comes under the unit's card, which keeps its Sign button.
    card = bot.core.bot_messages(ST_STAFF)[-2]
    assert [label for label, _ in bot.core.inline_buttons(card)] == [t("button.sign_part"), t("button.co_note")]

    await press_data(bot, ST_STAFF, callbacks.appeal(number, AppealVerb.SIGN_PART))
    await bot.at(part_due + timedelta(minutes=1))
    await bot.at(part_due + timedelta(days=2))
    assert [told(p, part_late) for p in (ST_STAFF, ST_STAFF_2, COORDINATOR, HR_STAFF)] == [1, 1, 1, 0]
    assert (await _part(bot, number))["reminded"] == 2
    assert await check_database(bot.services.storage.db) == []


async def test_a_part_done_in_time_is_never_reminded(bot) -> None:
    t = _t(bot, "en")
    number = await _with_co_handler(bot)
    await press_data(bot, ST_STAFF, callbacks.appeal(number, AppealVerb.SIGN_PART))
    await _finish_part(bot, number, "en")
    await bot.at(bot.clock() + timedelta(days=10))
    prefixes = (t("cohandle.remind_sign", number=number, part_unit="", when="")[:20],)
    assert not any(m.startswith(prefixes) for p in (ST_STAFF, COORDINATOR) for m in bot.texts(p))
    assert (await _part(bot, number))["reminded"] == 0


async def test_forged_presses_are_refused_and_each_side_keeps_to_its_own(bot) -> None:
    """Callback data is never trusted: the lead's worker cannot sign or finish a co-handler's part; a
    co-handler cannot resolve, reassign, accept or add units; a unit with no part cannot see the appeal; a
    coordinator cannot add the lead, an unknown unit, or a unit twice; malformed data is refused."""
    t = _t(bot, "en")
    number = await _with_co_handler(bot)
    version = (await bot.services.storage.appeals.get(number)).version

    async def alert(person: int, data: str) -> str:
        query = await press_data(bot, person, data)
        return bot.core.answered_callback(query)["text"]

    for verb in (AppealVerb.SIGN_PART, AppealVerb.FINISH_PART):
        assert await alert(HR_STAFF, callbacks.appeal(number, verb)) == t("appeal.not_permitted")
        assert await alert(COURIER, callbacks.appeal(number, verb)) == t("appeal.not_permitted")
    for verb in (
        AppealVerb.RESOLVE,
        AppealVerb.REASSIGN,
        AppealVerb.ACCEPT,
        AppealVerb.ADD_COHANDLER,
        AppealVerb.ALLOW_RESOLVE,
    ):
        assert await alert(ST_STAFF, callbacks.appeal(number, verb)) == t("appeal.not_permitted")
    assert await alert(ST_STAFF, callbacks.appeal(number, AppealVerb.COHANDLER_UNIT, f"st1.{version}")) == t(
        "appeal.not_permitted"
    )
    assert await alert(HR_STAFF, callbacks.appeal(number, AppealVerb.COHANDLER_UNIT, f"st1.{version}")) == t(
        "appeal.not_permitted"
    )
    # Finishing before signing does nothing: the button is not offered until the part is signed for.
    assert await alert(ST_STAFF, callbacks.appeal(number, AppealVerb.FINISH_PART)) == t(
        "stale.add_cohandler", number=number
    )
    assert (await _part(bot, number))["state"] == "open"
    # The coordinator's own forged unit choices.
    assert await alert(COORDINATOR, callbacks.appeal(number, AppealVerb.COHANDLER_UNIT, f"hr.{version}")) == t(
        "cohandle.refused_lead"
    )
    assert await alert(COORDINATOR, callbacks.appeal(number, AppealVerb.COHANDLER_UNIT, f"nowhere.{version}")) == t(
        "appeal.bad_unknown_unit"
    )
    assert await alert(COORDINATOR, callbacks.appeal(number, AppealVerb.COHANDLER_UNIT, f"st1.{version}")) == t(
        "cohandle.refused_already"
    )
    assert await alert(COORDINATOR, callbacks.appeal(number, AppealVerb.COHANDLER_UNIT, "st1")) == t("press.invalid")
    assert await alert(COORDINATOR, callbacks.appeal(number, AppealVerb.COHANDLER_UNIT, "st1.x")) == t("press.invalid")
    assert (await bot.services.storage.appeals.get(number)).co_units == "st1"
    # Nor may a co-handling unit be made the lead by a reassignment.
    assert await alert(COORDINATOR, callbacks.appeal(number, AppealVerb.REASSIGN_UNIT, f"st1.{version}")) == t(
        "cohandle.refused_reassign"
    )
    assert (await bot.services.storage.appeals.get(number)).unit_id == "hr"
    rows = await bot.services.storage.db.fetchall("SELECT unit_id FROM cohandlers WHERE appeal_id = ?", (number,))
    assert [r["unit_id"] for r in rows] == ["st1"]
    assert await check_database(bot.services.storage.db) == []


async def test_the_digest_counts_each_units_acceptance_and_the_export_lists_the_co_handlers(bot) -> None:
    """The response rate counts HR's acceptance and Station One's signing; the digest says how many units
    were added and parts done; the export's Co-handling units column names each with its part's state."""
    t = _t(bot, "zh")
    number = await _with_co_handler(bot, "zh")
    await press_data(bot, ST_STAFF, callbacks.appeal(number, AppealVerb.SIGN_PART))
    await _finish_part(bot, number, "zh")
    await bot.say(COORDINATOR, "/digest")
    digest = "\n".join(bot.texts(COORDINATOR)[-3:])
    assert t("cohandle.digest", added=1, done=1) in digest
    assert t("digest.response", rate="100.0%", part=2, whole=2, definition=t("digest.def_response")) in digest

    start = bot.clock() - timedelta(days=7)
    lines = await bot.services.storage.ledger.lines(start, bot.clock() + timedelta(minutes=1))
    (line,) = [line for line in lines if line.number == number]
    assert line.cohandlers == (("st1", "一号驿站", "Station One", "done"),)
    for lang, header, cell in (
        ("zh", "协办单位", "一号驿站（已办结）"),
        ("en", "Co-handling units", "Station One (done)"),
    ):
        headers, rows = ledger_files.table([line], bot.services.catalog, lang, bot.services.zone, lambda c: c)
        assert rows[0][headers.index(header)] == cell
    # A part not yet signed, and one signed but not done (the sandbox's example appeal #5 is one): the
    # card's lines for them name deadlines the ledger does not carry, and took the export down.
    parts = (("st1", "一号驿站", "Station One", "open"), ("hr", "人社局", "HR Bureau", "accepted"))
    for lang, header, cell in (
        ("zh", "协办单位", "一号驿站（未签收）、人社局（已签收）"),
        ("en", "Co-handling units", "Station One (not signed), HR Bureau (signed)"),
    ):
        headers, rows = ledger_files.table(
            [dataclasses.replace(line, cohandlers=parts)], bot.services.catalog, lang, bot.services.zone, lambda c: c
        )
        assert rows[0][headers.index(header)] == cell


LABOUR_STAFF = 700
THREE_UNITS = [
    {"id": "st1", "kind": "station", "zh": "一号驿站", "en": "Station One", "staff": [ST_STAFF, ST_STAFF_2]},
    {"id": "hr", "kind": "department", "zh": "人社局", "en": "HR Bureau", "staff": [HR_STAFF]},
    {"id": "lab", "kind": "department", "zh": "劳动监察大队", "en": "Labour Inspection", "staff": [LABOUR_STAFF]},
]


async def test_with_two_co_handlers_the_lead_waits_for_both_and_each_keeps_to_its_own_part(tmp_path) -> None:
    """Two units co-handle: Resolve names both open parts, then the one left; a unit's second Sign is refused
    as already signed, whatever the other unit has done; the lead resolves once both are done."""
    async with running_bot(tmp_path / "two.sqlite3", units=THREE_UNITS) as bot:
        t = _t(bot, "en")
        number = await _with_co_handler(bot)
        bot.user(LABOUR_STAFF, "Lab", language_code="en")
        await bot.services.storage.people.set_language(LABOUR_STAFF, "en")
        await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.ADD_COHANDLER))
        assert _labels(bot, COORDINATOR) == ["Labour Inspection", t("button.back")]
        await bot.press(COORDINATOR, "Labour Inspection")
        assert t("button.sign_part") in _labels(bot, LABOUR_STAFF)

        query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.RESOLVE))
        both = t("cohandle.resolve_waits", number=number, units="Station One, Labour Inspection")
        assert bot.core.answered_callback(query)["text"] == both

        await press_data(bot, ST_STAFF, callbacks.appeal(number, AppealVerb.SIGN_PART))
        # Station One's second worker presses the Sign still on their card: the part is signed already.
        query = await press_data(bot, ST_STAFF_2, callbacks.appeal(number, AppealVerb.SIGN_PART))
        assert bot.core.answered_callback(query)["text"] == t("cohandle.refused_signed")
        await _finish_part(bot, number, "en", person=ST_STAFF_2)  # any worker of the unit may finish it
        query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.RESOLVE))
        assert bot.core.answered_callback(query)["text"] == t(
            "cohandle.resolve_waits", number=number, units="Labour Inspection"
        )
        await press_data(bot, LABOUR_STAFF, callbacks.appeal(number, AppealVerb.SIGN_PART))
        await _finish_part(bot, number, "en", person=LABOUR_STAFF)
        await _resolve(bot, number, "en")
        appeal = await bot.services.storage.appeals.get(number)
        assert (appeal.state, appeal.co_units, appeal.parts_open) == ("feedback", "st1 lab", 0)
        start = bot.clock() - timedelta(days=7)
        lines = await bot.services.storage.ledger.lines(start, bot.clock() + timedelta(minutes=1))
        (line,) = [x for x in lines if x.number == number]
        headers, rows = ledger_files.table([line], bot.services.catalog, "en", bot.services.zone, lambda c: c)
        assert rows[0][headers.index("Co-handling units")] == "Station One (done), Labour Inspection (done)"
        assert await check_database(bot.services.storage.db) == []


async def test_the_part_deadlines_come_from_the_config(tmp_path) -> None:
    """deadlines.cohandle_accept and cohandle_part (1 and 3 working days by default) set a new part's deadlines."""
    defaults = district_config(tmp_path / "x.sqlite3").deadlines
    assert (str(defaults.cohandle_accept), str(defaults.cohandle_part)) == ("1wd", "3wd")
    overrides = {"deadlines": {"cohandle_accept": "2h", "cohandle_part": "1wd"}}
    async with running_bot(tmp_path / "spans.sqlite3", **overrides) as bot:
        number = await _with_co_handler(bot)
        part = await _part(bot, number)
        added = from_ts(part["added_at"])
        assert (from_ts(part["accept_due"]) - added, from_ts(part["part_due"]) - added) == (
            timedelta(hours=2),
            timedelta(days=1),
        )
    with pytest.raises(ConfigError, match="deadlines.cohandle_part"):
        district_config(tmp_path / "x.sqlite3", deadlines={"cohandle_part": "soon"})
