"""/export: a coordinator chooses a period and gets the ledger as CSV and Excel files."""

from __future__ import annotations

import asyncio
from datetime import date

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from domain.periods import PERIODS, PeriodError, bounds, named, typed
from handlers import callbacks
from handlers.callbacks import ExportVerb, Family, Press
from handlers.common import Who, refuse, reply, require_role, who
from handlers.keyboards import button, inline
from handlers.ledger_files import file_name, table, to_csv, to_xlsx
from handlers.services import BotContext

MAX_UPLOAD_BYTES = 45 * 1024 * 1024  # Telegram takes at most 50 MB from a bot


def _category_namer(context: BotContext, lang: str):
    services = context.services

    def name(category_id: str) -> str:
        category = services.category(category_id)
        return category.name(lang) if category else category_id

    return name


async def _send(update: Update, context: BotContext, me: Who, first: date, last: date) -> None:
    services = context.services
    start, end = bounds(first, last, services.zone)
    lines = await services.storage.ledger.lines(start, end)
    if not lines:
        await reply(update, services.text(me.lang, "export.empty", first=first, last=last))
        return
    headers, rows = table(lines, services.catalog, me.lang, services.zone, _category_namer(context, me.lang))
    # Building a workbook is CPU work: keep it off the event loop.
    csv_bytes, xlsx_bytes = await asyncio.to_thread(
        lambda: (to_csv(headers, rows), to_xlsx(headers, rows, services.text(me.lang, "export.sheet")))
    )
    if max(len(csv_bytes), len(xlsx_bytes)) > MAX_UPLOAD_BYTES:
        await reply(update, services.text(me.lang, "export.too_large", count=len(lines)))
        return
    caption = services.text(me.lang, "export.caption", first=first, last=last, count=len(lines))
    chat = update.effective_chat
    await chat.send_document(InputFile(csv_bytes, filename=file_name(first, last, "csv")), caption=caption)
    await chat.send_document(InputFile(xlsx_bytes, filename=file_name(first, last, "xlsx")), caption=caption)


async def export(update: Update, context: BotContext) -> None:
    """/export offers periods as buttons; /export FIRST LAST (YYYY-MM-DD) sends those days."""
    me = await who(update, context)
    services = context.services
    if not await require_role(update, context, me, "coordinator"):
        return
    args = context.args or []
    if len(args) == 2:
        try:
            first, last = typed(args[0][:20], args[1][:20])
        except PeriodError:
            await reply(update, services.text(me.lang, "export.usage"))
            return
        await _send(update, context, me, first, last)
        return
    if args:
        await reply(update, services.text(me.lang, "export.usage"))
        return
    buttons = [
        button(services.text(me.lang, f"export.{p}"), callbacks.encode(Family.EXPORT, ExportVerb.PERIOD, p))
        for p in PERIODS
    ]
    await reply(update, services.text(me.lang, "export.choose"), reply_markup=inline([buttons[:2], buttons[2:]]))


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A period button: coordinators only, checked in the database on every press."""
    services = context.services
    if press.arg not in PERIODS:
        await refuse(update, context, me.lang, "press.invalid")
        return
    if me.person.role != "coordinator":
        await refuse(update, context, me.lang, "coord.not_coordinator")
        return
    await update.callback_query.answer()
    today = services.clock().astimezone(services.zone).date()
    first, last = named(press.arg, today)
    await _send(update, context, me, first, last)


def export_handlers(labels: set[str]) -> list[BaseHandler]:
    """/export and the coordinator's menu button (its period buttons are routed by handlers/presses.py)."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("export", export, filters=private),
        MessageHandler(private & filters.Text(sorted(labels)), export),
    ]
