"""The steps every send to couriers ends with: who gets it (language, area), when (now, a time offered, or
a typed one), a preview exactly as couriers will see it, and a confirmation with how many it reaches, when
it starts and how long delivery takes. A notice (handlers/outreach_notices.py), a survey when it is opened
and an activity when it is published (through `offer`) all come here.

The dialog's state is the coordinator's outreach draft (one at a time); every press is checked against it,
so a button from an earlier step or another draft is refused as stale.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from domain.activities import parse_time
from handlers import callbacks
from handlers.callbacks import Family, NoticeVerb, Press
from handlers.common import Who, drop_keyboard, edit_or_reply, refuse, reply, retire_buttons
from handlers.i18n import LANGUAGES
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.outreach import OutreachMessage, markup_for, notice_message, rendered
from handlers.services import BotContext, Services
from handlers.telegram_text import shorten
from storage.models import from_ts, to_ts
from storage.outreach import NOTICE_KIND, Area

PER_SECOND = 30  # Telegram's overall limit, the pace the outbox keeps (bot/outbox_sender.py)
TOPIC_OF = {NOTICE_KIND: "notices", "survey": "surveys", "activity": "activities"}
ANNOUNCED = ("survey", "activity")
# The times offered besides Now: these hours of today, tomorrow and the day after, the first few still ahead.
OFFERED_HOURS = (10, 15)
OFFERED = 3
SOONEST = timedelta(minutes=30)  # an offered time at least this far ahead
LATEST = timedelta(days=60)  # a typed time at most this far ahead
LABEL = 60  # a button naming a survey or an activity

# A survey's or an activity's title as a coordinator reads it, if it may be announced (open, not yet begun).
Subject = Callable[[Services, str, str], Awaitable[str | None]]
_SUBJECTS: dict[str, Subject] = {}


def register_subject(kind: str, subject: Subject) -> None:
    """Say how a survey or an activity of `kind` is named, and whether it may be announced now."""
    _SUBJECTS[kind] = subject


def data(verb: NoticeVerb, arg: str = "") -> str:
    """A button of the dialog."""
    return callbacks.encode(Family.NOTICE, verb, arg)


def cancel_button(services: Services, lang: str, draft: dict[str, Any]) -> Button:
    """Cancel: for a notice it drops the notice; for an announcement, the announcement only."""
    key = "button.cancel" if draft.get("kind", NOTICE_KIND) == NOTICE_KIND else "sending.dont_announce"
    return button(services.text(lang, key), data(NoticeVerb.CANCEL))


async def save(context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    """Keep the coordinator's dialog where it is."""
    await context.services.storage.outreach.save_draft(me.person.telegram_id, draft, context.services.clock())


async def offer(update: Update, context: BotContext, me: Who, kind: str, refs: list[int]) -> None:
    """After a survey is opened or activities are published: announce one to couriers who chose to hear
    of them; with several, the coordinator picks which (the others can be sent as a notice)."""
    services = context.services
    subject = _SUBJECTS[kind]
    named = [(str(ref), title) for ref in refs if (title := await subject(services, str(ref), me.lang)) is not None]
    if len(named) == 1:
        await begin(update, context, me, kind, *named[0])
    elif named:
        rows = [
            [
                button(
                    shorten(services.text(me.lang, "sending.announce_one", title=title), LABEL),
                    data(NoticeVerb.ANNOUNCE, f"{kind}.{ref}"),
                )
            ]
            for ref, title in named[:10]
        ]
        await reply(update, services.text(me.lang, f"sending.announce_which_{kind}"), inline(rows))


async def begin(update: Update, context: BotContext, me: Who, kind: str, ref: str, title: str) -> None:
    """Start announcing a survey or an activity (replacing an unfinished notice or announcement)."""
    old = await context.services.storage.outreach.draft(me.person.telegram_id)
    if old is not None:
        await retire_buttons(update, old.get("asked_at"))
    await ask_language(update, context, me, {"kind": kind, "ref": ref, "title": title})


async def on_announce(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Announce this one (of several just published): checked again, as anything in callback data."""
    kind, _, ref = press.arg.partition(".")
    subject = _SUBJECTS.get(kind) if kind in ANNOUNCED and ref.isdigit() else None
    title = await subject(context.services, ref, me.lang) if subject is not None else None
    if title is None:
        await refuse(update, context, me.lang, "outreach.stale")
        return
    await update.callback_query.answer()
    await begin(update, context, me, kind, ref, title)


async def ask_language(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    """Who gets it: everyone who chose its topic, or only Chinese or English readers."""
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    kind = draft.get("kind", NOTICE_KIND)
    topic = TOPIC_OF[kind]
    draft.update(step="language")
    rows = [
        [
            button(
                t("outreach.everyone" if kind == NOTICE_KIND else f"sending.everyone_{topic}"),
                data(NoticeVerb.LANGUAGE, "all"),
            )
        ],
        [button(t(f"outreach.readers_{lang}"), data(NoticeVerb.LANGUAGE, lang)) for lang in LANGUAGES],
        [cancel_button(services, me.lang, draft)],
    ]
    question = t("outreach.ask_language")
    if kind != NOTICE_KIND:
        question = t(f"sending.ask_announce_{kind}", title=draft["title"]) + "\n" + question
    draft["asked_at"] = await reply(update, question, inline(rows))
    await save(context, me, draft)


async def _ask_area(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    services = context.services
    draft.update(step="area")
    units = [u for u, _ in await services.storage.people.units() if u.kind == "station" and u.active]
    rows = [[button(services.text(me.lang, "outreach.everywhere"), data(NoticeVerb.AREA, "all"))]]
    rows += [
        [button(services.text(me.lang, "outreach.near_unit", unit=u.name(me.lang)), data(NoticeVerb.AREA, u.id))]
        for u in units[:20]
    ]
    rows.append([cancel_button(services, me.lang, draft)])
    await edit_or_reply(update, services.text(me.lang, "outreach.ask_area"), inline(rows))
    await save(context, me, draft)


def _quiet_end(context: BotContext, moment: datetime) -> datetime | None:
    """When the quiet hours `moment` falls in end, in district time (None if not quiet)."""
    config = context.bot_data.config
    return config.outreach.quiet_end(moment.astimezone(context.services.zone)) if config else None


def _outside_quiet(context: BotContext, moment: datetime) -> datetime:
    return _quiet_end(context, moment) or moment


def offered_times(context: BotContext) -> list[datetime]:
    """The times offered besides Now: 10:00 and 15:00 district time, from today on, at least half an hour
    ahead, each moved out of quiet hours; the first few."""
    services = context.services
    now = services.clock()
    today = now.astimezone(services.zone).replace(hour=0, minute=0, second=0, microsecond=0)
    times: list[datetime] = []
    for day in range(3):
        for hour in OFFERED_HOURS:
            moment = _outside_quiet(context, (today + timedelta(days=day)).replace(hour=hour))
            if moment >= now + SOONEST and moment not in times:
                times.append(moment)
    return sorted(times)[:OFFERED]


async def _ask_when(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    services = context.services
    times = offered_times(context)
    draft.update(step="when", offered=[to_ts(m) for m in times])
    rows = [[button(services.text(me.lang, "sending.now"), data(NoticeVerb.WHEN, "now"))]]
    rows += [[button(services.local(m, me.lang), data(NoticeVerb.WHEN, str(to_ts(m))))] for m in times]
    rows.append([cancel_button(services, me.lang, draft)])
    question = services.with_quiet(me.lang, services.text(me.lang, "sending.ask_when"))
    draft["asked_at"] = await edit_or_reply(update, question, inline(rows))
    await save(context, me, draft)


async def typed_when(update: Update, context: BotContext, me: Who, draft: dict[str, Any], text: str) -> None:
    """A typed start, like 2026-12-08 10:00 (district time): ahead of now and within sixty days."""
    services = context.services
    moment = parse_time(text, services.zone)
    now = services.clock()
    if moment is None or moment <= now or moment > now + LATEST:
        rows = [[button(services.text(me.lang, "sending.now"), data(NoticeVerb.WHEN, "now"))]]
        rows += [
            [button(services.local(from_ts(ts), me.lang), data(NoticeVerb.WHEN, str(ts)))]
            for ts in draft.get("offered", [])
        ]
        rows.append([cancel_button(services, me.lang, draft)])
        draft["asked_at"] = await reply(update, services.text(me.lang, "sending.when_bad"), inline(rows))
        await save(context, me, draft)
        return
    draft["at"] = to_ts(_outside_quiet(context, moment))
    await _preview(update, context, me, draft)


def delivery_time(services: Services, lang: str, count: int) -> str:
    """How long `count` messages take at the outbox's pace, as people read it."""
    minutes = math.ceil(count / PER_SECOND / 60)
    if count <= PER_SECOND * 60:
        return services.text(lang, "outreach.under_a_minute")
    if minutes < 120:
        return services.text(lang, "outreach.minutes", minutes=minutes)
    return services.text(lang, "outreach.hours", hours=round(minutes / 60, 1))


async def audience(services: Services, draft: dict[str, Any]) -> list[int]:
    """The people the draft reaches now: who chose its topic, by its language and area."""
    language, area = draft.get("language"), draft.get("area")
    return await services.storage.outreach.audience(
        TOPIC_OF[draft.get("kind", NOTICE_KIND)],
        language=language if language in LANGUAGES else None,
        near=Area("unit", area) if area and area != "all" else None,
    )


async def _shown(services: Services, lang: str, draft: dict[str, Any]) -> OutreachMessage | None:
    """The message as couriers will see it (None if what it announces is gone meanwhile)."""
    kind = draft.get("kind", NOTICE_KIND)
    if kind == NOTICE_KIND:
        link = draft.get("link") or [None, None]
        return notice_message(services, lang, draft["text"], draft.get("photo"), link[0], link[1])
    return await rendered(services, kind, {"ref": draft["ref"], "topic": TOPIC_OF[kind]}, lang)


async def _preview(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    """The message exactly as a courier will see it, then how many it reaches, when it starts and how long
    it takes, to confirm."""
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    kind = draft.get("kind", NOTICE_KIND)
    # Shown in the language its readers read, when only one language's readers get it.
    readers = draft.get("language") if draft.get("language") in LANGUAGES else None
    shown = await _shown(services, readers or me.lang, draft)
    if shown is None:
        await services.storage.outreach.drop_draft(me.person.telegram_id)
        await edit_or_reply(update, t("sending.subject_gone"))
        return
    above = t("outreach.preview_above" if kind == NOTICE_KIND else "sending.preview_announcement")
    if readers is None and kind == NOTICE_KIND:  # an announcement is drawn whole in each reader's language
        above += "\n" + t("sending2.preview_languages")
    await edit_or_reply(update, above)
    markup = _inert(markup_for(services, readers or me.lang, shown, TOPIC_OF[kind]))
    bot = update.get_bot()
    if shown.photo:
        await bot.send_photo(me.person.telegram_id, shown.photo, caption=shown.text, reply_markup=markup)
    else:
        await bot.send_text(me.person.telegram_id, shown.text, markup)
    count = len(await audience(services, draft))
    now = services.clock()
    at = from_ts(draft["at"]) if draft.get("at") else None
    token = str(to_ts(now))
    draft.update(step="confirm", token=token)
    lines = [await _audience_line(services, me.lang, draft)]
    if count == 0:
        # Nothing would go out: say why, and let them choose whom again rather than start over.
        area = draft.get("area")
        if area and area != "all":
            unit = await services.storage.people.unit(area)
            lines.append(t("sending.nobody_near", place=unit.name(me.lang) if unit else area))
        else:
            lines.append(t("outreach.nobody" if kind == NOTICE_KIND else f"sending.nobody_{TOPIC_OF[kind]}"))
        rows = [[button(t("sending2.button_again"), data(NoticeVerb.AGAIN)), cancel_button(services, me.lang, draft)]]
    else:
        lines.append(t("outreach.reach", count=count, time=delivery_time(services, me.lang, count)))
        if at is not None:
            lines.append(t("sending.starts_at", at=services.local(at, me.lang)))
        elif (quiet_end := _quiet_end(context, now)) is not None:
            lines.append(t("outreach.quiet_now", at=f"{quiet_end.hour:02d}:{quiet_end.minute:02d}"))
        label = "outreach.send" if at is None else "sending.schedule"
        rows = [[button(t(label, count=count), data(NoticeVerb.SEND, token)), cancel_button(services, me.lang, draft)]]
    draft["asked_at"] = await reply(update, "\n".join(lines), inline(rows))
    await save(context, me, draft)


def _inert(markup: Keyboard) -> Keyboard:
    """A preview's buttons, each only saying it is a preview: pressed by the coordinator, a real Stop would
    stop their own messages and a real sign-up would sign them up."""
    rows = [
        [{"text": b["text"], "callback_data": data(NoticeVerb.PREVIEW)} if "callback_data" in b else b for b in row]
        for row in markup["inline_keyboard"]
    ]
    return {"inline_keyboard": rows}


async def _audience_line(services: Services, lang: str, draft: dict[str, Any]) -> str:
    """Whom the draft is for, as the coordinator chose it: the language's and the area's buttons' words."""
    t = lambda key, **values: services.text(lang, key, **values)  # noqa: E731
    kind = draft.get("kind", NOTICE_KIND)
    readers = draft.get("language", "all")
    if readers in LANGUAGES:
        who = t(f"outreach.readers_{readers}")
    else:
        who = t("outreach.everyone" if kind == NOTICE_KIND else f"sending.everyone_{TOPIC_OF[kind]}")
    area = draft.get("area", "all")
    unit = await services.storage.people.unit(area) if area != "all" else None
    where = t("outreach.near_unit", unit=unit.name(lang)) if unit else t("outreach.everywhere")
    return t("sending2.audience", who=who, where=where)


async def on_press(update: Update, context: BotContext, me: Who, press: Press, draft: dict[str, Any]) -> None:
    """Language, area, when, Send and choosing whom again, at their steps (the caller checked the role and the step)."""
    services = context.services
    if press.verb is NoticeVerb.AGAIN:
        await update.callback_query.answer()
        await drop_keyboard(update)
        await ask_language(update, context, me, draft)
    elif press.verb is NoticeVerb.LANGUAGE:
        if press.arg not in (*LANGUAGES, "all"):
            await refuse(update, context, me.lang, "press.invalid")
            return
        await update.callback_query.answer()
        draft.update(language=press.arg)
        await _ask_area(update, context, me, draft)
    elif press.verb is NoticeVerb.AREA:
        units = {u.id for u, _ in await services.storage.people.units() if u.kind == "station"}
        if press.arg != "all" and press.arg not in units:
            await refuse(update, context, me.lang, "press.invalid")
            return
        await update.callback_query.answer()
        draft.update(area=press.arg)
        await _ask_when(update, context, me, draft)
    elif press.verb is NoticeVerb.WHEN:
        offered = draft.get("offered", [])
        if press.arg != "now" and not (press.arg.isdigit() and int(press.arg) in offered):
            await refuse(update, context, me.lang, "outreach.stale")
            return
        await update.callback_query.answer()
        draft["at"] = None if press.arg == "now" else int(press.arg)
        await _preview(update, context, me, draft)
    else:  # SEND
        await _send(update, context, me, press, draft)


async def _send(update: Update, context: BotContext, me: Who, press: Press, draft: dict[str, Any]) -> None:
    services = context.services
    outreach = services.storage.outreach
    if press.arg != draft.get("token") or not await outreach.drop_draft(me.person.telegram_id):
        await refuse(update, context, me.lang, "outreach.stale")
        return
    await update.callback_query.answer()
    now = services.clock()
    kind = draft.get("kind", NOTICE_KIND)
    at = from_ts(draft["at"]) if draft.get("at") else None
    if at is not None and at <= now:  # the chosen time passed while the preview was open: it goes now
        at = None
    recipients = await audience(services, draft)
    if kind == NOTICE_KIND:
        link = draft.get("link")
        ref = await outreach.add_notice(
            draft["text"],
            now,
            photo=draft.get("photo"),
            link=tuple(link) if link else None,
            created_by=me.person.telegram_id,
        )
    else:
        ref = draft["ref"]
    send_id = await outreach.broadcast(
        kind=kind,
        ref=str(ref),
        topic=TOPIC_OF[kind],
        recipients=recipients,
        now=now,
        created_by=me.person.telegram_id,
        at=at,
    )
    if at is not None:
        text = services.text(
            me.lang, "sending.scheduled", count=len(recipients), send=send_id, at=services.local(at, me.lang)
        )
    elif kind == NOTICE_KIND:
        text = services.text(me.lang, "outreach.queued", count=len(recipients), send=send_id)
        text = services.with_quiet(me.lang, text)
    else:
        text = services.text(me.lang, "sending.announced", count=len(recipients), send=send_id)
        text = services.with_quiet(me.lang, text)
    await edit_or_reply(update, text)
