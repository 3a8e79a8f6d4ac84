"""The last resort: an unexpected error is logged for engineers and met with an apology, never a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.services import BotContext
from storage.db import Database, first_line

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the error (without the update's content, which may hold personal data) and apologise, once an update."""
    update_id = update.update_id if isinstance(update, Update) else None
    what = f"update {update_id}" if update_id is not None else "a background job"
    services = context.bot_data.services
    if services is not None and context.error is not None:
        log_failure(log, what, context.error, services.storage.db)
    else:
        log.error("%s failed", what, exc_info=context.error)
    if not isinstance(update, Update):
        return
    # Not recorded as handled, and a webhook answers 500 for it.
    context.bot_data.failed_updates.add(update.update_id)
    await _apologise(update, context)
    # The update's later handler groups would meet the same trouble and apologise again.
    raise ApplicationHandlerStop


def log_failure(logger: logging.Logger, what: str, error: BaseException, db: Database) -> None:
    """Log that `what` failed: in one line when the database is away for a while (a restart fails every
    update and every job for a moment: a traceback each would bury the log), else with the traceback."""
    if db.unavailable(error):
        logger.warning("%s failed: the database is unavailable (%s: %s)", what, type(error).__name__, first_line(error))
    else:
        logger.error("%s failed", what, exc_info=error)


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
