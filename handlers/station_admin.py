"""Coordinators manage stations from the bot: close and reopen, add or edit with a one-line form or a file.

/stations                  counts, closed stations with Reopen buttons, and how to do the rest
/stations NAME             one station by id, or those whose name contains NAME, as buttons; Close asks first
/stations set id=… name=…  add a station or change some of its fields (the file importer's checks)
/stations file             the stations as a CSV file, to edit and send back
a .csv or .json document   imported like `python -m bot stations import`

Every command and button checks the person's role in the database; everyone else is refused.
"""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from domain.stations_file import (
    MAX_FILE_BYTES,
    FileLimitError,
    FileProblem,
    StationFileError,
    first_problems,
    format_of,
    parse_form,
)
from handlers import callbacks, inbox
from handlers.callbacks import Family, Press, StationAdminVerb
from handlers.common import Who, command_and_button, edit_or_reply, for_role, refuse, reply, who
from handlers.keyboards import Keyboard, button, inline
from handlers.services import BotContext, Services
from handlers.stations import hours_line
from handlers.telegram_text import shorten
from handlers.worker import in_worker
from storage.stations import Station, checked_rows, stations_csv

PROBLEM_CHARS = 200
SHOWN_CLOSED = 20
SHOWN_FOUND = 10


def _is_coordinator(me: Who) -> bool:
    return me.person.role == "coordinator"


async def card(services: Services, station: Station, lang: str) -> tuple[str, Keyboard]:
    """A station as a coordinator sees it (its unit by name), with the button that closes or reopens it."""
    unit = await services.storage.people.unit(station.unit_id) if station.unit_id else None
    amenities = ", ".join(services.text(lang, f"amenity.{a}") for a in station.amenities) or "—"
    state = services.text(lang, "station_admin.state_open" if station.active else "station_admin.state_closed")
    text = services.text(
        lang,
        "station_admin.card",
        id=station.id,
        name=station.name,
        state=state,
        grade=station.grade,
        address=station.address or "—",
        lat=f"{station.lat:.6f}",
        lon=f"{station.lon:.6f}",
        amenities=amenities,
        # A closed station is closed whatever its hours say.
        hours=hours_line(services, station, lang) if station.active else state,
        unit=unit.name(lang) if unit else station.unit_id or "—",
    )
    verb, label = (
        (StationAdminVerb.SHUT, "station_admin.close")
        if station.active
        else (StationAdminVerb.REOPEN, "station_admin.reopen")
    )
    return text, inline(
        [
            [
                button(
                    services.text(lang, label, name=station.name),
                    callbacks.encode(Family.STATION_ADMIN, verb, station.id),
                )
            ]
        ]
    )


def matching_stations(stations: list[Station], query: str) -> list[Station]:
    """Stations whose name (Chinese or English) or id contains `query`, ignoring case and spaces; open ones first."""
    key = "".join(query.split()).casefold()
    found = [s for s in stations if any(key in "".join(text.split()).casefold() for text in (s.name, s.name_en, s.id))]
    return sorted(found, key=lambda s: (not s.active, s.name))


async def _find(update: Update, context: BotContext, me: Who, query: str) -> None:
    """/stations NAME: the one station with that id, else those whose name contains it, as buttons."""
    services = context.services
    station = await services.storage.stations.get(query)
    found = [station] if station is not None else matching_stations(await services.storage.stations.all(), query)
    if not found:
        await reply(update, services.text(me.lang, "station_pick.none", query=query))
        return
    if len(found) == 1:
        text, markup = await card(services, found[0], me.lang)
        await reply(update, text, reply_markup=markup)
        return
    lines = [services.text(me.lang, "station_pick.found", query=query)]
    if len(found) > SHOWN_FOUND:
        lines.append(services.text(me.lang, "station_pick.more", count=len(found) - SHOWN_FOUND))
    rows = [
        [
            button(
                s.name if s.active else f"{s.name} · {services.text(me.lang, 'station_admin.state_closed')}",
                callbacks.encode(Family.STATION_ADMIN, StationAdminVerb.SHOW, s.id),
            )
        ]
        for s in found[:SHOWN_FOUND]
    ]
    await reply(update, "\n".join(lines), reply_markup=inline(rows))


def problems_text(services: Services, lang: str, problems: list[FileProblem]) -> str:
    """Problems of a file or form, the first few in full, then how many more."""
    lines = [services.text(lang, "station_admin.problems", count=len(problems))]
    shown, more = first_problems(problems)
    for problem in shown:
        line = str(problem)
        # A problem quotes what was sent, which may be thousands of characters: the message must fit Telegram's 4096 units.
        lines.append(f"• {shorten(line, PROBLEM_CHARS)}")
    if more:
        lines.append(services.text(lang, "station_admin.more_problems", count=more))
    lines.append(services.text(lang, "station_admin.nothing_imported"))
    return "\n".join(lines)


async def _known_units(services: Services) -> set[str]:
    return {u.id for u in await services.storage.people.active_units()}


async def _overview(update: Update, context: BotContext, me: Who) -> None:
    services = context.services
    opened, closed = await services.storage.stations.counts()
    text = services.text(me.lang, "station_admin.overview", open=opened, closed=closed)
    buttons = [
        [
            button(
                services.text(me.lang, "station_admin.reopen", name=s.name),
                callbacks.encode(Family.STATION_ADMIN, StationAdminVerb.REOPEN, s.id),
            )
        ]
        for s in await services.storage.stations.closed(SHOWN_CLOSED)
    ]
    await reply(update, text, reply_markup=inline(buttons) if buttons else None)


async def _set(update: Update, context: BotContext, me: Who, form: str) -> None:
    services = context.services
    fields, problems = parse_form(form)
    station_id = fields.get("id")
    if not problems and not station_id:
        problems = [FileProblem(None, "id", "is missing: every form names the station, like id=hp-040")]
    if problems:
        await reply(update, problems_text(services, me.lang, problems))
        return
    done = await services.storage.stations.edit(str(station_id).strip(), fields)
    station = done.station
    if station is None:
        await reply(update, problems_text(services, me.lang, [FileProblem(None, c, r) for c, r in done.problems]))
        return
    key = "station_admin.updated" if done.existed else "station_admin.added"
    await reply(update, services.text(me.lang, key, id=station.id))
    text, markup = await card(services, station, me.lang)
    await reply(update, text, reply_markup=markup)


async def _send_file(update: Update, context: BotContext, me: Who) -> None:
    services = context.services
    # Reading and writing thousands of stations is CPU work: the worker process reads the database file itself.
    count, data = await in_worker(stations_csv, services.storage.db.path)
    await update.effective_chat.send_document(
        InputFile(data, filename="stations.csv"), caption=services.text(me.lang, "station_admin.file", count=count)
    )


@for_role("coordinator")
async def stations(update: Update, context: BotContext, me: Who) -> None:
    """/stations for coordinators: overview, one station, the one-line form, or the file."""
    services = context.services
    args = context.args or []
    if not args:
        await _overview(update, context, me)
    elif args[0] == "set" and len(args) > 1:
        await _set(update, context, me, update.effective_message.text.split(maxsplit=2)[2])
    elif args[0] == "file" and len(args) == 1:
        await _send_file(update, context, me)
    elif args[0] != "set":
        await _find(update, context, me, " ".join(args)[:64])
    else:
        await reply(update, services.text(me.lang, "station_admin.usage"))


async def on_document(update: Update, context: BotContext) -> None:
    """A CSV or JSON file: a coordinator's station import; anyone else's goes where other messages go."""
    me = await who(update, context)
    if not _is_coordinator(me):
        await inbox.on_message(update, context)
        return
    services = context.services
    document = update.effective_message.document
    # Telegram says the size before the download: a file over the limit is never fetched.
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await reply(
            update, _limit_text(services, me.lang, FileLimitError("bytes", MAX_FILE_BYTES, document.file_size or 0))
        )
        return
    fmt = format_of(document.file_name or "")
    data = bytes(await (await document.get_file()).download_as_bytearray())
    from handlers import surveys  # here: handlers.surveys reads problems_text from this module

    if await surveys.sent_survey(update, context, me, data, fmt or "csv"):  # a top-level "survey": a survey file
        return
    units = await _known_units(services)
    try:
        # Checking thousands of rows is CPU work: in the worker process, so others' replies go on meanwhile.
        rows = await in_worker(checked_rows, data, fmt or "csv", units)
    except FileLimitError as error:
        await reply(update, _limit_text(services, me.lang, error))
        return
    except StationFileError as error:
        await reply(update, problems_text(services, me.lang, error.problems))
        return
    imported = await services.storage.stations.import_rows(rows)
    await reply(
        update, services.text(me.lang, "station_admin.imported", added=imported.added, updated=imported.updated)
    )


def _limit_text(services: Services, lang: str, error: FileLimitError) -> str:
    """Why a station file is refused before it is read: which limit, in the reader's language."""
    if error.limit == "bytes":
        return services.text(
            lang, "heavy.station_file_bytes", size=_megabytes(error.found), limit=_megabytes(error.allowed)
        )
    if error.limit == "rows":
        return services.text(lang, "heavy.station_file_rows", count=error.found, limit=error.allowed)
    return services.text(lang, "heavy.station_file_depth", line=error.line or 1, limit=error.allowed)


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f}".removesuffix(".0")


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A station's buttons: show it, close it (asked first), reopen it; only a coordinator, checked in the
    database on every press."""
    services = context.services
    query = update.callback_query
    if not _is_coordinator(me):
        await refuse(update, context, me.lang, "coord.not_coordinator")
        return
    station = await services.storage.stations.get(press.arg)
    if station is None:
        await refuse(update, context, me.lang, "station_admin.unknown", id=press.arg)
        return
    if press.verb == "shut" and station.active:
        await query.answer()
        rows = [
            [
                button(
                    services.text(me.lang, "station_pick.close_yes"),
                    callbacks.encode(Family.STATION_ADMIN, StationAdminVerb.SHUT_CONFIRMED, station.id),
                ),
                button(
                    services.text(me.lang, "station_pick.back"),
                    callbacks.encode(Family.STATION_ADMIN, StationAdminVerb.SHOW, station.id),
                ),
            ]
        ]
        await edit_or_reply(
            update, services.text(me.lang, "station_pick.close_confirm", name=station.name), inline(rows)
        )
        return
    if press.verb in ("shut", "shuty", "reopen"):
        wanted = press.verb == "reopen"
        # A second tap, or a stale button: the station is already as asked, so say so quietly.
        if station.active != wanted:
            station = await services.storage.stations.set_active(station.id, wanted) or station
        key = "station_admin.reopened" if station.active else "station_admin.closed"
        await query.answer(services.text(me.lang, key, name=station.name))
    else:
        await query.answer()
    text, markup = await card(services, station, me.lang)
    await edit_or_reply(update, text, markup)


def station_admin_handlers(labels: set[str]) -> list[BaseHandler]:
    """/stations (and the coordinator's menu button) and station files sent as documents (the station
    buttons: handlers/presses.py)."""
    private = filters.ChatType.PRIVATE
    station_files = filters.Document.FileExtension("csv") | filters.Document.FileExtension("json")
    return [
        *command_and_button("stations", stations, labels),
        MessageHandler(private & station_files, on_document),
    ]
