"""Canned replies (常用回复): a unit's short reply templates, kept in the config or added with /replies.

Ask the courier, Note and Resolve offer the unit's replies as buttons under their question
(handlers/text_prompts.py). A press shows the whole reply: "Send as is" sends it as if it were typed,
and whatever the worker types instead is used in its place. Only the unit's own staff are offered
them, on the appeals the unit holds; each press carries only a reply's id, and the presser's role
and unit, the reply's unit and the open question are read again from the database.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from domain.canned_replies import MAX_REPLIES, MAX_REPLY, clean
from handlers import callbacks, text_prompts
from handlers.appeal_actions import load_pressed, take_text
from handlers.callbacks import AppealVerb, CannedVerb, Family, Press
from handlers.common import Who, drop_keyboard, edit_or_reply, for_role, refuse, reply, retire_buttons
from handlers.keyboards import Keyboard, button, inline
from handlers.services import BotContext, Services
from storage.canned_replies import AddRefused, CannedReply, Source
from storage.dialogs import Draft, Prompt, PromptKind
from storage.models import Appeal

# How long after "Add a reply" the next text is taken as the reply.
ADD_ASKED_S = 30 * 60


def _data(verb: CannedVerb, reply_id: int | None = None) -> str:
    return callbacks.encode(Family.CANNED, verb, "" if reply_id is None else str(reply_id))


# ---------------------------------------------------------------------------- /replies: the unit's list


async def _unit_name(services: Services, me: Who) -> str:
    unit = await services.storage.people.unit(me.person.unit_id)
    return unit.name(me.lang) if unit else "—"


async def _list_view(services: Services, me: Who) -> tuple[str, Keyboard]:
    """The unit's replies, numbered, with a Delete button for each its staff added, then Add and Close."""
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    replies = await services.storage.canned_replies.of_unit(me.person.unit_id)
    unit = await _unit_name(services, me)
    if not replies:
        text = t("canned.list_empty", unit=unit)
    else:
        lines = [t("canned.list_title", unit=unit, count=len(replies), limit=MAX_REPLIES)]
        for index, r in enumerate(replies, 1):
            key = "canned.line_config" if r.source is Source.CONFIG else "canned.line"
            lines.append(t(key, index=index, text=r.text))
        text = "\n\n".join(lines)
    deletable = [
        button(t("canned.button_delete", index=index), _data(CannedVerb.DELETE, r.id))
        for index, r in enumerate(replies, 1)
        if r.source is Source.STAFF
    ]
    rows = [deletable[i : i + 3] for i in range(0, len(deletable), 3)]
    last = [button(t("canned.button_close"), _data(CannedVerb.CLOSE))]
    if len(replies) < MAX_REPLIES:
        last.insert(0, button(t("canned.button_add"), _data(CannedVerb.ADD)))
    return text, inline([*rows, last])


@for_role("staff")
async def replies_command(update: Update, context: BotContext, me: Who) -> None:
    """/replies: the unit's canned replies, to add or delete."""
    text, markup = await _list_view(context.services, me)
    await reply(update, text, reply_markup=markup)


def _position(replies: list[CannedReply], reply_id: int) -> int:
    return next(index for index, r in enumerate(replies, 1) if r.id == reply_id)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """The /replies buttons; only staff of a unit, read from the database, and only their unit's replies."""
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    if me.person.role != "staff" or me.person.unit_id is None:
        await refuse(update, context, me.lang, "staff.not_staff")
        return
    query = update.callback_query
    if press.verb is CannedVerb.CLOSE:
        await query.answer()
        await edit_or_reply(update, t("canned.closed"))
    elif press.verb is CannedVerb.ADD:
        await query.answer()
        await _set_asked(services, me, services.clock(), asked=True)
        earlier = await services.storage.dialogs.prompt(me.person.telegram_id)
        if earlier is not None and await services.storage.dialogs.clear_prompt(me.person.telegram_id):
            # The text that comes next is the reply: a question asked before on an appeal no longer waits for it.
            await retire_buttons(update, earlier.data.asked_at)
            await retire_buttons(update, earlier.data.shown_at)
        cancel = button(t("button.cancel"), _data(CannedVerb.ADD_CANCEL))
        await reply(update, t("canned.ask_text", limit=MAX_REPLY), reply_markup=inline([[cancel]]))
    elif press.verb is CannedVerb.ADD_CANCEL:
        if not await _set_asked(services, me, services.clock(), asked=False):
            await query.answer(t("stale.nothing_pending"))
            await drop_keyboard(update)
            return
        await query.answer()
        await edit_or_reply(update, t("canned.add_cancelled"))
    elif press.verb is CannedVerb.KEEP:
        await query.answer()
        text, markup = await _list_view(services, me)
        await edit_or_reply(update, t("canned.kept") + "\n\n" + text, markup)
    else:
        await _on_delete(update, context, me, press)


async def _on_delete(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Delete: asked first, naming the reply; then deleted, and the list shown again."""
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    reply_id = int(press.arg) if press.arg.isdecimal() else None
    found = await services.storage.canned_replies.get(reply_id) if reply_id is not None else None
    if found is not None and found.unit_id != me.person.unit_id:
        await refuse(update, context, me.lang, "canned.not_offered")  # another unit's: never ours to touch
        return
    replies = await services.storage.canned_replies.of_unit(me.person.unit_id)
    if found is None or found.source is not Source.STAFF:
        await update.callback_query.answer(t("canned.gone"), show_alert=True)
        text, markup = await _list_view(services, me)
        await edit_or_reply(update, text, markup)
        return
    index = _position(replies, found.id)
    if press.verb is CannedVerb.DELETE:
        await update.callback_query.answer()
        yes = button(t("canned.button_delete_confirm"), _data(CannedVerb.DELETE_CONFIRMED, found.id))
        keep = button(t("canned.button_keep"), _data(CannedVerb.KEEP))
        await edit_or_reply(update, t("canned.delete_confirm", index=index, text=found.text), inline([[yes, keep]]))
        return
    deleted = await services.storage.canned_replies.delete(found.id, me.person.unit_id)
    if deleted:
        await update.callback_query.answer()
    else:  # a second tap, or someone else of the unit was first
        await update.callback_query.answer(t("canned.gone"))
    text, markup = await _list_view(services, me)
    left = len(await services.storage.canned_replies.of_unit(me.person.unit_id))
    head = t("canned.deleted", unit=await _unit_name(services, me), count=left)
    await edit_or_reply(update, head + "\n\n" + text, markup)


async def _set_asked(services: Services, me: Who, now: datetime, *, asked: bool) -> bool:
    """Mark (or unmark) that the next text is a new reply; whether it was marked before."""
    dialogs = services.storage.dialogs
    draft = await dialogs.draft(me.person.telegram_id) or Draft()
    was = bool(draft.reply_asked)
    updated = draft.model_copy(update={"reply_asked": int(now.timestamp()) if asked else 0})
    if updated.data() == Draft().data() and updated.step is None:
        await dialogs.drop_draft(me.person.telegram_id)  # nothing else was in the row
    else:
        await dialogs.save_draft(me.person.telegram_id, updated, now)
    return was


async def typed_reply(update: Update, context: BotContext, me: Who, draft: Draft | None, text: str) -> bool:
    """The text after "Add a reply": added to the unit's replies. False: no reply was asked for (or long ago)."""
    if draft is None or not draft.reply_asked:
        return False
    services = context.services
    now = services.clock()
    if not 0 <= now.timestamp() - draft.reply_asked <= ADD_ASKED_S or me.person.role != "staff":
        await _set_asked(services, me, now, asked=False)
        return False
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    text = clean(text)
    if not text:
        await reply(update, t("canned.text_only"))  # still asked: the text may follow
        return True
    if len(text) > MAX_REPLY:
        await reply(update, t("canned.too_long", length=len(text), limit=MAX_REPLY))
        return True
    await _set_asked(services, me, now, asked=False)
    unit = me.person.unit_id
    added = await services.storage.canned_replies.add(unit, text, now)
    if isinstance(added, AddRefused):
        name = await _unit_name(services, me)
        await reply(update, t(f"canned.{added}", unit=name, limit=MAX_REPLIES))
        return True
    replies = await services.storage.canned_replies.of_unit(unit)
    listed, markup = await _list_view(services, me)
    await reply(update, t("canned.added", index=_position(replies, added.id)) + "\n\n" + listed, reply_markup=markup)
    return True


# ---------------------------------------------------------------------------- offered by Ask, Note and Resolve


async def _open_question(
    update: Update, context: BotContext, me: Who, appeal: Appeal, reply_id: str, pressed_at: str
) -> tuple[Prompt, CannedReply, int] | None:
    """The open question this press belongs to, the reply it names and its number; or None after saying why not.

    `pressed_at` names the message the press must come from: the question ("asked_at") or the shown reply
    ("shown_at"), so a press on an older question or shown reply never acts.
    """
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    prompt = await services.storage.dialogs.prompt(me.person.telegram_id)
    kind = prompt.verb if prompt is not None else PromptKind.NOTE
    if not text_prompts.offers_canned(me, appeal, kind):
        await refuse(update, context, me.lang, "canned.not_offered")
        return None
    found = await services.storage.canned_replies.get(int(reply_id)) if reply_id.isdecimal() else None
    if found is not None and found.unit_id != me.person.unit_id:
        await refuse(update, context, me.lang, "canned.not_offered")
        return None
    message = update.callback_query.message
    if (
        prompt is None
        or prompt.appeal_id != appeal.id
        or prompt.data.typed
        or message is None
        or getattr(prompt.data, pressed_at) != message.message_id
    ):
        await update.callback_query.answer(t("canned.no_longer_open"))
        await drop_keyboard(update)
        return None
    if found is None:
        await update.callback_query.answer(t("canned.gone"), show_alert=True)
        return None
    replies = await services.storage.canned_replies.of_unit(found.unit_id)
    return prompt, found, _position(replies, found.id)


async def on_pick(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A canned reply under the question: shown whole, with Send as is and Cancel; typing replaces it."""
    appeal = await load_pressed(update, context, me, press)
    if appeal is None:
        return
    found = await _open_question(update, context, me, appeal, press.arg, "asked_at")
    if found is None:
        return
    prompt, canned, index = found
    services = context.services
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    await update.callback_query.answer()
    await retire_buttons(update, prompt.data.shown_at)  # a reply picked before: this one replaces it
    key = "canned.shown_resolve" if prompt.verb is PromptKind.RESOLVE else "canned.shown"
    rows = [
        [
            button(t("canned.button_send"), callbacks.appeal(appeal.id, AppealVerb.CANNED_SEND, str(canned.id))),
            button(t("button.cancel"), callbacks.appeal(appeal.id, AppealVerb.CANCEL)),
        ]
    ]
    shown_at = await reply(update, t(key, index=index, text=canned.text), reply_markup=inline(rows))
    updated = Prompt(prompt.verb, appeal.id, prompt.data.model_copy(update={"shown_at": shown_at}))
    await services.storage.dialogs.set_prompt(me.person.telegram_id, updated, services.clock())


async def on_send(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Send as is: the canned reply goes on exactly as if the worker had typed it."""
    appeal = await load_pressed(update, context, me, press)
    if appeal is None:
        return
    found = await _open_question(update, context, me, appeal, press.arg, "shown_at")
    if found is None:
        return
    prompt, canned, _ = found
    await update.callback_query.answer()
    await drop_keyboard(update)
    await take_text(_as_typed(update), context, me, prompt, canned.text, [])


def _as_typed(update: Update) -> Update:
    """The press as a message in the same chat, so the reply goes the way typed text goes (its refusals
    are messages, as a typed text's are; the press itself is already answered)."""
    typed = Update(update.update_id, message=update.callback_query.message)
    typed.set_bot(update.get_bot())
    return typed


def canned_handlers() -> list[BaseHandler]:
    """/replies (its buttons are routed by handlers/presses.py)."""
    return [CommandHandler("replies", replies_command, filters=filters.ChatType.PRIVATE)]
