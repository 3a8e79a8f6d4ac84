"""Filing limits: what a courier is told when a limit refuses a filing, and the coordinators' /lift.

A coordinator never types a person's id: people are named by the appeal they filed last (the number
coordinators see on cards and lists), picked from /lift's list or written as `/lift 123`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, filters

from domain.filing_limits import FilingLimits, Refusal
from handlers import callbacks
from handlers.callbacks import Family, LimitVerb, MuteVerb, Press
from handlers.common import (
    Who,
    coordinator_press,
    drop_keyboard,
    edit_or_reply,
    for_role,
    refuse,
    reply,
)
from handlers.keyboards import Keyboard, button, inline
from handlers.services import BotContext, Services
from storage.filing_limits import Standing
from storage.people_actions import ActionRow

log = logging.getLogger(__name__)

MAX_LISTED = 20  # people on /lift's list; the rest are reached by `/lift N`
LEDGER_LINES = 10  # the latest actions on people shown under the list


def limits_of(context: BotContext) -> FilingLimits:
    """The district's filing limits, from the config."""
    config = context.bot_data.config
    assert config is not None, "handlers run only after post_init"
    return config.limits.filing_limits()


def rounded_up(moment: datetime) -> datetime:
    """The next whole minute (a time shown to the minute must not be before the moment it names)."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def refusal_text(services: Services, lang: str, refused: Refusal) -> str:
    """What the courier is told: the limit reached, and from when they can file again."""
    when = services.local(rounded_up(refused.until), lang)
    return services.text(lang, f"ratelimit.refused_{refused.window}", limit=refused.limit, when=when)


async def refused_now(context: BotContext, me: Who) -> str | None:
    """The refusal to show if `me` may not file now (asked when a draft is begun), else None."""
    services = context.services
    refused = await services.storage.filing_limits.refusal(me.person.telegram_id, services.clock(), limits_of(context))
    return refusal_text(services, me.lang, refused) if refused is not None else None


# ---------------------------------------------------------------------------- the coordinators' side


def _data(verb: LimitVerb, number: int | None = None) -> str:
    return callbacks.encode(Family.LIMITS, verb, str(number) if number is not None else "")


async def show_list(update: Update, context: BotContext, me: Who) -> None:
    """The people who reached a limit in the last 24 hours or whose limits are lifted, one button each."""
    services, limits = context.services, limits_of(context)
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    standings = await services.storage.filing_limits.listed(services.clock(), limits)
    lines = [t("ratelimit.title", per_minute=limits.per_minute, per_day=limits.per_day)]
    if not standings:
        lines.append(t("ratelimit.none"))
    for standing in standings[:MAX_LISTED]:
        lines.append(_line(services, me.lang, standing))
    if len(standings) > MAX_LISTED:
        lines.append(t("ratelimit.more", count=len(standings) - MAX_LISTED))
    lines += ["", t("ratelimit.hint")]
    rows = [
        [button(t("ratelimit.button_person", number=s.latest_appeal), _data(LimitVerb.ASK, s.latest_appeal))]
        for s in standings[:MAX_LISTED]
    ]
    actions = services.storage.people_actions
    mutes = await actions.active(services.clock())
    if mutes:
        lines += ["", t("mute.muted_title")]
    for mute in mutes[:MAX_LISTED]:
        number = mute.appeal_id if mute.appeal_id is not None else "—"
        lines.append(t("mute.muted_line", number=number, when=services.local(mute.until, me.lang)))
        if mute.appeal_id is not None:
            unmute = callbacks.encode(Family.MUTE, MuteVerb.UNMUTE, str(mute.appeal_id))
            rows.append([button(t("mute.button_unmute", number=mute.appeal_id), unmute)])
    ledger = await actions.recent(LEDGER_LINES)
    if ledger:
        lines += ["", t("mute.ledger_title")]
        names: dict[int, str] = {}
        lines += [await _ledger_line(update, services, me, row, names) for row in ledger]
    lines += ["", t("mute.hint")]
    await reply(update, "\n".join(lines), reply_markup=inline(rows) if rows else None)


async def _ledger_line(update: Update, services: Services, me: Who, row: ActionRow, names: dict[int, str]) -> str:
    """One action on a person: when, which coordinator, what, to the courier of which appeal, until when."""
    lang = me.lang
    if row.actor_id == me.person.telegram_id:
        actor = services.text(lang, "mute.actor_you")
    else:
        if row.actor_id is not None and row.actor_id not in names:
            try:
                chat = await update.get_bot().get_chat(row.actor_id)
                names[row.actor_id] = chat.full_name or str(row.actor_id)
            except TelegramError:
                names[row.actor_id] = str(row.actor_id)  # a chat the bot cannot read: the id still names them
        actor = services.text(lang, "mute.actor_other", name=names.get(row.actor_id, "—") if row.actor_id else "—")
    number = row.appeal_id if row.appeal_id is not None else "—"
    return services.text(
        lang,
        f"mute.ledger_{row.action}",
        at=services.local(row.at, lang),
        actor=actor,
        number=number,
        until=services.local(row.until, lang),
    )


def _line(services: Services, lang: str, standing: Standing) -> str:
    if standing.refused_until is not None:  # refused right now: say until when
        return services.text(
            lang,
            "limits2.line_refused",
            number=standing.latest_appeal,
            count=standing.filed_today,
            when=services.local(standing.refused_until, lang),
        )
    key = "ratelimit.line_lifted" if standing.lifted else "ratelimit.line"
    return services.text(lang, key, number=standing.latest_appeal, count=standing.filed_today)


async def _ask(update: Update, context: BotContext, me: Who, standing: Standing, number: int) -> None:
    """Ask to confirm: lift the limits for the courier of appeal `number`, or apply them again."""
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    if standing.lifted:
        lifted = await services.storage.filing_limits.lifted_by(standing.courier_id)
        text = t("ratelimit.ask_restore", number=number, when=services.local(lifted[1] if lifted else None, me.lang))
        yes = button(t("ratelimit.button_restore"), _data(LimitVerb.RESTORE, number))
    else:
        text = t("ratelimit.ask_lift", number=number, count=standing.filed_today)
        yes = button(t("ratelimit.button_lift"), _data(LimitVerb.LIFT, number))
    mute = button(t("mute.button_mute"), callbacks.encode(Family.MUTE, MuteVerb.ASK, str(number)))
    markup: Keyboard = inline([[yes, button(t("button.cancel"), _data(LimitVerb.CANCEL))], [mute]])
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit_or_reply(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


def appeal_number(text: str) -> int | None:
    """The appeal number written in `text` ("123", "#123"), else None."""
    text = text.strip().lstrip("#＃")
    return int(text) if text.isdecimal() and len(text) <= 12 else None


@for_role("coordinator")
async def lift(update: Update, context: BotContext, me: Who) -> None:
    """/lift: the list; /lift N: lift (or restore) the limits of the courier of appeal N, after a confirmation."""
    services = context.services
    typed = " ".join(context.args or [])[:40]
    if not typed:
        await show_list(update, context, me)
        return
    number = appeal_number(typed)
    standing = await services.storage.filing_limits.courier_of(number, services.clock()) if number else None
    if standing is None or number is None:
        await reply(update, services.text(me.lang, "ratelimit.no_appeal", number=typed))
        return
    await _ask(update, context, me, standing, number)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """The /lift buttons: pick a person, then lift or restore; only a coordinator, read from the database."""
    services = context.services
    if not await coordinator_press(update, context, me):
        return
    if press.verb is LimitVerb.LIST:
        await update.callback_query.answer()
        await show_list(update, context, me)
        return
    if press.verb is LimitVerb.CANCEL:
        await update.callback_query.answer()
        await edit_or_reply(update, services.text(me.lang, "ratelimit.cancelled"))
        return
    number = appeal_number(press.arg)
    now = services.clock()
    standing = await services.storage.filing_limits.courier_of(number, now) if number else None
    if standing is None or number is None:
        await refuse(update, context, me.lang, "ratelimit.no_appeal", number=press.arg)
        return
    if press.verb is LimitVerb.ASK:
        await _ask(update, context, me, standing, number)
        return
    lifting = press.verb is LimitVerb.LIFT
    changed = await services.storage.filing_limits.set_lifted(
        standing.courier_id,
        me.person.telegram_id if lifting else None,
        now,
        actor_id=me.person.telegram_id,
        appeal_id=number,
    )
    if not changed:  # a second tap, or another coordinator was first
        await update.callback_query.answer(
            services.text(
                me.lang, "ratelimit.already_lifted" if lifting else "ratelimit.already_restored", number=number
            ),
            show_alert=True,
        )
        await drop_keyboard(update)
        return
    log.info(
        "filing limits %s for the courier of appeal %d by coordinator %d",
        "lifted" if lifting else "restored",
        number,
        me.person.telegram_id,
    )
    await update.callback_query.answer()
    await edit_or_reply(
        update, services.text(me.lang, "ratelimit.lifted" if lifting else "ratelimit.restored", number=number)
    )
    # The courier hears either way: a limit applied again without a word would look like a fault.
    if lifting:
        await services.storage.outbox.add(standing.courier_id, "ratelimit.notice_lifted", now)
    else:
        limits = limits_of(context)
        params = {"per_minute": limits.per_minute, "per_day": limits.per_day}
        await services.storage.outbox.add(standing.courier_id, "limits2.notice_restored", now, params)


def limit_handlers() -> list[BaseHandler]:
    """/lift (its buttons are routed by handlers/presses.py)."""
    return [CommandHandler("lift", lift, filters=filters.ChatType.PRIVATE)]
