"""What a person hears about, and how outreach messages look when the outbox sends them.

A person hears about nothing until they say yes once: they are asked after their first appeal closes
(the migration "outreach" queues the question), and can choose in Settings at any time. Under every
outreach message, "Stop these messages" turns its topic off with one tap.

Other features send to an audience through `storage.outreach.broadcast(kind=...)` and register how a
message of that kind looks (`register_renderer`); a notice's button opens an activity or a survey
through the handler that feature registers for its LinkVerb (`register_link`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram.ext import BaseHandler

from handlers import callbacks
from handlers.callbacks import Family, LinkVerb, OutreachVerb, Press
from handlers.common import Who, command_and_button, drop_pressed_button, edit_or_reply, main_menu, refuse, reply, who
from handlers.evidence import Part
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.services import BotContext, Services
from storage.models import OutboxMessage, Person
from storage.outreach import ASK_TEMPLATE, NOTICE_KIND, TEMPLATE_PREFIX, TOPICS


@dataclass(frozen=True)
class OutreachMessage:
    """An outreach message as a person sees it: its words, an optional photo, and buttons above "Stop"."""

    text: str
    photo: str | None = None
    rows: list[list[Button]] = field(default_factory=list)


# How a message of each kind looks, given its outbox params ("ref", "topic" and the sender's own) and the
# reader's language; None when what it is about no longer exists (the row is then given up).
Renderer = Callable[[Services, dict[str, Any], str], Awaitable[OutreachMessage | None]]
PressHandler = Callable[[Update, BotContext, Who, Press], Awaitable[None]]

_RENDERERS: dict[str, Renderer] = {}
_LINKS: dict[LinkVerb, PressHandler] = {}


def register_renderer(kind: str, renderer: Renderer) -> None:
    """Say how outreach messages of `kind` (as given to `broadcast`) look."""
    _RENDERERS[kind] = renderer


def register_link(verb: LinkVerb, handler: PressHandler) -> None:
    """Say what a notice's button to an activity or a survey does (`ol:<verb>:<id>`; press.arg is the id)."""
    _LINKS[verb] = handler


async def rendered(services: Services, kind: str, params: dict[str, Any], lang: str) -> OutreachMessage | None:
    """An outreach message of `kind` as its registered renderer draws it (a coordinator's preview too)."""
    renderer = _RENDERERS.get(kind)
    return await renderer(services, params, lang) if renderer is not None else None


def link_button(services: Services, lang: str, kind: str, ref: str) -> Button:
    """A button to an activity or a survey by id, in the generic family later features answer."""
    verb = LinkVerb.ACTIVITY if kind == "activity" else LinkVerb.SURVEY
    return button(services.text(lang, f"outreach.link_{kind}"), callbacks.encode(Family.LINK, verb, ref))


def stop_button(services: Services, lang: str, topic: str) -> Button:
    """The one tap under an outreach message that stops its topic."""
    return button(services.text(lang, "outreach.stop"), callbacks.encode(Family.OUTREACH, OutreachVerb.STOP, topic))


def markup_for(services: Services, lang: str, message: OutreachMessage, topic: str) -> Keyboard:
    """An outreach message's buttons: its own, then Stop these messages."""
    return inline([*message.rows, [stop_button(services, lang, topic)]])


async def render_notice(services: Services, params: dict[str, Any], lang: str) -> OutreachMessage | None:
    """A coordinator's notice as couriers see it."""
    notice = await services.storage.outreach.notice(int(params["ref"]))
    if notice is None:
        return None
    return notice_message(services, lang, notice.text, notice.photo, notice.link_kind, notice.link_ref)


def notice_message(
    services: Services, lang: str, text: str, photo: str | None, link_kind: str | None, link_ref: str | None
) -> OutreachMessage:
    """A notice's message from its parts (the preview and the delivery draw it alike)."""
    rows = [[link_button(services, lang, link_kind, link_ref)]] if link_kind and link_ref else []
    return OutreachMessage(services.text(lang, "outreach.notice_head", text=text), photo, rows)


register_renderer(NOTICE_KIND, render_notice)


async def outreach_parts(
    bot: Bot, services: Services, message: OutboxMessage, person: Person | None
) -> list[Part] | None:
    """The Telegram call that sends one outreach row (bot/outbox_sender.py); None if its subject is gone."""
    lang = services.catalog.language_for(person.language if person else None, None)
    chat = message.chat_id
    if message.template == ASK_TEMPLATE:
        if any((await services.storage.outreach.choices(chat) or {}).values()):
            return None  # they said yes in Settings meanwhile: nothing left to ask
        text, markup = services.text(lang, "outreach.ask"), ask_markup(services, lang)
        return [lambda: bot.send_text(chat, text, markup)]
    params = json.loads(message.params)
    shown = await rendered(services, message.template.removeprefix(TEMPLATE_PREFIX), params, lang)
    if shown is None:
        return None
    # A message under a topic has "Stop" under it; one the person asked for (their own wish's news) has none.
    topic = params.get("topic")
    markup = markup_for(services, lang, shown, topic) if topic else (inline(shown.rows) if shown.rows else None)

    async def send() -> None:
        if shown.photo:
            await bot.send_photo(chat, shown.photo, caption=shown.text, reply_markup=markup)
        else:
            await bot.send_text(chat, shown.text, markup)

    return [send]


def ask_markup(services: Services, lang: str) -> Keyboard:
    """Yes to everything, choose in Settings, or no."""
    data = lambda verb: callbacks.encode(Family.OUTREACH, verb)  # noqa: E731
    return inline(
        [
            [button(services.text(lang, "outreach.yes_all"), data(OutreachVerb.YES))],
            [
                button(services.text(lang, "outreach.choose"), data(OutreachVerb.SETTINGS)),
                button(services.text(lang, "outreach.no_thanks"), data(OutreachVerb.NO)),
            ],
        ]
    )


async def _settings_view(services: Services, me: Who) -> tuple[str, Keyboard]:
    choices = await services.storage.outreach.choices(me.person.telegram_id) or dict.fromkeys(TOPICS, False)
    t = lambda key, **values: services.text(me.lang, key, **values)  # noqa: E731
    lines = [t("outreach.settings_title"), *_choice_lines(services, me.lang, choices)]
    rows = []
    for topic in TOPICS:
        mark = "✅" if choices[topic] else "⬜"
        rows.append(
            [
                button(
                    f"{mark} {t(f'outreach.topic_{topic}')}",
                    callbacks.encode(Family.OUTREACH, OutreachVerb.TOGGLE, topic),
                )
            ]
        )
    lines.append(services.with_quiet(me.lang, t("outreach.settings_hint")))
    rows.append([button(t("outreach.done"), callbacks.encode(Family.OUTREACH, OutreachVerb.CLOSE))])
    return "\n".join(lines), inline(rows)


def _choice_lines(services: Services, lang: str, choices: dict[str, bool]) -> list[str]:
    """Each topic with whether the person hears about it (the Settings view's summary)."""
    return [f"{'✅' if choices[topic] else '⬜'} {services.text(lang, f'outreach.topic_{topic}')}" for topic in TOPICS]


async def show_settings(update: Update, context: BotContext) -> None:
    """/settings and the menu's Settings: what this person hears about, each a toggle."""
    me = await who(update, context)
    text, markup = await _settings_view(context.services, me)
    await reply(update, text, markup)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """The person's own choices: yes to all, no, Settings and its toggles, Stop under a message."""
    services, query = context.services, update.callback_query
    outreach, now, person = services.storage.outreach, services.clock(), me.person.telegram_id
    verb = press.verb
    if verb in (OutreachVerb.TOGGLE, OutreachVerb.STOP) and press.arg not in TOPICS:
        await refuse(update, context, me.lang, "press.invalid")
        return
    if verb is OutreachVerb.YES:
        await outreach.choose(person, TOPICS, True, now)
        await query.answer()
        await edit_or_reply(update, services.text(me.lang, "outreach.yes_done"))
    elif verb is OutreachVerb.NO:
        await outreach.choose(person, (), False, now)
        await query.answer()
        await edit_or_reply(update, services.text(me.lang, "outreach.no_done"))
    elif verb is OutreachVerb.SETTINGS:
        await query.answer()
        await outreach.choose(person, (), False, now)  # asked: the question is not put again
        text, markup = await _settings_view(services, me)
        await edit_or_reply(update, text, markup)
    elif verb is OutreachVerb.TOGGLE:
        choices = await outreach.choices(person) or dict.fromkeys(TOPICS, False)
        await outreach.choose(person, (press.arg,), not choices[press.arg], now)
        await query.answer()
        text, markup = await _settings_view(services, me)
        await edit_or_reply(update, text, markup)
    elif verb is OutreachVerb.STOP:
        await outreach.choose(person, (press.arg,), False, now)
        topic = services.text(me.lang, f"outreach.topic_{press.arg}")
        await query.answer(services.text(me.lang, "outreach.stopped", topic=topic))
        await drop_pressed_button(update)  # done: the message's other buttons stay
    else:  # CLOSE: the choices stay in view, under the word that they are saved
        await query.answer()
        choices = await outreach.choices(person) or dict.fromkeys(TOPICS, False)
        summary = "\n".join([services.text(me.lang, "outreach.saved"), *_choice_lines(services, me.lang, choices)])
        await edit_or_reply(update, summary)
        await reply(update, services.text(me.lang, "start.menu_hint"), reply_markup=await main_menu(services, me))


async def on_link(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A notice's button: the feature's own handler, or "not available yet" until one is registered."""
    handler = _LINKS.get(press.verb)  # type: ignore[call-overload]
    if handler is None or not press.arg.isdigit():
        await update.callback_query.answer(context.services.text(me.lang, "outreach.link_unavailable"))
        return
    await handler(update, context, me, press)


def settings_handlers(labels: set[str]) -> list[BaseHandler]:
    """/settings and the menu's Settings button."""
    return command_and_button("settings", show_settings, labels)
