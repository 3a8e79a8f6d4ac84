"""Where every inline button goes: one table from (family, verb) to the handler that answers it.

bot/app.py registers `on_press` as the one CallbackQueryHandler. Callback data is decoded by
handlers/callbacks.py; what cannot be decoded, or has no row here, is refused as an invalid press.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import Forbidden

import handlers.announcements  # noqa: F401  (registers the survey and activity announcements)
from handlers import (
    activities,
    answers,
    appeal_actions,
    canned_replies,
    cohandling,
    desk,
    digest,
    evidence,
    export,
    extensions,
    filing,
    free_text,
    group_press,
    invites,
    limits,
    lists,
    mutes,
    outreach,
    outreach_notices,
    privacy,
    start,
    station_admin,
    stations,
    surveys,
    wishes,
)
from handlers.callbacks import (
    ActivityVerb,
    AnswersVerb,
    AppealVerb,
    CannedVerb,
    DeskVerb,
    DraftVerb,
    ExportVerb,
    Family,
    HotspotVerb,
    InviteVerb,
    LanguageVerb,
    LimitVerb,
    LinkVerb,
    MuteVerb,
    NoticeVerb,
    OutreachVerb,
    PageVerb,
    Press,
    PrivacyVerb,
    StationAdminVerb,
    StationVerb,
    SurveyVerb,
    Verb,
    WishVerb,
    decode,
)
from handlers.cards import BY_VERB
from handlers.common import Who, refuse, who
from handlers.services import BotContext

log = logging.getLogger(__name__)

PressHandler = Callable[[Update, BotContext, Who, Press], Awaitable[None]]

A = AppealVerb
ROUTES: dict[tuple[Family, Verb], PressHandler] = {
    # One appeal: open it, act on it, and the steps around the acts.
    (Family.APPEAL, A.OPEN): appeal_actions.on_open,
    # Each lifecycle event's button (handlers/cards.py's ACTIONS, from domain/events.py).
    **{(Family.APPEAL, verb): appeal_actions.on_action for verb in BY_VERB},
    # Extensions: how long to ask for, then why; how long to grant (handlers/extensions.py).
    (Family.APPEAL, A.REQUEST_EXTENSION): extensions.on_request,
    (Family.APPEAL, A.EXTENSION_DAYS): extensions.on_days,
    (Family.APPEAL, A.APPROVE_EXTENSION): extensions.on_approve,
    (Family.APPEAL, A.EXTENSION_GRANT): extensions.on_grant,
    # Co-handling: which unit to add beside the lead (handlers/cohandling.py).
    (Family.APPEAL, A.ADD_COHANDLER): cohandling.on_add,
    (Family.APPEAL, A.COHANDLER_UNIT): cohandling.on_unit,
    (Family.APPEAL, A.ASSIGN_UNIT): appeal_actions.on_unit_chosen,
    (Family.APPEAL, A.REASSIGN_UNIT): appeal_actions.on_unit_chosen,
    # Assign, then the offer to add co-handling units beside the lead (handlers/cohandling.py).
    (Family.APPEAL, A.ASSIGN_PRIORITY): cohandling.on_assigned,
    (Family.APPEAL, A.WITHDRAW_CONFIRM): appeal_actions.on_withdraw_confirmed,
    (Family.APPEAL, A.CONFIRM): appeal_actions.on_confirm,
    (Family.APPEAL, A.EDIT): appeal_actions.on_edit,
    (Family.APPEAL, A.CANCEL): appeal_actions.on_cancel,
    (Family.APPEAL, A.FOLLOWUP_SOLVED): appeal_actions.on_followup,
    (Family.APPEAL, A.FOLLOWUP_NOT_SOLVED): appeal_actions.on_followup,
    (Family.APPEAL, A.FILES): appeal_actions.on_files,
    (Family.APPEAL, A.FULL_TEXT): evidence.on_full_text,
    (Family.APPEAL, A.CANNED): canned_replies.on_pick,
    (Family.APPEAL, A.CANNED_SEND): canned_replies.on_send,
    # The filing dialog, and text kept for a tap (file it, or answer a question with it).
    **{(Family.DRAFT, verb): filing.on_press for verb in DraftVerb},
    (Family.DRAFT, DraftVerb.FILE_KEPT): free_text.on_press,
    (Family.DRAFT, DraftVerb.ANSWER_KEPT): free_text.on_press,
    # Nearest stations.
    **{(Family.STATION, verb): stations.on_press for verb in StationVerb},
    # The next page of /my, /queue, /triage.
    **{(Family.PAGE, verb): lists.on_press for verb in PageVerb},
    # The digest's hot spots.
    (Family.HOTSPOT, HotspotVerb.MAKE): digest.on_hotspot_press,
    # Coordinators' station tools, the ledger export, one's own data, the language.
    **{(Family.STATION_ADMIN, verb): station_admin.on_press for verb in StationAdminVerb},
    **{(Family.EXPORT, verb): export.on_press for verb in ExportVerb},
    **{(Family.PRIVACY, verb): privacy.on_press for verb in PrivacyVerb},
    (Family.LANGUAGE, LanguageVerb.SET): start.set_language,
    **{(Family.INVITE, verb): invites.on_press for verb in InviteVerb},
    # A coordinator's filing-limit tools.
    **{(Family.LIMITS, verb): limits.on_press for verb in LimitVerb},
    # A coordinator's mutes.
    **{(Family.MUTE, verb): mutes.on_press for verb in MuteVerb},
    # A unit's canned replies (/replies).
    **{(Family.CANNED, verb): canned_replies.on_press for verb in CannedVerb},
    # Linking a unit's group (handlers/desk.py).
    **{(Family.DESK, verb): desk.on_press for verb in DeskVerb},
    # The knowledge base's category pages (/answers).
    (Family.ANSWERS, AnswersVerb.CATEGORY): answers.on_press,
    # What a person hears about; a coordinator's notice; a notice's button (handlers/outreach.py).
    **{(Family.OUTREACH, verb): outreach.on_press for verb in OutreachVerb},
    **{(Family.NOTICE, verb): outreach_notices.on_press for verb in NoticeVerb},
    **{(Family.LINK, verb): outreach.on_link for verb in LinkVerb},
    # Activities with sign-up, their lists and attendance, and the publishing dialog (handlers/activities.py).
    **{(Family.ACTIVITY, verb): activities.on_press for verb in ActivityVerb},
    # Surveys: a coordinator's tools and a courier's answers (handlers/surveys.py).
    **{(Family.SURVEY, verb): surveys.on_press for verb in SurveyVerb},
    # Micro-wishes (微心愿): posting, reviewing, claiming, granting, receiving (handlers/wishes.py).
    **{(Family.WISH, verb): wishes.on_press for verb in WishVerb},
}


async def on_press(update: Update, context: BotContext) -> None:
    """Any inline button: decode strictly, then the table's handler; anything else is refused.

    In a unit's group only its workers (and coordinators) may press, by their own rows (handlers/desk.py).
    """
    press = decode(update.callback_query.data)
    chat = update.effective_chat
    if chat is not None and chat.type != chat.PRIVATE and not await desk.may_press(update, context, press):
        return
    me = await who(update, context)
    handler = ROUTES.get((press.kind, press.verb)) if press is not None else None
    log.debug("button %s", f"{press.kind}:{press.verb}" if press else "(undecodable)")
    if handler is None:
        await refuse(update, context, me.lang, "press.invalid")
        return
    in_group = chat is not None and chat.type != chat.PRIVATE
    token = group_press.CURRENT.set(group_press.GroupPress() if in_group else None)
    try:
        await handler(update, context, me, press)
    except Forbidden:
        if not in_group:
            raise
        # A group press is answered in the presser's own chat, which they have not opened (or blocked).
        await desk.cannot_reach(update, context, me)
    finally:
        held = group_press.CURRENT.get()
        group_press.CURRENT.reset(token)
    if held is not None:
        toast = context.services.text(me.lang, "desk.continue_private") if held.moved else None
        for query_id in held.unanswered:
            await context.bot.answer_callback_query(query_id, toast)
