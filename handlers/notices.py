"""Turn an outbox row into the message its recipient sees, in their language, with their buttons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from domain.lifecycle import Role
from handlers import callbacks
from handlers.cards import CardFacts, card_facts, card_text, keyboard, roles
from handlers.deadlines_view import deadline_line, next_deadline
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


Rendered = tuple[str, Keyboard | None]


@dataclass
class NoticeMemo:
    """What the notices of one batch share, by the appeal's version: a new appeal's notice goes to
    every worker of its unit, and each of them would otherwise read and draw the same card."""

    facts: dict[tuple[int, int], CardFacts] = field(default_factory=dict)
    rendered: dict[tuple[object, ...], Rendered] = field(default_factory=dict)


async def render(
    services: Services, message: OutboxMessage, person: Person | None, memo: NoticeMemo | None = None
) -> Rendered | None:
    """The text and buttons of one notice, or None if the appeal it is about no longer exists."""
    lang = services.catalog.language_for(person.language if person else None, None)
    appeal = await services.storage.appeals.get(message.appeal_id) if message.appeal_id is not None else None
    if message.appeal_id is not None and appeal is None:
        return None
    memo = memo if memo is not None else NoticeMemo()
    held = roles(person, appeal) if person is not None and appeal is not None else None
    version = (appeal.id, appeal.version) if appeal is not None else None
    key = (message.template, message.params, version, lang, held)
    if key not in memo.rendered:
        memo.rendered[key] = await _render(services, message.template, json.loads(message.params), appeal, lang, held, memo)
    return memo.rendered[key]


async def _render(
    services: Services, template: str, params: dict[str, object], appeal: Appeal | None, lang: str,
    held: frozenset[Role] | None, memo: NoticeMemo,
) -> Rendered:
    values: dict[str, object] = {"note": "", "number": "—", "unit": "", "when": "—", "original": "", "deadline": "", **params}
    if appeal is None:
        return services.text(lang, template, **values), None
    version = (appeal.id, appeal.version)
    facts = memo.facts.get(version) or await card_facts(services, appeal)
    memo.facts[version] = facts
    # A ladder step names its own timer's deadline; every other notice, the one the appeal shows.
    shown = next_deadline(appeal, facts.timers)
    due = from_ts(params["due"]) if "due" in params else (shown.due_at if shown else None)
    values.update(
        number=appeal.id,
        unit=facts.unit.name(lang) if facts.unit else "",
        when=services.local(due, lang),
        deadline=deadline_line(services, appeal, facts.timers, lang) or "",
        original=params.get("merged_into") or appeal.merged_into or "",
    )
    text = services.text(lang, template, **values)
    if held is None:  # someone the bot does not know: the words, without buttons
        return text, None
    if template in _WITH_CARD:
        text += "\n\n" + card_text(services, appeal, facts, lang, for_staff=True)
        return text, keyboard(services, appeal, held, lang)
    if template == "ladder.followup.due":
        return text, followup_keyboard(services, appeal, lang)
    only = _COURIER_BUTTONS.get(template)
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
