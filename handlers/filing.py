"""Filing an appeal: category -> description -> place -> contact -> review -> confirm.

The steps are one table, handlers/filing_steps.STEPS; this module starts the dialog, reminds of an
unfinished one, and routes messages and buttons to the step. The draft (storage.dialogs.Draft)
lives in the drafts table, so it survives a restart; the appeal only exists once the courier confirms.
"""

from __future__ import annotations

from telegram import Message, Update

from domain.commands import FileAppeal, NewAppeal
from domain.filing_limits import FilingLimited
from handlers import callbacks, limits
from handlers.answer_cards import answer_text as answer_card
from handlers.callbacks import DraftVerb, Press
from handlers.common import Who, drop_keyboard, edit_or_reply, main_menu, refuse, reply
from handlers.deadlines_view import deadline_line
from handlers.filing_steps import (
    MAX_DESCRIPTION,
    STEPS,
    Turn,
    advance,
    after_description,
    ask,
    joined,
    keep_typed_place,
    kind_of,
    last_text,
    summary,
)
from handlers.keyboards import button, inline
from handlers.services import BotContext
from storage import usecases
from storage.dialogs import Draft, Step


async def begin(update: Update, context: BotContext, me: Who, station_id: str | None = None) -> None:
    """Start a new appeal (about a station, if given); with one unfinished, offer to continue or discard it."""
    draft = await context.services.storage.dialogs.draft(me.person.telegram_id)
    if draft is not None and draft.open:
        await remind(update, context, me, draft, new=station_id or "")
        return
    if refused := await limits.refused_now(context, me):  # before anyone writes a story only to be refused
        await reply(update, refused)
        return
    turn = Turn(update, context, me, new_draft(context, station=station_id))
    lead = None
    if draft is not None and draft.kept and recent(context, draft):
        # Typed just before pressing New appeal: that was the story.
        turn.draft = turn.draft.model_copy(update={"description": draft.kept, "files": draft.kept_files})
        lead = "filing2.kept_at_category"
    await turn.save()
    await ask(turn, lead=lead)


# A kept text is the story of a New appeal pressed this soon after it; later, it was something else.
KEPT_FOR_S = 5 * 60


def new_draft(context: BotContext, **values: object) -> Draft:
    """A draft at the first step, stamped with when it was begun."""
    return Draft(step=Step.CATEGORY, started=int(context.services.clock().timestamp()), **values)


def recent(context: BotContext, draft: Draft) -> bool:
    """Whether the draft's row was written lately enough for its kept text to still be what the person means."""
    return draft.updated_at is not None and (context.services.clock() - draft.updated_at).total_seconds() <= KEPT_FOR_S


async def remind(update: Update, context: BotContext, me: Who, draft: Draft, new: str | None = None) -> None:
    """Say there is an unfinished appeal, with Continue and Discard (`new`: discarding starts another, about that station if not empty)."""
    services = context.services
    turn = Turn(update, context, me, draft)
    if draft.keyboard is not None:
        await turn.save(keyboard=None)  # whatever brought us here showed the menu, or will
    category = services.category(draft.category or "")
    what = category.name(me.lang) if category else turn.t("filing2.no_category")
    if draft.description:
        start = " ".join(draft.description.split())
        # In quotes: the courier's own words end as they like, and the sentence's stop follows them.
        what += " · “" + (start[:40] + "…" if len(start) > 40 else start) + "”"
    stamp = str(draft.started)
    discard = (
        button(
            turn.t("filing2.button_discard_new"), callbacks.draft("drop", f"{stamp}.new" + (f".{new}" if new else ""))
        )
        if new is not None
        else button(turn.t("filing2.button_discard"), callbacks.draft("drop", stamp))
    )
    await reply(
        update,
        turn.t("filing2.draft_waiting", what=what),
        reply_markup=inline([[button(turn.t("filing2.button_continue"), callbacks.draft("go", stamp)), discard]]),
    )


async def on_message(update: Update, context: BotContext, me: Who, draft: Draft) -> None:
    """A message while a draft is open: the step takes it if it takes its kind, or says what it needs."""
    assert draft.step is not None
    turn = Turn(update, context, me, draft)
    message: Message = update.effective_message
    kind = kind_of(message)
    handler = STEPS[draft.step].takes.get(kind) if kind is not None else None
    if handler is None:
        await refuse(update, context, me.lang, f"filing.expecting_{draft.step}")
        return
    await handler(turn, message)


async def on_continuation(update: Update, context: BotContext, me: Who, draft: Draft) -> None:
    """The rest of a message Telegram split, whose first part went into the description: one description, or none of it."""
    assert draft.last is not None
    turn = Turn(update, context, me, draft)
    message: Message = update.effective_message
    text = (message.text or message.caption or "").strip()
    description = joined(draft.description, text)
    if len(description) <= MAX_DESCRIPTION:
        last = last_text(message, "description", draft.last.length + 1 + len(text))
        await turn.save(description=description, last=last)
        await reply(update, turn.t("filing2.rest_added"))
        return
    # Over the limit together: the first part comes out again, and the courier writes it anew.
    before = (draft.description or "")[: max(0, len(draft.description or "") - draft.last.length)].rstrip("\n")
    await turn.save(step=Step.DESCRIPTION, description=before or None, last=last_text(message, "refused"))
    total = draft.last.length + len(text)
    await reply(update, turn.t("filing2.split_too_long", length=total, limit=MAX_DESCRIPTION))
    await ask(turn)


async def _stale_press(update: Update, context: BotContext, me: Who, key: str) -> None:
    """A dialog button that no longer applies: a quiet toast says why, and its message loses its buttons."""
    await update.callback_query.answer(context.services.text(me.lang, key))
    await drop_keyboard(update)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A dialog button: move the draft on, back, or away, if it still applies."""
    query = update.callback_query
    storage, services = context.services.storage, context.services
    draft = await storage.dialogs.draft(me.person.telegram_id)
    open_draft = draft if draft is not None and draft.open else None
    stamp, _, then = press.arg.partition(".")
    if press.verb in ("go", "drop") and open_draft is not None and stamp != str(open_draft.started):
        # A reminder about a draft discarded since: this one is not what it offered to continue or discard.
        await _stale_press(update, context, me, "filing.stale_button")
        return
    if press.verb == "drop" and then.startswith("new"):
        await query.answer()
        await drop_keyboard(update)
        await storage.dialogs.drop_draft(me.person.telegram_id)
        await begin(update, context, me, then.partition(".")[2] or None)
        return
    if open_draft is None:
        # A second tap of Confirm (the appeal is filed), or a button of a draft cancelled since.
        await _stale_press(
            update, context, me, "filing2.already_filed" if press.verb == DraftVerb.CONFIRM else "filing.no_draft"
        )
        return
    turn = Turn(update, context, me, open_draft)
    verb, step = press.verb, open_draft.step
    spec = STEPS[step]
    if verb in ("cancel", "drop"):
        await query.answer()
        await storage.dialogs.drop_draft(me.person.telegram_id)
        await drop_keyboard(update)
        await reply(update, turn.t("filing.cancelled"), reply_markup=await main_menu(services, me))
    elif verb == "go":
        await query.answer()
        await drop_keyboard(update)
        await ask(turn)
    elif verb == "back" and spec.back is not None:
        await query.answer()
        back = spec.back
        if back is Step.PLACE and open_draft.station and open_draft.lat is None:
            back = Step.DESCRIPTION  # started from a station: there was no place step
        in_place = step is Step.DESCRIPTION  # the category list, back where the description question was
        if not in_place:
            await drop_keyboard(update)
        await turn.save(step=back)
        await ask(turn, in_place)
    elif verb == "cat" and step is Step.CATEGORY and services.category(press.arg):
        await query.answer()
        await advance(turn, Step.DESCRIPTION, in_place=True, category=press.arg)
    elif verb == "next" and step is Step.DESCRIPTION and (open_draft.description or open_draft.files):
        await query.answer()
        await drop_keyboard(update)
        await advance(turn, await after_description(turn))
    elif verb == "anyway" and step is Step.ANSWERS:
        await query.answer()
        await drop_keyboard(update)
        await advance(turn, Step.PLACE)
    elif verb == "solved" and step is Step.ANSWERS:
        if not await _answered(turn, press.arg):
            # An answer withdrawn since, or another draft's button: the answers as they are now, afresh.
            await _stale_press(update, context, me, "filing.stale_button")
            await ask(turn)
    elif verb == "next" and step is Step.CONTACT and open_draft.phone:
        await query.answer()
        await drop_keyboard(update)
        await advance(turn, Step.REVIEW)
    elif verb == "skip" and step in (Step.PLACE, Step.CONTACT):
        await query.answer()
        await drop_keyboard(update)
        await advance(turn, spec.next, **({"phone": None} if step is Step.CONTACT else {"place": None}))
    elif verb == "st" and step is Step.PLACE and await storage.stations.get(press.arg):
        await query.answer()
        await drop_keyboard(update)
        await advance(turn, Step.CONTACT, station=press.arg, place=None, typed_place=None)
    elif verb == "next" and step is Step.PLACE and press.arg == "typed" and open_draft.typed_place:
        await query.answer()
        await drop_keyboard(update)
        await keep_typed_place(turn)
    elif verb == "confirm" and step is Step.REVIEW:
        if not await _submit(turn):
            await _stale_press(update, context, me, "filing2.already_filed")
    else:
        await _stale_press(update, context, me, "filing.stale_button")


async def _answered(turn: Turn, arg: str) -> bool:
    """ "This answers it": the draft ends, thanked, and a direct answer (直接答复) is counted; never an appeal.
    False (nothing done, the press unanswered) for a button of another draft, or an answer since withdrawn."""
    services, draft, me = turn.context.services, turn.draft, turn.me
    answer_id, _, started = arg.partition(".")
    answer = await services.storage.answers.get(answer_id)
    if started != str(draft.started) or answer is None or not answer.active:
        return False
    done = await services.storage.answers.record_direct_answer(
        me.person.telegram_id, draft.started, category=draft.category or "", answer_id=answer.id, now=services.clock()
    )
    if not done:
        return False
    await turn.update.callback_query.answer()
    # The answer that helped stays on screen, without the buttons; the thanks bring the main menu back.
    await edit_or_reply(turn.update, answer_card(services, me.lang, answer))
    await reply(turn.update, turn.t("answers_filing.thanks"), reply_markup=await main_menu(services, me))
    return True


async def _submit(turn: Turn) -> bool:
    """File the draft and answer the press; False (nothing filed, the press unanswered) if it was filed already."""
    services, draft, me = turn.context.services, turn.draft, turn.me
    new = NewAppeal(
        courier_id=me.person.telegram_id,
        category=draft.category or "",
        description=draft.description or turn.t("filing.files_only"),
        language=me.lang,
        station_id=draft.station,
        lat=draft.lat,
        lon=draft.lon,
        place=draft.place,
        contact_phone=draft.phone,
        attachments=tuple(tuple(f) for f in draft.files),
    )
    # The draft is taken in the same transaction that files it: of two taps of Confirm, one files.
    try:
        applied = await usecases.file_appeal(
            services.storage,
            FileAppeal(new, draft.started),
            routing=services.routing,
            limits=limits.limits_of(turn.context),
            now=services.clock(),
        )
    except FilingLimited as limited:  # the draft is kept, and its Confirm button still works later
        await turn.update.callback_query.answer()
        await reply(
            turn.update,
            limits.refusal_text(services, me.lang, limited.refusal)
            + "\n"
            + turn.t("ratelimit.draft_kept", button=turn.t("button.confirm")),
        )
        return True
    if applied is None:
        return False
    await turn.update.callback_query.answer()
    appeal = applied.appeal
    # The receipt names the same next deadline as /my, the card and the reminders.
    deadline = deadline_line(services, appeal, await services.storage.appeals.timers(appeal.id), me.lang)
    if appeal.unit_id:
        unit_row = await services.storage.people.unit(appeal.unit_id)
        unit_name = unit_row.name(me.lang) if unit_row else appeal.unit_id
        text = turn.t(
            "filing.submitted_routed",
            number=appeal.id,
            unit=unit_name,
            deadline=deadline or turn.t("fixtext.unit_next"),
        )
    else:
        # The deadline line says who assigns it and by when: the sentence says it once.
        text = turn.t("filing.submitted_triage", number=appeal.id, deadline=deadline or turn.t("fixtext.triage_next"))
    # The receipt takes the confirm button's place under the summary: what was filed and its number
    # stay together (the main menu came back with the review).
    await edit_or_reply(turn.update, await summary(turn, title=False) + "\n\n" + text)
    return True
