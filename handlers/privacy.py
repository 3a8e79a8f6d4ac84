"""/privacy: what the bot holds about a person, and erasing it for a courier who asks."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers import callbacks
from handlers.callbacks import Family, Press, PrivacyVerb
from handlers.common import Who, drop_keyboard, edit_or_reply, refuse, reply, who
from handlers.keyboards import button, inline
from handlers.services import BotContext
from handlers.start import LANGUAGE_NAMES
from storage.privacy import PrivacyRefused


async def show(update: Update, context: BotContext) -> None:
    """/privacy: counts of what is kept; couriers get a button to delete it."""
    me = await who(update, context)
    services = context.services
    held = await services.storage.privacy.holdings(me.person.telegram_id)
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    lines = [
        t("privacy.title"),
        t("privacy.appeals", count=held.appeals, open=held.open_appeals),
        t("privacy.texts", count=held.texts),
        t("privacy.files", count=held.files),
        t("privacy.phone_yes" if held.phone else "privacy.phone_no"),
        t("privacy.location_yes" if held.location else "privacy.location_no"),
        t("privacy.language", language=LANGUAGE_NAMES.get(held.language or "", "—")),
        _choices_line(context, me.lang, held.topics),
        t("privacy2.wishes", count=held.wishes, open=held.open_wishes),
        t("privacy3.wish_texts", count=held.wish_texts),
        t("privacy2.signups", count=held.signups),
        t("surveys.privacy_held", count=await services.storage.surveys.held(me.person.telegram_id)),
        t("privacy2.anonymous_surveys"),
        "",
        t("privacy.kept_anonymously"),
        t("privacy2.erases_outreach"),
    ]
    if me.person.role != "courier":
        lines.append(t("privacy.role_first"))
        await reply(update, "\n".join(lines))
        return
    delete = button(t("privacy.delete"), callbacks.encode(Family.PRIVACY, PrivacyVerb.ERASE))
    await reply(update, "\n".join(lines), reply_markup=inline([[delete]]))


def _choices_line(context: BotContext, lang: str, topics: tuple[str, ...]) -> str:
    """The outreach topics the person chose to hear about, by name, or that they chose none."""
    t = lambda key, **kw: context.services.text(lang, key, **kw)  # noqa: E731
    if not topics:
        return t("privacy2.choices_none")
    return t("privacy2.choices", topics=t("digest2.list_sep").join(t(f"outreach.topic_{topic}") for topic in topics))


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Delete (ask to confirm), confirm, or keep; the presser's role is read from the database each time."""
    services = context.services
    query = update.callback_query
    if me.person.role != "courier":
        await refuse(update, context, me.lang, "privacy.role_first")
        return
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    if press.verb is PrivacyVerb.NO:
        await query.answer()
        await edit_or_reply(update, t("privacy.kept"))
    elif press.verb is PrivacyVerb.ERASE:
        await query.answer()
        confirm = [
            button(t("privacy.confirm"), callbacks.encode(Family.PRIVACY, PrivacyVerb.YES)),
            button(t("button.cancel"), callbacks.encode(Family.PRIVACY, PrivacyVerb.NO)),
        ]
        await reply(update, t("privacy.are_you_sure"), reply_markup=inline([confirm]))
    else:
        try:
            erased = await services.storage.privacy.erase(me.person.telegram_id, services.clock())
            # The record of this very press would name the chat just erased.
            services.storage.updates.leave_unrecorded(update.update_id)
        except PrivacyRefused:
            await query.answer()
            await reply(update, t("privacy.role_first"))
            return
        if not erased.found:
            # Nothing but the bare row this very press made: a second tap after (or beside) the one that erased it all.
            await query.answer(t("stale.already_done_plain"))
            await drop_keyboard(update)
            return
        await query.answer()
        if erased.appeals:
            done = [t("privacy.erased", appeals=erased.appeals, withdrawn=len(erased.withdrawn))]
        else:  # "0 appeals made anonymous, 0 withdrawn" says nothing to someone who filed none
            done = [t("privacy3.erased_plain")]
        if erased.signups:
            done.append(t("privacy3.erased_signups", count=erased.signups))
        if erased.wishes_withdrawn:
            done.append(t("privacy3.erased_wishes", count=erased.wishes_withdrawn))
        await edit_or_reply(update, "\n".join(done))


def privacy_handlers() -> list[BaseHandler]:
    """/privacy (its buttons are routed by handlers/presses.py)."""
    return [CommandHandler("privacy", show, filters=filters.ChatType.PRIVATE)]
