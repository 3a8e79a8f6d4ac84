"""What couriers and coordinators see of activities: a card, the lists, a coordinator's roster, the notices.

Pure rendering over storage/activities.py's rows; handlers/activities.py routes the presses to these.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from telegram import Update

from handlers import callbacks
from handlers.activity_export import export
from handlers.callbacks import ActivityVerb, Family
from handlers.common import Who, reply, who
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.services import BotContext, Services
from storage.activities import Activity, Signup
from storage.models import OutboxMessage

V = ActivityVerb
SHOWN = 10
# Attendance is marked at the event: its buttons show from two hours before it starts.
ATTENDANCE_OPENS = timedelta(hours=2)


def press_data(verb: ActivityVerb, arg: str | int = "") -> str:
    """An activity button's callback data."""
    return callbacks.encode(Family.ACTIVITY, verb, str(arg))


async def place_text(services: Services, activity: Activity, lang: str) -> str:
    """Where it is, as the reader reads it: the station's name and address, or the address given."""
    if activity.station_id is not None:
        station = await services.storage.stations.get(activity.station_id)
        if station is not None:
            address = station.address_for(lang)
            return station.name_for(lang) + (
                f"（{address}）" if lang == "zh" and address else f" ({address})" if address else ""
            )
    return activity.address_for(lang) or "—"


def may_sign_up(me: Who, activity: Activity) -> bool:
    """Who the activity is for: couriers only unless it says everyone; people who read its language, if it names one."""
    if activity.audience == "couriers" and me.person.role != "courier":
        return False
    return activity.language is None or activity.language == me.lang


async def card(services: Services, activity: Activity, lang: str, extra: str = "") -> str:
    """An activity as anyone reads it: what, when, where, places taken and waiting, until when one can sign up."""
    lines = [
        services.text(lang, "activities.card_title", title=activity.title_for(lang)),
        services.text(lang, "activities.card_when", when=services.local(activity.starts_at, lang)),
        services.text(lang, "activities.card_where", place=await place_text(services, activity, lang)),
        services.text(
            lang, "activities.card_places", places=activity.places, free=activity.free, waiting=activity.waiting
        ),
        services.text(lang, "activities.card_until", until=services.local(activity.signup_until, lang)),
    ]
    if activity.details_for(lang):
        lines.append("\n" + activity.details_for(lang))
    if extra:
        lines.append("\n" + extra)
    return "\n".join(lines)


def navigate_button(services: Services, activity: Activity, lang: str) -> Button | None:
    """The Navigate button: a station's venue (handlers/stations.py), or the address's own when it has coordinates."""
    label = services.text(lang, "activities.button_navigate")
    if activity.station_id is not None:
        return button(label, callbacks.station("venue", activity.station_id))
    if activity.lat is not None and activity.lon is not None:
        return button(label, press_data(V.NAVIGATE, activity.id))
    return None


def _courier_markup(
    services: Services, activity: Activity, signup: Signup | None, lang: str, now: datetime
) -> Keyboard:
    rows: list[list[Button]] = []
    if signup is None:
        if now <= activity.signup_until and now < activity.starts_at:
            key = "activities.button_join" if activity.free else "activities.button_wait"
            rows.append([button(services.text(lang, key), press_data(V.JOIN, activity.id))])
    elif now < activity.starts_at:
        key = "activities.button_leave" if signup.state == "in" else "activities.button_leave_queue"
        rows.append([button(services.text(lang, key), press_data(V.LEAVE, activity.id))])
    navigate = navigate_button(services, activity, lang)
    if navigate is not None:
        rows.append([navigate])
    rows.append([_back_button(services, lang)])
    return inline(rows)


async def courier_view(services: Services, me: Who, activity: Activity, left: str = "") -> tuple[str, Keyboard]:
    """An activity as a courier sees it: the card with their status, and what they may do now.

    `left` is the catalog key saying they have just cancelled, shown while they hold no sign-up."""
    found = await services.storage.activities.signup_of(activity.id, me.person.telegram_id)
    signup, position = found if found else (None, 0)
    now = services.clock()
    if signup is not None and signup.state == "in":
        status = services.text(me.lang, "activities.status_in")
    elif signup is not None:
        status = services.text(me.lang, "activities.status_waiting", position=position)
    elif now > activity.signup_until or now >= activity.starts_at:
        status = services.text(me.lang, "activities.status_closed")
        if left:
            status = services.text(me.lang, left) + "\n" + status
    else:
        status = services.text(me.lang, left) if left else ""
    text = await card(services, activity, me.lang, status)
    return text, _courier_markup(services, activity, signup, me.lang, now)


# ---- lists ---------------------------------------------------------------------------------------


async def show_activities(update: Update, context: BotContext) -> None:
    """/activities and the menu button: the activities to come; a coordinator's also has export and publishing."""
    me = await who(update, context)
    if context.args == ["export"] and me.person.role == "coordinator":
        await export(update, context, me)
        return
    text, markup = await list_view(context.services, me)
    await reply(update, text, reply_markup=markup)


async def list_view(services: Services, me: Who) -> tuple[str, Keyboard | None]:
    """The list as this person's role reads it, heading and all: sent by /activities, shown again by Back."""
    now = services.clock()
    upcoming = await services.storage.activities.upcoming(now)
    if me.person.role == "coordinator":
        return await _coordinator_list(services, me, upcoming + await services.storage.activities.recent(now))
    shown = [a for a in upcoming if may_sign_up(me, a)][:SHOWN]
    if not shown and upcoming and me.person.role == "staff":  # not "none": there are some, for couriers
        return services.text(me.lang, "activities3.for_couriers", count=len(upcoming)), None
    if not shown:
        return services.text(me.lang, "activities.none"), None
    lines = [services.text(me.lang, "activities.list_title")]
    rows = []
    for number, activity in enumerate(shown, 1):
        lines.append(
            services.text(
                me.lang,
                "activities.list_line",
                number=number,
                title=activity.title_for(me.lang),
                when=services.local(activity.starts_at, me.lang),
                free=activity.free,
            )
        )
        rows.append([button(f"{number}. {activity.title_for(me.lang)}", press_data(V.SHOW, activity.id))])
    lines.append(services.text(me.lang, "activities.list_hint"))
    return "\n".join(lines), inline(rows)


async def _coordinator_list(services: Services, me: Who, activities: list[Activity]) -> tuple[str, Keyboard | None]:
    lines = [services.text(me.lang, "activities.coord_title")]
    rows = []
    for number, activity in enumerate(activities[: SHOWN * 2], 1):
        lines.append(
            services.text(
                me.lang,
                "activities.coord_line",
                number=number,
                title=activity.title_for(me.lang),
                when=services.local(activity.starts_at, me.lang),
                taken=activity.taken,
                places=activity.places,
                waiting=activity.waiting,
            )
        )
        rows.append([button(f"{number}. {activity.title_for(me.lang)}", press_data(V.ROSTER, activity.id))])
    if not activities:
        lines.append(services.text(me.lang, "activities.coord_none"))
    lines.append(services.text(me.lang, "activities.coord_hint"))
    return "\n".join(lines), inline(rows) if rows else None


def _back_button(services: Services, lang: str) -> Button:
    """Back to the list a card was opened from: the list comes back whole, its heading too."""
    return button(services.text(lang, "activity_more.button_all"), press_data(V.LIST))


def _mark(signup: Signup) -> str:
    """A place's attendance as a button shows it: ✓ came, ✗ did not, nothing while unmarked."""
    return {True: "✓ ", False: "✗ ", None: ""}[signup.attended]


def _roster_line(services: Services, lang: str, number: int, signup: Signup) -> str:
    key = {True: "roster_line_came", False: "roster_line_absent", None: "roster_line"}[signup.attended]
    return services.text(lang, f"activities2.{key}", number=number, name=signup.name or signup.person_id)


async def roster_view(services: Services, activity: Activity, lang: str) -> tuple[str, Keyboard]:
    """A coordinator's list: who has a place (with whether they came, and a button each), then who waits."""
    signups = await services.storage.activities.roster(activity.id)
    placed = [s for s in signups if s.state == "in"]
    waiting = [s for s in signups if s.state == "waiting"]
    lines = [await card(services, activity, lang), ""]
    lines.append(services.text(lang, "activities.roster_in", count=len(placed)))
    lines += [_roster_line(services, lang, n, s) for n, s in enumerate(placed, 1)]
    if waiting:
        lines.append(services.text(lang, "activities.roster_waiting", count=len(waiting)))
        lines += [_roster_line(services, lang, n, s) for n, s in enumerate(waiting, 1)]
    rows: list[list[Button]] = []
    opens = activity.starts_at - ATTENDANCE_OPENS
    if services.clock() < opens:
        lines += ["", services.text(lang, "activity_more.attendance_from", when=services.local(opens, lang))]
    elif placed:
        lines.append(services.text(lang, "activities2.attendance_hint"))
        buttons = [
            button(
                f"{_mark(s)}{n}. {s.name or s.person_id}",
                press_data(V.ABSENT if s.attended else V.ATTENDED, f"{activity.id}.{s.id}"),
            )
            for n, s in enumerate(placed, 1)
        ]
        rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            button(services.text(lang, "activities.button_refresh"), press_data(V.ROSTER, activity.id)),
            _back_button(services, lang),
        ]
    )
    return "\n".join(lines), inline(rows)


async def render_notice(services: Services, message: OutboxMessage, lang: str) -> tuple[str, Keyboard | None] | None:
    """A reminder or a moved-up notice: what and where, and the Navigate button; None if the activity is gone."""
    activity_id = json.loads(message.params).get("activity")
    activity = await services.storage.activities.get(int(activity_id)) if activity_id is not None else None
    if activity is None:
        return None
    text = services.text(
        lang,
        message.template,
        title=activity.title_for(lang),
        when=services.local(activity.starts_at, lang),
        place=await place_text(services, activity, lang),
    )
    navigate = navigate_button(services, activity, lang)
    return text, inline([[navigate]]) if navigate else None
