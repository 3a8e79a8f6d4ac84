"""A coordinator's notice to the couriers who chose to hear notices: /notice, then text, an optional photo,
an optional button to an open survey or a coming activity, then the steps every send ends with
(handlers/outreach_audience.py: who, when, a preview and a confirmation). Cancel at each step.

/outreach lists the latest sends with their delivery (sent, undelivered, blocked, stopped, waiting); a
scheduled send not yet started can be cancelled there, after a confirmation.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers import callbacks, outreach_audience
from handlers.callbacks import Family, NoticeVerb, Press
from handlers.common import (
    Who,
    command_and_button,
    coordinator_press,
    edit_or_reply,
    for_role,
    refuse,
    reply,
    retire_buttons,
)
from handlers.keyboards import Button, button, inline
from handlers.outreach_audience import save
from handlers.services import BotContext, Services
from handlers.telegram_text import one_line, shorten
from storage.models import from_ts
from storage.outreach import NOTICE_KIND

MAX_NOTICE = 1000  # a photo's caption holds 1,024 characters; the notice's head line takes the rest
LINKS_SHOWN = 8  # open surveys and coming activities offered as the notice's button
_LINK = re.compile(r"^\s*(survey|activity|问卷|活动)\s*#?\s*(\d{1,9})\s*$", re.IGNORECASE)
_KINDS = {"问卷": "survey", "活动": "activity"}


def _data(verb: NoticeVerb, arg: str = "") -> str:
    return callbacks.encode(Family.NOTICE, verb, arg)


def _cancel(services: Services, lang: str) -> Button:
    return button(services.text(lang, "button.cancel"), _data(NoticeVerb.CANCEL))


@for_role("coordinator")
async def begin(update: Update, context: BotContext, me: Who) -> None:
    """/notice: start a new notice (replacing one not finished)."""
    await _start(update, context, me)


async def _start(update: Update, context: BotContext, me: Who) -> None:
    services = context.services
    old = await services.storage.outreach.draft(me.person.telegram_id)
    if old is not None:
        await retire_buttons(update, old.get("asked_at"))
    asked = await reply(
        update, services.text(me.lang, "outreach.ask_text", limit=MAX_NOTICE), inline([[_cancel(services, me.lang)]])
    )
    await save(context, me, {"kind": NOTICE_KIND, "step": "text", "asked_at": asked})


async def typed(update: Update, context: BotContext, me: Who) -> bool:
    """A coordinator's message while a notice waits for its text, photo, button or start; whether it was taken."""
    if me.person.role != "coordinator":
        return False
    services = context.services
    draft = await services.storage.outreach.draft(me.person.telegram_id)
    if draft is None or draft.get("step") not in ("text", "photo", "link", "when"):
        return False
    message = update.effective_message
    text = (message.text or message.caption or "").strip()
    step = draft["step"]
    await retire_buttons(update, draft.get("asked_at"))
    if step == "when":
        await outreach_audience.typed_when(update, context, me, draft, text)
    elif step == "text":
        if not text or len(text) > MAX_NOTICE:
            key = "outreach.text_too_long" if text else "outreach.text_needed"
            draft["asked_at"] = await reply(
                update,
                services.text(me.lang, key, length=len(text), limit=MAX_NOTICE),
                inline([[_cancel(services, me.lang)]]),
            )
            await save(context, me, draft)
            return True
        draft.update(text=text)
        await _ask_photo(update, context, me, draft)
    elif step == "photo":
        if not message.photo:
            draft["asked_at"] = await reply(
                update, services.text(me.lang, "outreach.photo_needed"), _skip_markup(services, me.lang)
            )
            await save(context, me, draft)
            return True
        draft.update(photo=message.photo[-1].file_id)
        await _ask_link(update, context, me, draft)
    else:
        match = _LINK.match(text)
        if match is None:
            draft["asked_at"] = await reply(
                update, services.text(me.lang, "outreach.link_bad"), await _link_markup(services, me.lang)
            )
            await save(context, me, draft)
            return True
        kind = _KINDS.get(match[1], match[1].lower())
        draft.update(link=[kind, match[2]])
        await outreach_audience.ask_language(update, context, me, draft)
    return True


def _skip_markup(services: Services, lang: str) -> dict:
    return inline([[button(services.text(lang, "outreach.skip"), _data(NoticeVerb.SKIP)), _cancel(services, lang)]])


async def _ask_photo(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    draft.update(step="photo")
    draft["asked_at"] = await reply(
        update, context.services.text(me.lang, "outreach.ask_photo"), _skip_markup(context.services, me.lang)
    )
    await save(context, me, draft)


async def _linkable(services: Services, lang: str) -> list[tuple[str, str, str]]:
    """What a notice's button may open: the open surveys and the activities to come, (kind, id, title)."""
    found = [
        ("survey", str(s.id), s.survey.title(lang)) for s in await services.storage.surveys.all() if s.state == "open"
    ]
    found += [
        ("activity", str(a.id), a.title_for(lang)) for a in await services.storage.activities.upcoming(services.clock())
    ]
    return found[:LINKS_SHOWN]


async def _link_markup(services: Services, lang: str) -> dict:
    """A button for each open survey and coming activity, then Skip and Cancel."""
    rows = [
        [
            button(
                shorten(services.text(lang, f"sending.link_to_{kind}", title=title), 60),
                _data(NoticeVerb.LINK, f"{kind}.{ref}"),
            )
        ]
        for kind, ref, title in await _linkable(services, lang)
    ]
    rows.append([button(services.text(lang, "outreach.skip"), _data(NoticeVerb.SKIP)), _cancel(services, lang)])
    return inline(rows)


async def _ask_link(update: Update, context: BotContext, me: Who, draft: dict[str, Any]) -> None:
    draft.update(step="link")
    draft["asked_at"] = await reply(
        update,
        context.services.text(me.lang, "outreach.ask_link"),
        await _link_markup(context.services, me.lang),
    )
    await save(context, me, draft)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """The dialog's buttons and /outreach's; only a coordinator (by the database) may press them, and only
    at their step."""
    if not await coordinator_press(update, context, me):
        return
    services, query = context.services, update.callback_query
    if press.verb is NoticeVerb.PREVIEW:
        await query.answer(services.text(me.lang, "sending2.preview_pressed"), show_alert=True)
        return
    if press.verb is NoticeVerb.NEW:
        await query.answer()
        await _start(update, context, me)
        return
    outreach = services.storage.outreach
    if press.verb in (NoticeVerb.UNSEND, NoticeVerb.UNSEND_CONFIRMED, NoticeVerb.KEEP):
        await _on_unsend(update, context, me, press)
        return
    if press.verb is NoticeVerb.ANNOUNCE:
        await outreach_audience.on_announce(update, context, me, press)
        return
    draft = await outreach.draft(me.person.telegram_id)
    if press.verb is NoticeVerb.CANCEL:
        await outreach.drop_draft(me.person.telegram_id)
        await query.answer()
        kind = (draft or {}).get("kind", NOTICE_KIND)
        await edit_or_reply(
            update, services.text(me.lang, "outreach.cancelled" if kind == NOTICE_KIND else "sending.not_announced")
        )
        return
    expected = {
        NoticeVerb.SKIP: ("photo", "link"),
        NoticeVerb.LINK: ("link",),
        NoticeVerb.LANGUAGE: ("language",),
        NoticeVerb.AREA: ("area",),
        NoticeVerb.WHEN: ("when",),
        NoticeVerb.SEND: ("confirm",),
        NoticeVerb.AGAIN: ("confirm",),
    }[press.verb]
    if draft is None or draft.get("step") not in expected:
        await refuse(update, context, me.lang, "outreach.stale")
        return
    if press.verb is NoticeVerb.SKIP:
        await query.answer()
        await retire_buttons(update, draft.get("asked_at"))
        if draft["step"] == "photo":
            await _ask_link(update, context, me, draft)
        else:
            await outreach_audience.ask_language(update, context, me, draft)
    elif press.verb is NoticeVerb.LINK:
        kind, _, ref = press.arg.partition(".")
        if (kind, ref) not in {(k, r) for k, r, _ in await _linkable(services, me.lang)}:
            await refuse(update, context, me.lang, "sending.link_gone")
            return
        await query.answer()
        await retire_buttons(update, draft.get("asked_at"))
        draft.update(link=[kind, ref])
        await outreach_audience.ask_language(update, context, me, draft)
    else:
        await outreach_audience.on_press(update, context, me, press, draft)


def _kind(services: Services, lang: str, kind: str) -> str:
    return services.text(lang, f"outreach.kind_{kind}") if kind in ("notice", "survey", "activity") else kind


SUBJECT_SHOWN = 24  # characters of a notice's text or a title that name a send in /outreach


async def _subject(services: Services, lang: str, kind: str, ref: str) -> str:
    """What a send was about, as its list line names it: the number, then the notice's first words or the
    survey's or activity's title (two sends of "Notice 3" and "Notice 4" are otherwise hard to tell apart)."""
    name = None
    if ref.isdigit() and kind == "notice":
        notice = await services.storage.outreach.notice(int(ref))
        name = notice.text if notice else None
    elif ref.isdigit() and kind == "survey":
        survey = await services.storage.surveys.get(int(ref))
        name = survey.survey.title(lang) if survey else None
    elif ref.isdigit() and kind == "activity":
        activity = await services.storage.activities.get(int(ref))
        name = activity.title_for(lang) if activity else None
    if not name:
        return ref
    return ref + services.text(lang, "sending2.subject", name=shorten(one_line(name), SUBJECT_SHOWN))


async def _on_unsend(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Cancel a send none of whose messages has gone yet: asked first; refused once one went (or it was cancelled)."""
    services, query = context.services, update.callback_query
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    if press.verb is NoticeVerb.KEEP:
        await query.answer()
        await edit_or_reply(update, t("sending.unsend_kept"))
        return
    send = await services.storage.outreach.send(int(press.arg)) if press.arg.isdigit() else None
    if send is None or not send.cancellable:
        await refuse(update, context, me.lang, "sending.unsend_too_late")
        return
    await query.answer()
    if press.verb is NoticeVerb.UNSEND:
        rows = [
            [
                button(t("sending.unsend_yes"), _data(NoticeVerb.UNSEND_CONFIRMED, str(send.id))),
                button(t("sending.unsend_keep"), _data(NoticeVerb.KEEP)),
            ]
        ]
        question = t(
            "sending.unsend_confirm",
            send=send.id,
            kind=_kind(services, me.lang, send.kind),
            ref=await _subject(services, me.lang, send.kind, send.ref),
            at=services.local(from_ts(send.starts_at), me.lang),
            audience=send.audience,
        )
        await edit_or_reply(update, question, inline(rows))
        return
    if not await services.storage.outreach.cancel_send(send.id, services.clock()):
        await edit_or_reply(update, t("sending.unsend_too_late"))
        return
    await edit_or_reply(update, t("sending.unsent", send=send.id))


@for_role("coordinator")
async def show_sends(update: Update, context: BotContext, me: Who) -> None:
    """/outreach: the latest sends and how their delivery goes; a scheduled one with its start and Cancel."""
    services = context.services
    sends = await services.storage.outreach.sends(10)
    write = [button(services.text(me.lang, "outreach2.button_new"), _data(NoticeVerb.NEW))]
    if not sends:
        await reply(update, services.text(me.lang, "outreach.no_sends"), inline([write]))
        return
    now = services.clock()
    lines = [services.text(me.lang, "outreach.sends_title")]
    rows = []
    for s in sends:
        kind = _kind(services, me.lang, s.kind)
        ref = await _subject(services, me.lang, s.kind, s.ref)
        if s.cancelled_at is not None:
            lines.append(
                services.text(
                    me.lang,
                    "sending.send_line_cancelled",
                    send=s.id,
                    kind=kind,
                    ref=ref,
                    at=services.local(from_ts(s.cancelled_at), me.lang),
                )
            )
            continue
        if s.scheduled(now):
            at = services.local(from_ts(s.starts_at), me.lang)
            lines.append(
                services.text(
                    me.lang, "sending.send_line_scheduled", send=s.id, kind=kind, ref=ref, at=at, audience=s.audience
                )
            )
            rows.append(
                [button(services.text(me.lang, "sending.unsend", send=s.id), _data(NoticeVerb.UNSEND, str(s.id)))]
            )
            continue
        lines.append(
            services.text(
                me.lang,
                "outreach.send_line",
                send=s.id,
                kind=kind,
                ref=ref,
                at=services.local(from_ts(s.starts_at or s.created_at), me.lang),
                audience=s.audience,
                sent=s.sent,
                dead=s.dead,
                blocked=s.blocked,
                stopped=s.stopped,
                pending=s.pending,
            )
        )
        if s.cancellable:  # sent now, but nothing has gone yet (quiet hours, or appeals' notices first)
            rows.append(
                [button(services.text(me.lang, "sending.unsend", send=s.id), _data(NoticeVerb.UNSEND, str(s.id)))]
            )
    await reply(update, "\n".join(lines), inline([*rows, write]))


async def cancel(context: BotContext, telegram_id: int) -> bool:
    """/cancel: drop an unfinished notice or announcement; whether there was one."""
    return await context.services.storage.outreach.drop_draft(telegram_id)


def notice_handlers(labels: set[str]) -> list[BaseHandler]:
    """/notice, and /outreach with its menu button (`labels`): coordinators' own."""
    return [
        CommandHandler("notice", begin, filters=filters.ChatType.PRIVATE),
        *command_and_button("outreach", show_sends, labels),
    ]
