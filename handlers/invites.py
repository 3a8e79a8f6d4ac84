"""Coordinators invite station workers with a one-time code; workers join with it."""

from __future__ import annotations

import secrets
from datetime import timedelta

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers.common import reply, require_role, who
from handlers.services import BotContext

INVITE_DAYS = 7
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed


async def invite(update: Update, context: BotContext) -> None:
    """/invite UNIT: a coordinator gets a one-time code for that unit."""
    me = await who(update, context)
    services = context.services
    if not await require_role(update, context, me, "coordinator"):
        return
    units = await services.storage.people.active_units()
    wanted = (context.args or [""])[0].lower() if len(context.args or []) == 1 else ""
    unit = next((u for u in units if u.id == wanted), None)
    if unit is None:
        await reply(update, services.text(me.lang, "coord.invite_usage", units=", ".join(u.id for u in units)))
        return
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    now = services.clock()
    await services.storage.people.create_invite(
        code, unit.id, me.person.telegram_id, now, now + timedelta(days=INVITE_DAYS)
    )
    await reply(
        update,
        services.text(me.lang, "coord.invite_created", unit=unit.name(me.lang), code=code, days=INVITE_DAYS),
    )


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
    await reply(update, services.text(me.lang, "staff.join_ok", unit=unit.name(me.lang) if unit else unit_id))


def invite_handlers() -> list[BaseHandler]:
    """/invite and /join."""
    private = filters.ChatType.PRIVATE
    return [CommandHandler("invite", invite, filters=private), CommandHandler("join", join, filters=private)]
