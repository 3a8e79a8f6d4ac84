"""The typed-text dialogs on an appeal (a question, an answer, a reason, a result, a merge): STEPS says, for
each, its question, what it takes, how the text is read and whether it is shown back before it acts.

Each is one step over a typed `Prompt` (storage/dialogs.py). handlers/appeal_actions.py asks it when a
button needs text and finishes it (`on_typed`, then Confirm / Edit / Cancel); handlers/free_text.py
sends a person's text here when the bot is waiting for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from telegram import Message, Update

from domain.canned_replies import LABEL
from domain.commands import EventArgs
from domain.events import RULES
from domain.lifecycle import Role
from domain.merges import MergeRefusal, merge_refusal
from handlers import callbacks
from handlers.callbacks import AppealVerb
from handlers.cards import BY_VERB, roles, state_line
from handlers.common import Who, reply, retire_buttons
from handlers.keyboards import Button, button, inline
from handlers.services import BotContext, Services
from handlers.telegram_text import SHOWN_BACK, one_line, said, shorten
from storage.appeals import MAX_NOTE
from storage.dialogs import Prompt, PromptData, PromptKind
from storage.models import Appeal

MAX_TYPED = min(2000, MAX_NOTE)
IN_MERGE = 160  # the start of each side's description on a merge confirmation

# Reads the typed text into what the event stores; None means it was refused (and the person was told why).
Reader = Callable[[Update, BotContext, Who, Appeal, str], Awaitable[str | None]]


@dataclass(frozen=True)
class TextStep:
    """One typed-text dialog: its question, what it takes, how it reads the text, and whether it is shown back."""

    ask: str  # the catalog key of the question
    files: bool = False  # a photo, voice note or document alone answers it
    confirm: bool = False  # shown back with Confirm / Edit / Cancel, acting only on Confirm
    read: Reader | None = None  # turns the text into the event's argument; by default the text is the note


async def _merge_target(update: Update, context: BotContext, me: Who, appeal: Appeal, text: str) -> str | None:
    """The number of the appeal a typed number names, if `appeal` may be merged into it; otherwise say why not."""
    services = context.services
    number = text.lstrip("#").strip()
    if not number.isdecimal() or not number.isascii() or len(number) > 12:  # "²" is a digit int() cannot read
        await reply(update, services.text(me.lang, "appeal.merge_bad_number"))
        return None
    target = await services.storage.appeals.get(int(number))
    refusal = merge_refusal(appeal.merge_side(), target.merge_side() if target else None, services.clock())
    if refusal is MergeRefusal.NOT_OPEN and target is not None and target.outcome is not None:
        # Say which of the reasons it is: "#3 was rejected", not the whole list.
        await reply(update, services.text(me.lang, f"merge2.not_open_{target.outcome}", number=target.id))
        return None
    if refusal is not None:
        await reply(update, services.text(me.lang, f"confirm.bad_{refusal}"))
        return None
    return str(target.id)


# The dialogs that are not the plain one (its question "appeal.prompt_<event>", the text its note).
_NOT_PLAIN: dict[PromptKind, TextStep] = {
    PromptKind.RESOLVE: TextStep("appeal.prompt_resolve", confirm=True),
    PromptKind.REJECT: TextStep("appeal.prompt_reject", confirm=True),
    PromptKind.MERGE: TextStep("appeal.prompt_merge", confirm=True, read=_merge_target),
    PromptKind.RATE_UNSATISFIED: TextStep("appeal.prompt_unsatisfied"),
    PromptKind.ESCALATE_UNSOLVED: TextStep("appeal.prompt_unsatisfied"),  # the same "Not solved", asked alike
    PromptKind.FINISH_PART: TextStep("appeal.prompt_finish_part", confirm=True),  # a co-handling part is final
}


def _step(kind: PromptKind) -> TextStep:
    step = _NOT_PLAIN.get(kind) or TextStep(f"appeal.prompt_{kind}")
    note = RULES[kind.event].note
    return replace(step, files=note is not None and note.files_enough)  # as the event's declaration says


STEPS: dict[PromptKind, TextStep] = {kind: _step(kind) for kind in PromptKind}


async def ask(
    update: Update,
    context: BotContext,
    me: Who,
    appeal: Appeal,
    kind: PromptKind,
    *,
    pressed: int | None = None,
    days: int | None = None,
) -> None:
    """Ask `me` for the text `kind` needs, with a Cancel button, and wait for it (`pressed`: the message
    the dialog began on, when it is asked again from a show-back's Edit; `days`: the working days an
    extension request asks for)."""
    services = context.services
    # The pressed message, which may be out of the bot's reach (an InaccessibleMessage) but has its id.
    query = update.callback_query
    message_id = pressed or (query.message.message_id if query and query.message else None)
    earlier = await services.storage.dialogs.prompt(me.person.telegram_id)
    if earlier is not None:  # asked again: the earlier question's and show-back's buttons no longer apply
        await retire_buttons(update, earlier.data.asked_at)
        await retire_buttons(update, earlier.data.shown_at)
    cancel = button(services.text(me.lang, "button.cancel"), callbacks.appeal(appeal.id, AppealVerb.CANCEL))
    question = services.text(me.lang, STEPS[kind].ask, number=appeal.id, days=days_text(services, me.lang, days or 0))
    canned = await _canned_rows(services, me, appeal, kind)
    if canned:
        question += "\n\n" + services.text(me.lang, "canned.offer")
    asked_at = await reply(update, question, reply_markup=inline([*canned, [cancel]]))
    await services.storage.dialogs.set_prompt(
        me.person.telegram_id,
        Prompt(kind, appeal.id, PromptData(message_id=message_id, asked_at=asked_at, days=days)),
        services.clock(),
    )
    draft = await services.storage.dialogs.draft(me.person.telegram_id)
    if draft is not None and draft.reply_asked:  # a new canned reply was asked for before: this question replaces it
        await services.storage.dialogs.save_draft(
            me.person.telegram_id, draft.model_copy(update={"reply_asked": 0}), services.clock()
        )


# The dialogs that offer the unit's canned replies (常用回复).
CANNED_KINDS = frozenset({PromptKind.ASK, PromptKind.NOTE, PromptKind.RESOLVE})


def offers_canned(me: Who, appeal: Appeal, kind: PromptKind) -> bool:
    """Whether `me`, asked for `kind`'s text on `appeal`, is offered their unit's canned replies: only staff
    acting for a unit on it (a coordinator writes in their own name, not in a unit's)."""
    return (
        kind in CANNED_KINDS
        and me.person.role == "staff"
        and me.person.unit_id is not None
        and Role.STAFF in roles(me.person, appeal)
    )


async def _canned_rows(services: Services, me: Who, appeal: Appeal, kind: PromptKind) -> list[list[Button]]:
    """A button for each of the unit's canned replies, showing its start; the press carries only its id."""
    if not offers_canned(me, appeal, kind):
        return []
    replies = await services.storage.canned_replies.of_unit(me.person.unit_id)
    return [
        [
            button(
                f"{index}. {shorten(one_line(r.text), LABEL)}",
                callbacks.appeal(appeal.id, AppealVerb.CANNED, str(r.id)),
            )
        ]
        for index, r in enumerate(replies, 1)
    ]


def files_of(message: Message) -> list[tuple[str, str, str]]:
    """The photo, voice note or document a message carries, as the attachments table keeps them."""
    if message.photo:
        photo = message.photo[-1]  # the largest size
        return [("photo", photo.file_id, photo.file_unique_id)]
    if message.voice:
        return [("voice", message.voice.file_id, message.voice.file_unique_id)]
    if message.document:
        return [("document", message.document.file_id, message.document.file_unique_id)]
    return []


def event_args(prompt: Prompt) -> EventArgs:
    """What the event carries: the typed text (or the merge target) and any files."""
    if prompt.verb is PromptKind.MERGE:
        return EventArgs(merged_into=int(prompt.data.text or 0))
    return EventArgs(note=prompt.data.text or None, attachments=tuple(prompt.data.files), days=prompt.data.days)


def days_text(services: Services, lang: str, days: int) -> str:
    """A number of working days as people read it: 1 working day, 2 working days, 2个工作日."""
    return services.text(lang, "extension.one_day" if days == 1 else "extension.days", days=days)


def text_digest(text: str) -> str:
    """A short digest of a text shown back, carried by its confirm button."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


async def _title(services: Services, appeal: Appeal, lang: str) -> str:
    """One side of a merge: its number, category and state, its station, and the start of its description,
    so that the coordinator can judge the two are duplicates."""
    category = services.category(appeal.category)
    lines = [
        services.text(
            lang,
            "confirm.appeal_line",
            number=appeal.id,
            category=category.name(lang) if category else appeal.category,
            state=state_line(services, appeal, lang),
        )
    ]
    station = await services.storage.stations.get(appeal.station_id) if appeal.station_id else None
    if station is not None:
        lines.append(services.text(lang, "fixcards.merge_station", station=station.name_for(lang)))
    text = "\n".join(lines)
    if appeal.description:
        text += said(shorten(appeal.description, IN_MERGE))
    return text


async def show_back(update: Update, context: BotContext, me: Who, appeal: Appeal, prompt: Prompt) -> int:
    """The typed text shown back, with Confirm, Edit and Cancel; the id of the message that shows it."""
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    kind = prompt.verb
    typed = prompt.data.text or ""
    if kind is PromptKind.MERGE:
        target = await services.storage.appeals.get(int(typed))
        text = t(
            "confirm.merge",
            number=appeal.id,
            target=target.id,
            duplicate=await _title(services, appeal, me.lang),
            original=await _title(services, target, me.lang),
        )
    else:
        text = t(f"confirm.{kind}", number=appeal.id, text=said(typed, SHOWN_BACK))
        if prompt.data.files:
            text += "\n" + t("confirm.files", count=len(prompt.data.files))
    verb = next(a.verb for a in BY_VERB.values() if a.event is kind.event)
    rows = [
        [button(t(f"confirm.button_{kind}"), callbacks.confirm(appeal.id, verb, appeal.version, text_digest(typed)))],
        [
            button(t("confirm.button_edit"), callbacks.appeal(appeal.id, AppealVerb.EDIT)),
            button(t("button.cancel"), callbacks.appeal(appeal.id, AppealVerb.CANCEL)),
        ],
    ]
    return await reply(update, text, reply_markup=inline(rows))
