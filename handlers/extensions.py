"""Extensions (延期申请): a unit asks for more working time, with how long and why; a coordinator grants
it (as long as asked, or another length) or refuses it with a reason.

The events are declared in domain/events.py; these are the steps around their buttons: how long to
ask for, then the reason (a typed-text dialog, handlers/text_prompts.py); how long to grant, each
length a button that acts once at the appeal's version. Refusing is the plain typed-text dialog.
"""

from __future__ import annotations

from telegram import Update

from domain.commands import EventArgs
from domain.lifecycle import Event
from handlers import callbacks
from handlers.appeal_actions import (
    act_at_version,
    load_pressed,
    refused_now,
)
from handlers.callbacks import AppealVerb, Press
from handlers.cards import BY_VERB
from handlers.common import Who, drop_keyboard, refuse, reply
from handlers.keyboards import button, inline
from handlers.services import BotContext
from handlers.text_prompts import ask, days_text
from storage.dialogs import PromptKind
from storage.models import Appeal

# The lengths offered, in working days; a request starts from the middle one.
CHOICES = (1, 2, 3)


async def _may_act(update: Update, context: BotContext, me: Who, press: Press, verb: AppealVerb) -> Appeal | None:
    """The pressed appeal, if the presser may do `verb`'s event on it now; else None, the press answered with why."""
    appeal = await load_pressed(update, context, me, press)
    if appeal is None or await refused_now(update, context, me, appeal, BY_VERB[verb]):
        return None
    return appeal


async def on_request(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Request extension: refused at once if the limit is reached or the deadline passed; else how long."""
    appeal = await _may_act(update, context, me, press, AppealVerb.REQUEST_EXTENSION)
    if appeal is None or await _said_no(update, context, me, appeal.id):
        return
    services = context.services
    await update.callback_query.answer()
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    rows = [
        [
            button(days_text(services, me.lang, n), callbacks.appeal(appeal.id, AppealVerb.EXTENSION_DAYS, str(n)))
            for n in CHOICES
        ],
        [button(t("button.cancel"), callbacks.appeal(appeal.id, AppealVerb.OPEN))],
    ]
    await reply(update, t("extension.how_long", number=appeal.id), reply_markup=inline(rows))


async def _said_no(update: Update, context: BotContext, me: Who, appeal_id: int) -> bool:
    """Whether the unit may not ask for more time now (the most were granted, or the deadline passed); if so, say why."""
    services = context.services
    reason = await services.storage.appeals.extension_refusal(appeal_id, services.clock())
    if reason is None:
        return False
    limit = services.storage.appeals.max_extensions
    await refuse(update, context, me.lang, f"extension.refused_{reason.removeprefix('extension_')}", limit=limit)
    return True


async def on_days(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A length was chosen: now the reason, typed."""
    if not press.arg.isdecimal() or int(press.arg) not in CHOICES:
        await refuse(update, context, me.lang, "press.invalid")
        return
    appeal = await _may_act(update, context, me, press, AppealVerb.REQUEST_EXTENSION)
    if appeal is None or await _said_no(update, context, me, appeal.id):
        return
    await update.callback_query.answer()
    await drop_keyboard(update)  # the length is chosen: a second tap would only meet a stale answer
    await ask(update, context, me, appeal, PromptKind.REQUEST_EXTENSION, days=int(press.arg))


async def on_approve(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Approve extension: how long to grant, the length asked first; each button acts once."""
    appeal = await _may_act(update, context, me, press, AppealVerb.APPROVE_EXTENSION)
    if appeal is None:
        return
    services = context.services
    asked = await services.storage.appeals.pending_extension(appeal.id) or CHOICES[1]
    await update.callback_query.answer()
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    grant = lambda n, key: button(  # noqa: E731
        t(key, days=days_text(services, me.lang, n)),
        callbacks.appeal(appeal.id, AppealVerb.EXTENSION_GRANT, f"{n}.{appeal.version}"),
    )
    others = [grant(n, "extension.button_grant") for n in CHOICES if n != asked]
    rows = [
        [grant(asked, "extension.button_grant_asked")],
        others,
        [button(t("button.back"), callbacks.appeal(appeal.id, AppealVerb.OPEN))],
    ]
    question = t("extension.grant_question", number=appeal.id, days=days_text(services, me.lang, asked))
    await reply(update, question, reply_markup=inline(rows))


async def on_grant(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Grant this many working days: the handling deadline moves; acts once, at the version asked at."""
    appeal = await load_pressed(update, context, me, press)
    if appeal is None:
        return
    days_arg, _, version_arg = press.arg.partition(".")
    if not days_arg.isdecimal() or int(days_arg) not in CHOICES or not version_arg.isdecimal():
        await refuse(update, context, me.lang, "press.invalid")
        return
    args = EventArgs(days=int(days_arg))
    await act_at_version(update, context, me, appeal, Event.APPROVE_EXTENSION, args, int(version_arg))
