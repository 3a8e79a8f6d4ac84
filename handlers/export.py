"""/export: a coordinator chooses a period and gets the ledger as CSV and Excel files."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import InputFile, Update
from telegram.ext import BaseHandler

from domain.periods import PERIODS, PeriodError, bounds, named, period_text, typed
from handlers import callbacks
from handlers.callbacks import ExportVerb, Family, Press
from handlers.common import Who, command_and_button, coordinator_press, for_role, refuse, reply
from handlers.keyboards import Keyboard, button, inline
from handlers.ledger_files import build_files, estimated_bytes, file_name
from handlers.services import BotContext
from handlers.worker import in_worker

TELEGRAM_UPLOAD_MB = 50  # the most Telegram takes from a bot in one file
MAX_UPLOAD_BYTES = 45 * 1024 * 1024  # with room for the estimate's error


def _days(first: date, last: date) -> str:
    return f"{first:%Y%m%d}.{last:%Y%m%d}"


def _shorter(context: BotContext, lang: str, first: date, last: date) -> Keyboard | None:
    """The period's two halves as buttons (each too large is halved again when pressed); none for one day."""
    if first == last:
        return None
    middle = first + timedelta(days=(last - first).days // 2)
    services = context.services
    halves = ((first, middle), (middle + timedelta(days=1), last))
    return inline(
        [
            [
                button(
                    period_text(*bounds(a, b, services.zone), services.zone, lang),
                    callbacks.encode(Family.EXPORT, ExportVerb.DAYS, _days(a, b)),
                )
            ]
            for a, b in halves
        ]
    )


async def _too_large(
    update: Update, context: BotContext, me: Who, first: date, last: date, count: int, size: int
) -> None:
    services = context.services
    text = services.text(
        me.lang,
        "heavy.export_too_large",
        period=period_text(*bounds(first, last, services.zone), services.zone, me.lang),
        count=count,
        size=max(1, round(size / 2**20)),
        limit=TELEGRAM_UPLOAD_MB,
    )
    text += "\n" + services.text(me.lang, "heavy.export_one_day" if first == last else "heavy.export_shorter")
    await reply(update, text, reply_markup=_shorter(context, me.lang, first, last))


async def _send(update: Update, context: BotContext, me: Who, first: date, last: date) -> None:
    services = context.services
    start, end = bounds(first, last, services.zone)
    size = await services.storage.ledger.size(start, end)
    if not size.appeals:
        await reply(update, services.text(me.lang, "export.empty", first=first, last=last))
        return
    # Sized from the row count before anything is read or built: a period too large is refused at once.
    estimate = estimated_bytes(size.appeals, size.text_bytes)
    if estimate > MAX_UPLOAD_BYTES:
        await _too_large(update, context, me, first, last, size.appeals, estimate)
        return
    lines = await services.storage.ledger.lines(start, end)
    names = {c.id: c.name(me.lang) for c in services.categories}
    # The rows and the workbook are CPU work: in the worker process, so everyone else's replies go on.
    csv_bytes, xlsx_bytes = await in_worker(
        build_files, lines, services.catalog, me.lang, services.zone, names, services.text(me.lang, "export.sheet")
    )
    if max(len(csv_bytes), len(xlsx_bytes)) > MAX_UPLOAD_BYTES:  # the estimate fell short
        await _too_large(update, context, me, first, last, len(lines), max(len(csv_bytes), len(xlsx_bytes)))
        return
    caption = services.text(me.lang, "export.caption", first=first, last=last, count=len(lines))
    # Drafts the knowledge base settled are no appeals, so no rows: the caption counts them.
    if direct := await services.storage.answers.direct_answers(start, end):
        caption += services.text(me.lang, "answers_filing.export_caption", count=direct)
    # Micro-wishes have a ledger of their own (storage/wishes.py): the caption counts their steps.
    wishes = await services.storage.wishes.counts(start, end)
    if any(wishes.values()):
        caption += services.text(me.lang, "wishes.export_caption", **wishes)
    chat = update.effective_chat
    await chat.send_document(InputFile(csv_bytes, filename=file_name(first, last, "csv")), caption=caption)
    await chat.send_document(InputFile(xlsx_bytes, filename=file_name(first, last, "xlsx")), caption=caption)


@for_role("coordinator")
async def export(update: Update, context: BotContext, me: Who) -> None:
    """/export offers periods as buttons; /export FIRST LAST (YYYY-MM-DD) sends those days."""
    services = context.services
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


def _pressed_days(arg: str) -> tuple[date, date] | None:
    """The two dates of a shorter-period button ("20261101.20261115"), or None if forged out of shape."""
    first, _, last = arg.partition(".")
    try:
        return typed(f"{first[:4]}-{first[4:6]}-{first[6:]}", f"{last[:4]}-{last[4:6]}-{last[6:]}")
    except PeriodError:
        return None


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A period button: coordinators only, checked in the database on every press."""
    services = context.services
    days = _pressed_days(press.arg) if press.verb == ExportVerb.DAYS else None
    if (press.verb == ExportVerb.PERIOD and press.arg not in PERIODS) or (
        press.verb == ExportVerb.DAYS and days is None
    ):
        await refuse(update, context, me.lang, "press.invalid")
        return
    if not await coordinator_press(update, context, me):
        return
    await update.callback_query.answer()
    if days is None:
        days = named(press.arg, services.clock().astimezone(services.zone).date())
    await _send(update, context, me, *days)


def export_handlers(labels: set[str]) -> list[BaseHandler]:
    """/export and the coordinator's menu button (its period buttons are routed by handlers/presses.py)."""
    return command_and_button("export", export, labels)
