"""Micro-wishes (微心愿): a courier posts one, a coordinator reviews it, a unit claims and grants it, the courier
confirms receipt. Which buttons a person sees on a wish, and whether a press acts, come from domain/wishes.py's
RULES and the presser's role read from the database at each press; the courier's identity is shown to
coordinators only.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler

from domain.wishes import (
    MAX_WISH_NOTE,
    MAX_WISH_TEXT,
    RULES,
    WishRole,
    WishState,
    WishStep,
    refusal,
    roles_of,
    steps_for,
)
from domain.wishes import text_refusal as wish_text_refusal
from handlers import callbacks
from handlers.callbacks import Family, Press, WishVerb
from handlers.common import Who, command_and_button, drop_keyboard, edit_or_reply, refuse, reply, who
from handlers.keyboards import Button, button, inline, rows_of
from handlers.services import BotContext, Services
from handlers.telegram_text import said
from storage.models import Person
from storage.wishes import Refused, Wish, WishDialog

log = logging.getLogger(__name__)

# The step each step button takes.
STEP_OF = {
    WishVerb.APPROVE: WishStep.APPROVE,
    WishVerb.DECLINE: WishStep.DECLINE,
    WishVerb.CLAIM: WishStep.CLAIM,
    WishVerb.GRANT: WishStep.GRANT,
    WishVerb.COLLECT: WishStep.COLLECT,
    WishVerb.WITHDRAW: WishStep.WITHDRAW,
}
VERB_OF = {step: verb for verb, step in STEP_OF.items()}
LISTED = 10  # wishes shown in one list
# Text typed this long after the question is not taken as its answer (the person has moved on).
ANSWER_WITHIN = timedelta(hours=1)


def _data(verb: WishVerb, arg: str = "") -> str:
    return callbacks.encode(Family.WISH, verb, arg)


def _categories(context: BotContext) -> dict[str, tuple[str, str]]:
    return {c.id: (c.zh, c.en) for c in context.bot_data.config.wishes.categories}


def category_name(context: BotContext, category: str, lang: str) -> str:
    """A wish category's name in `lang` (its id if the config no longer has it)."""
    names = _categories(context).get(category)
    return category if names is None else names[0] if lang == "zh" else names[1]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _roles(me: Who, wish: Wish) -> set[WishRole]:
    p = me.person
    return roles_of(p.telegram_id, p.role, p.unit_id, wish.courier_id, wish.unit_id)


async def _unit_name(services: Services, unit_id: str | None, lang: str) -> str:
    unit = await services.storage.people.unit(unit_id) if unit_id else None
    return unit.name(lang) if unit else (unit_id or "—")


async def describe(context: BotContext, wish: Wish, lang: str, *, with_courier: bool) -> str:
    """A wish as a reader sees it: number, category, state and words; who posted it only for coordinators."""
    services = context.services
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    lines = [
        t(
            "wishes.line",
            number=wish.id,
            category=category_name(context, wish.category, lang),
            state=t(f"wishes.state_{wish.state}"),
        )
    ]
    if wish.text:
        lines.append(said(wish.text, MAX_WISH_TEXT))
    if wish.unit_id:
        lines.append(t("wishes.claimed_by", unit=await _unit_name(services, wish.unit_id, lang)))
    if wish.place:
        lines.append(t("wishes.collect_at", place=wish.place))
    if wish.reason and wish.state is WishState.DECLINED:
        lines.append(t("wishes.declined_because", reason=wish.reason))
    if with_courier and wish.courier_id is not None:
        lines.append(t("wishes.posted_by", person=wish.courier_id))
    return "\n".join(lines)


def _step_buttons(services: Services, lang: str, wish: Wish, roles: set[WishRole]) -> list[Button]:
    return [
        button(services.text(lang, f"wishes.button_{step}", number=wish.id), _data(VERB_OF[step], str(wish.id)))
        for step in steps_for(wish.state, roles)
    ]


# ---------------------------------------------------------------------------------------------- the lists


async def show(update: Update, context: BotContext) -> None:
    """/wishes and the menu's Micro-wish: what this person may do with wishes, by the role the database gives them."""
    me = await who(update, context)
    await _show(update, context, me)


async def _show(update: Update, context: BotContext, me: Who, *, edit: bool = False) -> None:
    services = context.services
    wishes = services.storage.wishes
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    person = me.person
    parts: list[str] = []
    rows: list[list[Button]] = []
    if person.role == "coordinator":
        listed = await wishes.in_state(
            (WishState.POSTED, WishState.APPROVED, WishState.CLAIMED, WishState.GRANTED), LISTED
        )
        parts.append(t("wishes.coordinator_title") if listed else t("wishes.none_open"))
        for wish in listed:
            parts.append(await describe(context, wish, me.lang, with_courier=True))
            rows += rows_of(_step_buttons(services, me.lang, wish, _roles(me, wish)), 2)
    elif person.role == "staff" and person.unit_id is not None:
        ours = await wishes.in_state((WishState.CLAIMED,), LISTED, unit_id=person.unit_id)
        free = await wishes.in_state((WishState.APPROVED,), LISTED)
        parts.append(t("wishes.unit_title") if free or ours else t("wishes.none_to_claim"))
        for wish in [*ours, *free]:
            parts.append(await describe(context, wish, me.lang, with_courier=False))
            rows += rows_of(_step_buttons(services, me.lang, wish, _roles(me, wish)), 2)
    else:
        mine = await wishes.of_courier(person.telegram_id, LISTED)
        parts.append(t("wishes.intro"))
        for wish in mine:
            parts.append(await describe(context, wish, me.lang, with_courier=False))
            rows += rows_of(_step_buttons(services, me.lang, wish, _roles(me, wish)), 2)
        if await wishes.open_count(person.telegram_id) < wishes.max_open:
            rows.append([button(t("wishes.button_new"), _data(WishVerb.NEW))])
        else:
            parts.append(t("wishes.at_limit", limit=wishes.max_open))
    text = "\n\n".join(parts)
    markup = inline(rows) if rows else None
    if edit:
        await edit_or_reply(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


# ----------------------------------------------------------------------------------- a courier posts one


async def _ask_category(update: Update, context: BotContext, me: Who) -> None:
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    choices = [button(category_name(context, c, me.lang), _data(WishVerb.CATEGORY, c)) for c in _categories(context)]
    rows = [*rows_of(choices, 2), [button(t("button.cancel"), _data(WishVerb.CANCEL))]]
    await edit_or_reply(update, t("wishes.ask_category"), inline(rows))


async def _ask_text(update: Update, context: BotContext, me: Who, category: str) -> None:
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    await services.storage.wishes.set_dialog(
        me.person.telegram_id, WishDialog("text", {"category": category}), services.clock()
    )
    await services.storage.dialogs.clear_prompt(me.person.telegram_id)  # the wish's question is the newer one
    rows = [[button(t("button.back"), _data(WishVerb.BACK)), button(t("button.cancel"), _data(WishVerb.CANCEL))]]
    await edit_or_reply(
        update,
        t("wishes.ask_text", category=category_name(context, category, me.lang), limit=MAX_WISH_TEXT),
        inline(rows),
    )


async def _courier_may_post(update: Update, context: BotContext, me: Who) -> bool:
    wishes = context.services.storage.wishes
    if me.person.role != "courier":
        await refuse(update, context, me.lang, "wishes.couriers_only")
        return False
    if await wishes.open_count(me.person.telegram_id) >= wishes.max_open:
        await refuse(update, context, me.lang, "wishes.at_limit", limit=wishes.max_open)
        return False
    return True


async def typed(update: Update, context: BotContext, me: Who, text: str) -> bool:
    """Text typed while the bot waits for a wish's words, a decline's reason or a grant's place; False: none awaited."""
    services = context.services
    wishes = services.storage.wishes
    dialog = await wishes.dialog(me.person.telegram_id)
    if dialog is None:
        return False
    if dialog.at is not None and services.clock() - dialog.at > ANSWER_WITHIN:
        await wishes.drop_dialog(me.person.telegram_id)
        return False
    if dialog.step == "review":  # typed again instead of Confirm: the new words replace the shown ones
        dialog = WishDialog("text", {"category": dialog.data["category"]})
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    text = " ".join(text.split()) if dialog.step == "text" else text.strip()
    limit = MAX_WISH_TEXT if dialog.step == "text" else MAX_WISH_NOTE
    why = wish_text_refusal(text, limit)
    if why is not None and (dialog.step == "text" or why.value in ("empty", "too_long")):
        await reply(update, t(f"wishes.refused_{why}", limit=limit, length=len(text)))
        return True
    cancel = button(t("button.cancel"), _data(WishVerb.CANCEL))
    confirm = button(t("button.confirm"), _data(WishVerb.CONFIRM, _digest(text)))
    if dialog.step == "text":
        category = dialog.data["category"]
        await wishes.set_dialog(
            me.person.telegram_id,
            WishDialog("review", {"category": category, "text": text}),
            services.clock(),
        )
        shown = t("wishes.review", category=category_name(context, category, me.lang), text=said(text, MAX_WISH_TEXT))
        await reply(
            update, shown, reply_markup=inline([[confirm], [button(t("button.back"), _data(WishVerb.BACK)), cancel]])
        )
        return True
    # A decline's reason or a grant's place: shown back, then Confirm acts.
    data = {**dialog.data, "text": text}
    await wishes.set_dialog(me.person.telegram_id, WishDialog(dialog.step, data), services.clock())
    shown = t(f"wishes.review_{dialog.step}", number=data["wish"], text=said(text, MAX_WISH_NOTE))
    await reply(update, shown, reply_markup=inline([[confirm, cancel]]))
    return True


# ----------------------------------------------------------------------------------------------- presses


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Any micro-wish button; the presser's role is the database's, read for this press."""
    services = context.services
    query = update.callback_query
    wishes = services.storage.wishes
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    verb = press.verb
    if verb is WishVerb.NEW:
        if await _courier_may_post(update, context, me):
            await query.answer()
            await _ask_category(update, context, me)
    elif verb is WishVerb.CATEGORY:
        if press.arg not in _categories(context):
            await refuse(update, context, me.lang, "press.invalid")
        elif await _courier_may_post(update, context, me):
            await query.answer()
            await _ask_text(update, context, me, press.arg)
    elif verb is WishVerb.BACK:
        dialog = await wishes.dialog(me.person.telegram_id)
        if dialog is None or dialog.step not in ("text", "review"):
            await refuse(update, context, me.lang, "wishes.stale")
            await drop_keyboard(update)
        elif dialog.step == "review":
            await query.answer()
            await drop_keyboard(update)
            await _ask_text(update, context, me, dialog.data["category"])
        else:
            await query.answer()
            await wishes.drop_dialog(me.person.telegram_id)
            await _ask_category(update, context, me)
    elif verb is WishVerb.CANCEL:
        await wishes.drop_dialog(me.person.telegram_id)
        await query.answer()
        await edit_or_reply(update, t("wishes.cancelled"))
    elif verb is WishVerb.CONFIRM:
        await _on_confirm(update, context, me, press.arg)
    else:
        await _on_step(update, context, me, STEP_OF[verb], press.arg)


async def _on_confirm(update: Update, context: BotContext, me: Who, digest: str) -> None:
    services = context.services
    wishes = services.storage.wishes
    query = update.callback_query
    dialog = await wishes.dialog(me.person.telegram_id)
    text = dialog.data.get("text") if dialog is not None else None
    if dialog is None or text is None or _digest(text) != digest:
        await query.answer(services.text(me.lang, "wishes.stale"), show_alert=True)
        await drop_keyboard(update)
        return
    await wishes.drop_dialog(me.person.telegram_id)
    if dialog.step == "review":
        if not await _courier_may_post(update, context, me):
            await drop_keyboard(update)
            return
        posted = await wishes.post(
            me.person, category=dialog.data["category"], text=text, language=me.lang, now=services.clock()
        )
        if isinstance(posted, Refused):
            await refuse(update, context, me.lang, "wishes.at_limit", limit=wishes.max_open)
            return
        await query.answer()
        await edit_or_reply(update, services.text(me.lang, "wishes.posted", number=posted.wish.id))
        await _tell_coordinators(context, posted.wish)
        return
    await _take(update, context, me, WishStep(dialog.step), int(dialog.data["wish"]), text)


async def _on_step(update: Update, context: BotContext, me: Who, step: WishStep, arg: str) -> None:
    services = context.services
    if not arg.isdecimal() or len(arg) > 12:
        await refuse(update, context, me.lang, "press.invalid")
        return
    wish = await services.storage.wishes.get(int(arg))
    if wish is None:
        await refuse(update, context, me.lang, "press.invalid")
        return
    why = refusal(step, wish.state, _roles(me, wish))
    if why is not None:
        await refuse(update, context, me.lang, f"wishes.refused_step_{why}", number=wish.id)
        return
    if RULES[step].needs_text:
        await services.storage.wishes.set_dialog(
            me.person.telegram_id, WishDialog(step.value, {"wish": wish.id}), services.clock()
        )
        await services.storage.dialogs.clear_prompt(me.person.telegram_id)  # the wish's question is the newer one
        await update.callback_query.answer()
        cancel = button(services.text(me.lang, "button.cancel"), _data(WishVerb.CANCEL))
        await reply(
            update,
            services.text(me.lang, f"wishes.ask_{step}", number=wish.id, limit=MAX_WISH_NOTE),
            reply_markup=inline([[cancel]]),
        )
        return
    await _take(update, context, me, step, wish.id, None)


async def _take(update: Update, context: BotContext, me: Who, step: WishStep, wish_id: int, note: str | None) -> None:
    """Take the step in storage (which judges it again, in its transaction), then tell who must know."""
    services = context.services
    result = await services.storage.wishes.take(wish_id, step, me.person, now=services.clock(), note=note)
    if isinstance(result, Refused):
        why = result.why if result.why in ("state", "role") else "state"
        await refuse(update, context, me.lang, f"wishes.refused_step_{why}", number=wish_id)
        await drop_keyboard(update)
        return
    wish = result.wish
    await update.callback_query.answer()
    await drop_keyboard(update)
    await reply(update, services.text(me.lang, f"wishes.done_{step}", number=wish.id))
    await _tell_courier(context, wish, step)
    if step is WishStep.COLLECT:
        await _tell_claimer(context, wish)


# ----------------------------------------------------------------------------------------------- notices


async def _send(context: BotContext, chat_id: int, text: str, markup=None) -> None:
    """Tell one person directly; one who blocked the bot, or a chat gone, is skipped."""
    try:
        await context.bot.send_text(chat_id, text, markup)
    except (Forbidden, BadRequest) as error:
        log.info("a wish notice was not delivered: %s", type(error).__name__)


async def _lang_of(context: BotContext, person: Person | None) -> str:
    return context.services.catalog.language_for(person.language if person else None, None)


async def _tell_coordinators(context: BotContext, wish: Wish) -> None:
    services = context.services
    for person in await services.storage.people.staff_and_coordinators():
        if person.role != "coordinator":
            continue
        lang = await _lang_of(context, person)
        text = (
            services.text(lang, "wishes.notice_posted")
            + "\n\n"
            + await describe(context, wish, lang, with_courier=True)
        )
        roles = roles_of(person.telegram_id, person.role, person.unit_id, wish.courier_id, wish.unit_id)
        await _send(context, person.telegram_id, text, inline([_step_buttons(services, lang, wish, roles)]))


async def _tell_courier(context: BotContext, wish: Wish, step: WishStep) -> None:
    """The courier hears each step on their wish, in their language; a granted one has its Received button."""
    services = context.services
    if wish.courier_id is None or step in (WishStep.COLLECT, WishStep.WITHDRAW):  # they took it themselves
        return
    person = await services.storage.people.get(wish.courier_id)
    lang = await _lang_of(context, person)
    text = services.text(
        lang,
        f"wishes.notice_{step}",
        number=wish.id,
        category=category_name(context, wish.category, lang),
        unit=await _unit_name(services, wish.unit_id, lang),
        place=wish.place or "",
        reason=wish.reason or "",
    )
    markup = None
    if step is WishStep.GRANT:
        received = button(
            services.text(lang, "wishes.button_collect", number=wish.id), _data(WishVerb.COLLECT, str(wish.id))
        )
        markup = inline([[received]])
    await _send(context, wish.courier_id, text, markup)


async def _tell_claimer(context: BotContext, wish: Wish) -> None:
    """The unit that granted a wish hears that the courier has it."""
    services = context.services
    for person in await services.storage.people.staff_and_coordinators():
        if person.role == "staff" and person.unit_id == wish.unit_id:
            lang = await _lang_of(context, person)
            await _send(context, person.telegram_id, services.text(lang, "wishes.notice_collect", number=wish.id))


def wish_handlers(labels: set[str]) -> list[BaseHandler]:
    """/wishes and the menu's Micro-wish button (its inline buttons are routed by handlers/presses.py)."""
    return command_and_button("wishes", show, labels)
