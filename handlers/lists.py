"""Lists of appeals with a button to open each: /my (couriers), /queue (staff), /triage (coordinators)."""

from __future__ import annotations

import re
from datetime import datetime

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from domain.lifecycle import State
from handlers import callbacks
from handlers.appeal_actions import show
from handlers.callbacks import Press
from handlers.cards import can_see, state_line
from handlers.common import (
    MENU_COUNT_CAP,
    Who,
    command_and_button,
    counted_label,
    main_menu,
    menu_count,
    reply,
    require_role,
    who,
)
from handlers.deadlines_view import deadline_line
from handlers.i18n import Catalog
from handlers.keyboards import button, inline, rows_of
from handlers.services import BotContext
from storage.appeals import ListPosition
from storage.models import Appeal

PAGE = 10


async def _send_list(
    update: Update, context: BotContext, lang: str, title: str, rows: list[tuple[Appeal, datetime | None]], verb: str
) -> None:
    """One page of a list (rows holds one more than a page when another page follows), with More for the next."""
    services = context.services
    page, following = rows[:PAGE], len(rows) > PAGE
    lines, buttons = [title], []
    # One read for the page's deadlines; a closed appeal shows none, so its timers are not asked for.
    timers = await services.storage.appeals.timers_of([a.id for a, _ in page if a.state is not State.CLOSED])
    for appeal, _ in page:
        category = services.category(appeal.category)
        deadline = deadline_line(services, appeal, timers.get(appeal.id, ()), lang)
        due_text = services.text(lang, "my.due", deadline=deadline) if deadline else ""
        lines.append(
            services.text(
                lang,
                "my.line",
                number=appeal.id,
                category=category.name(lang) if category else appeal.category,
                state=state_line(services, appeal, lang, courier=verb == "my"),
                due=due_text,
            )
        )
        buttons.append(
            button(services.text(lang, "button.open", number=appeal.id), callbacks.appeal(appeal.id, "open"))
        )
    button_rows = rows_of(buttons)
    if following:
        button_rows.append(
            [button(services.text(lang, "button.more"), callbacks.page(verb, ListPosition.of(*page[-1])))]
        )
    await reply(update, "\n".join(lines), reply_markup=inline(button_rows))


async def _my_page(update: Update, context: BotContext, me: Who, after: ListPosition | None) -> None:
    services = context.services
    rows = await services.storage.appeals.of_courier(me.person.telegram_id, PAGE + 1, after)
    if not rows:
        await reply(update, services.text(me.lang, "my.none"), reply_markup=await main_menu(services, me))
        return
    await _send_list(update, context, me.lang, services.text(me.lang, "my.title"), rows, "my")


async def _say_if_stale(update: Update, context: BotContext, me: Who, key: str, count: int) -> None:
    """If the menu button just pressed showed another count than `count`, say the right one with a fresh
    menu (a reply keyboard cannot be edited: its counts stay as they were when it was sent). An empty
    list brings the menu itself."""
    pressed = update.message.text if update.message is not None and update.message.text else ""
    if not count or not re.fullmatch(counted_label(context.services.catalog, key), pressed):
        return  # nothing waiting, or a command or a More button: no count was shown
    shown = menu_count(count)
    if re.search(r"\d+\+?", pressed).group() != shown:
        menu = await main_menu(context.services, me)
        await reply(update, context.services.text(me.lang, f"{key}_now", count=shown), reply_markup=menu)


async def _queue_page(update: Update, context: BotContext, me: Who, after: ListPosition | None) -> None:
    services = context.services
    if not await require_role(update, context, me, "staff"):
        return
    rows = await services.storage.appeals.queue(me.person.unit_id, PAGE + 1, after)
    parts = []
    if after is None:
        count = await services.storage.appeals.queue_count(me.person.unit_id, at_most=MENU_COUNT_CAP)
        await _say_if_stale(update, context, me, "menu2.queue", count)
        # Parts the unit co-handles (协办) are its work too, though another unit holds the appeal.
        parts = await services.storage.cohandling.open_for(me.person.unit_id, PAGE)
        if parts:
            await _send_list(update, context, me.lang, services.text(me.lang, "cohandle.queue_title"), parts, "queue")
    if not rows:
        # Empty: the menu comes with it, so a count it showed is right again.
        empty = "cohandle.queue_empty_own" if after is None and parts else "staff.queue_empty"
        await reply(update, services.text(me.lang, empty), reply_markup=await main_menu(services, me))
        return
    unit = await services.storage.people.unit(me.person.unit_id)
    title = services.text(me.lang, "staff.queue_title", unit=unit.name(me.lang) if unit else me.person.unit_id)
    await _send_list(update, context, me.lang, title, rows, "queue")


async def _triage_page(update: Update, context: BotContext, me: Who, after: ListPosition | None) -> None:
    services = context.services
    if not await require_role(update, context, me, "coordinator"):
        return
    if after is None:
        count = await services.storage.appeals.triage_count(at_most=MENU_COUNT_CAP)
        await _say_if_stale(update, context, me, "menu2.triage", count)
        # Appeals that sit with their own filer's unit come first: only a coordinator can move them on.
        own = await services.storage.appeals.with_own_unit(PAGE)
        if own:
            await _send_list(
                update, context, me.lang, services.text(me.lang, "selfhandling.triage_title"), own, "triage"
            )
    rows = await services.storage.appeals.awaiting_triage(PAGE + 1, after)
    if not rows:
        # Empty: the menu comes with it, so a count it showed is right again.
        await reply(update, services.text(me.lang, "coord.triage_empty"), reply_markup=await main_menu(services, me))
        return
    await _send_list(update, context, me.lang, services.text(me.lang, "coord.triage_title"), rows, "triage")


_PAGES = {"my": _my_page, "queue": _queue_page, "triage": _triage_page}


async def my_appeals(update: Update, context: BotContext) -> None:
    """The courier's own appeals with their state and next deadline."""
    await _my_page(update, context, await who(update, context), None)


async def unit_queue(update: Update, context: BotContext) -> None:
    """The staff member's unit's open appeals, nearest deadline first."""
    await _queue_page(update, context, await who(update, context), None)


async def triage(update: Update, context: BotContext) -> None:
    """Appeals waiting for a coordinator to route them."""
    await _triage_page(update, context, await who(update, context), None)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """More: the next page of a list, for whoever the database says may see that list.

    The position in the button is only where to start; whose list it is comes from the presser's row.
    """
    await update.callback_query.answer()
    await _PAGES[press.verb](update, context, me, ListPosition(press.appeal_id, int(press.arg) if press.arg else None))


async def open_appeal(update: Update, context: BotContext) -> None:
    """/open N: show one appeal to whoever may see it."""
    me = await who(update, context)
    services = context.services
    args = context.args or []
    # isdecimal, not isdigit: "²" is a digit that int() cannot read.
    if len(args) != 1 or not args[0].lstrip("#").isdecimal() or len(args[0]) > 13:
        await reply(update, services.text(me.lang, "appeal.open_usage"))
        return
    await open_number(update, context, me, int(args[0].lstrip("#")))


async def open_number(update: Update, context: BotContext, me: Who, number: int) -> None:
    """Show appeal `number` with its history and files, if `me` may see it; else say there is none for them."""
    appeal = await context.services.storage.appeals.get(number)
    if appeal is None or not can_see(me.person, appeal):
        await reply(update, context.services.text(me.lang, "appeal.not_found"))
        return
    await show(update, context, me, appeal, files=True)


def list_handlers(catalog: Catalog) -> list[BaseHandler]:
    """/my, /queue, /triage (each with its menu button; the counted ones whatever count they show), /open."""
    private = filters.ChatType.PRIVATE
    return [
        *command_and_button("my", my_appeals, catalog.all_labels("menu.my_appeals")),
        CommandHandler("queue", unit_queue, filters=private),
        MessageHandler(private & filters.Regex(counted_label(catalog, "menu2.queue")), unit_queue),
        CommandHandler("triage", triage, filters=private),
        MessageHandler(private & filters.Regex(counted_label(catalog, "menu2.triage")), triage),
        CommandHandler("open", open_appeal, filters=private),
    ]
