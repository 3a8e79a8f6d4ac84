"""Coordinators invite station workers with a one-time code; workers join with it."""

from __future__ import annotations

import secrets
from datetime import timedelta

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers import callbacks
from handlers.callbacks import Family, InviteVerb, Press
from handlers.commands import set_person_commands
from handlers.common import Who, main_menu, refuse, reply, require_role, who
from handlers.keyboards import Keyboard, button, inline
from handlers.services import BotContext, Services
from storage.models import Unit

INVITE_DAYS = 7
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed


def unit_buttons(services: Services, units: list[Unit], lang: str) -> Keyboard:
    """One Invite button per unit, named, never by id."""
    return inline(
        [[button(services.text(lang, "people.invite", unit=u.name(lang)), callbacks.encode(Family.INVITE, InviteVerb.MAKE, u.id))] for u in units]
    )


def find_unit(units: list[Unit], wanted: str) -> Unit | None:
    """The unit whose id or Chinese or English name is `wanted` (case and spacing aside)."""
    key = " ".join(wanted.split()).casefold()
    return next((u for u in units if key in (u.id.casefold(), u.name_zh.casefold(), u.name_en.casefold())), None)


async def _make_invite(update: Update, context: BotContext, me: Who, unit: Unit) -> None:
    services = context.services
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    now = services.clock()
    await services.storage.people.create_invite(
        code, unit.id, me.person.telegram_id, now, now + timedelta(days=INVITE_DAYS)
    )
    await reply(
        update,
        services.text(me.lang, "coord.invite_created", unit=unit.name(me.lang), code=code, days=INVITE_DAYS),
    )


async def invite(update: Update, context: BotContext) -> None:
    """/invite [UNIT]: a coordinator gets a one-time code for a unit named (zh, en or id) or tapped."""
    me = await who(update, context)
    services = context.services
    if not await require_role(update, context, me, "coordinator"):
        return
    units = await services.storage.people.active_units()
    typed = " ".join(context.args or [])[:100]
    unit = find_unit(units, typed) if typed else None
    if unit is not None:
        await _make_invite(update, context, me, unit)
        return
    key, values = ("people.invite_unknown", {"name": typed}) if typed else ("coord.invite_usage", {})
    await reply(update, services.text(me.lang, key, **values), reply_markup=unit_buttons(services, units, me.lang))


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """An Invite button: a code for that unit; only a coordinator, checked in the database on every press."""
    services = context.services
    if me.person.role != "coordinator":
        await refuse(update, context, me.lang, "coord.not_coordinator")
        return
    unit = await services.storage.people.unit(press.arg)
    if unit is None or not unit.active:
        await refuse(update, context, me.lang, "appeal.bad_unknown_unit")
        return
    await update.callback_query.answer()
    await _make_invite(update, context, me, unit)


async def join(update: Update, context: BotContext) -> None:
    """/join CODE: become staff of the unit the code was made for."""
    me = await who(update, context)
    services = context.services
    if me.person.role == "coordinator":
        await reply(update, services.text(me.lang, "staff.join_coordinator"))
        return
    args = context.args or []
    if len(args) != 1:
        await reply(update, services.text(me.lang, "staff.join_usage"))
        return
    unit_id = await services.storage.people.redeem_invite(args[0].strip().upper()[:16], me.person.telegram_id, services.clock())
    if unit_id is None:
        await reply(update, services.text(me.lang, "staff.join_bad"))
        return
    unit = await services.storage.people.unit(unit_id)
    staff = await services.storage.people.get(me.person.telegram_id)
    await set_person_commands(update.get_bot(), services.catalog, staff)
    await reply(
        update,
        services.text(me.lang, "staff.join_ok", unit=unit.name(me.lang) if unit else unit_id),
        # The staff menu, with their unit's queue, from now on.
        reply_markup=await main_menu(services, Who(staff, me.lang)),
    )


def invite_handlers() -> list[BaseHandler]:
    """/invite and /join (its unit buttons, also on /people, are routed by handlers/presses.py)."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("invite", invite, filters=private),
        CommandHandler("join", join, filters=private),
    ]
