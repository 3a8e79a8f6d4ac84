"""A unit's shared desk (工作群): a Telegram group a coordinator links to a unit, where the unit's cards go.

/link_unit in the group (a coordinator, read from the database) binds it; /unlink_unit undoes it after
a confirmation. While it is linked, every notice for the unit's staff goes to the group as one card
per appeal (storage.appeals.audience_ids), in a topic of its own when the group has topics, named by
number and state and renamed as the state changes. Any of the unit's workers presses its buttons: the
press is authorized by the presser's own row (role and unit), never by being in the group, and the
ledger names the presser. The group never sees the courier's phone (Open privately sends it to the
presser's own chat). A group that stops taking the cards is noticed by the sender (bot/outbox_sender.py)
or by Telegram's my_chat_member update; storage/desks.py then sends everything to each worker again.
"""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, ChatMemberHandler, CommandHandler

from handlers import callbacks
from handlers.callbacks import DeskVerb, Family, Press
from handlers.cards import state_line
from handlers.common import Who, coordinator_press, edit_or_reply, who
from handlers.keyboards import Keyboard, button, inline
from handlers.quiet_bot import QuietBot
from handlers.services import BotContext, Services
from handlers.telegram_text import shorten
from storage.desks import Desk
from storage.models import Appeal, Person, Unit

# Telegram's limit for a topic's name.
TOPIC_NAME = 128


def desk_language(services: Services, desk: Desk) -> str:
    """The language the group is written to in (the linking coordinator's)."""
    return services.catalog.language_for(desk.language, None)


def topic_name(services: Services, appeal: Appeal, lang: str) -> str:
    """An appeal's topic name: its number and state, "#123 待签收"."""
    name = services.text(lang, "desk.topic_name", number=appeal.id, state=state_line(services, appeal, lang))
    return shorten(name, TOPIC_NAME)


async def desk_thread(
    bot: QuietBot, services: Services, chat_id: int, appeal_id: int | None, person: Person | None
) -> int | None:
    """The topic an appeal's messages go to in a unit's group (made the first time), or None where the
    group has no topics."""
    if appeal_id is None:
        return None
    desks = services.storage.desks
    desk = await desks.by_chat(chat_id)
    if desk is None or not desk.topics:
        return None
    found = await desks.topic(chat_id, appeal_id)
    if found is not None:
        return found[0]
    appeal = await services.storage.appeals.get(appeal_id)
    if appeal is None:
        return None
    name = topic_name(services, appeal, desk_language(services, desk))
    topic = await bot.create_forum_topic(chat_id, name)
    await desks.keep_topic(chat_id, appeal_id, topic.message_thread_id, name)
    return topic.message_thread_id


async def retitle(bot: QuietBot, services: Services, chat_id: int, appeal_id: int, thread_id: int, name: str) -> None:
    """Rename an appeal's topic if the state it names has changed."""
    desk = await services.storage.desks.by_chat(chat_id)
    appeal = await services.storage.appeals.get(appeal_id)
    if desk is None or appeal is None:
        return
    new = topic_name(services, appeal, desk_language(services, desk))
    if new == name:
        return
    await bot.edit_forum_topic(chat_id, thread_id, name=new)
    await services.storage.desks.keep_topic(chat_id, appeal_id, thread_id, new)


def topic_gone(error: BadRequest | Forbidden) -> bool:
    """Whether Telegram refused because the appeal's topic was deleted."""
    text = error.message.lower()
    return any(sign in text for sign in ("thread not found", "topic_deleted", "topic_id_invalid"))


def failure_reason(error: BadRequest | Forbidden) -> str:
    """Why a group stopped taking cards, as storage/desks.py records it."""
    if isinstance(error, Forbidden):
        return "removed"
    if topic_gone(error):
        return "topic_deleted"
    # Telegram's words when the bot may not open or edit topics there (not an admin who manages topics).
    return "no_rights" if "not enough rights" in error.message.lower() else "refused"


# ---------------------------------------------------------------------------- presses on the group's cards


async def may_press(update: Update, context: BotContext, press: Press | None) -> bool:
    """Whether a press in a group may go on: in a unit's group, only that unit's workers (and coordinators),
    by their own rows in the database; anyone else gets a toast, and nothing of theirs is stored."""
    chat, user = update.effective_chat, update.effective_user
    services = context.services
    if press is not None and press.kind is Family.DESK:
        return True  # linking and unlinking check the coordinator themselves
    desk = await services.storage.desks.by_chat(chat.id)
    if desk is None:
        return True
    person = await services.storage.people.get(user.id)
    if person is not None and (
        person.role == "coordinator" or (person.role == "staff" and person.unit_id == desk.unit_id)
    ):
        return True
    lang = services.catalog.language_for(person.language if person else None, user.language_code)
    unit = await services.storage.people.unit(desk.unit_id)
    await update.callback_query.answer(
        services.text(lang, "desk.not_worker", unit=unit.name(lang) if unit else desk.unit_id)
    )
    return False


async def cannot_reach(update: Update, context: BotContext, me: Who) -> None:
    """A press in a group that the bot answers in the presser's own chat, which they never opened: say so
    in the group (the press may have been answered already, so a toast alone could be lost)."""
    services = context.services
    text = services.text(me.lang, "desk.start_privately", name=update.effective_user.first_name)
    try:
        await update.callback_query.answer(text, show_alert=True)
    except BadRequest:
        pass  # answered already: the group message says it
    await _say(update, text)


# ---------------------------------------------------------------------------- linking


async def _say(update: Update, text: str, markup: Keyboard | None = None) -> None:
    bot: QuietBot = update.get_bot()  # type: ignore[assignment]
    await bot.send_text(update.effective_chat.id, text, markup)


def _unit_buttons(units: list[Unit], lang: str) -> Keyboard:
    return inline([[button(u.name(lang), callbacks.encode(Family.DESK, DeskVerb.LINK, u.id))] for u in units])


async def _coordinator_in_group(update: Update, context: BotContext, me: Who) -> bool:
    """Whether `me` is a coordinator (read from the database) writing in a group; if not, say what to do instead."""
    services = context.services
    private = update.effective_chat.type == update.effective_chat.PRIVATE
    if me.person.role != "coordinator":
        await _say(update, services.text(me.lang, "coord.not_coordinator" if private else "desk.not_coordinator"))
        return False
    if private:
        await _say(update, services.text(me.lang, "desk.use_in_group"))
        return False
    return True


async def link_command(update: Update, context: BotContext) -> None:
    """/link_unit UNIT_ID in a group: a coordinator makes it the unit's desk; without an id, the units as buttons."""
    services = context.services
    me = await who(update, context)
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    if not await _coordinator_in_group(update, context, me):
        return
    units = await services.storage.people.active_units()
    wanted = context.args[0] if context.args else None
    unit = next((u for u in units if u.id == wanted), None)
    if unit is None:
        key = "desk.choose_unit" if wanted is None else "desk.unknown_unit"
        await _say(update, t(key, unit=shorten(wanted or "", 40)), _unit_buttons(units, me.lang))
        return
    await _say(update, await _link(update, context, me, unit))


async def _link(update: Update, context: BotContext, me: Who, unit: Unit) -> str:
    """Link the update's group to `unit`; what the group is told."""
    services, chat = context.services, update.effective_chat
    topics = bool(chat.is_forum)
    before = await services.storage.desks.link(
        unit.id,
        chat.id,
        title=chat.title or "",
        topics=topics,
        language=me.lang,
        by=me.person.telegram_id,
        now=services.clock(),
    )
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    text = t("desk.linked", unit=unit.name(me.lang), how=t("desk.how_topics" if topics else "desk.how_plain"))
    if before is not None and before.chat_id != chat.id:
        text += "\n" + t("desk.replaced", group=before.title)
    return text


async def unlink_command(update: Update, context: BotContext) -> None:
    """/unlink_unit in a unit's group: a coordinator is asked to confirm."""
    services = context.services
    me = await who(update, context)
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    if not await _coordinator_in_group(update, context, me):
        return
    desk = await services.storage.desks.by_chat(update.effective_chat.id)
    if desk is None:
        await _say(update, t("desk.not_linked"))
        return
    unit = await services.storage.people.unit(desk.unit_id)
    name = unit.name(me.lang) if unit else desk.unit_id
    markup = inline(
        [
            [
                button(t("desk.button_unlink"), callbacks.encode(Family.DESK, DeskVerb.UNLINK)),
                button(t("desk.button_keep"), callbacks.encode(Family.DESK, DeskVerb.KEEP)),
            ]
        ]
    )
    await _say(update, t("desk.unlink_confirm", unit=name), markup)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A unit chosen to link, Unlink confirmed, or Keep: a coordinator's, read from the database."""
    if not await coordinator_press(update, context, me):
        return
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    if update.effective_chat.type == update.effective_chat.PRIVATE:
        await update.callback_query.answer(t("desk.in_group_only"))
        return
    await update.callback_query.answer()
    if press.verb is DeskVerb.LINK:
        unit = await services.storage.people.unit(press.arg)
        if unit is None or not unit.active:
            await edit_or_reply(update, t("desk.unknown_unit", unit=shorten(press.arg, 40)))
            return
        await edit_or_reply(update, await _link(update, context, me, unit))
    elif press.verb is DeskVerb.UNLINK:
        desk = await services.storage.desks.unlink(update.effective_chat.id, services.clock())
        if desk is None:
            await edit_or_reply(update, t("desk.not_linked"))
            return
        unit = await services.storage.people.unit(desk.unit_id)
        await edit_or_reply(update, t("desk.unlinked", unit=unit.name(me.lang) if unit else desk.unit_id))
    else:
        await edit_or_reply(update, t("desk.kept"))


async def on_my_member(update: Update, context: BotContext) -> None:
    """The bot left or was removed from a group: if it was a unit's desk, its workers get the cards directly again."""
    change = update.my_chat_member
    if change.new_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED):
        services = context.services
        await services.storage.desks.mark_broken(change.chat.id, "removed", services.clock())


def desk_handlers() -> list[BaseHandler]:
    """/link_unit and /unlink_unit (in a group; in a private chat, where to send them), and the bot's own
    membership changes (the buttons are routed by handlers/presses.py)."""
    return [
        CommandHandler("link_unit", link_command),
        CommandHandler("unlink_unit", unlink_command),
        ChatMemberHandler(on_my_member, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
