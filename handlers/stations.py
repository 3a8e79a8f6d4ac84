"""Nearest rest station: share a location, get the five nearest with what they offer and whether they are open.

The shared location is kept in the database (one row per person), so the amenity buttons can
search around it again: callback data cannot hold it, and must not be trusted if it did.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from domain.hours import DAY_MINUTES, clock_text, open_at
from domain.stations_file import AMENITIES
from handlers import callbacks, filing
from handlers.callbacks import Press
from handlers.common import Who, edit_or_reply, main_menu, refuse, reply, who
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.services import BotContext, Services
from storage.stations import LastLocation, Station

NEAREST = 5
POOR_ACCURACY_M = 1000
ALL = "all"


def _distance(metres: float) -> str:
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


async def ask_location(update: Update, context: BotContext) -> None:
    """Point to the menu's Nearest station button, which shares the location in one tap."""
    me = await who(update, context)
    services = context.services
    await reply(update, services.text(me.lang, "stations.ask_location"), reply_markup=await main_menu(services, me))


def hours_line(services: Services, station: Station, lang: str) -> str:
    """Today's hours and whether the station is open now, in district time."""
    now = open_at(station.hours, services.clock().astimezone(services.zone))
    if now is None:
        return services.text(lang, "nearest.hours_unknown")
    if now.today is not None and (now.today.start, now.today.end) == (0, DAY_MINUTES):
        return services.text(lang, "nearest.open_all_day")
    today = str(now.today) if now.today is not None else services.text(lang, "nearest.closed_today")
    if now.open:
        return services.text(lang, "nearest.open_now", today=today, until=clock_text(now.until or 0))
    return services.text(lang, "nearest.closed_now", today=today)


def _listing(
    services: Services, lang: str, found: list[tuple[Station, float]], where: LastLocation, amenity: str | None
) -> tuple[str, Keyboard]:
    filtered = services.text(lang, f"amenity.{amenity}") if amenity else ""
    if found:
        title = services.text(lang, "nearest.title_with", amenity=filtered) if amenity else services.text(lang, "stations.title")
    else:
        title = services.text(lang, "nearest.none_with", amenity=filtered) if amenity else services.text(lang, "stations.none")
    lines = [title]
    if where.accuracy_m is not None and where.accuracy_m > POOR_ACCURACY_M:
        lines.append(services.text(lang, "nearest.poor_accuracy", accuracy=_distance(where.accuracy_m)))
    rows: list[list[Button]] = []
    for index, (station, metres) in enumerate(found, 1):
        amenities = ", ".join(services.text(lang, f"amenity.{a}") for a in station.amenities) or "—"
        line = services.text(
            lang,
            "stations.line",
            index=index,
            name=station.name,
            distance=_distance(metres),
            grade=station.grade,
            amenities=amenities,
            address=station.address,
        )
        lines.append(line + "\n   " + hours_line(services, station, lang))
        rows.append(
            [
                button(services.text(lang, "button.venue", name=f"{index}"), callbacks.station("venue", station.id)),
                button(services.text(lang, "button.appeal_here", name=f"{index}"), callbacks.station("appeal", station.id)),
            ]
        )
    filters_row = [
        button(
            ("✓ " if name == amenity else "") + services.text(lang, f"amenity.{name}"),
            callbacks.station("near", name),
        )
        for name in AMENITIES
    ]
    rows += [filters_row[:3], filters_row[3:]]
    if amenity:
        rows.append([button(services.text(lang, "nearest.all"), callbacks.station("near", ALL))])
    return "\n\n".join(lines), inline(rows)


async def show_nearest(update: Update, context: BotContext, me: Who) -> None:
    """The nearest stations to a shared location; the location is kept for the amenity buttons."""
    services = context.services
    location = update.effective_message.location
    where = LastLocation(location.latitude, location.longitude, location.horizontal_accuracy, services.clock())
    await services.storage.stations.remember_location(me.person.telegram_id, where.lat, where.lon, where.accuracy_m, where.at)
    found = await services.storage.stations.nearest(where.lat, where.lon, NEAREST)
    text, markup = _listing(services, me.lang, found, where, None)
    # The main menu stays up: its own button shared the location (or one came from the attachment menu).
    await reply(update, text, reply_markup=markup)


async def _filter(update: Update, context: BotContext, me: Who, amenity: str) -> None:
    services = context.services
    if amenity != ALL and amenity not in AMENITIES:
        await refuse(update, context, me.lang, "press.invalid")
        return
    where = await services.storage.stations.last_location(me.person.telegram_id)
    if where is None:
        await refuse(update, context, me.lang, "nearest.no_location")
        return
    await update.callback_query.answer()
    chosen = None if amenity == ALL else amenity
    found = await services.storage.stations.nearest(where.lat, where.lon, NEAREST, chosen)
    text, markup = _listing(services, me.lang, found, where, chosen)
    await edit_or_reply(update, text, markup)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Filter by an amenity, send a station as a venue, or start an appeal about it."""
    if press.verb == "near":
        await _filter(update, context, me, press.arg)
        return
    services = context.services
    station = await services.storage.stations.get(press.arg)
    if station is None or not station.active or press.verb not in ("venue", "appeal"):
        await refuse(update, context, me.lang, "stations.gone" if press.verb in ("venue", "appeal") else "press.invalid")
        return
    await update.callback_query.answer()
    if press.verb == "venue":
        await update.effective_chat.send_venue(
            latitude=station.lat, longitude=station.lon, title=station.name, address=station.address or station.name
        )
    else:
        await filing.begin(update, context, me, station_id=station.id)


def station_handlers(labels: set[str]) -> list[BaseHandler]:
    """/station, and "Nearest station" as text (typed, or tapped on a menu from before its button shared the location)."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("station", ask_location, filters=private),
        MessageHandler(private & filters.Text(sorted(labels)), ask_location),
    ]
