"""Buttons through the real Application: stale presses, confirmations, double taps, typed answers, the routing table."""

from datetime import timedelta
from pathlib import Path

import pytest

from domain.answers_file import read_answers
from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event, Outcome, State
from domain.surveys_file import read_survey
from handlers import callbacks
from handlers.callbacks import AppealVerb, Family
from handlers.presses import ROUTES
from handlers.telegram_text import said
from storage.dialogs import PromptKind
from tests.every_state import KNOWN, STATION, every_state, greet_everyone, press_data
from tests.handlers.test_loop import file_wage_appeal
from tests.harness import running_bot

ANSWERS = Path(__file__).resolve().parents[2] / "sandbox" / "district" / "answers.toml"

COURIER, OTHER_COURIER, STATION_STAFF, STATION_STAFF_2, HR_STAFF, COORDINATOR = 1001, 1002, 500, 501, 600, 900


@pytest.fixture
async def bot(tmp_path):
    """The bot with the test district; everyone's app is English and has said /start."""
    async with running_bot(tmp_path / "presses.sqlite3") as running:
        await running.start(COURIER, OTHER_COURIER, STATION_STAFF, STATION_STAFF_2, HR_STAFF, COORDINATOR)
        yield running


def t(bot, key, **values):
    """An English message."""
    return bot.services.text("en", key, **values)


def labels(bot, chat: int) -> list[str]:
    """The inline button labels of the newest message in a chat."""
    return [label for label, _ in bot.core.inline_buttons(bot.core.last_message(chat))]


async def tap(bot, person: int, message: dict, data: str) -> dict:
    """Press `data` on `message` (a button the person still sees, or one they saw before); return the answer."""
    query = bot.core.press_button(person, message["message_id"], data)
    await bot.deliver()
    return bot.core.answered_callback(query)


async def events(bot, number: int) -> list[Event]:
    """The appeal's ledger, as event names."""
    return [e.event for e in await bot.services.storage.appeals.ledger(number)]


async def accepted_by_hr(bot) -> int:
    """A wage appeal, routed to HR and accepted there."""
    number = await file_wage_appeal(bot, "en")
    await bot.press(HR_STAFF, "Accept")
    return number


def message_with(bot, chat: int, fragment: str) -> dict:
    """The newest bot message in a chat whose text holds `fragment`."""
    return next(m for m in reversed(bot.core.bot_messages(chat)) if fragment in (m.get("text") or ""))


# ---------------------------------------------------------------------------- stale buttons


async def test_a_stale_button_on_someones_words_gets_a_toast_and_acts_on_nothing(bot) -> None:
    """HR asks, then resolves before the courier answers: the question's Reply button only says so."""
    number = await accepted_by_hr(bot)
    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, "Which platform do you ride for?")
    question = message_with(bot, COURIER, "Which platform do you ride for?")
    assert [label for label, _ in bot.core.inline_buttons(question)] == [t(bot, "button.reply")]
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid in full on Friday")
    await bot.press(HR_STAFF, "Confirm resolve")
    before = await events(bot, number)

    answer = await tap(bot, COURIER, question, callbacks.appeal(number, AppealVerb.ANSWER))
    assert answer == {"text": t(bot, "stale.resolve", number=number, unit="HR Bureau"), "show_alert": False}
    assert await events(bot, number) == before
    assert await bot.services.storage.dialogs.prompt(COURIER) is None
    shown = next(m for m in bot.core.bot_messages(COURIER) if m["message_id"] == question["message_id"])
    assert shown["text"] == question["text"]  # the question stays as HR wrote it
    assert bot.core.inline_buttons(shown) == []  # only its dead button went


async def test_a_second_worker_pressing_accept_learns_who_accepted(bot) -> None:
    """Both workers of Station One get the card; the one who is second is told, and their card keeps its text."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Station facilities")
    await bot.say(COURIER, "The charger at the station is broken")
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Confirm")
    number = int(bot.last_text(COURIER).split("#")[1].split()[0])
    late_card = bot.core.last_message(STATION_STAFF_2)
    await bot.press(STATION_STAFF, "Accept")
    # Their card is kept current (it now says it was accepted) and has lost Accept; a press from an
    # older copy of it still comes in.
    late_card = {**late_card, "text": bot.core.messages(STATION_STAFF_2)[late_card["message_id"] - 1]["text"]}

    answer = await tap(bot, STATION_STAFF_2, late_card, callbacks.appeal(number, AppealVerb.ACCEPT))
    assert answer == {"text": t(bot, "stale.accept", number=number, unit="Station One"), "show_alert": False}
    assert (await events(bot, number)).count(Event.ACCEPT) == 1
    shown = next(m for m in bot.core.bot_messages(STATION_STAFF_2) if m["message_id"] == late_card["message_id"])
    assert shown["text"] == late_card["text"]


async def test_a_reassigned_appeals_old_card_says_where_it_went(bot) -> None:
    """HR's card for an appeal a coordinator moved to Station One: a toast, not "does not exist"."""
    number = await file_wage_appeal(bot, "en")
    card = bot.core.last_message(HR_STAFF)
    await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.REASSIGN_UNIT, "st1"))
    answer = await tap(bot, HR_STAFF, card, callbacks.appeal(number, AppealVerb.ACCEPT))
    assert answer == {"text": t(bot, "stale.not_yours_now", number=number, unit="Station One"), "show_alert": False}
    assert Event.ACCEPT not in await events(bot, number)


# ---------------------------------------------------------------------------- confirmations and double taps


async def test_resolve_shows_the_result_back_and_acts_only_on_confirm(bot) -> None:
    """The result is shown back with Confirm, Edit and Cancel; Edit asks again; Confirm resolves once."""
    number = await accepted_by_hr(bot)
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid on Fridy")
    assert bot.last_text(HR_STAFF) == t(bot, "confirm.resolve", number=number, text=said("Paid on Fridy"))
    assert labels(bot, HR_STAFF) == ["Confirm resolve", "Edit", "Cancel"]
    assert (await bot.services.storage.appeals.get(number)).state == State.HANDLING

    await bot.press(HR_STAFF, "Edit")
    assert bot.last_text(HR_STAFF) == t(bot, "appeal.prompt_resolve", number=number)
    await bot.say(HR_STAFF, "Paid on Friday")
    shown_back = bot.core.last_message(HR_STAFF)
    assert shown_back["text"] == t(bot, "confirm.resolve", number=number, text=said("Paid on Friday"))
    (confirm,) = [data for label, data in bot.core.inline_buttons(shown_back) if label == "Confirm resolve"]
    assert callbacks.decode(confirm).arg.startswith("res.")  # it carries what it confirms, and the version

    first = await tap(bot, HR_STAFF, shown_back, confirm)
    second = await tap(bot, HR_STAFF, shown_back, confirm)
    assert first["show_alert"] is False
    assert second == {"text": t(bot, "stale.already_done", number=number), "show_alert": False}
    ledger = await bot.services.storage.appeals.ledger(number)
    assert [(e.event, e.note) for e in ledger if e.event is Event.RESOLVE] == [(Event.RESOLVE, "Paid on Friday")]
    assert t(bot, "appeal.done_resolve", number=number) in bot.texts(HR_STAFF)
    assert (
        bot.core.inline_buttons(
            next(m for m in bot.core.bot_messages(HR_STAFF) if m["message_id"] == shown_back["message_id"])
        )
        == []
    )


async def test_cancel_keeps_the_shown_back_text_and_changes_nothing(bot) -> None:
    """Cancel on the shown-back reason: the message keeps the words, only its buttons go."""
    number = await file_wage_appeal(bot, "en")
    await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.SEND_BACK))
    await bot.say(HR_STAFF, "This is for the trade union")  # a send-back acts at once: not final
    await bot.press(COORDINATOR, "Reject")
    await bot.say(COORDINATOR, "Outside our district")
    shown_back = bot.core.last_message(COORDINATOR)
    assert shown_back["text"] == t(bot, "confirm.reject", number=number, text=said("Outside our district"))
    await bot.press(COORDINATOR, "Cancel")
    kept = next(m for m in bot.core.bot_messages(COORDINATOR) if m["message_id"] == shown_back["message_id"])
    assert kept["text"] == shown_back["text"] and bot.core.inline_buttons(kept) == []
    assert bot.last_text(COORDINATOR) == t(bot, "appeal.prompt_cancelled")
    assert (await bot.services.storage.appeals.get(number)).state == State.ASSESSING
    assert await bot.services.storage.dialogs.prompt(COORDINATOR) is None
    # The old confirm button, pressed after Cancel, acts on nothing.
    (confirm,) = [d for label, d in bot.core.inline_buttons(shown_back) if label == "Confirm reject"]
    answer = await tap(bot, COORDINATOR, kept, confirm)
    assert answer["show_alert"] is False
    assert (await bot.services.storage.appeals.get(number)).outcome is None


async def test_withdraw_tapped_twice_withdraws_once(bot) -> None:
    """The courier's Withdraw it, twice: one event, and a quiet "already done"."""
    number = await file_wage_appeal(bot, "en")
    await bot.say(COURIER, f"/open {number}")
    await bot.press(COURIER, "Withdraw")
    asked = bot.core.last_message(COURIER)
    (confirm,) = [d for label, d in bot.core.inline_buttons(asked) if label == t(bot, "button.withdraw_confirm")]
    await tap(bot, COURIER, asked, confirm)
    second = await tap(bot, COURIER, asked, confirm)
    assert second == {"text": t(bot, "stale.already_done", number=number), "show_alert": False}
    assert (await events(bot, number)).count(Event.WITHDRAW) == 1
    assert (await bot.services.storage.appeals.get(number)).outcome == Outcome.WITHDRAWN


async def test_an_emoji_result_is_refused_with_why(bot) -> None:
    """👍 or "..." is no result; the prompt stays open; real words (Chinese counts) go on."""
    number = await accepted_by_hr(bot)
    await bot.press(HR_STAFF, "Resolve")
    for thin in ("👍👍👍", "...!!!", "ok"):
        await bot.say(HR_STAFF, thin)
        assert bot.last_text(HR_STAFF) == t(bot, "confirm.bad_note_too_thin")
    assert (await bot.services.storage.dialogs.prompt(HR_STAFF)).verb is PromptKind.RESOLVE
    await bot.say(HR_STAFF, "工资已付")
    assert bot.last_text(HR_STAFF) == t(bot, "confirm.resolve", number=number, text=said("工资已付"))
    assert (await bot.services.storage.appeals.get(number)).state == State.HANDLING


async def test_a_thin_question_is_refused_too(bot) -> None:
    """The same rule holds for a question to the courier."""
    number = await accepted_by_hr(bot)
    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, "??")
    assert bot.last_text(HR_STAFF) == t(bot, "confirm.bad_note_too_thin")
    assert not (await bot.services.storage.appeals.get(number)).awaiting_courier


# ---------------------------------------------------------------------------- merging


async def _submit(bot, courier: int, category: str, station: str | None = None) -> int:
    new = NewAppeal(courier_id=courier, category=category, description="A duplicate", language="en", station_id=station)
    return (await bot.services.storage.appeals.submit(new, None, bot.clock())).appeal.id


async def test_merge_refusals_say_why_and_a_good_target_is_shown_back(bot) -> None:
    """Not itself, not one closed long ago, not an unrelated one; a real duplicate is shown with both titles."""
    await bot.services.storage.stations.upsert([STATION])
    storage = bot.services.storage
    old = await _submit(bot, OTHER_COURIER, "suggestion")
    await storage.appeals.apply(ActOnAppeal(old, Event.ASSIGN, COORDINATOR, EventArgs(unit="st1")), bot.clock())
    await storage.appeals.apply(ActOnAppeal(old, Event.ACCEPT, STATION_STAFF), bot.clock())
    await storage.appeals.apply(
        ActOnAppeal(old, Event.RESOLVE, STATION_STAFF, EventArgs(note="A microwave is there")), bot.clock()
    )
    await storage.appeals.apply(ActOnAppeal(old, Event.RATE_SATISFIED, OTHER_COURIER), bot.clock())
    bot.clock.advance(days=31)
    unrelated = await _submit(bot, OTHER_COURIER, "work")
    same_station = await _submit(bot, OTHER_COURIER, "facilities", STATION.id)
    original = await _submit(bot, OTHER_COURIER, "suggestion")
    rejected = await _submit(bot, OTHER_COURIER, "suggestion")
    await storage.appeals.apply(
        ActOnAppeal(rejected, Event.REJECT, COORDINATOR, EventArgs(note="Outside the district")), bot.clock()
    )
    duplicate = await _submit(bot, COURIER, "suggestion", STATION.id)

    await bot.tick()  # the new appeals' cards first: /open's card for the duplicate comes last
    await bot.say(COORDINATOR, f"/open {duplicate}")
    await bot.press(COORDINATOR, "Merge")
    for typed, key in (
        (f"#{duplicate}", "confirm.bad_merge_self"),
        (f"#{old}", "confirm.bad_merge_closed_long_ago"),
        (f"#{unrelated}", "confirm.bad_merge_unrelated"),
        ("#99999", "confirm.bad_merge_missing"),
    ):
        await bot.say(COORDINATOR, typed)
        assert bot.last_text(COORDINATOR) == t(bot, key), typed
    await bot.say(COORDINATOR, f"#{rejected}")  # which of the reasons it is, not the whole list
    assert bot.last_text(COORDINATOR) == t(bot, "merge2.not_open_rejected", number=rejected)
    assert (await storage.appeals.get(duplicate)).outcome is None

    await bot.say(COORDINATOR, f"#{same_station}")  # another category, but the same station
    assert bot.last_text(COORDINATOR).startswith(f"Merge #{duplicate} into #{same_station}?")
    await bot.press(COORDINATOR, "Edit")
    await bot.say(COORDINATOR, str(original))
    shown = bot.last_text(COORDINATOR)
    assert f"Duplicate: #{duplicate} · Suggestions" in shown and f"Original: #{original} · Suggestions" in shown
    assert t(bot, "state.assessing") in shown
    await bot.press(COORDINATOR, "Confirm merge")
    merged = await storage.appeals.get(duplicate)
    assert (merged.outcome, merged.merged_into) == (Outcome.MERGED, original)


# ---------------------------------------------------------------------------- answers with files


async def test_an_answer_may_be_a_photo_or_a_captioned_document(bot) -> None:
    """A photo alone answers a question; a caption is the text; each file is kept with its event."""
    number = await accepted_by_hr(bot)
    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, "Please send the payslip")
    await bot.press(COURIER, t(bot, "button.reply"))
    bot.core.send_photo(COURIER, b"\xff\xd8 payslip")
    await bot.deliver()
    assert t(bot, "appeal.done_answer", number=number) in bot.texts(COURIER)
    ledger = await bot.services.storage.appeals.ledger(number)
    answer = ledger[-1]
    assert (answer.event, answer.note) == (Event.ANSWER, None)
    rows = await bot.services.storage.db.fetchall(
        "SELECT kind, event_id FROM attachments WHERE appeal_id = ? ORDER BY id", (number,)
    )
    assert [(r["kind"], r["event_id"]) for r in rows] == [("photo", answer.id)]

    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, "And the contract?")
    await bot.press(COURIER, t(bot, "button.reply"))
    bot.core.send_document(COURIER, b"%PDF", "contract.pdf", "application/pdf", caption="Here is the contract")
    await bot.deliver()
    answer = (await bot.services.storage.appeals.ledger(number))[-1]
    assert (answer.event, answer.note) == (Event.ANSWER, "Here is the contract")
    rows = await bot.services.storage.db.fetchall(
        "SELECT kind, event_id FROM attachments WHERE appeal_id = ?", (number,)
    )
    assert ("document", answer.id) in [(r["kind"], r["event_id"]) for r in rows]

    await bot.press(HR_STAFF, "Ask")
    await bot.say(HR_STAFF, "Can you tell us what happened?")
    await bot.press(COURIER, t(bot, "button.reply"))
    bot.core.send_voice(COURIER, b"OggS voice", 12)
    await bot.deliver()
    answer = (await bot.services.storage.appeals.ledger(number))[-1]
    rows = await bot.services.storage.db.fetchall(
        "SELECT kind, event_id FROM attachments WHERE appeal_id = ?", (number,)
    )
    assert (answer.event, ("voice", answer.id) in [(r["kind"], r["event_id"]) for r in rows]) == (Event.ANSWER, True)
    assert len(await bot.services.storage.appeals.attachments(number)) == 3


async def test_a_photo_is_no_result_without_words(bot) -> None:
    """Only an answer may be files alone; a result needs words (a caption will do)."""
    await accepted_by_hr(bot)
    await bot.press(HR_STAFF, "Resolve")
    bot.core.send_photo(HR_STAFF, b"\xff\xd8 receipt")
    await bot.deliver()
    assert bot.last_text(HR_STAFF) == t(bot, "appeal.prompt_text_only")
    bot.core.send_photo(HR_STAFF, b"\xff\xd8 receipt", caption="Paid, receipt attached")
    await bot.deliver()
    assert bot.last_text(HR_STAFF).startswith("Resolve #") and "│ Paid, receipt attached" in bot.last_text(HR_STAFF)


# ---------------------------------------------------------------------------- the codec and the table


@pytest.mark.parametrize(
    "data",
    [
        "ap:1:zzz",
        "ap:1:ok:zz.1",
        "ap:1:ok:res",
        "ap:1:filez",
        "lg:set:",
        "lg:set:fr",
        "pv:zap",
        "zz:open",
        "ls:everyone:1",
        "hs:zap:st.s1.work",
        "dr:confirm;drop",
        "ap:1:acc:" + "x" * 41,
    ],
)
async def test_forged_callback_data_is_refused_and_changes_nothing(bot, data) -> None:
    """Data no button of the bot carries gets an alert, whoever sends it."""
    await file_wage_appeal(bot, "en")
    before = await bot.services.storage.db.fetchone(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM prompts)"
    )
    answer = await tap(bot, COORDINATOR, bot.core.last_message(COORDINATOR), data)
    assert answer == {"text": t(bot, "press.invalid"), "show_alert": True}
    after = await bot.services.storage.db.fetchone(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM prompts)"
    )
    assert tuple(after) == tuple(before)


def test_every_verb_has_a_row_in_the_table() -> None:
    """Each family's enum of verbs and the routing table agree."""
    verbs = {(family, verb) for family, enum in callbacks.VERBS.items() for verb in enum}
    assert set(ROUTES) == verbs


async def test_every_button_the_bot_sends_decodes_to_a_row_of_the_table(tmp_path) -> None:
    """Appeals in every state, the tools and the menus: every inline button the chats show is routed."""
    async with running_bot(tmp_path / "all.sqlite3") as bot:
        await greet_everyone(bot)
        await every_state(bot)
        answers = read_answers(ANSWERS.read_bytes(), "toml", [c.id for c in bot.services.categories])
        await bot.services.storage.answers.import_records(answers)  # /answers has a button per category
        survey = read_survey((ANSWERS.parent / "survey-needs.toml").read_bytes(), "toml")
        _, number = await bot.services.storage.surveys.import_survey(survey, bot.clock())
        await bot.services.storage.surveys.set_state(number, "open", bot.clock())  # /surveys has a button each
        for courier in (COURIER, OTHER_COURIER, 1003, *([COURIER] * 10)):  # a hot spot, and more than a page of /my
            await bot.services.storage.people.seen(courier, "en", bot.clock())
            await _submit(bot, courier, "facilities", STATION.id)
        for person in KNOWN:
            for command in (
                "/my",
                "/language",
                "/privacy",
                "/queue",
                "/triage",
                "/export",
                "/stations s1",
                "/digest",
                "/invite",
                "/people",
                "/mute 1",
                "/replies",
                "/answers",
                "/settings",
                "/notice",
                "/activity new",  # the publishing dialog's Cancel (handlers/activities.py)
                "/surveys",
                "/wishes",
            ):
                await bot.say(person, command)
        # A notice with a button to a survey (issue 18): its Stop and its link.
        outreach = bot.services.storage.outreach
        await outreach.choose(COURIER, ("notices",), True, bot.clock())
        notice = await outreach.add_notice("Free clinic", bot.clock(), link=("survey", "1"))
        await outreach.broadcast(kind="notice", ref=str(notice), topic="notices", recipients=[COURIER], now=bot.clock())
        await bot.tick()
        await bot.press(COURIER, "Delete my data")
        await bot.say(OTHER_COURIER, "/appeal")  # a dialog's live buttons (the finished ones' are taken away)
        bot.core.share_location(COURIER, STATION.lat, STATION.lon)
        # A unit's group: a coordinator links it (the units as buttons), then asks to unlink it.
        group = -1001000000099
        bot.core.add_group(group, "Unit desk", forum=True)
        bot.core.join_group(group, COORDINATOR)
        for command in ("/link_unit", "/link_unit hr", "/unlink_unit"):
            bot.core.send_text(COORDINATOR, command, chat_id=group)
        await bot.deliver()
        chats = (*KNOWN, group)
        for person in chats:
            for message in bot.core.bot_messages(person):
                for label, data in bot.core.inline_buttons(message):
                    press = callbacks.decode(data)
                    assert press is not None and (press.kind, press.verb) in ROUTES, (person, label, data)
        seen = {
            (press.kind, press.verb)
            for person in chats
            for message in bot.core.bot_messages(person)
            for _, data in bot.core.inline_buttons(message)
            if (press := callbacks.decode(data))
        }
        # The walk reached every family.
        assert {kind for kind, _ in seen} == set(Family), {kind for kind, _ in seen}


async def test_old_language_buttons_still_work(bot) -> None:
    """A "lang:zh" button sent before the codec had the language family still sets the language."""
    answer = await tap(bot, COURIER, bot.core.last_message(COURIER), "lang:zh")
    assert answer["show_alert"] is False
    assert (await bot.services.storage.people.get(COURIER)).language == "zh"


def test_confirm_data_fits_and_reads_back() -> None:
    """A confirm button of the largest appeal number and version still fits Telegram's 64 bytes."""
    data = callbacks.confirm(10**12 - 1, AppealVerb.RESOLVE, 10**9)
    assert len(data.encode()) <= callbacks.MAX_BYTES
    assert callbacks.decode(data) == callbacks.Press(Family.APPEAL, AppealVerb.CONFIRM, 10**12 - 1, f"res.{10**9}")


async def test_the_confirm_button_of_an_appeal_that_moved_on_says_what_happened(bot) -> None:
    """The result is shown back; meanwhile the courier withdraws: Confirm resolve tells, and acts on nothing."""
    number = await accepted_by_hr(bot)
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid on Friday")
    shown_back = bot.core.last_message(HR_STAFF)
    (confirm,) = [d for label, d in bot.core.inline_buttons(shown_back) if label == "Confirm resolve"]
    await storage_withdraw(bot, number)
    answer = await tap(bot, HR_STAFF, shown_back, confirm)
    assert answer == {"text": t(bot, "stale.withdraw", number=number), "show_alert": False}
    assert Event.RESOLVE not in await events(bot, number)


async def storage_withdraw(bot, number: int) -> None:
    """The courier withdraws the appeal (straight through storage, as their press would)."""
    await bot.services.storage.appeals.apply(
        ActOnAppeal(number, Event.WITHDRAW, COURIER), bot.clock() + timedelta(minutes=1)
    )


async def test_an_older_show_back_does_not_confirm_a_newer_text(bot) -> None:
    """Typed twice: the first show-back's Confirm says a newer text waits; the second resolves with the newer."""
    number = await accepted_by_hr(bot)
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid on Fridy")
    first = bot.core.last_message(HR_STAFF)
    (old_confirm,) = [d for label, d in bot.core.inline_buttons(first) if label == "Confirm resolve"]
    await bot.say(HR_STAFF, "Paid on Friday")
    answer = await tap(bot, HR_STAFF, first, old_confirm)
    assert answer == {"text": t(bot, "stale.replaced"), "show_alert": False}
    assert Event.RESOLVE not in await events(bot, number)
    await bot.press(HR_STAFF, "Confirm resolve")
    assert [e.note for e in await bot.services.storage.appeals.ledger(number) if e.event is Event.RESOLVE] == [
        "Paid on Friday"
    ]


async def test_a_reason_typed_after_the_appeal_left_the_unit_is_not_applied(bot) -> None:
    """HR asked for a send-back reason; a coordinator moved the appeal meanwhile: HR is told where it went."""
    number = await file_wage_appeal(bot, "en")
    await bot.press(HR_STAFF, "Send back")
    await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.REASSIGN_UNIT, "st1"))
    await bot.say(HR_STAFF, "This is for the trade union")
    assert bot.last_text(HR_STAFF) == t(bot, "stale.not_yours_now", number=number, unit="Station One")
    assert Event.SEND_BACK not in await events(bot, number)
    assert await bot.services.storage.dialogs.prompt(HR_STAFF) is None


async def test_a_reason_asked_for_before_the_appeal_moved_on_is_never_used(bot) -> None:
    """Reject pressed, then the appeal assigned: text typed later is not shown back as a rejection."""
    number = await _submit(bot, COURIER, "suggestion")
    await bot.say(COORDINATOR, f"/open {number}")
    await bot.press(COORDINATOR, "Reject")
    await bot.press(COORDINATOR, "Assign")  # the coordinator changed their mind, on the same card
    await bot.press(COORDINATOR, "Station One")
    await bot.press(COORDINATOR, "Normal")
    await bot.say(COORDINATOR, "This is a good idea")
    assert not bot.last_text(COORDINATOR).startswith(f"Reject #{number}")
    assert await bot.services.storage.dialogs.prompt(COORDINATOR) is None

    # Someone else moved it on while a reason was being written: told so, nothing applied.
    other = await _submit(bot, COURIER, "suggestion")
    await bot.say(COORDINATOR, f"/open {other}")
    await bot.press(COORDINATOR, "Reject")
    await bot.services.storage.appeals.apply(
        ActOnAppeal(other, Event.ASSIGN, COORDINATOR, EventArgs(unit="st1")), bot.clock()
    )
    await bot.say(COORDINATOR, "Not for this district")
    appeal = await bot.services.storage.appeals.get(other)
    assert bot.last_text(COORDINATOR) == t(
        bot, "stale.prompt_moved_on", number=other, state=bot.services.text("en", "state.handling")
    )
    assert appeal.state is State.HANDLING and Event.REJECT not in await events(bot, other)


async def test_a_double_tap_of_accept_leaves_the_card_with_the_buttons_that_apply_now(bot) -> None:
    """The second tap carries the card's old buttons; the card keeps Ask, Note, Resolve and Request more time,
    not only Files."""
    number = await file_wage_appeal(bot, "en")
    card = bot.core.last_message(HR_STAFF)
    accept = callbacks.appeal(number, AppealVerb.ACCEPT)
    first = bot.core.press_button(HR_STAFF, card["message_id"], accept)
    second = bot.core.press_button(HR_STAFF, card["message_id"], accept)
    await bot.deliver()
    assert bot.core.answered_callback(first)["show_alert"] is False
    assert bot.core.answered_callback(second)["text"] == t(bot, "stale.already_done", number=number)
    shown = bot.core.messages(HR_STAFF)[card["message_id"] - 1]
    assert [label for label, _ in bot.core.inline_buttons(shown)] == [
        "Ask the courier",
        "Note",
        "Resolve",
        "Request more time",
    ]
