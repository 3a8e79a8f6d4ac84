"""The last resort: an unexpected error is logged for engineers and met with an apology, never a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.services import BotContext
from storage.db import first_line

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the error (without the update's content, which may hold personal data) and apologise, once an update."""
    update_id = update.update_id if isinstance(update, Update) else None
    what = f"update {update_id}" if update_id is not None else "a background job"
    services = context.bot_data.services
    error = context.error
    if services is not None and error is not None and services.storage.db.unavailable(error):
        # A database restarting or away fails every update and every job for a while: a line each, not a traceback.
        log.warning("%s failed: the database is unavailable (%s: %s)", what, type(error).__name__, first_line(error))
    else:
        log.error("%s failed", what, exc_info=error)
    if not isinstance(update, Update):
        return
    # Not recorded as handled, and a webhook answers 500 for it.
    context.bot_data.failed_updates.add(update.update_id)
    await _apologise(update, context)
    # The update's later handler groups would meet the same trouble and apologise again.
    raise ApplicationHandlerStop


async def _apologise(update: Update, context: BotContext) -> None:
    services = context.bot_data.services
    if update.effective_chat is None or services is None:
        return
    user = update.effective_user
    try:
        person = await services.storage.people.get(user.id) if user else None
    except Exception:  # noqa: BLE001 - the database may be what failed: the apology must not need it
        person = None
    lang = services.catalog.language_for(person.language if person else None, user.language_code if user else None)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(services.text(lang, "error.internal"), show_alert=True)
        else:
            await update.effective_chat.send_message(services.text(lang, "error.internal"))
    except TelegramError:
        log.warning("could not tell the person about the error")
