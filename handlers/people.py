"""A coordinator's /people: every unit with how many staff it has, an Invite button for each, and the filing limits."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from handlers import callbacks
from handlers.callbacks import Family, LimitVerb
from handlers.common import Who, command_and_button, for_role, reply
from handlers.invites import list_button, unit_buttons
from handlers.keyboards import button
from handlers.services import BotContext


@for_role("coordinator")
async def people(update: Update, context: BotContext, me: Who) -> None:
    """/people and the People button: units and their staff counts, with Invite buttons for the active ones."""
    services = context.services
    units = await services.storage.people.units()
    lines = [services.text(me.lang, "people.title")]
    for unit, count in units:
        key = "people.line" if unit.active else "people.line_inactive"
        lines.append(services.text(me.lang, key, unit=unit.name(me.lang), count=count))
    lines += ["", services.text(me.lang, "people.hint")]
    active = [unit for unit, _ in units if unit.active]
    markup = unit_buttons(services, active, me.lang)
    markup["inline_keyboard"].append(list_button(services, me.lang))  # the codes made so far, to revoke one
    markup["inline_keyboard"].append(
        [button(services.text(me.lang, "ratelimit.button_open"), callbacks.encode(Family.LIMITS, LimitVerb.LIST))]
    )
    await reply(update, "\n".join(lines), reply_markup=markup)


def people_handlers(labels: set[str]) -> list[BaseHandler]:
    """/people and the coordinator's People menu button."""
    return command_and_button("people", people, labels)
