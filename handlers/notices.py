"""Turn an outbox row into the message its recipient sees, in their language, with their buttons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from domain.ladder import Stage
from domain.ladder import template as ladder_notice
from domain.lifecycle import Event, Role
from domain.names import Audience, Timer
from domain.notices import template as notice
from handlers import callbacks
from handlers.callbacks import AppealVerb
from handlers.cards import CardFacts, card_facts, keyboard, roles
from handlers.deadlines_view import deadline_line, next_deadline
from handlers.evidence import Files, Story, card_body, card_markup, full_text_row, story
from handlers.history import answer_words, files_said
from handlers.keyboards import Keyboard, button, inline
from handlers.services import Services
from handlers.telegram_text import IN_NOTICE, TEXT, said, shorten, units
from handlers.text_prompts import days_text
from storage.appeals import OWN_UNIT_NOTICE
from storage.cohandling import REMIND_PART, REMIND_SIGN
from storage.desks import CARD as DESK_CARD
from storage.desks import is_desk
from storage.models import Appeal, OutboxMessage, Person, from_ts
from storage.wishes import STAFF_NOTICES as WISH_NOTICES

# Notices that carry the appeal's card and the recipient's buttons, so they can act at once.
_WITH_CARD = {
    notice(Event.ASSIGN, Audience.UNIT),
    notice(Event.REASSIGN, Audience.UNIT),
    notice(Event.ANSWER, Audience.UNIT),
    notice(Event.RATE_UNSATISFIED, Audience.UNIT),
    notice(Event.SUBMIT, Audience.COORDINATORS),
    notice(Event.SEND_BACK, Audience.COORDINATORS),
    notice(Event.ESCALATE_UNSOLVED, Audience.COORDINATORS),
    notice(Event.ADD_COHANDLER, Audience.COHANDLER_ADDED),
    OWN_UNIT_NOTICE,
    DESK_CARD,
}
_WITH_CARD |= {
    ladder_notice(timer, stage)
    for timer in (Timer.TRIAGE, Timer.ACCEPT, Timer.HANDLE)
    for stage in (Stage.REMIND, Stage.DUE, Stage.ESCALATE)
}
# Co-handling (协办): a late part's reminder carries the card with its buttons, as the notice adding the unit does.
_WITH_CARD |= {REMIND_SIGN, REMIND_PART}
# Notices to the courier that need an answer: only the buttons for that answer. "Not solved" is one of
# two events, as the unit's redos (重办) allow: the lifecycle lets only one of them show.
_RATINGS = (
    AppealVerb.RATE_SATISFIED,
    AppealVerb.RATE_FAIRLY_SATISFIED,
    AppealVerb.RATE_UNSATISFIED,
    AppealVerb.ESCALATE_UNSOLVED,
)
_COURIER_BUTTONS = {
    notice(Event.ASK, Audience.COURIER): (AppealVerb.ANSWER,),
    notice(Event.RESOLVE, Audience.COURIER): _RATINGS,
    ladder_notice(Timer.FEEDBACK, Stage.REMIND): _RATINGS,
    # Not the courier's: the coordinators' answer to a unit asking for more time.
    notice(Event.REQUEST_EXTENSION, Audience.COORDINATORS): (AppealVerb.APPROVE_EXTENSION, AppealVerb.REFUSE_EXTENSION),
}


Rendered = tuple[str, Keyboard | None]
# Notices about an activity, not an appeal (storage/activities.py queues them).
ACTIVITY_NOTICES = "activities.notice_"

# Files a courier sent just after answering (handlers/free_text.py): the unit is told, and only those files follow.
ANSWER_ADDED = "freetext2.answer_added_unit"
# Words a courier typed just after an answer of files alone: they are its words now, and the unit is told.
ANSWER_WORDS_ADDED = "fixtext.answer_words_unit"

# Notices that bring an appeal to someone who has not had it: every file of the appeal follows.
# Other notices to staff and coordinators bring only the files of their event (a courier's answer).
_INTRODUCING = {
    notice(Event.ASSIGN, Audience.UNIT),
    notice(Event.REASSIGN, Audience.UNIT),
    notice(Event.SUBMIT, Audience.COORDINATORS),
    notice(Event.SEND_BACK, Audience.COORDINATORS),
    notice(Event.ESCALATE_UNSOLVED, Audience.COORDINATORS),
    notice(Event.ADD_COHANDLER, Audience.COHANDLER_ADDED),
    OWN_UNIT_NOTICE,
    DESK_CARD,
}


@dataclass(frozen=True)
class Notice:
    """A notice as its recipient sees it: its own words, the card it carries, the buttons, and how it is kept."""

    line: str
    card: str | None = None
    markup: Keyboard | None = None
    keep: str | None = None  # "card" (edited as the appeal moves on) or "buttons" (taken away once void)
    version: int | None = None  # the appeal's version it shows

    @property
    def text(self) -> str:
        """The whole message: the notice's words, then the card (within one message)."""
        return shorten(self.line if self.card is None else self.line + "\n\n" + self.card)


@dataclass
class NoticeMemo:
    """What the notices of one batch share, by the appeal's version: a new appeal's notice goes to
    every worker of its unit, and each of them would otherwise read and draw the same card."""

    facts: dict[tuple[int, int], CardFacts] = field(default_factory=dict)
    stories: dict[tuple[int, int, str], Story] = field(default_factory=dict)
    files: dict[tuple[int, int | None], Files] = field(default_factory=dict)
    rendered: dict[tuple[object, ...], Notice] = field(default_factory=dict)


async def render(
    services: Services, message: OutboxMessage, person: Person | None, memo: NoticeMemo | None = None
) -> Rendered | None:
    """The text and buttons of one notice, or None if the appeal it is about no longer exists."""
    notice = await render_notice(services, message, person, memo)
    return None if notice is None else (notice.text, notice.markup)


async def render_notice(
    services: Services, message: OutboxMessage, person: Person | None, memo: NoticeMemo | None = None
) -> Notice | None:
    """One notice in its parts, or None if the appeal it is about no longer exists."""
    lang = services.catalog.language_for(person.language if person else None, None)
    if message.template.startswith(ACTIVITY_NOTICES):  # an activity's reminder or moved-up notice
        from handlers.activities import render_notice as activity_notice

        rendered = await activity_notice(services, message, lang)
        return None if rendered is None else Notice(rendered[0], markup=rendered[1])
    if message.template.startswith(WISH_NOTICES):  # a micro-wish's notice to staff
        from handlers.wishes import render_staff_notice

        rendered = await render_staff_notice(services, message, person, lang)
        return None if rendered is None else Notice(rendered[0], markup=rendered[1])
    appeal = await services.storage.appeals.get(message.appeal_id) if message.appeal_id is not None else None
    if message.appeal_id is not None and appeal is None:
        return None
    memo = memo if memo is not None else NoticeMemo()
    held = roles(person, appeal) if person is not None and appeal is not None else None
    version = (appeal.id, appeal.version) if appeal is not None else None
    shared = is_desk(person)  # a unit's group: never the courier's phone
    key = (message.template, message.params, message.event_id, version, lang, held, shared)
    if key not in memo.rendered:
        params = json.loads(message.params)
        # Words longer than the notice's share are cut: the notice then offers them all (Full text).
        cut = bool(params.get("note")) and units(said(str(params["note"]))) > IN_NOTICE
        if (
            appeal is not None
            and message.event_id is not None
            and message.template == notice(Event.ANSWER, Audience.UNIT)
        ):
            # An answer of files alone reads as what came instead of words, not an empty tail.
            params["note"] = await answer_words(
                services, lang, appeal.id, message.event_id, params.get("note"), IN_NOTICE
            )
        elif params.get("note"):
            params["note"] = said(params["note"], IN_NOTICE)  # people's words, quoted and within the notice's share
        elif appeal is not None and message.template == ANSWER_ADDED:
            params["files"] = files_said(services, lang, await _added_files(services, message, memo))
        if isinstance(params.get("part_unit"), str):  # a co-handling unit (协办), by its name
            part_unit = await services.storage.people.unit(params["part_unit"])
            params["part_unit"] = part_unit.name(lang) if part_unit else params["part_unit"]
        if isinstance(params.get("days"), int):  # an extension's length, as people read it
            params["days"] = days_text(services, lang, params["days"])
        memo.rendered[key] = await _render(services, message.template, params, appeal, lang, held, memo, cut, shared)
    return memo.rendered[key]


async def notice_files(
    services: Services, message: OutboxMessage, person: Person | None, memo: NoticeMemo | None = None
) -> Files:
    """The files that follow a notice: for staff and coordinators, the appeal's (or its event's), else none."""
    if message.appeal_id is None or person is None or person.role not in ("staff", "coordinator"):
        return []
    if message.template in _INTRODUCING:
        event = None
    elif message.event_id is not None:
        event = message.event_id
    else:
        return []
    memo = memo if memo is not None else NoticeMemo()
    if message.template == ANSWER_ADDED:
        return await _added_files(services, message, memo)
    key = (message.appeal_id, event)
    if key not in memo.files:
        memo.files[key] = await services.storage.appeals.attachments(message.appeal_id, event)
    return memo.files[key]


async def _added_files(services: Services, message: OutboxMessage, memo: NoticeMemo) -> Files:
    """The files an ANSWER_ADDED notice is about: the newest `count` of its answer's."""
    assert message.appeal_id is not None
    key = (message.appeal_id, message.event_id)
    if key not in memo.files:
        memo.files[key] = await services.storage.appeals.attachments(message.appeal_id, message.event_id)
    count = int(json.loads(message.params).get("count", 0))
    return memo.files[key][-count:] if count > 0 else []


async def _render(
    services: Services,
    template: str,
    params: dict[str, object],
    appeal: Appeal | None,
    lang: str,
    held: frozenset[Role] | None,
    memo: NoticeMemo,
    cut: bool = False,
    shared: bool = False,
) -> Notice:
    values: dict[str, object] = {
        "note": "",
        "number": "—",
        "unit": "",
        "when": "—",
        "original": "",
        "deadline": "",
        **params,
    }
    if (
        "unit_id" in params
    ):  # a unit named by id (a desk that stopped, storage/desks.py): its name, in the reader's language
        unit = await services.storage.people.unit(str(params["unit_id"]))
        values["unit"] = unit.name(lang) if unit else params["unit_id"]
    if template.startswith("desk.") and "reason" in params:
        values["reason"] = services.text(lang, f"desk.reason_{params['reason']}")
    if appeal is None:
        return Notice(services.text(lang, template, **values))
    values.setdefault("redo", appeal.reopens)  # a notice queued before redos were counted names the appeal's count
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
        return Notice(text)
    if template in _WITH_CARD:
        told_key = (appeal.id, appeal.version, lang)
        if told_key not in memo.stories:
            memo.stories[told_key] = await story(services, appeal, lang, for_staff=True)
        room = TEXT - units(text + "\n\n")
        card = card_body(
            services, appeal, facts, memo.stories[told_key], lang, for_staff=True, room=room, shared=shared
        )
        markup = card_markup(services, appeal, held, facts, lang, shared=shared)
        return Notice(text, card, markup, "card", appeal.version)
    if template == ladder_notice(Timer.FOLLOWUP, Stage.DUE):
        return Notice(text, markup=followup_keyboard(services, appeal, lang))
    only = _COURIER_BUTTONS.get(template)
    markup = keyboard(services, appeal, held, lang, only=only) if only else None
    keep = "buttons" if markup else None
    if cut:
        markup = inline([*(markup["inline_keyboard"] if markup else []), full_text_row(services, appeal, lang)])
    return Notice(text, markup=markup, keep=keep, version=appeal.version)


def answer_buttons(
    services: Services, appeal: Appeal, person: Person, template: str | None, lang: str
) -> Keyboard | None:
    """The buttons a notice that asks for an answer shows now (None once they no longer apply)."""
    only = _COURIER_BUTTONS.get(template or "")
    return keyboard(services, appeal, roles(person, appeal), lang, only=only) if only else None


def rating_buttons(services: Services, appeal: Appeal, person: Person, lang: str) -> Keyboard | None:
    """Satisfied, Fairly satisfied and Not solved for `appeal`, if `person` may rate it now."""
    return keyboard(services, appeal, roles(person, appeal), lang, only=_RATINGS)


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
