"""Turn an outbox row into the message its recipient sees, in their language, with their buttons."""

from __future__ import annotations

import json

from handlers import callbacks
from handlers.cards import CardFacts, card_facts, card_text, keyboard, roles
from handlers.keyboards import Keyboard, button, inline
from handlers.services import Services
from storage.models import Appeal, OutboxMessage, Person, from_ts

# Notices that carry the appeal's card and the recipient's buttons, so they can act at once.
_WITH_CARD = {
    "notice.assign.unit",
    "notice.reassign.unit",
    "notice.answer.unit",
    "notice.rate_unsatisfied.unit",
    "notice.submit.coordinators",
    "notice.send_back.coordinators",
}
_WITH_CARD |= {f"ladder.{timer}.{stage}" for timer in ("triage", "accept", "handle") for stage in ("remind", "due", "escalate")}
# Notices to the courier that need an answer: only the buttons for that answer.
_COURIER_BUTTONS = {
    "notice.ask.courier": ("ans",),
    "notice.resolve.courier": ("rs", "rf", "ru"),
    "ladder.feedback.remind": ("rs", "rf", "ru"),
}


CardMemo = dict[tuple[int, int], CardFacts]


async def render(
    services: Services, message: OutboxMessage, person: Person | None, cards: CardMemo | None = None
) -> tuple[str, Keyboard | None] | None:
    """The text and buttons of one notice, or None if the appeal it is about no longer exists.

    `cards` keeps what each appeal's card showed, by the appeal's version, for the notices after the
    first: a new appeal's notice goes to every worker of its unit.
    """
    lang = services.catalog.language_for(person.language if person else None, None)
    params = json.loads(message.params)
    appeal = await services.storage.appeals.get(message.appeal_id) if message.appeal_id is not None else None
    if message.appeal_id is not None and appeal is None:
        return None
    values: dict[str, object] = {"note": "", "number": "—", "unit": "", "when": "—", "original": "", **params}
    facts = None
    if appeal is not None:
        memo = cards if cards is not None else {}
        facts = memo.get((appeal.id, appeal.version)) or await card_facts(services, appeal)
        memo[appeal.id, appeal.version] = facts
        deadline = from_ts(params["due"]) if "due" in params else next(
            (t.due_at for t in facts.timers if t.kind == "handle"), None
        )
        values.update(
            number=appeal.id,
            unit=facts.unit.name(lang) if facts.unit else "",
            when=services.local(deadline, lang),
            original=params.get("merged_into") or appeal.merged_into or "",
        )
    text = services.text(lang, message.template, **values)
    if appeal is None or facts is None or person is None:
        return text, None
    held = roles(person, appeal)
    if message.template in _WITH_CARD:
        text += "\n\n" + card_text(services, appeal, facts, lang, for_staff=True)
        return text, keyboard(services, appeal, held, lang)
    if message.template == "ladder.followup.due":
        return text, followup_keyboard(services, appeal, lang)
    only = _COURIER_BUTTONS.get(message.template)
    return text, keyboard(services, appeal, held, lang, only=only) if only else None


def followup_keyboard(services: Services, appeal: Appeal, lang: str) -> Keyboard:
    """The two answers to "is it still solved?"."""
    return inline(
        [
            [
                button(services.text(lang, "followup.still_solved"), callbacks.appeal(appeal.id, "fuy")),
                button(services.text(lang, "followup.not_solved"), callbacks.appeal(appeal.id, "fun")),
            ]
        ]
    )
