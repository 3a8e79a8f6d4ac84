"""Nearest rest station: share a location, get the five nearest, open ones first, in a list that fits a phone.

The shared location is kept in the database (one row per person), so the amenity buttons can
search around it again: callback data cannot hold it, and must not be trusted if it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telegram import Update
from telegram.ext import BaseHandler

from domain.hours import DAY_MINUTES, OpenNow, clock_text, open_at
from domain.stations_file import AMENITIES
from handlers import callbacks, filing
from handlers.callbacks import Press
from handlers.common import Who, command_and_button, edit_or_reply, main_menu, refuse, reply, who
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.services import BotContext, Services
from storage.stations import LastLocation, Station

NEAREST = 5
# Candidates read for a listing: enough that stations closed now can give way to open ones nearby.
CANDIDATES = 2 * NEAREST
POOR_ACCURACY_M = 1000
ALL = "all"
MARKS = "①②③④⑤⑥⑦⑧⑨⑩"
# Icons keep a station's amenities on one line of a phone; the filter buttons below pair each icon
# with its word, so the list explains itself.
ICONS = {"water": "🚰", "charging": "🔌", "rest": "🪑", "microwave": "🍱", "toilet": "🚻", "first_aid": "🩹"}


def _distance(metres: float) -> str:
    # A no-break space: a narrow screen never puts the number and its unit on two lines.
    if metres < 1000:
        return f"{metres:.0f}\u00a0m"
    return f"{metres / 1000:.1f}\u00a0km" if metres < 100_000 else f"{metres / 1000:,.0f}\u00a0km"


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


@dataclass(frozen=True)
class Listed:
    """A station in a listing: how far, and whether it is open now (None: hours not known)."""

    station: Station
    metres: float
    now: OpenNow | None

    @property
    def closed(self) -> bool:
        """Known to be closed at this moment."""
        return self.now is not None and not self.now.open


def ranked(found: list[tuple[Station, float]], local: datetime, limit: int = NEAREST) -> list[Listed]:
    """The nearest `limit`, open ones (and those of unknown hours) first, then those closed now, each by distance."""
    listed = [Listed(station, metres, open_at(station.hours, local)) for station, metres in found]
    return sorted(listed, key=lambda item: item.closed)[:limit]  # sorted() is stable: by distance within each


def _status(services: Services, lang: str, item: Listed, local: datetime) -> str:
    """Open or closed now, in a few words."""
    now = item.now
    if now is None:
        return services.text(lang, "stations2.hours_unknown")
    if now.open:
        if now.today is not None and (now.today.start, now.today.end) == (0, DAY_MINUTES):
            return services.text(lang, "stations2.open_all_day")
        until = now.until or 0
        key = "stations2.open_until_tomorrow" if until > DAY_MINUTES else "stations2.open_until"
        return services.text(lang, key, until=clock_text(until))
    minute = local.hour * 60 + local.minute
    if now.today is not None and minute < now.today.start:
        return services.text(lang, "stations2.opens_at", start=clock_text(now.today.start))
    return services.text(lang, "stations2.closed_for_today")


def _listing(
    services: Services, lang: str, found: list[tuple[Station, float]], where: LastLocation, amenity: str | None
) -> tuple[str, Keyboard]:
    local = services.clock().astimezone(services.zone)
    listed = ranked(found, local)
    filtered = services.text(lang, f"amenity.{amenity}") if amenity else ""
    if listed:
        title = (
            services.text(lang, "nearest.title_with", amenity=filtered)
            if amenity
            else services.text(lang, "stations.title")
        )
    else:
        title = (
            services.text(lang, "nearest.none_with", amenity=filtered)
            if amenity
            else services.text(lang, "stations.none")
        )
    paragraphs = [title]
    if where.accuracy_m is not None and where.accuracy_m > POOR_ACCURACY_M:
        paragraphs.append(services.text(lang, "nearest.poor_accuracy", accuracy=_distance(where.accuracy_m)))
    # No blank line between stations: each starts with its mark and the list, its buttons and the
    # menu fit one phone screen (412 x 915).
    lines = []
    rows: list[list[Button]] = []
    for mark, item in zip(MARKS, listed, strict=False):
        station = item.station
        details = " · ".join(
            filter(None, [_status(services, lang, item, local), "".join(ICONS[a] for a in station.amenities)])
        )
        lines.append(
            services.text(
                lang,
                "stations.line",
                mark=mark,
                name=station.name_for(lang),
                distance=_distance(item.metres),
                grade=station.grade,
                details=details,
            )
        )
        # One row per station, its list mark on both buttons: names are too long for half a phone's width.
        rows.append(
            [
                button(services.text(lang, "button.venue", mark=mark), callbacks.station("venue", station.id)),
                button(services.text(lang, "button.appeal_here", mark=mark), callbacks.station("appeal", station.id)),
            ]
        )
    filters_row = [
        button(
            ("✓ " if name == amenity else f"{ICONS[name]} ") + services.text(lang, f"stations2.filter_{name}"),
            callbacks.station("near", name),
        )
        for name in AMENITIES
    ]
    rows += [filters_row[:3], filters_row[3:]]
    if amenity:
        rows.append([button(services.text(lang, "nearest.all"), callbacks.station("near", ALL))])
    if lines:
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs), inline(rows)


async def show_nearest(update: Update, context: BotContext, me: Who) -> None:
    """The nearest stations to a shared location; the location is kept for the amenity buttons."""
    services = context.services
    location = update.effective_message.location
    where = LastLocation(location.latitude, location.longitude, location.horizontal_accuracy, services.clock())
    await services.storage.stations.remember_location(
        me.person.telegram_id, lat=where.lat, lon=where.lon, accuracy_m=where.accuracy_m, now=where.at
    )
    found = await services.storage.stations.nearest(where.lat, where.lon, CANDIDATES)
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
    found = await services.storage.stations.nearest(where.lat, where.lon, CANDIDATES, chosen)
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
        await refuse(
            update, context, me.lang, "stations.gone" if press.verb in ("venue", "appeal") else "press.invalid"
        )
        return
    await update.callback_query.answer()
    if press.verb == "venue":
        await update.effective_chat.send_venue(
            latitude=station.lat,
            longitude=station.lon,
            title=station.name_for(me.lang),
            address=station.address_for(me.lang) or station.name_for(me.lang),
        )
    else:
        await filing.begin(update, context, me, station_id=station.id)


def station_handlers(labels: set[str]) -> list[BaseHandler]:
    """/station, and "Nearest station" as text (typed, or tapped on a menu from before its button shared the location)."""
    return command_and_button("station", ask_location, labels)
