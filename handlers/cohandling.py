"""Co-handling (协办): a coordinator adds a unit beside the lead (主办), from the appeal's card.

The events (add a unit, sign for a part, note to the lead, finish it, allow the lead to resolve without
it) are declared in domain/events.py; signing, the note and finishing (typed), and allowing are plain card
buttons (handlers/appeal_actions.py). Assigning turns its priority question into the offer to add one. Adding asks which unit first: each unit a button that acts once, at the
appeal's version the list was drawn at.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.error import BadRequest

from domain.commands import EventArgs
from domain.lifecycle import Event
from handlers import appeal_actions, callbacks
from handlers.appeal_actions import (
    act_at_version,
    load_pressed,
    refused_now,
)
from handlers.callbacks import AppealVerb, Press
from handlers.cards import BY_VERB, allowed, roles
from handlers.common import Who, refuse, reply
from handlers.keyboards import button, inline
from handlers.quiet_bot import QuietBot
from handlers.services import BotContext


async def on_assigned(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Assign with the unit and priority chosen; once it is with the lead unit, the priority question becomes
    the offer to add co-handling units (in place: the news of the assignment stays the newest message)."""
    await appeal_actions.on_priority_chosen(update, context, me, press)
    services = context.services
    appeal = await services.storage.appeals.get(press.appeal_id)
    if appeal is None:
        return
    ledger = await services.storage.appeals.ledger(appeal.id)
    assigned_now = bool(ledger) and ledger[-1].event is Event.ASSIGN and ledger[-1].actor_id == me.person.telegram_id
    action = BY_VERB[AppealVerb.ADD_COHANDLER]
    now, redos = services.clock(), services.storage.appeals.max_redos
    if not assigned_now or not allowed(action, appeal, roles(me.person, appeal), now, max_redos=redos):
        return
    add = button(services.text(me.lang, action.label), callbacks.appeal(appeal.id, AppealVerb.ADD_COHANDLER))
    query = update.callback_query
    if not isinstance(query.message, Message):
        return
    bot: QuietBot = update.get_bot()  # type: ignore[assignment]
    try:
        offer = services.text(me.lang, "cohandle.offer", number=appeal.id)
        await bot.edit_text(query.message.chat.id, query.message.message_id, offer, inline([[add]]))
    except BadRequest:
        pass  # the question is gone or cannot be edited: the card still offers it


async def on_add(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Add co-handling unit: the units that may join (not the lead, not one already beside it), and Back."""
    appeal = await load_pressed(update, context, me, press)
    if appeal is None:
        return
    services = context.services
    if await refused_now(update, context, me, appeal, BY_VERB[AppealVerb.ADD_COHANDLER]):
        return
    taken = {appeal.unit_id, *appeal.co_unit_ids}
    units = [u for u in await services.storage.people.active_units() if u.id not in taken]
    if not units:
        await refuse(update, context, me.lang, "cohandle.no_units", number=appeal.id)
        return
    await update.callback_query.answer()
    rows = [
        [button(u.name(me.lang), callbacks.appeal(appeal.id, AppealVerb.COHANDLER_UNIT, f"{u.id}.{appeal.version}"))]
        for u in units
    ]
    rows.append([button(services.text(me.lang, "button.back"), callbacks.appeal(appeal.id, AppealVerb.OPEN))])
    await reply(update, services.text(me.lang, "cohandle.choose_unit", number=appeal.id), reply_markup=inline(rows))


async def on_unit(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A unit was chosen: it joins as a co-handling unit, once (at the version the list was drawn at)."""
    appeal = await load_pressed(update, context, me, press)
    if appeal is None:
        return
    unit, _, version_arg = press.arg.rpartition(".")
    if not unit or not version_arg.isdecimal():
        await refuse(update, context, me.lang, "press.invalid")
        return
    await act_at_version(update, context, me, appeal, Event.ADD_COHANDLER, EventArgs(unit=unit), int(version_arg))
