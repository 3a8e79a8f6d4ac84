"""Nearest rest station: share a location, get the nearest stations with what they offer."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from handlers import callbacks, filing
from handlers.callbacks import Press
from handlers.common import Who, main_menu, refuse, reply, who
from handlers.services import BotContext

NEAREST = 5


def _distance(metres: float) -> str:
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


async def ask_location(update: Update, context: BotContext) -> None:
    """Ask for the courier's location with the reply-keyboard button."""
    me = await who(update, context)
    services = context.services
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(services.text(me.lang, "button.share_location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await reply(update, services.text(me.lang, "stations.ask_location"), reply_markup=keyboard)


async def show_nearest(update: Update, context: BotContext, me: Who) -> None:
    """The nearest stations to the shared location, each with buttons to navigate or to file an appeal."""
    services = context.services
    location = update.effective_message.location
    found = await services.storage.stations.nearest(location.latitude, location.longitude, NEAREST)
    if not found:
        await reply(update, services.text(me.lang, "stations.none"), reply_markup=main_menu(services, me.lang))
        return
    lines, rows = [services.text(me.lang, "stations.title")], []
    for index, (station, metres) in enumerate(found, 1):
        amenities = ", ".join(services.text(me.lang, f"amenity.{a}") for a in station.amenities) or "—"
        lines.append(
            services.text(
                me.lang,
                "stations.line",
                index=index,
                name=station.name,
                distance=_distance(metres),
                grade=station.grade,
                amenities=amenities,
                address=station.address,
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    services.text(me.lang, "button.venue", name=f"{index}"), callback_data=callbacks.station("venue", station.id)
                ),
                InlineKeyboardButton(
                    services.text(me.lang, "button.appeal_here", name=f"{index}"),
                    callback_data=callbacks.station("appeal", station.id),
                ),
            ]
        )
    await reply(update, services.text(me.lang, "stations.done"), reply_markup=main_menu(services, me.lang))
    await reply(update, "\n\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Send a station as a venue, or start an appeal about it."""
    services = context.services
    station = await services.storage.stations.get(press.arg)
    if station is None or not station.active:
        await refuse(update, context, me.lang, "stations.gone")
        return
    await update.callback_query.answer()
    if press.verb == "venue":
        await update.effective_chat.send_venue(
            latitude=station.lat, longitude=station.lon, title=station.name, address=station.address or station.name
        )
    elif press.verb == "appeal":
        await filing.begin(update, context, me, station_id=station.id)


def station_handlers(labels: set[str]) -> list[BaseHandler]:
    """/station and the "Nearest station" menu button."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("station", ask_location, filters=private),
        MessageHandler(private & filters.Text(sorted(labels)), ask_location),
    ]
