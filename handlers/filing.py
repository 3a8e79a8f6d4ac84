"""Filing an appeal: category -> description -> place -> contact -> review -> confirm.

The dialog's step and data live in the drafts table, so a draft survives a restart. Steps are
dialog steps, not appeal states: the appeal only exists once the courier confirms.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update

from domain.routing import route
from handlers import callbacks
from handlers.callbacks import Press
from handlers.common import Who, drop_keyboard, edit_or_reply, main_menu, refuse, reply, share_keyboard
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.services import BotContext
from storage.dialogs import Draft
from storage.models import NewAppeal

CATEGORY, DESCRIPTION, PLACE, CONTACT, REVIEW = "category", "description", "place", "contact", "review"
PREVIOUS = {DESCRIPTION: CATEGORY, PLACE: DESCRIPTION, CONTACT: PLACE, REVIEW: CONTACT}

MAX_DESCRIPTION = 2000
MAX_FILES = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
NEAR_STATION_M = 1000


def _nav(services, lang: str, *extra: Button) -> Keyboard:
    rows = [list(extra)] if extra else []
    rows.append(
        [
            button(services.text(lang, "button.back"), callbacks.draft("back")),
            button(services.text(lang, "button.cancel"), callbacks.draft("cancel")),
        ]
    )
    return inline(rows)


async def _save(context: BotContext, me: Who, step: str, data: dict[str, Any]) -> None:
    await context.services.storage.dialogs.save_draft(
        me.person.telegram_id, Draft(step, data), context.services.clock()
    )


async def ask(
    update: Update, context: BotContext, me: Who, draft: Draft, in_place: bool = False, lead: str | None = None
) -> None:
    """Ask for what the draft's current step needs.

    `in_place`: in the pressed message, where the question is one message; `lead`: what was just
    received, said in the step's first message (before the review, in place of "almost done").
    """
    services, lang = context.services, me.lang
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    # The category and description questions are one message with buttons each: moving between them
    # by a button turns the pressed message into the next question, rather than leaving a dead list.
    say = edit_or_reply if in_place else reply
    match draft.step:
        case "category":
            rows = [[button(c.name(lang), callbacks.draft("cat", c.id))] for c in services.categories]
            rows.append([button(t("button.cancel"), callbacks.draft("cancel"))])
            await say(update, t("filing.ask_category"), reply_markup=inline(rows))
        case "description":
            category = services.category(draft.data.get("category", ""))
            text = t("filing.ask_description", limit=MAX_DESCRIPTION)
            if category is not None:
                text = t("filing.review_category", category=category.name(lang)) + "\n" + text
            await say(update, text, reply_markup=_nav(services, lang))
        case "place" | "contact":
            # Telegram sends a reply keyboard and inline buttons in separate messages.
            location = draft.step == "place"
            keyboard = share_keyboard(
                t("button.share_location" if location else "button.share_phone"), location=location, contact=not location
            )
            first = t(f"filing.ask_{draft.step}_keyboard")
            await reply(update, t(lead) + "\n" + first if lead else first, reply_markup=keyboard)
            skip = button(t("button.skip" if location else "button.anonymous"), callbacks.draft("skip"))
            await reply(update, t(f"filing.ask_{draft.step}"), reply_markup=_nav(services, lang, skip))
        case "review":
            # This message brings the main menu back in place of the share keyboard.
            await reply(update, t(lead or "filing.ready"), reply_markup=await main_menu(services, me))
            confirm = button(t("button.confirm"), callbacks.draft("confirm"))
            await reply(update, await _summary(context, me, draft.data), reply_markup=_nav(services, lang, confirm))


async def _summary(context: BotContext, me: Who, data: dict[str, Any], title: bool = True) -> str:
    services, lang = context.services, me.lang
    category = services.category(data["category"])
    lines = [
        *([services.text(lang, "filing.review_title")] if title else []),
        services.text(lang, "filing.review_category", category=category.name(lang) if category else "?"),
        services.text(lang, "filing.review_description", description=data.get("description") or "—"),
    ]
    if data.get("files"):
        lines.append(services.text(lang, "card.files", count=len(data["files"])))
    if data.get("station"):
        station = await services.storage.stations.get(data["station"])
        lines.append(services.text(lang, "card.station", station=station.name if station else data["station"]))
    elif data.get("lat") is not None:
        lines.append(services.text(lang, "card.location", lat=f"{data['lat']:.5f}", lon=f"{data['lon']:.5f}"))
    phone = data.get("phone")
    lines.append(
        services.text(lang, "filing.review_phone", phone=phone) if phone else services.text(lang, "filing.review_anonymous")
    )
    return "\n".join(lines)


async def begin(update: Update, context: BotContext, me: Who, station_id: str | None = None) -> None:
    """Start a new appeal, or pick up the unfinished one."""
    draft = await context.services.storage.dialogs.draft(me.person.telegram_id)
    if draft is not None and station_id is None:
        await reply(update, context.services.text(me.lang, "filing.resuming"))
        await ask(update, context, me, draft)
        return
    data: dict[str, Any] = {"station": station_id} if station_id else {}
    draft = Draft(CATEGORY, data)
    await _save(context, me, draft.step, draft.data)
    await ask(update, context, me, draft)


async def _advance(
    update: Update, context: BotContext, me: Who, step: str, data: dict[str, Any], in_place: bool = False,
    lead: str | None = None,
) -> None:
    if step == PLACE and data.get("station"):
        step = CONTACT  # the courier started from a station: the place is known
    await _save(context, me, step, data)
    await ask(update, context, me, Draft(step, data), in_place, lead)


async def on_message(update: Update, context: BotContext, me: Who, draft: Draft) -> None:
    """A message while a draft is open: take what the step needs, or say what it needs."""
    message: Message = update.effective_message
    data = dict(draft.data)
    match draft.step:
        case "description":
            await _take_description(update, context, me, message, data)
        case "place" if message.location is not None:
            await _take_location(update, context, me, message, data)
        case "contact" if message.contact is not None:
            contact = message.contact
            if contact.user_id != me.person.telegram_id:
                await refuse(update, context, me.lang, "filing.own_contact_only")
                return
            data["phone"] = contact.phone_number
            await _advance(update, context, me, REVIEW, data, lead="filing.phone_received")
        case _:
            await refuse(update, context, me.lang, f"filing.expecting_{draft.step}")


async def _take_description(
    update: Update, context: BotContext, me: Who, message: Message, data: dict[str, Any]
) -> None:
    text = message.text or message.caption
    files = list(data.get("files", []))
    if message.photo or message.voice:
        if len(files) >= MAX_FILES:
            await refuse(update, context, me.lang, "filing.too_many_files", limit=MAX_FILES)
            return
        if message.photo:
            photo = message.photo[-1]
            if (photo.file_size or 0) > MAX_PHOTO_BYTES:
                await refuse(update, context, me.lang, "filing.photo_too_large", limit=MAX_PHOTO_BYTES // 2**20)
                return
            files.append(["photo", photo.file_id, photo.file_unique_id])
        else:
            files.append(["voice", message.voice.file_id, message.voice.file_unique_id])
    elif not text:
        await refuse(update, context, me.lang, "filing.expecting_description")
        return
    if text is not None:
        text = text.strip()
        if len(text) > MAX_DESCRIPTION:
            await refuse(update, context, me.lang, "filing.too_long", length=len(text), limit=MAX_DESCRIPTION)
            return
        data["description"] = "\n".join(p for p in (data.get("description"), text) if p)
    data["files"] = files
    if text:
        await _advance(update, context, me, PLACE, data)
        return
    await _save(context, me, DESCRIPTION, data)
    services = context.services
    more = button(services.text(me.lang, "button.next"), callbacks.draft("next"))
    await reply(
        update,
        services.text(me.lang, "filing.file_added", count=len(files)),
        reply_markup=_nav(services, me.lang, more),
    )


async def _take_location(
    update: Update, context: BotContext, me: Who, message: Message, data: dict[str, Any]
) -> None:
    services = context.services
    data["lat"], data["lon"] = message.location.latitude, message.location.longitude
    await _save(context, me, PLACE, data)
    near = [
        (s, d)
        for s, d in await services.storage.stations.nearest(data["lat"], data["lon"], limit=3)
        if d <= NEAR_STATION_M
    ]
    if not near:
        await _advance(update, context, me, CONTACT, data, lead="filing.location_received")
        return
    # The share keyboard hid itself once used; the contact step's keyboard comes next, and the main
    # menu with the review.
    rows = [[button(f"{s.name} · {d:.0f} m", callbacks.draft("st", s.id))] for s, d in near]
    rows.append([button(services.text(me.lang, "button.no_station"), callbacks.draft("skip"))])
    text = services.text(me.lang, "filing.location_received") + "\n" + services.text(me.lang, "filing.which_station")
    await reply(update, text, reply_markup=inline(rows))


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A dialog button: move the draft on, back, or away, if it still applies."""
    query = update.callback_query
    storage, services = context.services.storage, context.services
    draft = await storage.dialogs.draft(me.person.telegram_id)
    if draft is None:
        await refuse(update, context, me.lang, "filing.no_draft")
        return
    data = dict(draft.data)
    verb, step = press.verb, draft.step
    if verb == "cancel":
        await query.answer()
        await storage.dialogs.drop_draft(me.person.telegram_id)
        await drop_keyboard(update)
        await reply(update, services.text(me.lang, "filing.cancelled"), reply_markup=await main_menu(services, me))
    elif verb == "back" and step in PREVIOUS:
        await query.answer()
        back = PREVIOUS[step]
        if back == PLACE and data.get("station") and not data.get("lat"):
            back = DESCRIPTION
        if back == DESCRIPTION:
            data.pop("description", None)  # going back means writing it anew, not adding to it
        in_place = step == DESCRIPTION  # the category list, back where the description question was
        if not in_place:
            await drop_keyboard(update)
        await _save(context, me, back, data)
        await ask(update, context, me, Draft(back, data), in_place)
    elif verb == "cat" and step == CATEGORY and services.category(press.arg):
        await query.answer()
        data["category"] = press.arg
        await _advance(update, context, me, DESCRIPTION, data, in_place=True)
    elif verb == "next" and step == DESCRIPTION and (data.get("description") or data.get("files")):
        await query.answer()
        await drop_keyboard(update)
        await _advance(update, context, me, PLACE, data)
    elif verb == "skip" and step in (PLACE, CONTACT):
        await query.answer()
        await drop_keyboard(update)
        if step == CONTACT:
            data.pop("phone", None)
        await _advance(update, context, me, CONTACT if step == PLACE else REVIEW, data)
    elif verb == "st" and step == PLACE and await storage.stations.get(press.arg):
        await query.answer()
        await drop_keyboard(update)
        data["station"] = press.arg
        await _advance(update, context, me, CONTACT, data)
    elif verb == "confirm" and step == REVIEW:
        await query.answer()
        await _submit(update, context, me, data)
    else:
        await refuse(update, context, me.lang, "filing.stale_button")


async def _submit(update: Update, context: BotContext, me: Who, data: dict[str, Any]) -> None:
    services = context.services
    now = services.clock()
    point = (data["lat"], data["lon"]) if data.get("lat") is not None else None
    unit = route(services.routing, data["category"], data.get("station"), point)
    new = NewAppeal(
        courier_id=me.person.telegram_id,
        category=data["category"],
        description=data.get("description") or services.text(me.lang, "filing.files_only"),
        language=me.lang,
        station_id=data.get("station"),
        lat=data.get("lat"),
        lon=data.get("lon"),
        contact_phone=data.get("phone"),
        attachments=tuple(tuple(f) for f in data.get("files", [])),
    )
    applied = await services.storage.appeals.submit(new, unit, now)
    appeal = applied.appeal
    timers = {t.kind: t.due_at for t in await services.storage.appeals.timers(appeal.id)}
    if appeal.unit_id:
        unit_row = await services.storage.people.unit(appeal.unit_id)
        text = services.text(
            me.lang,
            "filing.submitted_routed",
            number=appeal.id,
            unit=unit_row.name(me.lang) if unit_row else appeal.unit_id,
            when=services.local(timers.get("handle"), me.lang),
        )
    else:
        text = services.text(
            me.lang, "filing.submitted_triage", number=appeal.id, when=services.local(timers.get("triage"), me.lang)
        )
    # The receipt takes the confirm button's place under the summary: what was filed and its number
    # stay together (the main menu came back with the review).
    await edit_or_reply(update, await _summary(context, me, data, title=False) + "\n\n" + text)
