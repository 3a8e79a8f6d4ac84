"""A coordinator's notice to the couriers who chose to hear notices: /notice, then text, an optional photo,
an optional button to an activity or survey, the audience (language, area), a preview exactly as couriers
will see it, and a confirmation with how many it reaches and how long delivery takes. Cancel at each step.

/outreach lists the latest sends with their delivery: sent, undelivered, blocked, stopped, waiting.
"""

from __future__ import annotations

import math
import re
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers import callbacks
from handlers.callbacks import Family, NoticeVerb, Press
from handlers.common import Who, coordinator_press, edit_or_reply, for_role, refuse, reply, retire_buttons
from handlers.i18n import LANGUAGES
from handlers.keyboards import Button, button, inline
from handlers.outreach import markup_for, notice_message
from handlers.services import BotContext, Services
from storage.models import from_ts
from storage.outreach import NOTICE_KIND, Area

MAX_NOTICE = 1000  # a photo's caption holds 1,024 characters; the notice's head line takes the rest
PER_SECOND = 30  # Telegram's overall limit, the pace the outbox keeps (bot/outbox_sender.py)
_LINK = re.compile(r"^\s*(survey|activity|问卷|活动)\s*#?\s*(\d{1,9})\s*$", re.IGNORECASE)
_KINDS = {"问卷": "survey", "活动": "activity"}


def _data(verb: NoticeVerb, arg: str = "") -> str:
    return callbacks.encode(Family.NOTICE, verb, arg)


def _cancel(services: Services, lang: str) -> Button:
    return button(services.text(lang, "button.cancel"), _data(NoticeVerb.CANCEL))


@for_role("coordinator")
async def begin(update: Update, context: BotContext, me: Who) -> None:
    """/notice: start a new notice (replacing one not finished)."""
    services = context.services
    old = await services.storage.outreach.draft(me.person.telegram_id)
    if old is not None:
        await retire_buttons(update, old.get("asked_at"))
    asked = await reply(
        update, services.text(me.lang, "outreach.ask_text", limit=MAX_NOTICE), inline([[_cancel(services, me.lang)]])
    )
    await _save(context, me, {"step": "text", "asked_at": asked})


async def _save(context: BotContext, me: Who, data: dict[str, Any]) -> None:
    await context.services.storage.outreach.save_draft(me.person.telegram_id, data, context.services.clock())


async def typed(update: Update, context: BotContext, me: Who) -> bool:
    """A coordinator's message while a notice waits for its text, photo or button; whether it was taken."""
    if me.person.role != "coordinator":
        return False
    services = context.services
    draft = await services.storage.outreach.draft(me.person.telegram_id)
    if draft is None or draft.get("step") not in ("text", "photo", "link"):
        return False
    message = update.effective_message
    text = (message.text or message.caption or "").strip()
    step = draft["step"]
    await retire_buttons(update, draft.get("asked_at"))
    if step == "text":
        if not text or len(text) > MAX_NOTICE:
            key = "outreach.text_too_long" if text else "outreach.text_needed"
            draft["asked_at"] = await reply(
                update,
                services.text(me.lang, key, length=len(text), limit=MAX_NOTICE),
                inline([[_cancel(services, me.lang)]]),
            )
            await _save(context, me, draft)
            return True
        draft.update(text=text)
        await _ask_photo(update, context, me, draft)
    elif step == "photo":
        if not message.photo:
            draft["asked_at"] = await reply(
                update, services.text(me.lang, "outreach.photo_needed"), _skip_markup(services, me.lang)
            )
            await _save(context, me, draft)
            return True
        draft.update(photo=message.photo[-1].file_id)
        await _ask_link(update, context, me, draft)
    else:
        match = _LINK.match(text)
        if match is None:
            draft["asked_at"] = await reply(
                update, services.text(me.lang, "outreach.link_bad"), _skip_markup(services, me.lang)
            )
            await _save(context, me, draft)
            return True
        kind = _KINDS.get(match[1], match[1].lower())
        draft.update(link=[kind, match[2]])
        await _ask_language(update, context, me, draft)
    return True


def _skip_markup(services: Services, lang: str) -> dict:
    return inline([[button(services.text(lang, "outreach.skip"), _data(NoticeVerb.SKIP)), _cancel(services, lang)]])


async def _ask_photo(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    draft.update(step="photo")
    draft["asked_at"] = await reply(
        update, context.services.text(me.lang, "outreach.ask_photo"), _skip_markup(context.services, me.lang)
    )
    await _save(context, me, draft)


async def _ask_link(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    draft.update(step="link")
    draft["asked_at"] = await reply(
        update, context.services.text(me.lang, "outreach.ask_link"), _skip_markup(context.services, me.lang)
    )
    await _save(context, me, draft)


async def _ask_language(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    services = context.services
    t = lambda key: services.text(me.lang, key)  # noqa: E731
    draft.update(step="language")
    rows = [
        [button(t("outreach.everyone"), _data(NoticeVerb.LANGUAGE, "all"))],
        [button(t(f"outreach.readers_{lang}"), _data(NoticeVerb.LANGUAGE, lang)) for lang in LANGUAGES],
        [_cancel(services, me.lang)],
    ]
    draft["asked_at"] = await reply(update, t("outreach.ask_language"), inline(rows))
    await _save(context, me, draft)


async def _ask_area(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    services = context.services
    draft.update(step="area")
    units = [u for u, _ in await services.storage.people.units() if u.kind == "station" and u.active]
    rows = [[button(services.text(me.lang, "outreach.everywhere"), _data(NoticeVerb.AREA, "all"))]]
    rows += [
        [button(services.text(me.lang, "outreach.near_unit", unit=u.name(me.lang)), _data(NoticeVerb.AREA, u.id))]
        for u in units[:20]
    ]
    rows.append([_cancel(services, me.lang)])
    await edit_or_reply(update, services.text(me.lang, "outreach.ask_area"), inline(rows))
    await _save(context, me, draft)


def delivery_time(services: Services, lang: str, count: int) -> str:
    """How long `count` messages take at the outbox's pace, as people read it."""
    minutes = math.ceil(count / PER_SECOND / 60)
    if count <= PER_SECOND * 60:
        return services.text(lang, "outreach.under_a_minute")
    if minutes < 120:
        return services.text(lang, "outreach.minutes", minutes=minutes)
    return services.text(lang, "outreach.hours", hours=round(minutes / 60, 1))


async def _audience(services: Services, draft: dict[str, Any]) -> list[int]:
    language = draft.get("language")
    area = draft.get("area")
    return await services.storage.outreach.audience(
        "notices",
        language=language if language in LANGUAGES else None,
        near=Area("unit", area) if area and area != "all" else None,
    )


async def _preview(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    """The notice exactly as a courier will see it, then how many it reaches and how long it takes, to confirm."""
    services = context.services
    link = draft.get("link") or [None, None]
    shown = notice_message(services, me.lang, draft["text"], draft.get("photo"), link[0], link[1])
    markup = markup_for(services, me.lang, shown, "notices")
    await edit_or_reply(update, services.text(me.lang, "outreach.preview_above"))
    bot = update.get_bot()
    if shown.photo:
        await bot.send_photo(me.person.telegram_id, shown.photo, caption=shown.text, reply_markup=markup)
    else:
        await bot.send_text(me.person.telegram_id, shown.text, markup)
    count = len(await _audience(services, draft))
    local = services.clock().astimezone(services.zone)
    quiet_end = context.bot_data.config.outreach.quiet_end(local) if context.bot_data.config else None
    lines = [
        services.text(me.lang, "outreach.reach", count=count, time=delivery_time(services, me.lang, count)),
    ]
    if quiet_end is not None:
        lines.append(services.text(me.lang, "outreach.quiet_now", at=f"{quiet_end.hour:02d}:{quiet_end.minute:02d}"))
    token = str(int(services.clock().timestamp()))
    draft.update(step="confirm", token=token)
    rows = [
        [
            button(services.text(me.lang, "outreach.send", count=count), _data(NoticeVerb.SEND, token)),
            _cancel(services, me.lang),
        ]
    ]
    if count == 0:
        lines.append(services.text(me.lang, "outreach.nobody"))
        rows = [[_cancel(services, me.lang)]]
    draft["asked_at"] = await reply(update, "\n".join(lines), inline(rows))
    await _save(context, me, draft)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """The dialog's buttons; only a coordinator (by the database) may press them, and only at their step."""
    if not await coordinator_press(update, context, me):
        return
    services, query = context.services, update.callback_query
    outreach = services.storage.outreach
    draft = await outreach.draft(me.person.telegram_id)
    if press.verb is NoticeVerb.CANCEL:
        await outreach.drop_draft(me.person.telegram_id)
        await query.answer()
        await edit_or_reply(update, services.text(me.lang, "outreach.cancelled"))
        return
    expected = {
        NoticeVerb.SKIP: ("photo", "link"),
        NoticeVerb.LANGUAGE: ("language",),
        NoticeVerb.AREA: ("area",),
        NoticeVerb.SEND: ("confirm",),
    }[press.verb]
    if draft is None or draft.get("step") not in expected:
        await refuse(update, context, me.lang, "outreach.stale")
        return
    await query.answer()
    if press.verb is NoticeVerb.SKIP:
        await retire_buttons(update, draft.get("asked_at"))
        if draft["step"] == "photo":
            await _ask_link(update, context, me, draft)
        else:
            await _ask_language(update, context, me, draft)
    elif press.verb is NoticeVerb.LANGUAGE:
        if press.arg not in (*LANGUAGES, "all"):
            await refuse(update, context, me.lang, "press.invalid")
            return
        draft.update(language=press.arg)
        await _ask_area(update, context, me, draft)
    elif press.verb is NoticeVerb.AREA:
        units = {u.id for u, _ in await services.storage.people.units() if u.kind == "station"}
        if press.arg != "all" and press.arg not in units:
            await refuse(update, context, me.lang, "press.invalid")
            return
        draft.update(area=press.arg)
        await _preview(update, context, me, draft)
    else:  # SEND
        if press.arg != draft.get("token") or not await outreach.drop_draft(me.person.telegram_id):
            await refuse(update, context, me.lang, "outreach.stale")
            return
        now = services.clock()
        recipients = await _audience(services, draft)
        link = draft.get("link")
        notice_id = await outreach.add_notice(
            draft["text"],
            now,
            photo=draft.get("photo"),
            link=tuple(link) if link else None,
            created_by=me.person.telegram_id,
        )
        send_id = await outreach.broadcast(
            kind=NOTICE_KIND,
            ref=str(notice_id),
            topic="notices",
            recipients=recipients,
            now=now,
            created_by=me.person.telegram_id,
        )
        await edit_or_reply(update, services.text(me.lang, "outreach.queued", count=len(recipients), send=send_id))


@for_role("coordinator")
async def show_sends(update: Update, context: BotContext, me: Who) -> None:
    """/outreach: the latest sends and how their delivery goes."""
    services = context.services
    sends = await services.storage.outreach.sends(10)
    if not sends:
        await reply(update, services.text(me.lang, "outreach.no_sends"))
        return
    lines = [services.text(me.lang, "outreach.sends_title")]
    for s in sends:
        kind = (
            services.text(me.lang, f"outreach.kind_{s.kind}") if s.kind in ("notice", "survey", "activity") else s.kind
        )
        lines.append(
            services.text(
                me.lang,
                "outreach.send_line",
                send=s.id,
                kind=kind,
                ref=s.ref,
                at=services.local(from_ts(s.created_at), me.lang),
                audience=s.audience,
                sent=s.sent,
                dead=s.dead,
                blocked=s.blocked,
                stopped=s.stopped,
                pending=s.pending,
            )
        )
    await reply(update, "\n".join(lines))


async def cancel(context: BotContext, telegram_id: int) -> bool:
    """/cancel: drop an unfinished notice; whether there was one."""
    return await context.services.storage.outreach.drop_draft(telegram_id)


def notice_handlers() -> list[BaseHandler]:
    """/notice and /outreach, coordinators' own."""
    private = filters.ChatType.PRIVATE
    return [CommandHandler("notice", begin, filters=private), CommandHandler("outreach", show_sends, filters=private)]
