"""Mutes: a coordinator mutes a person for an hour, a day or a week; every update of theirs is then
answered with one notice (and a toast for each press) and nothing else happens or is kept.

As with /lift, a coordinator never types a person's id: people are named by an appeal they filed,
picked from the Filing limits list or written as `/mute 123`. Mutes end by themselves: each update
is checked against the clock.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, CommandHandler, filters

from handlers import callbacks
from handlers.callbacks import Family, MuteVerb, Press
from handlers.common import Who, coordinator_press, drop_keyboard, edit_or_reply, for_role, refuse, reply
from handlers.evidence import keep_current
from handlers.keyboards import Keyboard, button, inline
from handlers.limits import appeal_number, rounded_up, show_list
from handlers.services import BotContext
from storage.people_actions import Refused

log = logging.getLogger(__name__)

PERIODS: dict[str, timedelta] = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}


def _data(verb: MuteVerb, number: int | None = None, period: str = "") -> str:
    arg = "" if number is None else f"{number}.{period}" if period else str(number)
    return callbacks.encode(Family.MUTE, verb, arg)


# ---------------------------------------------------------------------------- every update


async def stop_if_muted(update: Update, context: BotContext) -> None:
    """Before any handler: a muted person's message or press gets the notice once per mute (a toast on
    every press), and nothing else happens; nothing of it is kept, not even as a handled update."""
    services = context.bot_data.services
    user = update.effective_user
    if services is None or user is None or (update.message is None and update.callback_query is None):
        return
    now = services.clock()
    mute = await services.storage.people_actions.mute_of(user.id, now)
    if mute is None or _asks_privacy(update):
        return  # a mute does not suspend the right to see and erase one's data
    person = await services.storage.people.get(user.id)  # read only: their language, if they chose one
    lang = services.catalog.language_for(person.language if person else None, user.language_code)
    when = services.local(mute.until, lang)
    if update.callback_query is not None:
        await update.callback_query.answer(services.text(lang, "mute.toast", when=when))
    if not mute.noticed and await services.storage.people_actions.mark_noticed(mute, now):
        await context.bot.send_text(user.id, services.text(lang, "mute.notice", when=when), None)
    raise ApplicationHandlerStop


_PRIVACY_COMMAND = re.compile(r"/privacy(@\w+)?(\s|$)")


def _asks_privacy(update: Update) -> bool:
    """Whether the update is /privacy or a press of its buttons."""
    if update.callback_query is not None:
        press = callbacks.decode(update.callback_query.data)
        return press is not None and press.kind is Family.PRIVACY
    return bool(update.message.text and _PRIVACY_COMMAND.match(update.message.text))


# ---------------------------------------------------------------------------- the coordinators' side


async def _person(update: Update, context: BotContext, me: Who, typed: str, command: str) -> tuple[int, int] | None:
    """The courier named by appeal number `typed` (filed at any time), and the number; or None after
    saying there is no such appeal."""
    services = context.services
    number = appeal_number(typed)
    courier = await services.storage.people_actions.courier_of(number) if number else None
    if courier is None or number is None:
        await refuse(update, context, me.lang, "mute.no_appeal", number=typed[:40], command=command)
        return None
    return courier, number


async def _answer(update: Update, text: str, markup: Keyboard | None = None, *, in_place: bool = True) -> None:
    """Show `text` in place of the pressed message (unless not `in_place`: an appeal's card stays), or as a
    reply to a command."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    if update.callback_query is not None and in_place:
        await edit_or_reply(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


async def _ask(
    update: Update, context: BotContext, me: Who, courier_id: int, number: int, *, in_place: bool = True
) -> None:
    """The person's mute: the periods to choose from, or, while muted, ending it (asked in a new message
    unless `in_place`)."""
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    cancel = button(t("button.cancel"), _data(MuteVerb.CANCEL))
    person = await services.storage.people.get(courier_id)
    if courier_id == me.person.telegram_id or (person is not None and person.role == "coordinator"):
        await refuse(update, context, me.lang, "mute.not_coordinator")
        return
    mute = await services.storage.people_actions.mute_of(courier_id, services.clock())
    if mute is not None:
        text = t("mute.ask_unmute", number=number, when=services.local(mute.until, me.lang))
        await _answer(
            update,
            text,
            inline([[button(t("mute.button_unmute", number=number), _data(MuteVerb.UNMUTE, number)), cancel]]),
            in_place=in_place,
        )
        return
    periods = [button(t(f"mute.period_{p}"), _data(MuteVerb.FOR, number, p)) for p in PERIODS]
    await _answer(update, t("mute.ask_period", number=number), inline([periods, [cancel]]), in_place=in_place)


def _until(now: datetime, period: str) -> datetime:
    # To the whole minute, later: the time shown is when the mute really ends.
    return rounded_up(now + PERIODS[period])


async def _mute(update: Update, context: BotContext, me: Who, courier_id: int, number: int, period: str) -> None:
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    now = services.clock()
    until = _until(now, period)
    try:
        muted = await services.storage.people_actions.mute(
            courier_id, appeal_id=number, actor_id=me.person.telegram_id, now=now, until=until
        )
    except Refused:
        await refuse(update, context, me.lang, "mute.not_coordinator")
        return
    if muted is None:  # a second tap, or another coordinator was first
        mute = await services.storage.people_actions.mute_of(courier_id, now)
        when = services.local(mute.until if mute else None, me.lang)
        await update.callback_query.answer(t("mute.already_muted", number=number, when=when), show_alert=True)
        await drop_keyboard(update)
        return
    log.info("the courier of appeal %d muted for %s by coordinator %d", number, period, me.person.telegram_id)
    await update.callback_query.answer()
    text = t("mute.muted", number=number, period=t(f"mute.period_{period}"), when=services.local(until, me.lang))
    await edit_or_reply(update, text)
    await _refresh_card(update, context, me, number)


async def _unmute(update: Update, context: BotContext, me: Who, courier_id: int, number: int) -> None:
    services = context.services
    now = services.clock()
    ended = await services.storage.people_actions.unmute(
        courier_id, appeal_id=number, actor_id=me.person.telegram_id, now=now
    )
    if ended is None:
        await refuse(update, context, me.lang, "mute.not_muted", number=number)
        if update.callback_query is not None:
            await drop_keyboard(update)
        return
    log.info("the courier of appeal %d unmuted by coordinator %d", number, me.person.telegram_id)
    await _answer(update, services.text(me.lang, "mute.unmuted", number=number))
    await services.storage.outbox.add(courier_id, "mute.notice_unmuted", now)
    await _refresh_card(update, context, me, number)


async def _refresh_card(update: Update, context: BotContext, me: Who, number: int) -> None:
    """The card of appeal `number` this chat holds, if any, offers Mute filer or Unmute filer as it now should."""
    services = context.services
    appeal = await services.storage.appeals.get(number)
    if appeal is None or update.effective_chat is None:
        return
    held = await services.storage.outbox.messages_about(appeal.id, update.effective_chat.id)
    if any(message.kind == "card" for message in held):
        await keep_current(update, context, me, appeal)


async def _on_command(update: Update, context: BotContext, me: Who, command: str, then) -> None:
    """/`command` alone: the list (with mutes in force); /`command` N: `then` for the courier of appeal N."""
    typed = " ".join(context.args or [])[:40]
    if not typed:
        await show_list(update, context, me)
        return
    found = await _person(update, context, me, typed, command)
    if found is not None:
        await then(update, context, me, *found)


@for_role("coordinator")
async def mute_command(update: Update, context: BotContext, me: Who) -> None:
    """/mute: the list; /mute N: mute the courier of appeal N, after choosing how long."""
    await _on_command(update, context, me, "mute", _ask)


@for_role("coordinator")
async def unmute_command(update: Update, context: BotContext, me: Who) -> None:
    """/unmute N: end the mute of the courier of appeal N now; /unmute alone: the list."""
    await _on_command(update, context, me, "unmute", _unmute)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """The mute buttons: pick a period, confirm, or unmute; only a coordinator, read from the database."""
    services = context.services
    if not await coordinator_press(update, context, me):
        return
    if press.verb is MuteVerb.CANCEL:
        await update.callback_query.answer()
        await edit_or_reply(update, services.text(me.lang, "ratelimit.cancelled"))
        return
    typed, _, period = press.arg.partition(".")
    if press.verb in (MuteVerb.FOR, MuteVerb.YES) and period not in PERIODS:
        await refuse(update, context, me.lang, "press.invalid")
        return
    found = await _person(update, context, me, typed, "mute")
    if found is None:
        return
    courier_id, number = found
    if press.verb in (MuteVerb.ASK, MuteVerb.CARD):
        # From an appeal's card (its Mute filer button) the card stays: the question comes below it.
        await _ask(update, context, me, courier_id, number, in_place=press.verb is MuteVerb.ASK)
    elif press.verb is MuteVerb.UNMUTE:
        await _unmute(update, context, me, courier_id, number)
    elif press.verb is MuteVerb.FOR:
        t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
        until = _until(services.clock(), period)
        text = t(
            "mute.ask_confirm", number=number, period=t(f"mute.period_{period}"), when=services.local(until, me.lang)
        )
        yes = button(t("mute.button_confirm"), _data(MuteVerb.YES, number, period))
        await _answer(update, text, inline([[yes, button(t("button.cancel"), _data(MuteVerb.CANCEL))]]))
    else:
        await _mute(update, context, me, courier_id, number, period)


def mute_handlers() -> list[BaseHandler]:
    """/mute and /unmute (their buttons are routed by handlers/presses.py)."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("mute", mute_command, filters=private),
        CommandHandler("unmute", unmute_command, filters=private),
    ]
