"""Buttons and typed answers on one appeal, for couriers, staff and coordinators alike.

Every press reloads the appeal and the presser from the database; the lifecycle table (through
storage) decides whether the action may happen. Callback data only says what was pressed.

A press that no longer applies (the appeal moved on) is answered with a toast saying what
happened, and only the pressed message's buttons change: its text may hold someone's words. Final
actions (resolve, reject, merge, withdraw) are shown back and need a confirm button, which carries
the appeal's version it was shown at: storage's compare-and-set makes a double tap act once.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Message, Update
from telegram.error import BadRequest

from domain import lifecycle
from domain.commands import ActOnAppeal, AnswerFollowUp, EventArgs
from domain.deadlines import Priority
from domain.lifecycle import Event
from handlers import callbacks, evidence, text_prompts
from handlers.callbacks import AppealVerb, Press
from handlers.cards import (
    ACTIONS,
    BY_VERB,
    WAITS_FOR_PARTS,
    Action,
    allowed,
    can_see,
    card_facts,
    open_parts,
    refusal_key,
    roles,
    state_line,
    withheld,
)
from handlers.common import Who, drop_keyboard, edit_or_reply, main_menu, refuse, reply, reply_chat, retire_buttons
from handlers.deadlines_view import deadline_line
from handlers.keyboards import button, inline
from handlers.quiet_bot import QuietBot
from handlers.services import BotContext, Services
from handlers.telegram_text import TOAST, said, units
from storage import usecases
from storage.appeals import BadEventArguments, words_enough
from storage.dialogs import Prompt, PromptKind
from storage.models import Appeal, LedgerEntry

# Events that leave the state as it was: a stale press is explained by what came before them.
_QUIET_EVENTS = frozenset({Event.NOTE})
# Reasons storage gives that the [confirm] table explains.
_CONFIRM_REASONS = {
    "note_too_thin",
    *(f"merge_{r}" for r in ("self", "missing", "not_open", "closed_long_ago", "unrelated")),
}


# ---------------------------------------------------------------------------- showing an appeal


async def show(
    update: Update, context: BotContext, me: Who, appeal: Appeal, *, edit: bool = False, files: bool = False
) -> None:
    """Show an appeal to `me` as they may see it, with the buttons they may press (handlers.evidence).

    With `edit`, the pressed message is replaced, but only if it is this appeal's card: a notice
    holding someone's words keeps them, and the card comes as a new message.
    """
    edit = edit and _pressed_card(update, context.services, appeal)
    await evidence.show(update, context, me, appeal, edit=edit, files=files)


def _pressed_card(update: Update, services: Services, appeal: Appeal) -> bool:
    """Whether the pressed message is this appeal's card (its title line is in the text)."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message) or query.message.text is None:
        return False
    category = services.category(appeal.category)
    return any(
        services.text(
            lang, "card.title", number=appeal.id, category=category.name(lang) if category else appeal.category
        )
        in query.message.text
        for lang in services.catalog.messages
    )


# How much of a confirmed text a toast repeats.
_IN_TOAST = 100

# The argument of Assign on the priority question's Back button: the unit list again, in place.
_BACK = "back"

# Buttons that never go stale: opening the appeal, its files, its full text.
_DURABLE = frozenset({AppealVerb.OPEN, AppealVerb.FILES, AppealVerb.FULL_TEXT})


def _still_applies(data: str | None, appeal: Appeal, me: Who, now: datetime, max_redos: int) -> bool:
    """Whether a button (by its callback data) may stay under a message about `appeal`."""
    press = callbacks.decode(data)
    if press is None or press.kind is not callbacks.Family.APPEAL or press.appeal_id != appeal.id:
        return True  # not about this appeal: not ours to judge
    if press.verb in _DURABLE:
        return True
    action = BY_VERB.get(press.verb)
    return (
        action is not None
        and can_see(me.person, appeal)
        and allowed(action, appeal, roles(me.person, appeal), now, max_redos=max_redos)
    )


async def refresh_buttons(update: Update, context: BotContext, me: Who, appeal: Appeal) -> None:
    """Take away the pressed message's buttons about `appeal` that no longer apply; its text stays as it is.

    On the appeal's own card the buttons become the ones that apply now: the press carries the
    buttons as they were when it was made, and a card edited since (a double tap) must keep its new ones.
    """
    query = update.callback_query
    if query is None or not isinstance(query.message, Message) or query.message.reply_markup is None:
        return
    services = context.services
    now, redos = services.clock(), services.storage.appeals.max_redos
    rows = query.message.reply_markup.to_dict()["inline_keyboard"]
    if _pressed_card(update, services, appeal):
        facts = await card_facts(services, appeal)
        reader, lang, shared = me.person, me.lang, False
        if reply_chat(update) != query.message.chat.id:  # a unit group's card: drawn for the group (handlers/desk.py)
            desk = await services.storage.desks.by_chat(query.message.chat.id)
            if desk is not None:
                reader, lang, shared = desk.reader(), services.catalog.language_for(desk.language, None), True
        current = evidence.card_markup(services, appeal, roles(reader, appeal), facts, lang, shared=shared)
        kept = current["inline_keyboard"] if current else []
    else:
        kept = [[b for b in row if _still_applies(b.get("callback_data"), appeal, me, now, redos)] for row in rows]
        kept = [row for row in kept if row]
    if kept == rows:
        return
    if not kept:
        await drop_keyboard(update)
        return
    bot: QuietBot = update.get_bot()  # type: ignore[assignment]
    try:
        await bot.edit_markup(query.message.chat.id, query.message.message_id, inline(kept))
    except BadRequest as error:
        if "not modified" not in str(error).lower():  # a second tap that came in before the first one's edit
            raise


# ---------------------------------------------------------------------------- stale presses


async def _unit_name(services: Services, unit_id: str | None, lang: str) -> str:
    unit = await services.storage.people.unit(unit_id) if unit_id else None
    return unit.name(lang) if unit else "—"


async def stale_text(
    services: Services, appeal: Appeal, lang: str, me: Who, event: Event | None = None, since: int | None = None
) -> str:
    """A toast saying what happened to the appeal since the pressed message was sent.

    "Already done" when `me` did `event` (after version `since`, if given): a double tap.
    """
    if event in (Event.ASSIGN, Event.REASSIGN) and appeal.unit_id and appeal.state is not lifecycle.State.ASSESSING:
        # A unit (or priority) button pressed after the appeal went somewhere: say where, never a vague
        # "already done" that a hurried coordinator reads as "moved to the unit I just pressed".
        last_move = await _last_move(services, appeal.id)
        key = "fixcards.reassigned_already" if last_move is Event.REASSIGN else "fixcards.assigned_already"
        return services.text(lang, key, number=appeal.id, unit=await _unit_name(services, appeal.unit_id, lang))
    ledger = await services.storage.appeals.ledger(appeal.id)
    recent = ledger[since:] if since is not None else ledger[-1:]
    if event is not None and any(e.event is event and e.actor_id == me.person.telegram_id for e in recent):
        return services.text(lang, "stale.already_done", number=appeal.id)
    last: LedgerEntry | None = next((e for e in reversed(ledger) if e.event not in _QUIET_EVENTS), None)
    if last is None:
        return services.text(lang, "stale.moved_on", number=appeal.id)
    return services.text(
        lang,
        f"stale.{last.event}",
        number=appeal.id,
        unit=await _unit_name(services, last.unit_id, lang),
        original=appeal.merged_into or "",
        state=state_line(services, appeal, lang),
    )


async def _last_move(services: Services, appeal_id: int) -> Event | None:
    """The newest assign or reassign in the appeal's ledger."""
    ledger = await services.storage.appeals.ledger(appeal_id)
    return next((e.event for e in reversed(ledger) if e.event in (Event.ASSIGN, Event.REASSIGN)), None)


async def _stale(
    update: Update, context: BotContext, me: Who, appeal: Appeal, event: Event | None = None, since: int | None = None
) -> None:
    """Answer a press that no longer applies: a toast (not an alert), and the message loses the dead buttons."""
    text = await stale_text(context.services, appeal, me.lang, me, event, since)
    await update.callback_query.answer(text)
    await refresh_buttons(update, context, me, appeal)


async def _once_held(context: BotContext, me: Who, appeal_id: int) -> bool:
    """Whether `me` is staff of a unit that had this appeal before: their old card may still be pressed."""
    if me.person.role != "staff" or me.person.unit_id is None:
        return False
    ledger = await context.services.storage.appeals.ledger(appeal_id)
    return any(e.unit_id == me.person.unit_id for e in ledger)


async def _load(update: Update, context: BotContext, me: Who, press: Press) -> Appeal | None:
    """The pressed appeal if `me` may see it; otherwise the press is answered and None returned."""
    appeal = await context.services.storage.appeals.get(press.appeal_id)
    if appeal is not None and can_see(me.person, appeal):
        return appeal
    if appeal is not None and await _once_held(context, me, appeal.id):
        await update.callback_query.answer(
            context.services.text(
                me.lang,
                "stale.not_yours_now",
                number=appeal.id,
                unit=await _unit_name(context.services, appeal.unit_id, me.lang),
            )
        )
        await drop_keyboard(update)
        return None
    await refuse(update, context, me.lang, "appeal.not_found")
    return None


def _refusal_key(error: lifecycle.LifecycleError) -> str:
    if isinstance(error, BadEventArguments) and error.reason.startswith("cohandle_"):
        return f"cohandle.refused_{error.reason.removeprefix('cohandle_')}"
    if isinstance(error, BadEventArguments) and error.reason.startswith("extension_"):
        return f"extension.refused_{error.reason.removeprefix('extension_')}"
    if isinstance(error, BadEventArguments):
        return f"confirm.bad_{error.reason}" if error.reason in _CONFIRM_REASONS else f"appeal.bad_{error.reason}"
    if isinstance(error, lifecycle.NotPermitted):
        return "selfhandling.refused" if error.reason == lifecycle.OWN_APPEAL else "appeal.not_permitted"
    return "appeal.not_found"  # gone, or moved on and gone since


def _command(
    me: Who, appeal: Appeal, event: Event, args: EventArgs = EventArgs(), version: int | None = None
) -> ActOnAppeal:
    """The command for `me` to do `event` on `appeal` (only at `version`, if given)."""
    return ActOnAppeal(appeal.id, event, me.person.telegram_id, args, expected_version=version)


async def _apply(update: Update, context: BotContext, me: Who, command: ActOnAppeal) -> Appeal | None:
    """Act as `me`; on refusal say why (a stale press: what happened) and return None."""
    services = context.services
    event, since = command.event, command.expected_version
    try:
        applied = await usecases.act(services.storage, command, services.clock())
    except lifecycle.LifecycleError as error:
        fresh = await services.storage.appeals.get(command.appeal_id)
        stale = isinstance(error, (lifecycle.StaleEvent, lifecycle.IllegalEvent)) and fresh is not None
        if stale and update.callback_query is not None:
            await _stale(update, context, me, fresh, event, since=since)
        elif stale:
            await reply(update, await stale_text(services, fresh, me.lang, me, event, since=since))
        else:
            await refuse(update, context, me.lang, _refusal_key(error))
        return None
    return applied.appeal


# ---------------------------------------------------------------------------- the presses


async def _refused(update: Update, context: BotContext, me: Who, appeal: Appeal, action: Action) -> bool:
    """Whether the lifecycle refuses `action` to `me` now; if so, say why: not theirs (an alert) or stale (a toast)."""
    now, redos = context.services.clock(), context.services.storage.appeals.max_redos
    if allowed(action, appeal, roles(me.person, appeal), now, max_redos=redos):
        return False
    why = _why_not(action, appeal, me, now, redos)
    if isinstance(why, lifecycle.NotPermitted):
        await refuse(update, context, me.lang, refusal_key(me.person, appeal, action.event))
    elif why.reason == WAITS_FOR_PARTS:
        await refuse(
            update, context, me.lang, "cohandle.resolve_waits", **await open_parts(context.services, appeal, me.lang)
        )
    else:
        await _stale(update, context, me, appeal, action.event)
    return True


async def on_open(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Open: the appeal's card, as a new message."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    await update.callback_query.answer()
    await show(update, context, me, appeal)


async def on_files(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Files: the appeal's photos, voice notes and documents, sent again."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    await evidence.on_files(update, context, me, appeal)


async def on_action(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A lifecycle button: act, ask for text, choose a unit, or ask to confirm a withdrawal."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    services = context.services
    action = BY_VERB[press.verb]
    if await _refused(update, context, me, appeal, action):
        return
    if action.needs_text:
        await update.callback_query.answer()
        await text_prompts.ask(update, context, me, appeal, PromptKind(action.event.value))
    elif action.event in (Event.ASSIGN, Event.REASSIGN):
        await update.callback_query.answer()
        # Back from the priority question turns it into the unit list again, so one message has the buttons.
        await _choose_unit(update, context, me, appeal, action.event, in_place=press.arg == _BACK)
    elif action.event is Event.WITHDRAW:
        await update.callback_query.answer()
        t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
        confirm = button(
            t("button.withdraw_confirm"), callbacks.appeal(appeal.id, AppealVerb.WITHDRAW_CONFIRM, str(appeal.version))
        )
        back = button(t("button.back"), callbacks.appeal(appeal.id, AppealVerb.OPEN))
        # Only a unit that holds the appeal is told of a withdrawal.
        question = (
            "appeal.withdraw_confirm"
            if appeal.state is lifecycle.State.HANDLING
            else "fixcards.withdraw_confirm_unassigned"
        )
        await reply(update, t(question, number=appeal.id), reply_markup=inline([[confirm, back]]))
    elif action.event is Event.ALLOW_RESOLVE:
        await _allow_resolve(update, context, me, appeal, press)
    else:
        await _act(update, context, me, appeal, _command(me, appeal, action.event))


async def _allow_resolve(update: Update, context: BotContext, me: Who, appeal: Appeal, press: Press) -> None:
    """Allow resolving now: asked first, naming the open parts; the confirmation acts once, at the version asked at."""
    if press.arg.isdecimal():
        await act_at_version(update, context, me, appeal, Event.ALLOW_RESOLVE, EventArgs(), int(press.arg))
        return
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    await update.callback_query.answer()
    confirm = button(
        t("cohandle.button_allow_confirm"), callbacks.appeal(appeal.id, AppealVerb.ALLOW_RESOLVE, str(appeal.version))
    )
    back = button(t("button.back"), callbacks.appeal(appeal.id, AppealVerb.OPEN))
    question = t("cohandle.allow_confirm", **await open_parts(services, appeal, me.lang))
    await reply(update, question, reply_markup=inline([[confirm, back]]))


async def on_unit_chosen(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Assign: a unit was chosen, now the priority. Reassign: a unit was chosen, done."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    reassign = press.verb is AppealVerb.REASSIGN_UNIT
    action = BY_VERB[AppealVerb.REASSIGN if reassign else AppealVerb.ASSIGN]
    if await _refused(update, context, me, appeal, action):
        return
    unit, _, version_text = press.arg.partition(".")
    if reassign:
        # The list was shown at a version: a unit pressed after the appeal moved (a second tap) never moves it again.
        version = int(version_text) if version_text.isdecimal() else None
        if version is not None and appeal.version != version:
            await _stale(update, context, me, appeal, action.event, since=version)
            return
        await _act(update, context, me, appeal, _command(me, appeal, action.event, EventArgs(unit=unit), version))
        return
    await update.callback_query.answer()
    await _choose_priority(update, context, me, appeal, unit)


async def on_priority_chosen(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Assign with the unit and priority chosen."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    action = BY_VERB[AppealVerb.ASSIGN]
    if await _refused(update, context, me, appeal, action):
        return
    unit, _, priority = press.arg.partition(".")
    args = EventArgs(unit=unit, priority=Priority(priority) if priority in ("normal", "urgent") else None)
    await _act(update, context, me, appeal, _command(me, appeal, action.event, args))


async def on_withdraw_confirmed(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Withdraw it: acts once, at the version the courier was asked at."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    version = int(press.arg) if press.arg.isdecimal() else None  # buttons sent before versions: none
    action = BY_VERB[AppealVerb.WITHDRAW]
    if _may_never(action, appeal, me, context.services.clock(), context.services.storage.appeals.max_redos):
        await refuse(update, context, me.lang, "appeal.not_permitted")
        return
    if version is not None and appeal.version != version:
        await _stale(update, context, me, appeal, action.event, since=version)
        return
    await _act(update, context, me, appeal, _command(me, appeal, action.event, version=version), drop=True)


async def on_confirm(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Confirm the typed text the bot showed back (result, reason, merge): acts once."""
    verb, _, rest = press.arg.partition(".")
    version_text, _, digest = rest.partition(".")
    action = BY_VERB.get(verb)
    kind = next((k for k in PromptKind if action is not None and k.event is action.event), None)
    if kind is None or not version_text.isdecimal() or not text_prompts.STEPS[kind].confirm:
        await refuse(update, context, me.lang, "press.invalid")
        return
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    services = context.services
    version = int(version_text)
    if _may_never(action, appeal, me, services.clock(), services.storage.appeals.max_redos):
        await refuse(update, context, me.lang, refusal_key(me.person, appeal, action.event))
        return
    prompt = await services.storage.dialogs.prompt(me.person.telegram_id)
    pending = (
        prompt is not None
        and prompt.appeal_id == appeal.id
        and prompt.verb.event is action.event
        and prompt.data.typed
        and prompt.data.version == version
    )
    if pending and digest and digest != text_prompts.text_digest(prompt.data.text or ""):
        # An older show-back: what was written after it is what waits for confirmation.
        await update.callback_query.answer(services.text(me.lang, "stale.replaced"))
        await drop_keyboard(update)
        return
    if not pending or appeal.version != version:
        if pending:
            await services.storage.dialogs.clear_prompt(me.person.telegram_id)
        other = await _other_text_done(services, appeal, me, action.event, version, digest)
        if other is not None:
            await update.callback_query.answer(other)
            await refresh_buttons(update, context, me, appeal)
            return
        await _stale(update, context, me, appeal, action.event, since=version)
        return
    await services.storage.dialogs.clear_prompt(me.person.telegram_id)
    command = _command(me, appeal, action.event, text_prompts.event_args(prompt), version)
    await _act(update, context, me, appeal, command, drop=True, card=True)


async def _other_text_done(
    services: Services, appeal: Appeal, me: Who, event: Event, version: int, digest: str
) -> str | None:
    """If `me` already did `event` since `version` with another text than the one this confirm showed,
    a toast saying so (never "already done", which reads as if this text were saved)."""
    if not digest:
        return None
    done = next(
        (
            e
            for e in (await services.storage.appeals.ledger(appeal.id))[version:]
            if e.event is event and e.actor_id == me.person.telegram_id
        ),
        None,
    )
    if done is None:
        return None
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    if event is Event.MERGE:
        if text_prompts.text_digest(str(appeal.merged_into or "")) == digest:
            return None
        return t("fixcards.other_merge", number=appeal.id, original=appeal.merged_into or "")
    if text_prompts.text_digest(done.note or "") == digest:
        return None
    key = {Event.RESOLVE: "fixcards.other_result", Event.REJECT: "fixcards.other_reason"}.get(event)
    if key is None or not done.note:
        return t("fixcards.other_text_confirmed", number=appeal.id)
    text = t(key, number=appeal.id, text=said(done.note, _IN_TOAST))
    return text if units(text) <= TOAST else t("fixcards.other_text_confirmed", number=appeal.id)


async def on_edit(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Edit: write the text again; the question is asked anew."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    prompt = await context.services.storage.dialogs.prompt(me.person.telegram_id)
    if prompt is None or prompt.appeal_id != appeal.id:
        await _stale(update, context, me, appeal)
        return
    await update.callback_query.answer()
    await drop_keyboard(update)
    await text_prompts.ask(
        update, context, me, appeal, prompt.verb, pressed=prompt.data.message_id, days=prompt.data.days
    )


async def on_cancel(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Cancel the text the bot asked for; the pressed message (maybe someone's words shown back) keeps its text."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    services = context.services
    dialogs = services.storage.dialogs
    prompt = await dialogs.prompt(me.person.telegram_id)
    if prompt is None or prompt.appeal_id != appeal.id:
        await update.callback_query.answer(services.text(me.lang, "stale.nothing_pending"))
        await drop_keyboard(update)
        return
    await dialogs.clear_prompt(me.person.telegram_id)
    await update.callback_query.answer()
    await drop_keyboard(update)
    await reply(update, services.text(me.lang, "appeal.prompt_cancelled"), reply_markup=await main_menu(services, me))


async def on_followup(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """The courier's answer to "is it still solved?"."""
    appeal = await _load(update, context, me, press)
    if appeal is None:
        return
    services = context.services
    if lifecycle.Role.COURIER not in roles(me.person, appeal):
        # Only the courier is asked; staff and coordinators may see the appeal but not answer for them.
        await refuse(update, context, me.lang, "appeal.not_permitted")
        return
    description = services.text(me.lang, "followup.description", original=appeal.id)
    command = AnswerFollowUp(appeal.id, me.person.telegram_id, press.verb is AppealVerb.FOLLOWUP_SOLVED, description)
    answered = await usecases.answer_follow_up(services.storage, command, services.clock())
    if answered is None:
        await refuse(update, context, me.lang, "followup.already")
        return
    await update.callback_query.answer()
    await drop_keyboard(update)
    new = answered.reopened
    if new is None:
        await reply(update, services.text(me.lang, "followup.thanks"))
        return
    await reply(
        update,
        services.text(
            me.lang,
            "followup.reopened",
            number=new.id,
            unit=await _unit_name(services, new.unit_id, me.lang),
            original=appeal.id,
        ),
    )


def _may_never(action: Action, appeal: Appeal, me: Who, now: datetime, max_redos: int) -> bool:
    """Whether `me` holds no role that may take `action` (as opposed to the appeal having moved on)."""
    return isinstance(_why_not(action, appeal, me, now, max_redos), lifecycle.NotPermitted) and not allowed(
        action, appeal, roles(me.person, appeal), now, max_redos=max_redos
    )


def _why_not(action: Action, appeal: Appeal, me: Who, now: datetime, max_redos: int) -> lifecycle.LifecycleError:
    try:
        lifecycle.decide(appeal.facts(now, max_redos), action.event, roles(me.person, appeal))
    except lifecycle.LifecycleError as error:
        return error
    return lifecycle.StaleEvent("stale", appeal.state, action.event)


async def _act(
    update: Update,
    context: BotContext,
    me: Who,
    appeal: Appeal,
    command: ActOnAppeal,
    *,
    drop: bool = False,
    card: bool = False,
) -> None:
    """Act on `appeal`; then the pressed card shows the new state (a confirm message just loses its buttons)."""
    updated = await _apply(update, context, me, command)
    if updated is None:
        return
    services = context.services
    prompt = await services.storage.dialogs.prompt(me.person.telegram_id)
    if prompt is not None and prompt.appeal_id == appeal.id:
        # They did something else with this appeal: text typed next is not for what they pressed before.
        await services.storage.dialogs.clear_prompt(me.person.telegram_id)
    await update.callback_query.answer()
    if drop:
        await drop_keyboard(update)
    elif _pressed_card(update, services, updated):
        await show(update, context, me, updated, edit=True)
    else:
        await refresh_buttons(update, context, me, updated)
    if card:
        await evidence.keep_current(update, context, me, updated)
    deadline = ""
    if command.event is Event.APPROVE_EXTENSION:  # the coordinator sees the deadline they just moved
        timers = await services.storage.appeals.timers_of([updated.id])
        deadline = deadline_line(services, updated, timers.get(updated.id, ()), me.lang) or ""
    done = services.text(
        me.lang,
        f"appeal.done_{command.event}",
        number=updated.id,
        unit=await _unit_name(services, updated.unit_id, me.lang),
        priority=services.text(me.lang, f"button.{updated.priority}"),
        deadline=deadline,
    )
    await reply(update, done, reply_markup=await main_menu(services, me))


async def _choose_unit(
    update: Update, context: BotContext, me: Who, appeal: Appeal, event: Event, *, in_place: bool = False
) -> None:
    """The unit list, as a new message (from the card) or `in_place` of the priority question (its Back)."""
    services = context.services
    units = [u for u in await services.storage.people.active_units() if u.id != appeal.unit_id]
    if event is Event.ASSIGN:
        rows = [[button(u.name(me.lang), callbacks.appeal(appeal.id, AppealVerb.ASSIGN_UNIT, u.id))] for u in units]
    else:
        arg = lambda unit_id: f"{unit_id}.{appeal.version}"  # noqa: E731
        rows = [
            [button(u.name(me.lang), callbacks.appeal(appeal.id, AppealVerb.REASSIGN_UNIT, arg(u.id)))] for u in units
        ]
    rows.append([button(services.text(me.lang, "button.back"), callbacks.appeal(appeal.id, AppealVerb.OPEN))])
    send = edit_or_reply if in_place else reply
    await send(update, services.text(me.lang, "appeal.choose_unit", number=appeal.id), reply_markup=inline(rows))


async def _choose_priority(update: Update, context: BotContext, me: Who, appeal: Appeal, unit_id: str) -> None:
    """The priority question, in place of the unit list: one message with buttons, whose Back lists the units again."""
    services = context.services
    unit = await services.storage.people.unit(unit_id)
    if unit is None or not unit.active:
        await reply(update, services.text(me.lang, "appeal.bad_unknown_unit"))
        return
    buttons = [
        button(
            services.text(me.lang, f"button.{p}"),
            callbacks.appeal(appeal.id, AppealVerb.ASSIGN_PRIORITY, f"{unit_id}.{p}"),
        )
        for p in ("normal", "urgent")
    ]
    back = button(services.text(me.lang, "button.back"), callbacks.appeal(appeal.id, AppealVerb.ASSIGN, _BACK))
    await edit_or_reply(
        update,
        services.text(me.lang, "appeal.choose_priority", number=appeal.id, unit=unit.name(me.lang)),
        reply_markup=inline([buttons, [back]]),
    )


# ---------------------------------------------------------------------------- typed text


async def on_typed(update: Update, context: BotContext, me: Who, prompt: Prompt) -> None:
    """Text the bot asked for (a reason, question, answer, result): apply the event it completes.

    What each kind takes and whether it is shown back first is its step in handlers/text_prompts.py.
    """
    message = update.effective_message
    text = (message.text or message.caption or "").strip()
    await take_text(update, context, me, prompt, text, text_prompts.files_of(message))


async def take_text(
    update: Update, context: BotContext, me: Who, prompt: Prompt, text: str, files: list[tuple[str, str, str]]
) -> None:
    """The text (and files) for `prompt`, typed or a canned reply sent as is: checked, then shown back or applied."""
    services = context.services
    kind = prompt.verb
    step = text_prompts.STEPS[kind]
    if not text and not (files and step.files):
        await refuse(update, context, me.lang, "confirm.text_or_files" if step.files else "appeal.prompt_text_only")
        return
    if len(text) > text_prompts.MAX_TYPED:
        await refuse(update, context, me.lang, "appeal.prompt_too_long", length=len(text), limit=text_prompts.MAX_TYPED)
        return
    appeal = await services.storage.appeals.get(prompt.appeal_id) if prompt.appeal_id else None
    if appeal is None or not can_see(me.person, appeal):
        await services.storage.dialogs.clear_prompt(me.person.telegram_id)
        if appeal is not None and await _once_held(context, me, appeal.id):
            unit = await _unit_name(services, appeal.unit_id, me.lang)
            await reply(update, services.text(me.lang, "stale.not_yours_now", number=appeal.id, unit=unit))
            return
        await refuse(update, context, me.lang, "appeal.not_found")
        return
    action = next(a for a in ACTIONS if a.event is kind.event)
    if not allowed(
        action, appeal, roles(me.person, appeal), services.clock(), max_redos=services.storage.appeals.max_redos
    ):
        # Asked for before the appeal moved on (assigned, say, after Reject was pressed): never act on it now.
        await services.storage.dialogs.clear_prompt(me.person.telegram_id)
        if withheld(me.person, appeal) & lifecycle.may_ever(action.event):
            await reply(update, services.text(me.lang, "selfhandling.refused"))  # their own appeal, not a stale one
            return
        state = state_line(services, appeal, me.lang)
        await reply(update, services.text(me.lang, "stale.prompt_moved_on", number=appeal.id, state=state))
        return
    if not words_enough(kind.event, text):
        await reply(update, services.text(me.lang, "confirm.bad_note_too_thin"))
        return
    if step.read is not None:
        text = await step.read(update, context, me, appeal, text)
        if text is None:
            return
    # The text came: the question's Cancel, and an older show-back's buttons, no longer apply.
    await retire_buttons(update, prompt.data.asked_at)
    await retire_buttons(update, prompt.data.shown_at)
    typed = Prompt(
        kind,
        appeal.id,
        prompt.data.model_copy(
            update={"text": text, "files": files, "version": appeal.version, "asked_at": None, "shown_at": None}
        ),
    )
    if step.confirm:
        shown_at = await text_prompts.show_back(update, context, me, appeal, typed)
        typed = Prompt(kind, appeal.id, typed.data.model_copy(update={"shown_at": shown_at}))
        await services.storage.dialogs.set_prompt(me.person.telegram_id, typed, services.clock())
        return
    if not await services.storage.dialogs.take_prompt(me.person.telegram_id, prompt):
        # Another update took the question meanwhile (a second text handled side by side): it acts once.
        await refuse(update, context, me.lang, "stale.nothing_pending")
        return
    updated = await _apply(update, context, me, _command(me, appeal, kind.event, text_prompts.event_args(typed)))
    if updated is None:
        return
    await evidence.keep_current(update, context, me, updated)
    await reply(
        update,
        services.text(me.lang, f"appeal.done_{kind.event}", number=updated.id),
        reply_markup=await main_menu(services, me),
    )


async def act_at_version(
    update: Update, context: BotContext, me: Who, appeal: Appeal, event: Event, args: EventArgs, version: int
) -> None:
    """Take `event` on the appeal as a button drawn at `version` asked (a unit or a length chosen from a list):
    refused if `me` may never, a stale answer if the appeal moved on since, else done once."""
    action = next(a for a in ACTIONS if a.event is event)
    services = context.services
    if _may_never(action, appeal, me, services.clock(), services.storage.appeals.max_redos):
        await refuse(update, context, me.lang, refusal_key(me.person, appeal, event))
        return
    if appeal.version != version:
        await _stale(update, context, me, appeal, event, since=version)
        return
    await _act(update, context, me, appeal, _command(me, appeal, event, args, version), drop=True)


# The steps around an event's own buttons elsewhere (handlers/extensions.py) load, refuse, act and
# answer a stale press exactly as these do.
load_pressed = _load
refused_now = _refused
answer_stale = _stale
act_pressed = _act
command_for = _command
may_never = _may_never
