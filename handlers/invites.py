"""Coordinators invite station workers with a one-time code; workers join with it."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers import callbacks
from handlers.callbacks import Family, InviteVerb, Press
from handlers.commands import set_person_commands
from handlers.common import (
    Who,
    coordinator_press,
    edit_or_reply,
    for_role,
    main_menu,
    refuse,
    reply,
    who,
)
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.services import BotContext, Services
from storage.dialogs import Draft
from storage.models import Unit
from storage.people import Invite

log = logging.getLogger(__name__)

INVITE_DAYS = 7
# Wrong /join codes are counted over this window (the limit is the config's invites.wrong_codes_per_hour).
GUESS_WINDOW = timedelta(hours=1)
DEFAULT_WRONG_CODES = 5
# Codes one /invites message lists (each is about 150 characters and a button): the newest.
LISTED = 20
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
CODE_LENGTH = 8
# After a bare /join, the next text within this long is the code.
CODE_ASKED_S = 10 * 60


def unit_buttons(services: Services, units: list[Unit], lang: str) -> Keyboard:
    """One Invite button per unit, named, never by id."""
    return inline(
        [
            [
                button(
                    services.text(lang, "people.invite", unit=u.name(lang)),
                    callbacks.encode(Family.INVITE, InviteVerb.MAKE, u.id),
                )
            ]
            for u in units
        ]
    )


def find_unit(units: list[Unit], wanted: str) -> Unit | None:
    """The unit whose id or Chinese or English name is `wanted` (case and spacing aside)."""
    key = " ".join(wanted.split()).casefold()
    return next((u for u in units if key in (u.id.casefold(), u.name_zh.casefold(), u.name_en.casefold())), None)


async def _make_invite(update: Update, context: BotContext, me: Who, unit: Unit) -> None:
    services = context.services
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    now = services.clock()
    await services.storage.people.create_invite(
        code, unit.id, me.person.telegram_id, now=now, expires=now + timedelta(days=INVITE_DAYS)
    )
    await reply(
        update,
        services.text(me.lang, "coord.invite_created", unit=unit.name(me.lang), code=code, days=INVITE_DAYS),
    )


@for_role("coordinator")
async def invite(update: Update, context: BotContext, me: Who) -> None:
    """/invite [UNIT]: a coordinator gets a one-time code for a unit named (zh, en or id) or tapped."""
    services = context.services
    units = await services.storage.people.active_units()
    typed = " ".join(context.args or [])[:100]
    unit = find_unit(units, typed) if typed else None
    if unit is not None:
        await _make_invite(update, context, me, unit)
        return
    key, values = ("people.invite_unknown", {"name": typed}) if typed else ("coord.invite_usage", {})
    await reply(update, services.text(me.lang, key, **values), reply_markup=unit_buttons(services, units, me.lang))


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """An invitation button: make a code, list them, revoke one; only a coordinator, checked in the
    database on every press."""
    services = context.services
    if not await coordinator_press(update, context, me):
        return
    if press.verb is InviteVerb.LIST:
        await update.callback_query.answer()
        text, markup = await _list(update, context, me)
        await reply(update, text, reply_markup=markup)
        return
    if press.verb in (InviteVerb.REVOKE, InviteVerb.REVOKE_CONFIRMED):
        await _on_revoke(update, context, me, press)
        return
    unit = await services.storage.people.unit(press.arg)
    if unit is None or not unit.active:
        await refuse(update, context, me.lang, "appeal.bad_unknown_unit")
        return
    await update.callback_query.answer()
    await _make_invite(update, context, me, unit)


# ---------------------------------------------------------------------------- /invites


async def _maker_name(update: Update, me: Who, services: Services, maker: int, names: dict[int, str]) -> str:
    """Who made a code, as the reader knows them: "you", or the coordinator's Telegram name (else their id)."""
    if maker == me.person.telegram_id:
        return services.text(me.lang, "invites15.maker_you")
    if maker not in names:
        try:
            chat = await update.get_bot().get_chat(maker)
            names[maker] = chat.full_name or str(maker)
        except TelegramError:
            names[maker] = str(maker)  # a chat the bot cannot read: the id still names them
    return services.text(me.lang, "invites15.maker_other", name=names[maker])


async def _list(update: Update, context: BotContext, me: Who) -> tuple[str, Keyboard | None]:
    """The codes not yet expired, each with its unit, maker, dates and use, and a Revoke button for the unused."""
    services = context.services
    people = services.storage.people
    codes = await people.live_invites(services.clock())
    if not codes:
        return services.text(me.lang, "invites15.empty"), None
    lines, rows, names = [services.text(me.lang, "invites15.title")], [], {}
    for code in codes[:LISTED]:
        unit = await people.unit(code.unit_id)
        lines += [
            "",
            services.text(
                me.lang,
                "invites15.line",
                code=code.code,
                unit=unit.name(me.lang) if unit else code.unit_id,
                maker=await _maker_name(update, me, services, code.created_by, names),
                created=services.local(code.created_at, me.lang),
                expires=services.local(code.expires_at, me.lang),
                uses=0 if code.used_by is None else 1,
            ),
        ]
        if code.used_by is None:
            label = services.text(me.lang, "invites15.revoke_button", code=code.code)
            rows.append([button(label, callbacks.encode(Family.INVITE, InviteVerb.REVOKE, code.code.lower()))])
    if len(codes) > LISTED:
        lines += ["", services.text(me.lang, "invites15.more", count=len(codes) - LISTED)]
    return "\n".join(lines), inline(rows) if rows else None


@for_role("coordinator")
async def invites(update: Update, context: BotContext, me: Who) -> None:
    """/invites: a coordinator sees the codes not yet expired and may revoke the unused ones."""
    text, markup = await _list(update, context, me)
    await reply(update, text, reply_markup=markup)


def list_button(services: Services, lang: str) -> list[Button]:
    """The row with the button that lists the invitation codes (under /people)."""
    return [button(services.text(lang, "invites15.list_button"), callbacks.encode(Family.INVITE, InviteVerb.LIST))]


async def _on_revoke(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Revoke: ask first; Yes, revoke it: the code no longer works (if it was still unused and unexpired)."""
    services = context.services
    people = services.storage.people
    code = await people.invite(press.arg.upper())
    live = code is not None and code.used_by is None and code.expires_at >= services.clock()
    if code is None or not live or (press.verb is InviteVerb.REVOKE_CONFIRMED and not await _revoke(context, me, code)):
        await update.callback_query.answer(
            services.text(me.lang, "invites15.revoke_gone", code=press.arg.upper()), show_alert=True
        )
        return
    await update.callback_query.answer()
    if press.verb is InviteVerb.REVOKE_CONFIRMED:
        text, markup = await _list(update, context, me)
        await edit_or_reply(update, services.text(me.lang, "invites15.revoked", code=code.code) + "\n\n" + text, markup)
        return
    unit = await people.unit(code.unit_id)
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    yes = button(
        t("invites15.revoke_yes"), callbacks.encode(Family.INVITE, InviteVerb.REVOKE_CONFIRMED, code.code.lower())
    )
    back = button(t("invites15.back"), callbacks.encode(Family.INVITE, InviteVerb.LIST))
    text = t("invites15.revoke_confirm", code=code.code, unit=unit.name(me.lang) if unit else code.unit_id)
    await reply(update, text, reply_markup=inline([[yes, back]]))


async def _revoke(context: BotContext, me: Who, code: Invite) -> bool:
    services = context.services
    revoked = await services.storage.people.revoke_invite(code.code, me.person.telegram_id, services.clock())
    if revoked:
        log.info("invite code for unit %s revoked by %d", code.unit_id, me.person.telegram_id)
    return revoked


# ---------------------------------------------------------------------------- /join


def _wrong_codes_limit(context: BotContext) -> int:
    config = context.bot_data.config
    return config.invites.wrong_codes_per_hour if config is not None else DEFAULT_WRONG_CODES


async def join(update: Update, context: BotContext) -> None:
    """/join CODE: become staff of the unit the code was made for (wrong codes are limited per person)."""
    me = await who(update, context)
    services = context.services
    if me.person.role == "coordinator":
        await reply(update, services.text(me.lang, "staff.join_coordinator"))
        return
    args = context.args or []
    if not args:
        # Only "/join" is tappable in the forwarded invitation: ask for the code, and take the next text as it.
        draft = await services.storage.dialogs.draft(me.person.telegram_id) or Draft()
        now = services.clock()
        await services.storage.dialogs.save_draft(
            me.person.telegram_id, draft.model_copy(update={"code_asked": int(now.timestamp())}), now
        )
        await reply(update, services.text(me.lang, "fixtext.join_ask_code"))
        return
    if len(args) != 1:
        await reply(update, services.text(me.lang, "staff.join_usage"))
        return
    await join_with(update, context, me, args[0])


def looks_like_code(text: str) -> bool:
    """Whether `text` is exactly an invitation code's shape: eight of the code letters and digits, with a letter, in capitals."""
    return len(text) == CODE_LENGTH and text.isupper() and all(c in _ALPHABET for c in text)


async def typed_code(update: Update, context: BotContext, me: Who, draft: Draft | None, text: str) -> bool:
    """A text that is the code a bare /join asked for, or a code typed alone by someone with no role: tried as
    /join CODE. False: not one."""
    services = context.services
    dialogs = services.storage.dialogs
    if me.person.role == "coordinator":
        return False
    now = services.clock()
    asked = draft is not None and draft.code_asked and 0 <= now.timestamp() - draft.code_asked <= CODE_ASKED_S
    if draft is not None and draft.code_asked:
        await dialogs.save_draft(me.person.telegram_id, draft.model_copy(update={"code_asked": 0}), now)
    if asked and len(text.split()) == 1:
        await join_with(update, context, me, text)
        return True
    if me.person.role == "courier" and looks_like_code(text):
        await join_with(update, context, me, text)
        return True
    return False


async def join_with(update: Update, context: BotContext, me: Who, code: str) -> None:
    """Redeem `code` for `me` (wrong codes count toward the per-person limit), and say what happened."""
    services = context.services
    people, now, person_id = services.storage.people, services.clock(), me.person.telegram_id
    limit = _wrong_codes_limit(context)
    if await people.join_blocked(person_id, now, limit, GUESS_WINDOW):
        # Paused: the code is not even looked at, so guessing on cannot find one.
        log.info("join by %d refused: too many wrong codes", person_id)
        await reply(update, services.text(me.lang, "invites15.join_limited"))
        return
    unit_id = await people.redeem_invite(code.strip().upper()[:16], person_id, now)
    if unit_id is None:
        count, told = await people.record_join_failure(person_id, now, limit, GUESS_WINDOW)
        # Never the guessed text: a near miss is half a code.
        log.warning(
            "wrong invitation code from %d (%d within the hour%s)",
            person_id,
            count,
            ", coordinators told" if told else "",
        )
        await reply(update, services.text(me.lang, "staff.join_bad"))
        return
    await services.storage.appeals.tell_own_unit(person_id, now)  # their own open appeals must leave their new unit
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
        CommandHandler("invites", invites, filters=private),
    ]
