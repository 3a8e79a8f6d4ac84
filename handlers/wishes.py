"""Micro-wishes (微心愿): a courier posts one, a coordinator reviews it, a unit claims and grants it, the courier
confirms receipt. Which buttons a person sees on a wish, and whether a press acts, come from domain/wishes.py's
RULES and the presser's role read from the database at each press; the courier is never named to anyone: a
coordinator reads only where they last filed an appeal.

Each step's notices are outbox rows written with the step (storage/wishes.py) and drawn here at delivery, in
the reader's language: the courier's as outreach (`render_courier_notice`), staff's as appeals' notices are
(`render_staff_notice`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from telegram import Message, Update
from telegram.error import BadRequest
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
from handlers.common import (
    Who,
    command_and_button,
    drop_keyboard,
    edit_or_reply,
    refuse,
    reply,
    reply_chat,
    retire_buttons,
    who,
)
from handlers.keyboards import Button, Keyboard, button, inline, rows_of
from handlers.outreach import OutreachMessage, register_renderer
from handlers.services import BotContext, Services
from handlers.telegram_text import quoted, said
from storage.models import OutboxMessage, Person
from storage.wishes import COURIER_KIND, STAFF_NOTICES, Refused, Wish, WishDialog

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
# Steps whose "done" says the courier will be told: their news goes paced, outside quiet hours.
COURIER_TOLD_LATER = {WishStep.DECLINE, WishStep.GRANT}
# After a step button's wish number when the button sits on a /wishes list: the list is drawn again after the step.
ON_LIST = ".l"
# Text typed this long after the question is not taken as its answer (the person has moved on).
ANSWER_WITHIN = timedelta(hours=1)


def _data(verb: WishVerb, arg: str = "") -> str:
    return callbacks.encode(Family.WISH, verb, arg)


def category_name(services: Services, category: str, lang: str) -> str:
    """A wish category's name in `lang` (its id if the config no longer has it)."""
    names = services.wish_categories.get(category)
    return category if names is None else names[0] if lang == "zh" else names[1]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _roles(me: Who, wish: Wish) -> set[WishRole]:
    p = me.person
    return roles_of(p.telegram_id, p.role, p.unit_id, wish.courier_id, wish.unit_id)


async def _unit_name(services: Services, unit_id: str | None, lang: str) -> str:
    unit = await services.storage.people.unit(unit_id) if unit_id else None
    return unit.name(lang) if unit else (unit_id or "—")


async def _poster(services: Services, wish: Wish, lang: str) -> str:
    """Who posted a wish, for a coordinator: a courier, and where they last filed an appeal (never a name,
    an id or a phone)."""
    if wish.courier_id is None:
        return services.text(lang, "wishpeople.gone")
    station_id = await services.storage.wishes.poster_station(wish.courier_id)
    station = await services.storage.stations.get(station_id) if station_id else None
    if station is None:
        return services.text(lang, "wishpeople.new")
    return services.text(lang, "wishpeople.station", station=station.name_for(lang))


async def describe(services: Services, wish: Wish, lang: str, *, with_courier: bool) -> str:
    """A wish as a reader sees it: number, category, state and words; who posted it only for coordinators."""
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    lines = [
        t(
            "wishes.line",
            number=wish.id,
            category=category_name(services, wish.category, lang),
            state=t(f"wishes.state_{wish.state}"),
        )
    ]
    if wish.text:
        lines.append(quoted(wish.text, MAX_WISH_TEXT))
    if wish.unit_id:
        lines.append(t("wishes.claimed_by", unit=await _unit_name(services, wish.unit_id, lang)))
    if wish.place:
        lines.append(t("wishes.collect_at", place=said(wish.place, MAX_WISH_NOTE)))
    if wish.reason and wish.state is WishState.DECLINED:
        lines.append(t("wishes.declined_because", reason=said(wish.reason, MAX_WISH_NOTE)))
    if with_courier:
        lines.append(await _poster(services, wish, lang))
    return "\n".join(lines)


def _step_buttons(
    services: Services, lang: str, wish: Wish, roles: set[WishRole], *, on_list: bool = False
) -> list[Button]:
    arg = f"{wish.id}{ON_LIST if on_list else ''}"
    return [
        button(services.text(lang, f"wishes.button_{step}", number=wish.id), _data(VERB_OF[step], arg))
        for step in steps_for(wish.state, roles)
    ]


# ---------------------------------------------------------------------------------------------- the lists


async def show(update: Update, context: BotContext) -> None:
    """/wishes and the menu's Micro-wish: what this person may do with wishes, by the role the database gives them."""
    me = await who(update, context)
    text, markup = await _list_view(context.services, me)
    await reply(update, text, reply_markup=markup)


async def _list_view(services: Services, me: Who) -> tuple[str, Keyboard | None]:
    """The /wishes list for this person, with the buttons of the steps open to them now."""
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
        with_courier = True
    elif person.role == "staff" and person.unit_id is not None:
        ours = await wishes.in_state((WishState.CLAIMED,), LISTED, unit_id=person.unit_id)
        free = await wishes.in_state((WishState.APPROVED,), LISTED)
        listed = [*ours, *free]
        parts.append(t("wishes.unit_title") if listed else t("wishes.none_to_claim"))
        with_courier = False
    else:
        listed = await wishes.of_courier(person.telegram_id, LISTED)
        parts.append(t("wishes.intro"))
        with_courier = False
    for wish in listed:
        parts.append(await describe(services, wish, me.lang, with_courier=with_courier))
        rows += rows_of(_step_buttons(services, me.lang, wish, _roles(me, wish), on_list=True), 2)
    if person.role not in ("coordinator", "staff"):
        if await wishes.open_count(person.telegram_id) < wishes.max_open:
            rows.append([button(t("wishes.button_new"), _data(WishVerb.NEW))])
        else:
            parts.append(t("wishes.at_limit", limit=wishes.max_open))
    return "\n\n".join(parts), inline(rows) if rows else None


async def _redraw_list(update: Update, context: BotContext, me: Who, message_id: int | None = None) -> None:
    """Draw a /wishes list again where it is (the pressed message, or `message_id` in this chat), with the
    buttons that still apply; a list deleted or unchanged meanwhile is left alone."""
    text, markup = await _list_view(context.services, me)
    if message_id is None:
        await edit_or_reply(update, text, markup)
        return
    try:
        await context.bot.edit_text(reply_chat(update), message_id, text, markup)
    except BadRequest:
        pass  # deleted, too old, or already showing this


# ----------------------------------------------------------------------------------- a courier posts one


async def _ask_category(update: Update, context: BotContext, me: Who, *, new: bool = False) -> None:
    """The categories to choose from: in a new message under a list (which keeps its buttons), else in place."""
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    choices = [
        button(category_name(services, c, me.lang), _data(WishVerb.CATEGORY, c)) for c in services.wish_categories
    ]
    rows = [*rows_of(choices, 2), [button(t("button.cancel"), _data(WishVerb.CANCEL))]]
    if new:
        await reply(update, t("wishes.ask_category"), inline(rows))
    else:
        await edit_or_reply(update, t("wishes.ask_category"), inline(rows))


async def _ask_text(update: Update, context: BotContext, me: Who, category: str, *, new: bool = False) -> None:
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    await services.storage.wishes.set_dialog(
        me.person.telegram_id, WishDialog("text", {"category": category}), services.clock()
    )
    await services.storage.dialogs.clear_prompt(me.person.telegram_id)  # the wish's question is the newer one
    rows = [[button(t("button.back"), _data(WishVerb.BACK)), button(t("button.cancel"), _data(WishVerb.CANCEL))]]
    text = t("wishes.ask_text", category=category_name(services, category, me.lang), limit=MAX_WISH_TEXT)
    if new:
        await reply(update, text, inline(rows))
    else:
        await edit_or_reply(update, text, inline(rows))


async def _courier_may_post(update: Update, context: BotContext, me: Who) -> bool:
    wishes = context.services.storage.wishes
    if me.person.role != "courier":
        await refuse(update, context, me.lang, "wishes.couriers_only")
        return False
    if await wishes.open_count(me.person.telegram_id) >= wishes.max_open:
        await refuse(update, context, me.lang, "wishes.at_limit", limit=wishes.max_open)
        return False
    return True


def _shown_back(services: Services, lang: str, dialog: WishDialog) -> str:
    """What a dialog showed back before Confirm: a wish's category and words, a decline's reason or a grant's place."""
    text = dialog.data["text"]
    if dialog.step == "decline":
        return services.text(lang, "wishes.declined_because", reason=said(text, MAX_WISH_NOTE))
    if dialog.step == "grant":
        return services.text(lang, "wishes.collect_at", place=said(text, MAX_WISH_NOTE))
    category = category_name(services, dialog.data["category"], lang)
    return services.text(lang, "wishpeople.draft", category=category, text=said(text, MAX_WISH_TEXT))


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
        shown = t("wishes.review", category=category_name(services, category, me.lang), text=said(text, MAX_WISH_TEXT))
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
            await _ask_category(update, context, me, new=True)
    elif verb is WishVerb.CATEGORY:
        if press.arg not in services.wish_categories:
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
            # The wish shown back keeps its words above; the question comes anew below.
            await query.answer()
            await drop_keyboard(update)
            await _ask_text(update, context, me, dialog.data["category"], new=True)
        else:
            await query.answer()
            await wishes.drop_dialog(me.person.telegram_id)
            await _ask_category(update, context, me)
    elif verb is WishVerb.CANCEL:
        dialog = await wishes.dialog(me.person.telegram_id)
        await wishes.drop_dialog(me.person.telegram_id)
        await query.answer()
        shown = t("wishes.cancelled")
        if dialog is not None and "text" in dialog.data:  # what was shown back, kept in view under the word
            shown += "\n\n" + _shown_back(services, me.lang, dialog)
        await edit_or_reply(update, shown)
        if dialog is not None and dialog.data.get("list"):
            await _redraw_list(update, context, me, int(dialog.data["list"]))
    elif verb is WishVerb.CONFIRM:
        await _on_confirm(update, context, me, press.arg)
    elif verb is WishVerb.WITHDRAW_CONFIRMED:
        await _on_step(update, context, me, WishStep.WITHDRAW, press.arg, confirmed=True)
    elif verb is WishVerb.KEEP:
        await query.answer()
        if press.arg == ON_LIST:
            await _redraw_list(update, context, me)
        else:
            await edit_or_reply(update, t("wishes2.kept"))
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
        # The wish stays in view under the news that it is posted.
        shown = services.text(me.lang, "wishes.posted", number=posted.wish.id)
        await edit_or_reply(update, shown + "\n\n" + await describe(services, posted.wish, me.lang, with_courier=False))
        return
    listed = dialog.data.get("list")
    await retire_buttons(update, dialog.data.get("ask"))  # the question's Cancel: nothing is left to cancel
    await _take(update, context, me, WishStep(dialog.step), int(dialog.data["wish"]), text)
    if listed:
        await _redraw_list(update, context, me, int(listed))


async def _on_step(
    update: Update, context: BotContext, me: Who, step: WishStep, arg: str, *, confirmed: bool = False
) -> None:
    services = context.services
    number, on_list = arg.removesuffix(ON_LIST), arg.endswith(ON_LIST)
    if not number.isdecimal() or len(number) > 12:
        await refuse(update, context, me.lang, "press.invalid")
        return
    wish = await services.storage.wishes.get(int(number))
    if wish is None:
        await refuse(update, context, me.lang, "press.invalid")
        return
    why = refusal(step, wish.state, _roles(me, wish))
    if why is not None:
        await _refused(update, context, me, why, wish.id, on_list)
        return
    if step is WishStep.WITHDRAW and not confirmed:
        await _ask_withdraw(update, context, me, wish, on_list)
        return
    if RULES[step].needs_text:
        data: dict[str, object] = {"wish": wish.id}
        message = update.callback_query.message
        if on_list and isinstance(message, Message):
            data["list"] = message.message_id  # drawn again once the step is taken, or cancelled
        await services.storage.dialogs.clear_prompt(me.person.telegram_id)  # the wish's question is the newer one
        await update.callback_query.answer()
        cancel = button(services.text(me.lang, "button.cancel"), _data(WishVerb.CANCEL))
        data["ask"] = await reply(
            update,
            services.text(me.lang, f"wishes.ask_{step}", number=wish.id, limit=MAX_WISH_NOTE),
            reply_markup=inline([[cancel]]),
        )  # its Cancel is taken away once the step is confirmed
        await services.storage.wishes.set_dialog(me.person.telegram_id, WishDialog(step.value, data), services.clock())
        return
    await _take(update, context, me, step, wish.id, None, on_list=on_list)


async def _ask_withdraw(update: Update, context: BotContext, me: Who, wish: Wish, on_list: bool) -> None:
    """Withdrawing is final, so it is asked first: on a list, in the list's place (which comes back either
    way); under a notice, in a message of its own, so the notice keeps its words."""
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    marker = ON_LIST if on_list else ""
    rows = [
        [
            button(t("wishes2.button_withdraw_confirm"), _data(WishVerb.WITHDRAW_CONFIRMED, f"{wish.id}{marker}")),
            button(t("wishes2.button_keep"), _data(WishVerb.KEEP, marker)),
        ]
    ]
    question = (
        t("wishes2.withdraw_confirm", number=wish.id)
        + "\n\n"
        + await describe(services, wish, me.lang, with_courier=False)
    )
    await update.callback_query.answer()
    if on_list:
        await edit_or_reply(update, question, inline(rows))
    else:
        await reply(update, question, reply_markup=inline(rows))


async def _refused(update: Update, context: BotContext, me: Who, why: str, number: int, on_list: bool) -> None:
    """Say why a step was refused; a list is drawn again as things now stand, a notice's buttons that can no
    longer act are taken away."""
    await refuse(update, context, me.lang, f"wishes.refused_step_{why}", number=number)
    if on_list:
        await _redraw_list(update, context, me)
    elif why == "state":  # the notice shows what became of the wish (withdrawn, say), without its buttons
        wish = await context.services.storage.wishes.get(number)
        if wish is None:
            await drop_keyboard(update)
        else:
            await _show_as_now(update, context.services, me, wish)


async def _take(
    update: Update,
    context: BotContext,
    me: Who,
    step: WishStep,
    wish_id: int,
    note: str | None,
    *,
    on_list: bool = False,
) -> None:
    """Take the step in storage (which judges it again, in its transaction and queues who must know), then say so:
    a list is drawn again with the buttons left on it; a notice or a text shown back keeps its words."""
    services = context.services
    result = await services.storage.wishes.take(wish_id, step, me.person, now=services.clock(), note=note)
    if isinstance(result, Refused):
        why = result.why if result.why in ("state", "role") else "state"
        await refuse(update, context, me.lang, f"wishes.refused_step_{why}", number=wish_id)
        if on_list:
            await _redraw_list(update, context, me)
        else:
            await drop_keyboard(update)
        return
    await update.callback_query.answer()
    if on_list:
        await _redraw_list(update, context, me)
    else:
        await _show_as_now(update, services, me, result.wish)
    done = services.text(me.lang, f"wishes.done_{step}", number=result.wish.id)
    if step in COURIER_TOLD_LATER:  # the courier's news is outreach: it waits out quiet hours
        done = services.with_quiet(me.lang, done)
    await reply(update, done)


async def _show_as_now(update: Update, services: Services, me: Who, wish: Wish) -> None:
    """A notice whose step was taken: its first line kept, the wish below it as it stands now, no buttons
    (a notice saying "waiting for review" after the review would mislead whoever reads it later)."""
    message = update.callback_query.message
    if not isinstance(message, Message) or not message.text:
        await drop_keyboard(update)
        return
    head = message.text.split("\n\n", 1)[0]
    coordinator = me.person.role == "coordinator"
    await edit_or_reply(update, head + "\n\n" + await describe(services, wish, me.lang, with_courier=coordinator))


# ----------------------------------------------------------------------------------------------- notices


async def render_staff_notice(
    services: Services, message: OutboxMessage, person: Person | None, lang: str
) -> tuple[str, Keyboard | None] | None:
    """A wish's notice to a coordinator or a unit's worker, as the wish stands at delivery, with the buttons
    their role gives them now; None when the wish is gone, or withdrawn before its review."""
    wish = await services.storage.wishes.get(int(json.loads(message.params).get("wish", 0)))
    if wish is None or (message.template == f"{STAFF_NOTICES}{WishStep.POST}" and wish.state is WishState.WITHDRAWN):
        return None
    coordinator = person is not None and person.role == "coordinator"
    text = services.text(lang, message.template, number=wish.id)
    text += "\n\n" + await describe(services, wish, lang, with_courier=coordinator)
    if person is None:
        return text, None
    roles = roles_of(person.telegram_id, person.role, person.unit_id, wish.courier_id, wish.unit_id)
    rows = rows_of(_step_buttons(services, lang, wish, roles), 2)
    return text, inline(rows) if rows else None


async def render_courier_notice(services: Services, params: dict[str, object], lang: str) -> OutreachMessage | None:
    """A step on a courier's own wish, told to them in their language at delivery; a granted wish has its Received
    button while it waits to be collected. None once the wish is gone or they withdrew it."""
    wish = await services.storage.wishes.get(int(str(params.get("ref", "0"))))
    if wish is None or wish.courier_id is None or wish.state is WishState.WITHDRAWN:
        return None
    step = WishStep(str(params["step"]))
    text = services.text(
        lang,
        f"wishes.notice_{step}",
        number=wish.id,
        category=category_name(services, wish.category, lang),
        unit=await _unit_name(services, wish.unit_id, lang),
        # A worker's words as they typed them, quoted under the courier's own language.
        place=said(wish.place or "", MAX_WISH_NOTE),
        reason=said(wish.reason or "", MAX_WISH_NOTE),
    )
    rows = []
    if step is WishStep.GRANT and wish.state is WishState.GRANTED:
        label = services.text(lang, "wishes.button_collect", number=wish.id)
        rows.append([button(label, _data(WishVerb.COLLECT, str(wish.id)))])
    return OutreachMessage(text, rows=rows)


register_renderer(COURIER_KIND, render_courier_notice)


def wish_handlers(labels: set[str]) -> list[BaseHandler]:
    """/wishes and the menu's Micro-wish button (its inline buttons are routed by handlers/presses.py)."""
    return command_and_button("wishes", show, labels)
