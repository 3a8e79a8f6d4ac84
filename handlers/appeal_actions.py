"""Buttons and typed answers on one appeal, for couriers, staff and coordinators alike.

Every press reloads the appeal and the presser from the database; the lifecycle table (through
storage) decides whether the action may happen. Callback data only says what was pressed.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update

from domain import lifecycle
from domain.deadlines import Priority
from domain.lifecycle import Event
from handlers import callbacks
from handlers.callbacks import Press
from handlers import evidence
from handlers.cards import BY_VERB, Action, allowed, can_see, roles
from handlers.common import Who, drop_keyboard, edit_or_reply, main_menu, refuse, reply
from handlers.keyboards import button, inline
from handlers.services import BotContext
from storage.appeals import MAX_NOTE, AppealNotFound, BadEventArguments, EventArgs
from storage.dialogs import Prompt
from storage.models import Appeal

MAX_TYPED = 2000


async def show(
    update: Update, context: BotContext, me: Who, appeal: Appeal, *, edit: bool = False, files: bool = False
) -> None:
    """Show an appeal to `me` as they may see it, with the buttons they may press (handlers.evidence)."""
    await evidence.show(update, context, me, appeal, edit=edit, files=files)


async def _refuse_error(update: Update, context: BotContext, me: Who, error: lifecycle.LifecycleError) -> None:
    if isinstance(error, AppealNotFound):
        await refuse(update, context, me.lang, "appeal.not_found")
    elif isinstance(error, BadEventArguments):
        await refuse(update, context, me.lang, f"appeal.bad_{error.reason}")
    elif isinstance(error, lifecycle.NotPermitted):
        await refuse(update, context, me.lang, "appeal.not_permitted")
    else:
        await refuse(update, context, me.lang, "appeal.moved_on")


async def _apply(
    update: Update, context: BotContext, me: Who, appeal: Appeal, event: Event, args: EventArgs = EventArgs()
) -> Appeal | None:
    """Apply one event as `me`; on refusal say why and show where the appeal stands."""
    services = context.services
    try:
        applied = await services.storage.appeals.apply(appeal.id, event, me.person.telegram_id, services.clock(), args)
    except lifecycle.LifecycleError as error:
        await _refuse_error(update, context, me, error)
        fresh = await services.storage.appeals.get(appeal.id)
        if fresh is not None and can_see(me.person, fresh) and not isinstance(error, AppealNotFound):
            await show(update, context, me, fresh, edit=update.callback_query is not None)
        return None
    return applied.appeal


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A button on an appeal: check who presses what, then act, ask for text, or refuse."""
    services = context.services
    appeal = await services.storage.appeals.get(press.appeal_id)
    if appeal is None or not can_see(me.person, appeal):
        await refuse(update, context, me.lang, "appeal.not_found")
        return
    query = update.callback_query
    verb, arg = press.verb, press.arg
    if verb == "open":
        await query.answer()
        await show(update, context, me, appeal)
        return
    if verb == evidence.FILES_VERB:
        await evidence.on_files(update, context, me, appeal)
        return
    if verb in ("fuy", "fun"):
        await _answer_followup(update, context, me, appeal, solved=verb == "fuy")
        return
    if verb == "cnl":
        await query.answer()
        await services.storage.dialogs.clear_prompt(me.person.telegram_id)
        await edit_or_reply(update, services.text(me.lang, "appeal.prompt_cancelled"))
        return
    base = {"asgu": "asg", "asgp": "asg", "reau": "rea", "wdy": "wd"}.get(verb, verb)
    action = BY_VERB.get(base)
    if action is None:
        await refuse(update, context, me.lang, "appeal.not_permitted")
        return
    if not allowed(action, appeal, roles(me.person, appeal), services.clock()):
        await _refuse_error(update, context, me, _why_not(action, appeal, me, services.clock()))
        await show(update, context, me, appeal, edit=True)
        return
    if action.needs_text or verb in ("asg", "rea", "asgu", "wd"):
        await query.answer()  # the rest are answered by _act: with an alert if storage refuses after all
    if action.needs_text:
        await _ask_for_text(update, context, me, appeal, action)
    elif verb in ("asg", "rea"):
        await _choose_unit(update, context, me, appeal, verb)
    elif verb == "asgu":
        await _choose_priority(update, context, me, appeal, arg)
    elif verb in ("asgp", "reau"):
        unit, _, priority = arg.partition(".")
        args = EventArgs(unit=unit, priority=Priority(priority) if priority in ("normal", "urgent") else None)
        await _act(update, context, me, appeal, action, args)
    elif verb == "wd":
        confirm = button(services.text(me.lang, "button.withdraw_confirm"), callbacks.appeal(appeal.id, "wdy"))
        back = button(services.text(me.lang, "button.back"), callbacks.appeal(appeal.id, "open"))
        await reply(
            update,
            services.text(me.lang, "appeal.withdraw_confirm", number=appeal.id),
            reply_markup=inline([[confirm, back]]),
        )
    else:
        await _act(update, context, me, appeal, action, EventArgs())


async def _answer_followup(update: Update, context: BotContext, me: Who, appeal: Appeal, solved: bool) -> None:
    services = context.services
    if lifecycle.Role.COURIER not in roles(me.person, appeal):
        # Only the courier is asked; staff and coordinators may see the appeal but not answer for them.
        await refuse(update, context, me.lang, "appeal.not_permitted")
        return
    description = services.text(me.lang, "followup.description", original=appeal.id)
    result = await services.storage.appeals.answer_followup(
        appeal.id, me.person.telegram_id, solved, description, services.clock()
    )
    if result is False:
        await refuse(update, context, me.lang, "followup.already")
        return
    await update.callback_query.answer()
    await drop_keyboard(update)
    if result is True:
        await reply(update, services.text(me.lang, "followup.thanks"))
        return
    new = result.appeal
    unit = await services.storage.people.unit(new.unit_id) if new.unit_id else None
    await reply(
        update,
        services.text(
            me.lang, "followup.reopened", number=new.id, unit=unit.name(me.lang) if unit else "—", original=appeal.id
        ),
    )


def _why_not(action: Action, appeal: Appeal, me: Who, now: datetime) -> lifecycle.LifecycleError:
    try:
        lifecycle.decide(appeal.facts(now), action.event, roles(me.person, appeal))
    except lifecycle.LifecycleError as error:
        return error
    return lifecycle.StaleEvent("stale", appeal.state, action.event)


async def _act(
    update: Update, context: BotContext, me: Who, appeal: Appeal, action: Action, args: EventArgs
) -> None:
    updated = await _apply(update, context, me, appeal, action.event, args)
    if updated is None:
        return
    services = context.services
    if update.callback_query is not None:
        await update.callback_query.answer()
        await show(update, context, me, updated, edit=True)
    await reply(update, services.text(me.lang, f"appeal.done_{action.event}"), reply_markup=await main_menu(services, me))


async def _ask_for_text(update: Update, context: BotContext, me: Who, appeal: Appeal, action: Action) -> None:
    services = context.services
    # The pressed message, which may be out of the bot's reach (an InaccessibleMessage) but has its id.
    message_id = update.callback_query.message.message_id if update.callback_query and update.callback_query.message else None
    await services.storage.dialogs.set_prompt(
        me.person.telegram_id, Prompt(action.verb, appeal.id, {"message_id": message_id}), services.clock()
    )
    cancel = button(services.text(me.lang, "button.cancel"), callbacks.appeal(appeal.id, "cnl"))
    prompt_key = {"sb": "send_back", "res": "resolve", "rej": "reject", "mrg": "merge", "ans": "answer", "ru": "unsatisfied"}
    await reply(
        update,
        services.text(me.lang, f"appeal.prompt_{prompt_key.get(action.verb, action.verb)}", number=appeal.id),
        reply_markup=inline([[cancel]]),
    )


async def _choose_unit(update: Update, context: BotContext, me: Who, appeal: Appeal, verb: str) -> None:
    services = context.services
    units = [u for u in await services.storage.people.active_units() if u.id != appeal.unit_id]
    next_verb = "asgu" if verb == "asg" else "reau"
    rows = [[button(u.name(me.lang), callbacks.appeal(appeal.id, next_verb, u.id))] for u in units]
    rows.append([button(services.text(me.lang, "button.back"), callbacks.appeal(appeal.id, "open"))])
    await reply(update, services.text(me.lang, "appeal.choose_unit", number=appeal.id), reply_markup=inline(rows))


async def _choose_priority(update: Update, context: BotContext, me: Who, appeal: Appeal, unit_id: str) -> None:
    services = context.services
    unit = await services.storage.people.unit(unit_id)
    if unit is None or not unit.active:
        await reply(update, services.text(me.lang, "appeal.bad_unknown_unit"))
        return
    buttons = [
        button(services.text(me.lang, f"button.{p}"), callbacks.appeal(appeal.id, "asgp", f"{unit_id}.{p}"))
        for p in ("normal", "urgent")
    ]
    await reply(
        update,
        services.text(me.lang, "appeal.choose_priority", number=appeal.id, unit=unit.name(me.lang)),
        reply_markup=inline([buttons]),
    )


async def on_typed(update: Update, context: BotContext, me: Who, prompt: Prompt) -> None:
    """Text the bot asked for (a reason, question, answer, result): apply the event it completes."""
    services = context.services
    text = (update.effective_message.text or "").strip()
    if not text:
        await refuse(update, context, me.lang, "appeal.prompt_text_only")
        return
    if len(text) > min(MAX_TYPED, MAX_NOTE):
        await refuse(update, context, me.lang, "appeal.prompt_too_long", length=len(text), limit=MAX_TYPED)
        return
    action = BY_VERB.get(prompt.verb)
    appeal = await services.storage.appeals.get(prompt.appeal_id) if prompt.appeal_id else None
    if action is None or appeal is None:
        await services.storage.dialogs.clear_prompt(me.person.telegram_id)
        await refuse(update, context, me.lang, "appeal.not_found")
        return
    args = EventArgs(note=text)
    if action.event is Event.MERGE:
        number = text.lstrip("#")
        if not number.isdecimal() or len(number) > 12:  # "²" is a digit that int() cannot read
            await refuse(update, context, me.lang, "appeal.merge_bad_number")
            return
        args = EventArgs(merged_into=int(number))
    await services.storage.dialogs.clear_prompt(me.person.telegram_id)
    updated = await _apply(update, context, me, appeal, action.event, args)
    if updated is None:
        return
    await reply(update, services.text(me.lang, f"appeal.done_{action.event}"), reply_markup=await main_menu(services, me))
    await show(update, context, me, updated)
