"""Nobody handles their own appeal: a worker whose appeal lands in their unit, a courier later made
staff, a coordinator who files one. Driven through the real Application; what each person sees."""

from __future__ import annotations

from domain.commands import ActOnAppeal
from domain.lifecycle import Event
from handlers import callbacks
from storage.appeals import OWN_UNIT_NOTICE
from storage.dialogs import Prompt, PromptKind
from tests.every_state import COORDINATOR, COURIER, HR_STAFF, act, file_appeal, greet_everyone, press_data
from tests.harness import Bot, running_bot

OTHER_COORDINATOR = 901


def t(bot: Bot, key: str, **values: object) -> str:
    return bot.services.text("en", key, **values)


def _buttons(bot: Bot, person: int) -> list[str]:
    message = bot.core.last_message(person)
    return [data for _, data in bot.core.inline_buttons(message)] if message else []


async def _card_buttons(bot: Bot, person: int, number: int) -> list[str]:
    """Open the appeal with /open and return the verbs of its card's appeal buttons."""
    await bot.say(person, f"/open {number}")
    return [
        callbacks.decode(d).verb for d in _buttons(bot, person) if callbacks.decode(d).kind is callbacks.Family.APPEAL
    ]


async def _outbox(bot: Bot, template: str) -> list[tuple[int, int]]:
    rows = await bot.services.storage.db.fetchall(
        "SELECT chat_id, appeal_id FROM outbox WHERE template = ? ORDER BY id", (template,)
    )
    return [(r[0], r[1]) for r in rows]


async def test_a_worker_cannot_accept_their_own_appeal_routed_to_their_unit(tmp_path) -> None:
    """HR's worker files a work appeal (routed to HR): no Accept for them, a press is refused with why,
    the coordinator is asked to reassign it with a Reassign button, and another HR worker may act."""
    async with running_bot(tmp_path / "self.sqlite3") as bot:
        await greet_everyone(bot)
        number = await file_appeal(bot, HR_STAFF, "Work protection", "My wages for October were not paid")
        await bot.tick()
        appeal = await bot.services.storage.appeals.get(number)
        assert (appeal.state, appeal.unit_id) == ("handling", "hr")
        # The coordinator hears it sits with its own filer's unit, with the card and a Reassign button.
        assert await _outbox(bot, OWN_UNIT_NOTICE) == [(COORDINATOR, number)]
        notice = next(
            m
            for m in bot.core.bot_messages(COORDINATOR)
            if t(bot, OWN_UNIT_NOTICE, number=number, unit="HR Bureau") in (m.get("text") or "")
        )
        assert callbacks.appeal(number, "rea") in [d for _, d in bot.core.inline_buttons(notice)]
        # The filer is not sent the unit's "new appeal" notice for their own appeal.
        assert not any(text.startswith(t(bot, "notice.assign.unit", unit="HR Bureau")) for text in bot.texts(HR_STAFF))

        # Their card says why, and has no worker's buttons.
        assert await _card_buttons(bot, HR_STAFF, number) == [callbacks.AppealVerb.WITHDRAW]
        assert t(bot, "selfhandling.card_staff") in bot.last_text(HR_STAFF)

        # A press of Accept (an old button, or forged) is refused with the reason, and changes nothing.
        version = appeal.version
        query = await press_data(bot, HR_STAFF, callbacks.appeal(number, "acc"))
        assert bot.core.answered_callback(query) == {"text": t(bot, "selfhandling.refused"), "show_alert": True}
        for verb in ("sb", "ask", "note", "res"):
            query = await press_data(bot, HR_STAFF, callbacks.appeal(number, verb))
            assert bot.core.answered_callback(query) == {"text": t(bot, "selfhandling.refused"), "show_alert": True}
        assert (await bot.services.storage.appeals.get(number)).version == version
        assert await bot.services.storage.dialogs.prompt(HR_STAFF) is None

        # Typed text the bot asked for before the rule (a prompt left from an older bot) is refused the same way.
        await bot.services.storage.dialogs.set_prompt(HR_STAFF, Prompt(PromptKind.NOTE, number, {}), bot.clock())
        await bot.say(HR_STAFF, "Called the platform myself")
        assert bot.last_text(HR_STAFF) == t(bot, "selfhandling.refused")
        assert await bot.services.storage.dialogs.prompt(HR_STAFF) is None
        assert (await bot.services.storage.appeals.get(number)).version == version

        # Storage refuses too, whatever path calls it.
        try:
            await bot.services.storage.appeals.apply(ActOnAppeal(number, Event.ACCEPT, HR_STAFF), bot.clock())
        except Exception as error:  # noqa: BLE001 - the reason is what is checked
            assert getattr(error, "reason", None) == "own_appeal"
        else:
            raise AssertionError("storage let a worker accept their own appeal")

        # Triage lists it first, as one to reassign.
        first = (await bot.say(COORDINATOR, "/triage"))[0]["text"]
        assert first.startswith(t(bot, "selfhandling.triage_title")) and f"#{number}" in first

        # The coordinator reassigns it to Station One, whose workers then accept it.
        await act(bot, COORDINATOR, number, "reau", arg="st1")
        assert (await bot.services.storage.appeals.get(number)).unit_id == "st1"
        assert (await bot.say(COORDINATOR, "/triage"))[0]["text"] == t(bot, "coord.triage_empty")
        await act(bot, 500, number, "acc")
        assert (await bot.services.storage.appeals.get(number)).accepted


async def test_a_courier_later_made_staff_cannot_resolve_their_old_appeal(tmp_path) -> None:
    """A courier's appeal is accepted by HR; the courier then joins HR with a code. They may not resolve
    it (nor note, ask, or confirm a typed result), the coordinator is asked to reassign it, and as its
    courier they can still answer and withdraw."""
    async with running_bot(tmp_path / "later.sqlite3") as bot:
        await greet_everyone(bot)
        number = await file_appeal(bot, COURIER, "Work protection", "Overtime in November was not paid")
        await act(bot, HR_STAFF, number, "acc")
        await bot.say(COORDINATOR, "/invite hr")
        code = bot.last_text(COORDINATOR).rsplit(" ", 1)[1]
        await bot.say(COURIER, f"/join {code}")
        assert bot.texts(COURIER)[-1].startswith("Welcome! You are now on the staff of this unit: HR Bureau.")
        await bot.tick()
        assert await _outbox(bot, OWN_UNIT_NOTICE) == [(COORDINATOR, number)]

        verbs = await _card_buttons(bot, COURIER, number)
        assert callbacks.AppealVerb.RESOLVE not in verbs and callbacks.AppealVerb.WITHDRAW in verbs
        assert t(bot, "selfhandling.card_staff") in bot.last_text(COURIER)
        query = await press_data(bot, COURIER, callbacks.appeal(number, "res"))
        assert bot.core.answered_callback(query) == {"text": t(bot, "selfhandling.refused"), "show_alert": True}
        assert (await bot.services.storage.appeals.get(number)).state == "handling"

        # A confirm button forged for a typed result is refused the same way.
        version = (await bot.services.storage.appeals.get(number)).version
        query = await press_data(bot, COURIER, callbacks.confirm(number, "res", version))
        assert bot.core.answered_callback(query) == {"text": t(bot, "selfhandling.refused"), "show_alert": True}
        assert (await bot.services.storage.appeals.get(number)).state == "handling"

        # Their colleague asks; they answer as the courier they are.
        await act(bot, HR_STAFF, number, "ask", "Which month exactly?")
        await act(bot, COURIER, number, "ans", "November")
        assert not (await bot.services.storage.appeals.get(number)).awaiting_courier


async def test_a_coordinator_cannot_triage_their_own_appeal(tmp_path) -> None:
    """A coordinator files an appeal no rule routes: they may not assign, reject or merge it; another
    coordinator may."""
    async with running_bot(tmp_path / "coord.sqlite3", coordinators=[COORDINATOR, OTHER_COORDINATOR]) as bot:
        await greet_everyone(bot, (COURIER, HR_STAFF, COORDINATOR, OTHER_COORDINATOR))
        number = await file_appeal(bot, COORDINATOR, "Suggestions", "Please add a microwave at the station")
        appeal = await bot.services.storage.appeals.get(number)
        assert appeal.state == "assessing"
        assert await _card_buttons(bot, COORDINATOR, number) == [callbacks.AppealVerb.WITHDRAW]
        assert t(bot, "selfhandling.card_coordinator") in bot.last_text(COORDINATOR)
        for data in (
            callbacks.appeal(number, "asg"),
            callbacks.appeal(number, "asgp", "hr.normal"),
            callbacks.appeal(number, "rej"),
            callbacks.appeal(number, "mrg"),
        ):
            query = await press_data(bot, COORDINATOR, data)
            assert bot.core.answered_callback(query) == {"text": t(bot, "selfhandling.refused"), "show_alert": True}, (
                data
            )
        assert (await bot.services.storage.appeals.get(number)).version == appeal.version

        await act(bot, OTHER_COORDINATOR, number, "asgp", arg="hr.normal")
        assert (await bot.services.storage.appeals.get(number)).unit_id == "hr"
        # Once it is with a unit, the filer still cannot note on it as a coordinator.
        query = await press_data(bot, COORDINATOR, callbacks.appeal(number, "note"))
        assert bot.core.answered_callback(query) == {"text": t(bot, "selfhandling.refused"), "show_alert": True}
