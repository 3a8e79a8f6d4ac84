"""The last resort: an unexpected error is logged for engineers and met with an apology, never a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from handlers.services import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the error (without the update's content, which may hold personal data) and apologise."""
    kind = type(update).__name__
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling %s %s", kind, update_id, exc_info=context.error)
    if update_id is not None:
        # Not recorded as handled, and a webhook answers 500 for it.
        context.bot_data.failed_updates.add(update_id)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    services = context.bot_data.services
    if services is None:
        return
    user = update.effective_user
    person = await services.storage.people.get(user.id) if user else None
    lang = services.catalog.language_for(person.language if person else None, user.language_code if user else None)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(services.text(lang, "error.internal"), show_alert=True)
        else:
            await update.effective_chat.send_message(services.text(lang, "error.internal"))
    except TelegramError:
        log.warning("could not tell the person about the error")
