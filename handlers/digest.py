"""Digests for coordinators: /digest now, and the daily and weekly ones the outbox delivers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from domain.commands import OpenHotSpot
from domain.durations import human_span
from domain.periods import period_text, recent_days
from domain.rates import percent, rates
from handlers import callbacks
from handlers.appeal_actions import show
from handlers.callbacks import Press
from handlers.chart import ChartLabels, chart_language, daily_chart
from handlers.common import Who, command_and_button, coordinator_press, for_role, refuse, reply
from handlers.keyboards import Keyboard, button, inline
from handlers.services import BotContext, Services
from handlers.telegram_text import TEXT, shorten, split
from storage import usecases
from storage.reports import DigestData

# Periods are [start, end) in whole seconds: "until now" must include this second.
UP_TO_NOW = timedelta(seconds=1)
RECENT_DAYS = 7  # /digest: today and the six days before it


@dataclass(frozen=True)
class Part:
    """One message of a digest: text (with buttons) or a photo (with a caption)."""

    text: str = ""
    markup: Keyboard | None = None
    photo: bytes | None = None


def split_lines(text: str, limit: int = TEXT) -> list[str]:
    """Split at line boundaries into messages of at most `limit` UTF-16 units (a longer line across messages)."""
    return split(text, limit)


def duration_text(services: Services, lang: str, value: timedelta | None) -> str:
    """A span as people say it: "3 小时 20 分", "2 天 4 小时", "45 min"; "—" for none."""
    if value is None:
        return "—"
    span = human_span(value)
    if span.days:
        key = "digest2.span_days" if span.hours else "digest2.span_whole_days"
    elif span.hours:
        key = "digest2.span_hours" if span.minutes else "digest2.span_whole_hours"
    else:
        key = "digest2.span_minutes" if span.minutes else "digest2.span_under_a_minute"
    return services.text(lang, key, days=span.days, hours=span.hours, minutes=span.minutes)


def listed(services: Services, lang: str, items: list[str]) -> str:
    """Items joined as the language lists them ("、" in Chinese, ", " in English); "—" for none."""
    return services.text(lang, "digest2.list_sep").join(items) or "—"


def counted(services: Services, lang: str, counts: Iterable[tuple[str, int]]) -> str:
    """Named counts as a list: "人社局 3 件、未分派 1 件", "HR Bureau 3, not yet assigned 1"."""
    return listed(services, lang, [services.text(lang, "digest2.count_item", name=name, count=n) for name, n in counts])


async def _names(services: Services, lang: str) -> dict[str, str]:
    units = {u.id: u.name(lang) for u in await services.storage.people.active_units()}
    categories = {c.id: c.name(lang) for c in services.categories}
    return {**units, **categories}


async def _station_name(services: Services, station_id: str | None, lang: str) -> str:
    station = await services.storage.stations.get(station_id) if station_id else None
    return station.name_for(lang) if station else (station_id or "")


async def _chart(services: Services, lang: str, data: DigestData) -> bytes:
    """The per-day chart, in the reader's language where a font can draw it, drawn off the event loop."""

    def draw() -> bytes:
        # All on the worker thread: the first chart also loads matplotlib and its font list.
        drawn_in = chart_language(lang)
        labels = ChartLabels(
            services.text(drawn_in, "digest.chart_title"),
            services.text(drawn_in, "digest2.chart_new"),
            services.text(drawn_in, "digest2.chart_resolved"),
        )
        return daily_chart(data.per_day, labels, drawn_in)

    return await asyncio.to_thread(draw)


def redo_lines(services: Services, lang: str, data: DigestData) -> list[str]:
    """The redo rate (重办率: appeals redone / appeals resolved in the period) and the appeals redone twice or more."""
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    redone = len(data.reopened)
    rate = percent(redone / data.resolved if data.resolved else None)
    lines = [t("redo.digest_rate", rate=rate, part=redone, whole=data.resolved, definition=t("redo.def_rate"))]
    if data.redone_twice:
        lines.append(t("redo.digest_twice", numbers=listed(services, lang, [f"#{n}" for n in data.redone_twice])))
    return lines


async def digest_parts(services: Services, lang: str, data: DigestData, title_key: str) -> list[Part]:
    """The digest of `data` as messages: the figures, hot spots with buttons, and the chart."""
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    names = {**await _names(services, lang), "-": t("digest2.no_unit")}
    r = rates(data.counts)
    c = data.counts
    grouped = lambda counts: counted(services, lang, [(names.get(k, k), v) for k, v in counts.items()])  # noqa: E731
    period = period_text(data.start, data.end, services.zone, lang)
    lines = [
        t(title_key, period=period),
        t(
            "digest.flow",
            new=data.new,
            accepted=data.accepted,
            resolved=data.resolved,
            closed=data.closed,
            reopened=len(data.reopened),
        ),
        t(
            "digest.response",
            rate=percent(r.response),
            part=c.accepted_in_time,
            whole=c.assigned,
            definition=t("digest.def_response"),
        ),
        t(
            "digest.resolution",
            rate=percent(r.resolution),
            part=c.solved,
            whole=c.asked,
            definition=t("digest.def_resolution"),
        ),
        t(
            "digest.satisfaction",
            rate=percent(r.satisfaction),
            part=c.satisfied + c.fairly_satisfied,
            whole=c.rated,
            definition=t("digest.def_satisfaction"),
        ),
        t(
            "digest.averages",
            accept=duration_text(services, lang, data.avg_accept),
            resolve=duration_text(services, lang, data.avg_resolve),
        ),
        t(
            "digest.by_state",
            counts=counted(services, lang, [(t(f"digest2.state_{k}"), v) for k, v in data.by_state.items()]),
        ),
        t("digest.by_category", counts=grouped(data.by_category)),
        t("digest.by_unit", counts=grouped(data.by_unit)),
    ]
    if data.by_station:
        stations = [(await _station_name(services, k, lang), v) for k, v in data.by_station.items()]
        lines.append(t("digest.by_station", counts=counted(services, lang, stations)))
    lines.append(t("digest.overdue_title", count=data.overdue_total))
    for item in data.overdue:
        lines.append(
            t(
                "digest.overdue_line",
                number=item.appeal_id,
                kind=t(f"digest.kind_{item.kind}"),
                unit=names.get(item.unit_id or "-", "—"),
                when=services.local(item.due_at, lang),
            )
        )
    if data.overdue_total > len(data.overdue):
        lines.append(t("digest2.overdue_more", count=data.overdue_total - len(data.overdue)))
    lines.append(t("digest.reopened", numbers=listed(services, lang, [f"#{n}" for n in data.reopened])))
    lines.append(t("extension.digest_extended", count=data.extended))
    lines.append(t("answers_filing.digest", count=data.direct_answers))
    lines += redo_lines(services, lang, data)
    lines.append(t("cohandle.digest", added=data.parts_added, done=data.parts_done))
    lines.append(t("wishes.digest", **await services.storage.wishes.counts(data.start, data.end)))
    parts = [Part(text=chunk) for chunk in split_lines("\n".join(lines))]
    if data.hotspots:
        parts.append(await _hotspot_part(services, lang, data, names))
    if data.per_day:
        parts.append(Part(text=t("digest.chart_caption", period=period), photo=await _chart(services, lang, data)))
    return parts


async def _hotspot_part(services: Services, lang: str, data: DigestData, names: dict[str, str]) -> Part:
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    lines, buttons = [t("digest.hotspots_title", count=len(data.hotspots))], []
    for index, spot in enumerate(data.hotspots, 1):
        place = (
            await _station_name(services, spot.station_id, lang)
            if spot.station_id
            else f"{spot.lat:.4f}, {spot.lon:.4f}"
        )
        lines.append(
            t(
                "digest.hotspot_line",
                index=index,
                count=len(spot.appeal_ids),
                category=names.get(spot.category, spot.category),
                place=place,
                numbers=listed(services, lang, [f"#{n}" for n in spot.appeal_ids]),
            )
        )
        try:
            data_ = callbacks.hotspot(spot.key)
        except ValueError:
            continue  # an id too long for Telegram's 64 bytes: the spot is listed, without a button
        buttons.append([button(t("digest.hotspot_button", index=index), data_)])
    text = shorten("\n".join(lines))
    return Part(text=text, markup=inline(buttons) if buttons else None)


async def on_hotspot_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A coordinator turns a hot spot (recomputed now, never taken from the button) into one appeal."""
    services = context.services
    if not await coordinator_press(update, context, me):
        return
    spots = await services.storage.reports.hotspots(services.clock() + UP_TO_NOW)
    spot = next((s for s in spots if s.key == press.arg), None)
    if press.verb != "mk" or spot is None:
        await refuse(update, context, me.lang, "digest.hotspot_gone")
        return
    await update.callback_query.answer()
    names = await _names(services, me.lang)
    place = (
        await _station_name(services, spot.station_id, me.lang)
        if spot.station_id
        else f"{spot.lat:.4f}, {spot.lon:.4f}"
    )
    description = services.text(
        me.lang,
        "digest.hotspot_description",
        count=len(spot.appeal_ids),
        category=names.get(spot.category, spot.category),
        place=place,
        numbers=listed(services, me.lang, [f"#{n}" for n in spot.appeal_ids]),
    )
    command = OpenHotSpot(me.person.telegram_id, spot, description, me.lang)
    applied = await usecases.open_hot_spot(services.storage, command, services.clock())
    if applied is None:  # another coordinator's press, handled meanwhile, made it an appeal
        await reply(update, services.text(me.lang, "digest.hotspot_gone"))
        return
    await show(update, context, me, applied.appeal)


@for_role("coordinator")
async def show_digest(update: Update, context: BotContext, me: Who) -> None:
    """/digest: today so far and the six days before it."""
    services = context.services
    now = services.clock()
    data = await services.storage.reports.digest(recent_days(now, RECENT_DAYS, services.zone), now + UP_TO_NOW, now)
    for part in await digest_parts(services, me.lang, data, "digest.title_now"):
        if part.photo is not None:
            await update.effective_chat.send_photo(part.photo, caption=part.text)
        else:
            await update.effective_chat.send_message(part.text, reply_markup=part.markup)


@for_role("coordinator")
async def undelivered(update: Update, context: BotContext, me: Who) -> None:
    """/undelivered: the messages Telegram refused for good, with the reason, for coordinators."""
    services = context.services
    dead = await services.storage.outbox.dead_letters()
    if not dead:
        await update.effective_chat.send_message(services.text(me.lang, "digest.undelivered_none"))
        return
    lines = [services.text(me.lang, "digest.undelivered_title", count=len(dead))]
    for message, reason in dead:
        number = f"#{message.appeal_id}" if message.appeal_id else "—"
        lines.append(
            services.text(me.lang, "digest.undelivered_line", person=message.chat_id, number=number, reason=reason)
        )
    for chunk in split_lines("\n".join(lines)):
        await update.effective_chat.send_message(chunk)


def digest_handlers(labels: set[str]) -> list[BaseHandler]:
    """/digest (and the coordinator's menu button) and /undelivered."""
    private = filters.ChatType.PRIVATE
    return [
        *command_and_button("digest", show_digest, labels),
        CommandHandler("undelivered", undelivered, filters=private),
    ]
