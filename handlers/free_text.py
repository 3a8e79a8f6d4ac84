"""Where a message that is not a command or a menu button goes; never "I did not understand".

In order: the rest of a message Telegram split in parts goes where its first part went; a
location goes to the place step only when the place step's own button sent it (else it finds
stations); then the text the bot asked for (a reason, an answer, a result); an invitation code
after a bare /join, or a code typed alone; the open filing dialog's step; a file with no words
sent just after the courier answered a question (added to that answer), or words just after an
answer of files alone (its words); a courier's pending question from staff; and for anything
else an offer to file it as a new appeal (a text typed a while after an earlier kept one
replaces it, never joins it), beside the rating buttons of a resolved appeal still waiting for
the courier's rating ("ok, thanks" is usually about that one). From staff or a coordinator, a
number alone ("#12") opens that appeal, as /open does.
"""

from __future__ import annotations

import re

from telegram import Message, Update

from domain import lifecycle
from domain.commands import ActOnAppeal, AddToAnswer, EventArgs
from domain.lifecycle import Event, State
from domain.texts import MIN_DESCRIPTION, has_real_words
from handlers import (
    appeal_actions,
    callbacks,
    canned_replies,
    filing,
    invites,
    limits,
    lists,
    notices,
    outreach_notices,
    stations,
    surveys,
    wishes,
)
from handlers.callbacks import DraftVerb, Press
from handlers.common import Who, drop_keyboard, edit_or_reply, main_menu, refuse, reply, retire_buttons
from handlers.filing_steps import MAX_DESCRIPTION, MAX_FILES, Kind, Turn, ask, file_of, joined, kind_of, last_text
from handlers.keyboards import button, inline
from handlers.services import BotContext
from handlers.start import not_understood
from storage import usecases
from storage.dialogs import Draft, LastText, Step
from storage.models import Appeal, LedgerEntry

# The most any dialog takes in one message (a description, an answer, a reason): longer is refused whole.
MAX_TEXT = 2000
# Telegram sends a long paste as several messages, consecutive ids, within a second or two.
SPLIT_WINDOW_S = 5
# Texts typed this close together are one story; a text typed later replaces the one kept before it.
BURST_S = 60
# A file with no words this soon after the courier answered a question belongs to that answer.
FOLLOW_UP_S = 5 * 60
MAX_CHOICES = 8
APPEAL_NUMBER = re.compile(r"[#＃]?\s*([0-9]{1,9})")


def _text(message: Message) -> str:
    return (message.text or message.caption or "").strip()


def continues(last: LastText | None, message: Message) -> bool:
    """Whether `message` is the next part of the message `last` recorded (Telegram split it)."""
    return (
        last is not None
        and message.message_id == last.message_id + 1
        and 0 <= message.date.timestamp() - last.at <= SPLIT_WINDOW_S
    )


async def _save(context: BotContext, me: Who, draft: Draft) -> None:
    await context.services.storage.dialogs.save_draft(me.person.telegram_id, draft, context.services.clock())


async def on_message(update: Update, context: BotContext, me: Who) -> None:
    """Decide where a private message goes, and send it there."""
    message: Message = update.effective_message
    dialogs = context.services.storage.dialogs
    draft = await dialogs.draft(me.person.telegram_id)
    if draft is not None and draft.last is not None and _taken_already(message, draft.last):
        # Telegram delivers a message again when the worker that took it died before the update was on
        # record, and taken twice a description would become the place as well.
        return
    text = _text(message)
    if text and draft is not None and continues(draft.last, message):
        if await _continuation(update, context, me, draft):
            return
    if len(text) > MAX_TEXT:
        await refuse(update, context, me.lang, "filing.too_long", length=len(text), limit=MAX_TEXT)
        await _save(context, me, (draft or Draft()).model_copy(update={"last": last_text(message, "refused")}))
        return
    open_draft = draft if draft is not None and draft.open else None
    if message.location is not None and (open_draft is None or open_draft.keyboard != Step.PLACE):
        # The menu's Nearest station (or the attachment menu), not the place step's own button.
        await stations.show_nearest(update, context, me)
        if open_draft is not None:
            await filing.remind(update, context, me, open_draft)
        return
    prompt = await dialogs.prompt(me.person.telegram_id)
    if prompt is not None:
        await appeal_actions.on_typed(update, context, me, prompt)
        return
    if await outreach_notices.typed(update, context, me):
        return
    if open_draft is None and text and message.text and await surveys.typed_answer(update, context, me, text):
        return
    if text and await wishes.typed(update, context, me, text):
        return
    if await canned_replies.typed_reply(update, context, me, draft, text):
        return
    if text and message.text and await invites.typed_code(update, context, me, draft, text):
        return
    if draft is not None and draft.code_asked:
        draft = draft.model_copy(update={"code_asked": 0})  # asked for a code, answered with something else
    if open_draft is not None:
        await filing.on_message(update, context, me, open_draft)
        return
    number = APPEAL_NUMBER.fullmatch(text.strip()) if me.person.role in ("staff", "coordinator") else None
    if number and file_of(message) is None:
        # Staff or a coordinator typing "#12" or "12" alone: that appeal, as /open 12 shows it. (A courier's
        # number is more likely an answer to a question, or a phone.)
        await lists.open_number(update, context, me, int(number.group(1)))
        return
    if kind_of(message) not in (Kind.TEXT, Kind.MEDIA):
        await not_understood(update, context)
        return
    if not text and await _add_to_answer(update, context, me, message):
        return
    if text and file_of(message) is None and await _add_words_to_answer(update, context, me, text):
        return
    questions = await pending_questions(context, me)
    if len(questions) == 1:
        await _answer_now(update, context, me, questions[0], message)
        return
    await _keep(update, context, me, draft, message, questions)


def _taken_already(message: Message, last: LastText) -> bool:
    """Whether `message` is the draft's last one or older: no newer by id, nor by date (a chat whose ids
    started again, as the sandbox's do when it restarts, is newer by date)."""
    return message.message_id <= last.message_id and int(message.date.timestamp()) <= last.at


async def _continuation(update: Update, context: BotContext, me: Who, draft: Draft) -> bool:
    """The next part of a split message: refused with its first part, or joined to it. False: not ours."""
    message: Message = update.effective_message
    last = draft.last
    assert last is not None
    if last.went == "refused":
        # One refusal covered the whole message: its later parts are dropped without another word.
        await _save(context, me, draft.model_copy(update={"last": last_text(message, "refused")}))
        return True
    if last.went == "description" and draft.open:
        await filing.on_continuation(update, context, me, draft)
        return True
    if last.went == "kept" and not draft.open and draft.kept:
        text = _text(message)
        kept = joined(draft.kept, text)
        if len(kept) > MAX_DESCRIPTION:
            # Over the limit together: the first part comes out again; what was kept before it stays.
            before = draft.kept[: max(0, len(draft.kept) - last.length)].rstrip("\n") or None
            await _save(context, me, draft.model_copy(update={"kept": before, "last": last_text(message, "refused")}))
            total = last.length + len(text)
            await reply(
                update, context.services.text(me.lang, "filing2.split_too_long", length=total, limit=MAX_DESCRIPTION)
            )
            return True
        await _save(
            context,
            me,
            draft.model_copy(update={"kept": kept, "last": last_text(message, "kept", last.length + 1 + len(text))}),
        )
        await reply(update, context.services.text(me.lang, "freetext.rest_kept"))
        return True
    return False


async def pending_questions(context: BotContext, me: Who) -> list[Appeal]:
    """The courier's appeals whose unit asked a question the courier has not answered, oldest first."""
    if me.person.role != "courier":
        return []
    mine = await context.services.storage.appeals.of_courier(me.person.telegram_id, limit=50)
    return sorted((a for a, _ in mine if a.state is State.HANDLING and a.awaiting_courier), key=lambda a: a.id)


async def awaiting_rating(context: BotContext, me: Who) -> Appeal | None:
    """The courier's newest resolved appeal still waiting for their rating, if any."""
    if me.person.role != "courier":
        return None
    mine = await context.services.storage.appeals.of_courier(me.person.telegram_id, limit=50)
    return max((a for a, _ in mine if a.state is State.FEEDBACK), key=lambda a: a.id, default=None)


async def _add_to_answer(update: Update, context: BotContext, me: Who, message: Message) -> bool:
    """A file without words just after the courier answered a question: added to that answer. False: not one."""
    services = context.services
    new_file = file_of(message)
    if new_file is None or me.person.role != "courier":
        return False
    found = await _answer_followed(context, me)
    if found is None:
        return False
    answer, appeal = found
    if len(await services.storage.appeals.attachments(appeal.id, answer.id)) >= MAX_FILES:
        await refuse(update, context, me.lang, "filing.too_many_files", limit=MAX_FILES)
        return True
    added = AddToAnswer(answer.appeal_id, answer.id, files=(new_file,))
    await usecases.add_to_answer(services.storage, added, template=notices.ANSWER_ADDED, now=services.clock())
    await reply(
        update,
        services.text(me.lang, "freetext2.added_to_answer", number=appeal.id),
        reply_markup=await main_menu(services, me),
    )
    return True


async def _answer_followed(context: BotContext, me: Who) -> tuple[LedgerEntry, Appeal] | None:
    """The courier's answer of the last few minutes and its appeal, if the appeal still waits on that answer."""
    services = context.services
    if me.person.role != "courier":
        return None
    answer = await services.storage.appeals.latest_answer(me.person.telegram_id)
    if answer is None or (services.clock() - answer.at).total_seconds() > FOLLOW_UP_S:
        return None
    appeal = await services.storage.appeals.get(answer.appeal_id)
    if (
        appeal is None
        or appeal.courier_id != me.person.telegram_id
        or appeal.state is not State.HANDLING
        or appeal.awaiting_courier
    ):
        return None  # closed since, or asked again: what comes now is not a postscript to that answer
    return answer, appeal


async def _add_words_to_answer(update: Update, context: BotContext, me: Who, text: str) -> bool:
    """Words just after an answer of files alone (the photo came first): they are that answer's words. False: not one."""
    services = context.services
    found = await _answer_followed(context, me)
    if found is None or found[0].note is not None or not has_real_words(text):
        return False
    answer, appeal = found
    added = AddToAnswer(answer.appeal_id, answer.id, words=text)
    if not await usecases.add_to_answer(
        services.storage, added, template=notices.ANSWER_WORDS_ADDED, now=services.clock()
    ):
        return False
    await reply(
        update,
        services.text(me.lang, "freetext2.added_to_answer", number=appeal.id),
        reply_markup=await main_menu(services, me),
    )
    return True


async def _send_answer(
    update: Update, context: BotContext, me: Who, appeal: Appeal, text: str | None, files: list[tuple[str, str, str]]
) -> bool:
    """Apply the courier's answer (words, and any files with them) to `appeal`; False if it cannot be (said why)."""
    services = context.services
    try:
        answer = ActOnAppeal(
            appeal.id, Event.ANSWER, me.person.telegram_id, EventArgs(note=text, attachments=tuple(files))
        )
        await usecases.act(services.storage, answer, services.clock())
    except lifecycle.LifecycleError:
        await refuse(update, context, me.lang, "freetext.no_longer_asked", number=appeal.id)
        return False
    return True


async def _answer_now(update: Update, context: BotContext, me: Who, appeal: Appeal, message: Message) -> None:
    text = _text(message)
    new_file = file_of(message)
    if not text and new_file is None:
        await refuse(update, context, me.lang, "freetext.answer_needs_words", number=appeal.id)
        return
    # A photo, voice note or document alone answers too ("Do you have a payslip?"): the unit sees what came.
    if await _send_answer(update, context, me, appeal, text or None, [new_file] if new_file else []):
        services = context.services
        await reply(
            update,
            services.text(me.lang, "freetext.answered", number=appeal.id),
            reply_markup=await main_menu(services, me),
        )


async def _keep(
    update: Update, context: BotContext, me: Who, draft: Draft | None, message: Message, questions: list[Appeal]
) -> None:
    """Keep what was typed for a tap: the appeal it answers (several asked), or filing it as a new one."""
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    text = _text(message)
    new_file = file_of(message)
    to_rate = None if questions else await awaiting_rating(context, me)
    ratings = notices.rating_buttons(services, to_rate, me.person, me.lang) if to_rate else None
    if not questions and new_file is None and not has_real_words(text, MIN_DESCRIPTION):
        if ratings:  # "ok", "👍": most likely about the result just given
            await reply(update, t("freetext.rate_first", number=to_rate.id), reply_markup=ratings)
            return
        # "Hi", "ok", an emoji: nothing to file; say what the bot does.
        await not_understood(update, context)
        return
    draft = draft or Draft()
    # Several messages in a burst are one story; one typed later replaces what was kept (never joins it).
    had = bool(draft.kept or draft.kept_files)
    burst = had and draft.updated_at is not None and (services.clock() - draft.updated_at).total_seconds() <= BURST_S
    kept = joined(draft.kept, text) if burst else text or None
    files = [*(draft.kept_files if burst else []), *([new_file] if new_file else [])][:MAX_FILES]
    if kept is not None and len(kept) > MAX_DESCRIPTION:
        kept, files, burst = text or None, [new_file] if new_file else [], False
    stamp = draft.kept_id if burst and draft.kept_id else message.message_id
    changes = {"kept": kept, "kept_files": files, "kept_id": stamp, "last": last_text(message, "kept", len(text))}
    await _save(context, me, draft.model_copy(update=changes))
    # Said, so the earlier text is not thought to be in the appeal; its buttons no longer act (their stamp is old).
    lead = t("freetext2.replaced") + "\n" if had and not burst else ""
    file_it = button(t("freetext.button_file"), callbacks.draft(DraftVerb.FILE_KEPT, str(stamp)))
    if questions:

        def category(a: Appeal) -> str:
            known = services.category(a.category)
            return known.name(me.lang) if known else a.category

        rows = [
            [
                button(
                    t("freetext.appeal_button", number=a.id, category=category(a)),
                    callbacks.draft(DraftVerb.ANSWER_KEPT, f"{a.id}.{stamp}"),
                )
            ]
            for a in questions[:MAX_CHOICES]
        ]
        shown = await reply(
            update, lead + t("freetext.which", count=len(questions)), reply_markup=inline([*rows, [file_it]])
        )
    elif ratings:
        rows = [*ratings["inline_keyboard"], [file_it]]
        shown = await reply(update, lead + t("freetext.rate_or_file", number=to_rate.id), reply_markup=inline(rows))
    else:
        shown = await reply(
            update, lead + t("freetext.offer" if kept else "freetext.offer_file"), reply_markup=inline([[file_it]])
        )
        await reply(update, t("freetext.or_menu"), reply_markup=await main_menu(services, me))
    # Only the newest offer keeps buttons: an earlier one is for a text replaced or joined into this one.
    await retire_buttons(update, draft.buttons_at)
    await _save(context, me, draft.model_copy(update={**changes, "buttons_at": shown}))


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """ "File as a new appeal" or an appeal's button under a kept text: use the text, once."""
    services = context.services
    dialogs = services.storage.dialogs
    draft = await dialogs.draft(me.person.telegram_id)
    if draft is not None and draft.open:
        await update.callback_query.answer()
        await filing.remind(update, context, me, draft)
        return
    if draft is None or not (draft.kept or draft.kept_files):
        await refuse(update, context, me.lang, "freetext.nothing_kept")
        return
    number, _, stamp = press.arg.partition(".") if press.verb is DraftVerb.ANSWER_KEPT else ("", "", press.arg)
    if stamp and draft.kept_id and stamp != str(draft.kept_id):
        # The offer under a text that a later one replaced: it must not file or send the later text.
        await refuse(update, context, me.lang, "freetext2.kept_replaced")
        return
    taken = lambda: dialogs.take_kept(me.person.telegram_id, draft.kept_id)  # noqa: E731
    if press.verb is DraftVerb.FILE_KEPT:
        if refused := await limits.refused_now(context, me):  # the text stays kept for later
            await update.callback_query.answer()
            await reply(update, refused)
            return
        if not await taken():  # a second tap handled beside the first: the text is used once
            await refuse(update, context, me.lang, "freetext.nothing_kept")
            return
        await update.callback_query.answer()
        await drop_keyboard(update)
        new = filing.new_draft(context, description=draft.kept, files=draft.kept_files)
        turn = Turn(update, context, me, new)
        await turn.save()
        await ask(turn, lead="filing2.kept_at_category")
        return
    appeal = await services.storage.appeals.get(int(number)) if number.isdecimal() and len(number) <= 12 else None
    if appeal is None or appeal.courier_id != me.person.telegram_id:
        await refuse(update, context, me.lang, "appeal.not_found")
        return
    if not draft.kept:
        await refuse(update, context, me.lang, "freetext.answer_needs_words", number=appeal.id)
        return
    if not await taken():
        await refuse(update, context, me.lang, "freetext.nothing_kept")
        return
    if not await _send_answer(update, context, me, appeal, draft.kept, draft.kept_files):
        await _save(context, me, draft)  # nothing was sent: the text stays kept
        return
    await update.callback_query.answer()
    await edit_or_reply(update, services.text(me.lang, "freetext.answered", number=appeal.id))
