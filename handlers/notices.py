"""Turn an outbox row into the message its recipient sees, in their language, with their buttons."""

from __future__ import annotations

import json

from telegram import InlineKeyboardMarkup

from handlers.cards import card_text, keyboard, roles
from handlers.services import Services
from storage.models import OutboxMessage, Person

# Notices that carry the appeal's card and the recipient's buttons, so they can act at once.
_WITH_CARD = {
    "notice.assign.unit",
    "notice.reassign.unit",
    "notice.answer.unit",
    "notice.rate_unsatisfied.unit",
    "notice.submit.coordinators",
    "notice.send_back.coordinators",
}
# Notices to the courier that need an answer: only the buttons for that answer.
_COURIER_BUTTONS = {"notice.ask.courier": ("ans",), "notice.resolve.courier": ("rs", "rf", "ru")}


async def render(
    services: Services, message: OutboxMessage, person: Person | None
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The text and buttons of one notice, or None if the appeal it is about no longer exists."""
    lang = services.catalog.language_for(person.language if person else None, None)
    params = json.loads(message.params)
    storage = services.storage
    appeal = await storage.appeals.get(message.appeal_id) if message.appeal_id is not None else None
    if message.appeal_id is not None and appeal is None:
        return None
    values: dict[str, object] = {"note": params.get("note", ""), **params}
    if appeal is not None:
        unit = await storage.people.unit(appeal.unit_id) if appeal.unit_id else None
        due = {t.kind: t.due_at for t in await storage.appeals.timers(appeal.id)}
        values.update(
            number=appeal.id,
            unit=unit.name(lang) if unit else "",
            when=services.local(due.get("handle"), lang),
            original=params.get("merged_into") or appeal.merged_into or "",
        )
    text = services.text(lang, message.template, **values)
    if appeal is None or person is None:
        return text, None
    held = roles(person, appeal)
    if message.template in _WITH_CARD:
        text += "\n\n" + await card_text(services, appeal, lang, for_staff=True)
        return text, keyboard(services, appeal, held, lang)
    only = _COURIER_BUTTONS.get(message.template)
    return text, keyboard(services, appeal, held, lang, only=only) if only else None
