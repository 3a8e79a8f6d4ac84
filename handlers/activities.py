"""Activities with sign-up: couriers sign up, wait, cancel; coordinators publish, see who comes, mark attendance.

/activities                 the activities to come (a courier's, with a button each; a coordinator's, with their lists)
/activities export          a coordinator's activities and attendance as CSV and Excel files
/activity new               a coordinator's short dialog: title, time, place, places, who; shown back, then Confirm
an activities….toml or activities….json document: a coordinator's file, checked whole, then published

What they see (cards, lists, the roster, notices) is handlers/activity_views.py; the export is
handlers/activity_export.py; this module routes presses, and publishes from a file or the dialog.

Every press reads the presser's role from the database; a sign-up is one transaction (storage/activities.py).
A new activity may be announced to couriers who chose to hear of activities: see `published`.
"""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from domain.activities import (
    MAX_ADDRESS,
    MAX_PLACES,
    MAX_TITLE,
    ActivityFileError,
    ActivityRecord,
    check_activity,
    format_of,
    parse_time,
    read_activities,
)
from domain.stations_file import FileProblem
from handlers import inbox, outreach_audience
from handlers.activity_export import activities_workbook as activities_workbook  # bot/cli.py imports it from here
from handlers.activity_export import activity_tables as activity_tables
from handlers.activity_views import (
    card,
    courier_view,
    list_view,
    may_sign_up,
    press_data,
    roster_view,
    show_activities,
)
from handlers.activity_views import render_notice as render_notice  # handlers/notices.py imports it from here
from handlers.callbacks import ActivityVerb, LinkVerb, Press
from handlers.common import (
    Who,
    command_and_button,
    coordinator_press,
    edit_or_reply,
    refuse,
    reply,
    retire_buttons,
    who,
)
from handlers.keyboards import Button, button, inline
from handlers.outreach import register_link
from handlers.services import BotContext, Services
from handlers.station_admin import matching_stations, problems_text
from handlers.telegram_text import shorten
from storage.activities import Activity

V = ActivityVerb
STEPS = ("title", "title_other", "starts", "where", "places", "until", "who", "confirm")
# The steps answered by typing (the others by a button).
_TYPED = {"title", "title_other", "starts", "where", "places", "until"}
# The step each of the dialog's buttons answers: a button from another step is stale.
_PRESS_STEP = {
    ActivityVerb.SKIP: "title_other",
    ActivityVerb.PLACE: "where",
    ActivityVerb.UNTIL_START: "until",
    ActivityVerb.WHO: "who",
    ActivityVerb.PUBLISH: "confirm",
}
# Stations found by the name typed at "where", offered as buttons.
FOUND_SHOWN = 6


# ---- presses -------------------------------------------------------------------------------------


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """An activity's buttons: show, sign up, cancel (asked first), navigate; a coordinator's list and attendance;
    the publishing dialog's who, Confirm and Cancel."""
    services = context.services
    query = update.callback_query
    if press.verb in (V.SKIP, V.PLACE, V.UNTIL_START, V.WHO, V.PUBLISH, V.DISCARD):
        if await coordinator_press(update, context, me):
            await _dialog_press(update, context, me, press)
        return
    if press.verb == V.LIST:
        await query.answer()
        text, markup = await list_view(services, me)
        await edit_or_reply(update, text, markup)
        return
    head, _, tail = press.arg.partition(".")
    if not head.isdigit() or len(head) > 12:
        await refuse(update, context, me.lang, "press.invalid")
        return
    activity = await services.storage.activities.get(int(head))
    if activity is None:
        await refuse(update, context, me.lang, "activities.gone")
        return
    if press.verb in (V.ROSTER, V.ATTENDED, V.ABSENT):
        if not await coordinator_press(update, context, me):
            return
        if press.verb != V.ROSTER:
            marked = (
                await services.storage.activities.mark(activity.id, int(tail), press.verb == V.ATTENDED)
                if tail.isdigit()
                else None
            )
            if marked is None:
                await refuse(update, context, me.lang, "press.invalid")
                return
        await query.answer()
        text, markup = await roster_view(services, activity, me.lang)
        await edit_or_reply(update, text, markup)
        return
    if press.verb == V.NAVIGATE:
        if activity.lat is None or activity.lon is None:
            await refuse(update, context, me.lang, "press.invalid")
            return
        await query.answer()
        await update.effective_chat.send_venue(
            latitude=activity.lat,
            longitude=activity.lon,
            title=activity.title_for(me.lang),
            address=activity.address_for(me.lang) or activity.title_for(me.lang),
        )
        return
    left_note = ""
    if press.verb == V.JOIN:
        if not may_sign_up(me, activity):
            await refuse(update, context, me.lang, "activities.not_for_you")
            return
        name = (update.effective_user.first_name or "")[:40]
        joined = await services.storage.activities.join(activity.id, me.person.telegram_id, name, services.clock())
        toast = {
            "in": "activities.joined",
            "waiting": "activities.queued",
            "already_in": "activities.status_in",
            "already_waiting": "activities.queued",
            "too_late": "activities.status_closed",
            "gone": "activities.gone",
        }[joined.outcome]
        await query.answer(
            services.text(me.lang, toast, position=joined.position), show_alert=joined.outcome == "too_late"
        )
    elif press.verb == V.LEAVE:
        found = await services.storage.activities.signup_of(activity.id, me.person.telegram_id)
        if found is None:
            await query.answer()
        else:
            await query.answer()
            if found[0].state != "in":
                key = "activities.leave_queue_confirm"
            else:  # the place goes to the first waiting only when someone is
                key = "activities2.leave_confirm_waiting" if activity.waiting else "activities2.leave_confirm"
            rows = [
                [
                    button(
                        services.text(me.lang, "activities.button_leave_yes"),
                        press_data(V.LEAVE_CONFIRMED, activity.id),
                    ),
                    button(services.text(me.lang, "activities.button_keep"), press_data(V.SHOW, activity.id)),
                ]
            ]
            # The card stays above the question: only its buttons change until the answer.
            shown, _ = await courier_view(services, me, activity)
            question = services.text(me.lang, key, title=activity.title_for(me.lang))
            await edit_or_reply(update, f"{shown}\n\n{question}", inline(rows))
            return
    elif press.verb == V.LEAVE_CONFIRMED:
        left = await services.storage.activities.leave(activity.id, me.person.telegram_id, services.clock())
        # The card says so too, as well as the toast: a toast is gone in a moment.
        left_note = {"in": "activities2.status_left", "waiting": "activities2.status_left_queue"}.get(
            left.was or "", ""
        )
        await query.answer(services.text(me.lang, left_note) if left_note else None)
    else:
        await query.answer()
    activity = await services.storage.activities.get(activity.id) or activity
    text, markup = await courier_view(services, me, activity, left_note)
    await edit_or_reply(update, text, markup)


# ---- publishing: a file ----------------------------------------------------------------------------


class _ActivityFile(filters.MessageFilter):
    """A document named activities….toml or activities….json."""

    def filter(self, message: Message) -> bool:
        return message.document is not None and format_of(message.document.file_name or "") is not None


async def on_document(update: Update, context: BotContext) -> None:
    """An activity file: a coordinator's, checked whole then published; anyone else's goes where other messages go."""
    me = await who(update, context)
    if me.person.role != "coordinator":
        await inbox.on_message(update, context)
        return
    services = context.services
    document = update.effective_message.document
    fmt = format_of(document.file_name or "")
    assert fmt is not None
    data = bytes(await (await document.get_file()).download_as_bytearray())
    stations = {s.id for s in await services.storage.stations.all() if s.active}
    try:
        records = read_activities(data, fmt, services.zone, services.clock(), stations)
    except ActivityFileError as error:
        await reply(update, problems_text(services, me.lang, error.problems))
        return
    ids = await services.storage.activities.publish(records, me.person.telegram_id, services.clock())
    await published(update, context, me, ids)


async def published(update: Update, context: BotContext, me: Who, ids: list[int]) -> None:
    """Tell the coordinator what was published, as couriers will see it; then offer to announce it."""
    services = context.services
    await reply(update, services.text(me.lang, "activities.published", count=len(ids)))
    for activity_id in ids[:3]:
        activity = await services.storage.activities.get(activity_id)
        if activity is not None:
            await reply(update, await card(services, activity, me.lang))
    await outreach_audience.offer(update, context, me, "activity", ids)


# ---- publishing: the dialog --------------------------------------------------------------------------


def _cancel_row(services: Services, lang: str) -> list[Button]:
    return [button(services.text(lang, "activities.button_cancel"), press_data(V.DISCARD))]


async def _ask(update: Update, context: BotContext, me: Who, step: str, data: dict[str, object]) -> None:
    """Ask the step's question (with Cancel), or show the whole activity back with Confirm."""
    services = context.services
    # The question before loses its buttons: only the newest one's answer the dialog.
    await retire_buttons(update, data.pop("shown", None))  # type: ignore[arg-type]
    data["shown"] = await _question(update, context, me, step, data)
    await services.storage.activities.save_draft(me.person.telegram_id, step, data, services.clock())


async def _question(update: Update, context: BotContext, me: Who, step: str, data: dict[str, object]) -> int | None:
    """Send the step's question; its message id."""
    services = context.services
    if step == "title_other":
        rows = [
            [button(services.text(me.lang, "activity_more.button_skip"), press_data(V.SKIP))],
            _cancel_row(services, me.lang),
        ]
        key = "activity_more.ask_title_en" if me.lang == "zh" else "activity_more.ask_title_zh"
        return await reply(update, services.text(me.lang, key), reply_markup=inline(rows))
    if step == "where":
        return await _ask_where(update, services, me, data)
    if step == "until":
        rows = [
            [button(services.text(me.lang, "activities.button_until_start"), press_data(V.UNTIL_START))],
            _cancel_row(services, me.lang),
        ]
        return await reply(update, services.text(me.lang, "activities.ask_until"), reply_markup=inline(rows))
    if step == "who":
        rows = [
            [
                button(services.text(me.lang, "activities.who_couriers"), press_data(V.WHO, "couriers")),
                button(services.text(me.lang, "activities.who_everyone"), press_data(V.WHO, "everyone")),
            ],
            _cancel_row(services, me.lang),
        ]
        return await reply(update, services.text(me.lang, "activities.ask_who"), reply_markup=inline(rows))
    if step == "confirm":
        record, problems = _record(services, data)
        if record is None:  # the time came while the coordinator was typing: say why, and start again
            return await reply(update, _problems(services, me.lang, problems))
        preview = Activity(
            0,
            record.title,
            "",
            record.starts,
            record.station_id,
            record.address,
            None,
            None,
            record.places,
            record.audience,
            None,
            record.signup_until,
            title_en=record.title_en,
        )
        text = services.text(me.lang, "activities.confirm_head") + "\n\n" + await card(services, preview, me.lang)
        if record.title_en:
            text += "\n" + services.text(me.lang, "activity_more.confirm_titles", zh=record.title, en=record.title_en)
        who_key = "activities.who_couriers" if record.audience == "couriers" else "activities.who_everyone"
        text += "\n" + services.text(me.lang, "activities.card_who", who=services.text(me.lang, who_key))
        rows = [
            [button(services.text(me.lang, "activities.button_publish"), press_data(V.PUBLISH))],
            _cancel_row(services, me.lang),
        ]
        return await reply(update, text, reply_markup=inline(rows))
    return await reply(
        update, services.text(me.lang, f"activities.ask_{step}"), reply_markup=inline([_cancel_row(services, me.lang)])
    )


async def _ask_where(update: Update, services: Services, me: Who, data: dict[str, object]) -> int | None:
    """Where is it: a station found by its name (buttons), or an address; the stations the name typed matches."""
    cancel = _cancel_row(services, me.lang)
    found = data.get("found")
    if not isinstance(found, list) or not found:
        return await reply(update, services.text(me.lang, "activities.ask_where"), reply_markup=inline([cancel]))
    rows = []
    for number, station_id in enumerate(found):
        station = await services.storage.stations.get(str(station_id))
        if station is not None:
            address = station.address_for(me.lang)
            label = station.name_for(me.lang) + (f" · {address}" if address else "")
            rows.append([button(shorten(label, 60), press_data(V.PLACE, number))])
    typed = str(data.get("typed", ""))
    rows.append(
        [
            button(
                shorten(services.text(me.lang, "activity_more.button_as_address", typed=typed), 60),
                press_data(V.PLACE, "address"),
            )
        ]
    )
    rows.append(cancel)
    return await reply(
        update, services.text(me.lang, "activity_more.pick_station", typed=typed), reply_markup=inline(rows)
    )


def _raw(data: dict[str, object]) -> dict[str, object]:
    """The dialog's answers as an activity file's fields."""
    fields = ("title", "title_en", "starts", "places", "who", "station", "address", "signup_until")
    raw = {k: data[k] for k in fields if k in data}
    if "title" not in raw and "title_en" in raw:  # an English coordinator who gave no Chinese title
        raw["title"] = raw.pop("title_en")
    return raw


def _record(services: Services, data: dict[str, object]) -> tuple[ActivityRecord | None, list[tuple[str, str]]]:
    stations = {str(data["station"])} if "station" in data else set()
    return check_activity(_raw(data), services.zone, services.clock(), stations)


def _problems(services: Services, lang: str, problems: list[tuple[str, str]]) -> str:
    return problems_text(services, lang, [FileProblem(None, field or None, why) for field, why in problems])


async def new_activity(update: Update, context: BotContext) -> None:
    """/activity new: a coordinator's dialog, one question at a time."""
    me = await who(update, context)
    services = context.services
    if me.person.role != "coordinator":
        await reply(update, services.text(me.lang, "coord.not_coordinator"))
        return
    if context.args != ["new"]:
        await reply(update, services.text(me.lang, "activities.usage"))
        return
    await _ask(update, context, me, "title", {})


async def on_text(update: Update, context: BotContext) -> None:
    """A coordinator's answer to the dialog's question; any other message goes where it went before."""
    me = await who(update, context)
    services = context.services
    draft = await services.storage.activities.draft(me.person.telegram_id) if me.person.role == "coordinator" else None
    if draft is None or draft[0] not in _TYPED:
        await inbox.on_message(update, context)
        return
    step, data = draft
    text = (update.effective_message.text or "").strip()
    problem = await _take(services, me.lang, step, text, data)
    if problem:
        await reply(update, services.text(me.lang, problem), reply_markup=inline([_cancel_row(services, me.lang)]))
        return
    if step == "where" and data.get("found"):  # a name that matches stations: which one (or the text as an address)
        await _ask(update, context, me, "where", data)
        return
    await _ask(update, context, me, STEPS[STEPS.index(step) + 1], data)


async def _take(services: Services, lang: str, step: str, text: str, data: dict[str, object]) -> str | None:
    """Keep one typed answer in `data`; the catalog key of what is wrong with it, or None."""
    if step in ("title", "title_other"):
        if not text or len(text) > MAX_TITLE or "\n" in text:
            return "activities.bad_title"
        # The first title is in the coordinator's language, the other in the other one.
        data["title" if (lang == "zh") == (step == "title") else "title_en"] = text
    elif step == "starts":
        moment = parse_time(text, services.zone)
        if moment is None or moment <= services.clock():
            return "activities.bad_starts"
        data["starts"] = moment.strftime("%Y-%m-%d %H:%M")
    elif step == "where":
        for key in ("station", "address", "found", "typed"):
            data.pop(key, None)
        station = await services.storage.stations.get(text)
        if station is not None and station.active:
            data["station"] = station.id
            return None
        if not text or len(text) > MAX_ADDRESS or "\n" in text:
            return "activities.bad_where"
        found = matching_stations([s for s in await services.storage.stations.all() if s.active], text)
        if found:
            data["found"] = [s.id for s in found[:FOUND_SHOWN]]
            data["typed"] = text
        else:
            data["address"] = text
    elif step == "places":
        if not re.fullmatch(r"\d{1,5}", text) or not 1 <= int(text) <= MAX_PLACES:
            return "activities.bad_places"
        data["places"] = int(text)
    elif step == "until":
        moment = parse_time(text, services.zone)
        starts = parse_time(data.get("starts"), services.zone)
        if moment is None or moment <= services.clock() or starts is None or moment > starts:
            return "activities.bad_until"
        data["signup_until"] = moment.strftime("%Y-%m-%d %H:%M")
    return None


async def _dialog_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    services = context.services
    query = update.callback_query
    draft = await services.storage.activities.draft(me.person.telegram_id)
    if press.verb == V.DISCARD:
        dropped = await services.storage.activities.drop_draft(me.person.telegram_id)
        await query.answer()
        await retire_buttons(update, query.message.message_id if query.message else None)
        await reply(update, services.text(me.lang, "activities.discarded" if dropped else "activities.no_draft"))
        return
    if draft is None or _PRESS_STEP.get(press.verb) != draft[0]:
        await refuse(update, context, me.lang, "activities.no_draft")
        return
    step, data = draft
    if press.verb == V.SKIP:
        await query.answer()
        await _ask(update, context, me, "starts", data)
        return
    if press.verb == V.PLACE:
        await _place_pressed(update, context, me, press, data)
        return
    if press.verb == V.UNTIL_START:
        await query.answer()
        data.pop("signup_until", None)
        await _ask(update, context, me, "who", data)
        return
    if press.verb == V.WHO:
        if press.arg not in ("couriers", "everyone"):
            await refuse(update, context, me.lang, "press.invalid")
            return
        await query.answer()
        data["who"] = press.arg
        await _ask(update, context, me, "confirm", data)
        return
    record, problems = _record(services, data)
    if record is None:
        await query.answer()
        await services.storage.activities.drop_draft(me.person.telegram_id)
        await reply(update, _problems(services, me.lang, problems))
        return
    activity_id = await services.storage.activities.publish_draft(me.person.telegram_id, record, services.clock())
    await query.answer()
    await retire_buttons(update, query.message.message_id if query.message else None)
    if activity_id is None:
        await reply(update, services.text(me.lang, "activities.no_draft"))
        return
    await published(update, context, me, [activity_id])


async def _place_pressed(update: Update, context: BotContext, me: Who, press: Press, data: dict[str, object]) -> None:
    """A station found by the name typed, or that name kept as the address; then the number of places."""
    services = context.services
    found = data.get("found")
    if not isinstance(found, list):
        await refuse(update, context, me.lang, "activities.no_draft")
        return
    if press.arg == "address":
        data["address"] = str(data.get("typed", ""))
    elif press.arg.isdecimal() and int(press.arg) < len(found):
        station = await services.storage.stations.get(str(found[int(press.arg)]))
        if station is None or not station.active:
            await refuse(update, context, me.lang, "activity_more.station_gone")
            return
        data["station"] = station.id
    else:
        await refuse(update, context, me.lang, "press.invalid")
        return
    data.pop("found", None)
    data.pop("typed", None)
    await update.callback_query.answer()
    await _ask(update, context, me, "places", data)


def activity_handlers(labels: set[str]) -> list[BaseHandler]:
    """/activities (and its menu button), /activity new, and activity files (before the answer files')."""
    private = filters.ChatType.PRIVATE
    return [
        *command_and_button("activities", show_activities, labels),
        CommandHandler("activity", new_activity, filters=private),
        MessageHandler(private & _ActivityFile(), on_document),
    ]


async def on_cancel(update: Update, context: BotContext) -> None:
    """/cancel (or the word) in the publishing dialog ends it; otherwise it cancels what it always did."""
    me = await who(update, context)
    storage = context.services.storage
    draft = await storage.activities.draft(me.person.telegram_id) if me.person.role == "coordinator" else None
    if draft is None or not await storage.activities.drop_draft(me.person.telegram_id):
        await inbox.cancel(update, context)
        return
    await retire_buttons(update, draft[1].get("shown"))  # type: ignore[arg-type]
    await reply(update, context.services.text(me.lang, "activities.discarded"))


def dialog_handlers(skip_labels: set[str]) -> list[BaseHandler]:
    """The publishing dialog's typed answers and /cancel: just before the inbox, which takes them when no dialog is open."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("cancel", on_cancel, filters=private),
        MessageHandler(private & filters.TEXT & inbox.CANCEL_WORDS, on_cancel),
        MessageHandler(
            private & filters.TEXT & ~filters.COMMAND & ~inbox.CANCEL_WORDS & ~filters.Text(sorted(skip_labels)),
            on_text,
        ),
    ]


async def on_link(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A notice's button to an activity (handlers/outreach.py): the activity, as its own Show button opens it."""
    services = context.services
    activity = await services.storage.activities.get(int(press.arg)) if press.arg.isdigit() else None
    if activity is None:
        await refuse(update, context, me.lang, "activities.gone")
        return
    await update.callback_query.answer()
    # A new message: the notice (or its preview) the button sits under stays as it was.
    text, markup = await courier_view(services, me, activity)
    await reply(update, text, reply_markup=markup)


register_link(LinkVerb.ACTIVITY, on_link)
