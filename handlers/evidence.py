"""What the people handling an appeal receive: one card kept current, its story, and the courier's files.

A card is the appeal as one message with the reader's buttons. The bot remembers which of its
messages show which appeal (storage.outbox: appeal_messages), so that a new event edits a chat's
card in place instead of piling up cards, and buttons that no longer apply are taken away.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InputMediaDocument, InputMediaPhoto, Message, Update
from telegram.error import BadRequest, Forbidden

from domain import rates
from domain.lifecycle import Event, Role
from handlers import callbacks
from handlers.callbacks import AppealVerb, Family, MuteVerb
from handlers.cards import CardFacts, can_see, card_facts, card_text, keyboard, own_appeal_line, roles
from handlers.common import reply_chat
from handlers.history import history_text
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.quiet_bot import QuietBot
from handlers.services import BotContext, Services, Who
from handlers.telegram_text import (
    IN_HISTORY,
    MARK,
    ON_CARD,
    QUOTE,
    RESULT_ON_CARD,
    SHORT_HISTORY,
    TEXT,
    said,
    shorten,
    split,
    units,
)
from storage.desks import is_desk
from storage.models import Appeal, AppealMessage, LedgerEntry, Person

FILES_VERB = "files"
ALBUM = 10  # Telegram puts 2-10 photos, or 2-10 documents, in one album
_RATINGS = frozenset(rates.RATINGS)  # every event that carries a courier's rating

Files = list[tuple[str, str]]  # (kind, Telegram file id), in the order the courier sent them
Part = Callable[[], Awaitable[None]]


def is_staff_view(held: frozenset[Role]) -> bool:
    """Whether someone with `held` roles reads the appeal as staff (a unit's worker or a coordinator)."""
    return bool(held - {Role.COURIER})


@dataclass(frozen=True)
class Story:
    """What an appeal's ledger tells a card: its history, its latest result and its rating."""

    history: str
    result: str | None
    rating: Event | None


async def story(services: Services, appeal: Appeal, lang: str, *, for_staff: bool, whole: bool = False) -> Story:
    """Read the ledger once for the card's history, result and rating (`whole`: every line, every word)."""
    entries: list[LedgerEntry] = await services.storage.appeals.ledger(appeal.id)
    result = next((e.note for e in reversed(entries) if e.event is Event.RESOLVE and e.note), None)
    rating = next((e.event for e in reversed(entries) if e.event in _RATINGS), None)
    history = await history_text(
        services,
        appeal,
        lang,
        entries=entries,
        for_staff=for_staff,
        newest=None if whole else SHORT_HISTORY,
        note_limit=None if whole else IN_HISTORY,
    )
    return Story(history, result, rating)


def files_row(services: Services, appeal: Appeal, count: int, lang: str) -> list[Button]:
    """The row with the button that sends the appeal's files again: 附件（3）/ Files (3)."""
    return [button(services.text(lang, "evidence.files_button", count=count), callbacks.appeal(appeal.id, FILES_VERB))]


def full_text_row(services: Services, appeal: Appeal, lang: str) -> list[Button]:
    """The row with the button that sends all of a shortened card: its words and its whole history."""
    return [button(services.text(lang, "limits.full_text_button"), callbacks.appeal(appeal.id, AppealVerb.FULL_TEXT))]


def open_privately_row(services: Services, appeal: Appeal, lang: str) -> list[Button]:
    """The row on a unit group's card that sends the presser the appeal's whole card (the courier's phone with it) privately."""
    return [button(services.text(lang, "desk.open_private"), callbacks.appeal(appeal.id, AppealVerb.OPEN))]


def card_markup(
    services: Services, appeal: Appeal, held: frozenset[Role], facts: CardFacts, lang: str, *, shared: bool = False
) -> Keyboard | None:
    """The reader's buttons on the card, a Files button when the appeal has files, Full text when the card is
    shortened, for a coordinator Mute filer (or Unmute filer); on a unit group's card (`shared`), Open privately,
    which brings the presser the whole card in their own chat."""
    markup = keyboard(services, appeal, held, lang)
    extra = (
        ([files_row(services, appeal, facts.files, lang)] if facts.files else [])
        + ([full_text_row(services, appeal, lang)] if facts.shortened else [])
        + ([open_privately_row(services, appeal, lang)] if shared else [])
    )
    if Role.COORDINATOR in held and facts.filer_muted is not None:
        label = "mute_button.button_unmute" if facts.filer_muted else "mute_button.button_mute"
        extra.append([button(services.text(lang, label), callbacks.encode(Family.MUTE, MuteVerb.CARD, str(appeal.id)))])
    if not extra:
        return markup
    rows = list(markup["inline_keyboard"]) if markup else []
    return inline([*rows, *extra])


def card_body(
    services: Services,
    appeal: Appeal,
    facts: CardFacts,
    told: Story,
    lang: str,
    *,
    for_staff: bool,
    header: str = "",
    whole: bool = False,
    room: int = TEXT,
    shared: bool = False,
) -> str:
    """The card's text: the appeal, its result and rating, then its story; within `room` units unless `whole`.

    People's words are quoted and cut to their share (handlers/telegram_text.py); if the card is still
    too long, the oldest lines of its story go first, so the appeal and its latest news always show.
    """
    lines = [
        card_text(
            services,
            appeal,
            facts,
            lang,
            for_staff=for_staff,
            header=header,
            limit=None if whole else ON_CARD,
            shared=shared,
        )
    ]
    if told.result:
        lines.append(services.text(lang, "evidence.result", note=said(told.result, None if whole else RESULT_ON_CARD)))
    if told.rating is not None:
        lines.append(services.text(lang, "evidence.rating", rating=services.text(lang, f"export.rating_{told.rating}")))
    head = "\n".join(lines) + "\n\n"
    if whole:
        return head + told.history
    history = told.history.split("\n")
    dropped = False
    while len(history) > 2 and units(head + "\n".join(history)) > room:
        if history[1] == MARK:
            del history[1]
        del history[1]  # under the title, the oldest entry first, with the quoted words below it
        while len(history) > 2 and history[1].startswith(QUOTE):
            del history[1]
        dropped = True
    if dropped:
        history.insert(1, MARK)
    return shorten(head + "\n".join(history), room)


async def card_view(services: Services, appeal: Appeal, person: Person, lang: str) -> tuple[str, Keyboard | None]:
    """The card `person` (or a unit's group, storage/desks.py) sees for `appeal` now: its text and their buttons."""
    held = roles(person, appeal)
    staff, shared = is_staff_view(held), is_desk(person)
    facts = await card_facts(services, appeal)
    told = await story(services, appeal, lang, for_staff=staff)
    header = own_appeal_line(services, person, appeal, lang) or ""
    text = card_body(services, appeal, facts, told, lang, for_staff=staff, header=header, shared=shared)
    return text, card_markup(services, appeal, held, facts, lang, shared=shared and staff)


async def full_text(services: Services, appeal: Appeal, person: Person, lang: str) -> list[str]:
    """All of the appeal `person` may read, nothing cut: its card and its whole history, as messages within Telegram's limit."""
    staff = is_staff_view(roles(person, appeal))
    facts = await card_facts(services, appeal)
    told = await story(services, appeal, lang, for_staff=staff, whole=True)
    return split(card_body(services, appeal, facts, told, lang, for_staff=staff, whole=True))


async def on_full_text(update: Update, context: BotContext, me: Who, press: callbacks.Press) -> None:
    """The card's Full text button: the whole appeal and its history, in as many messages as it takes,
    for whoever the database says may see the appeal."""
    services = context.services
    appeal = await services.storage.appeals.get(press.appeal_id) if press.appeal_id is not None else None
    if appeal is None or not can_see(me.person, appeal):
        await update.callback_query.answer(services.text(me.lang, "appeal.not_found"), show_alert=True)
        return
    await update.callback_query.answer()
    bot: QuietBot = update.get_bot()  # type: ignore[assignment]
    for part in await full_text(services, appeal, me.person, me.lang):
        await bot.send_text(reply_chat(update), part)  # pressed in a unit's group: to the presser's own chat


# Sending files


def file_batches(files: Files) -> list[tuple[str, tuple[str, ...]]]:
    """The Telegram calls that send `files`: albums of photos and of documents, voice notes one by one."""
    batches: list[tuple[str, tuple[str, ...]]] = []
    for kind in ("photo", "document"):
        ids = [file_id for k, file_id in files if k == kind]
        batches += [(kind, tuple(ids[i : i + ALBUM])) for i in range(0, len(ids), ALBUM)]
    batches += [("voice", (file_id,)) for kind, file_id in files if kind == "voice"]
    return batches


def file_parts(bot: QuietBot, chat_id: int, caption: str, files: Files, thread_id: int | None = None) -> list[Part]:
    """One part per Telegram call that sends `files` to `chat_id` (into topic `thread_id`, if given), each
    captioned with `caption`."""
    return [_file_part(bot, chat_id, kind, ids, caption, thread_id) for kind, ids in file_batches(files)]


def _file_part(
    bot: QuietBot, chat_id: int, kind: str, ids: tuple[str, ...], caption: str, thread_id: int | None
) -> Part:
    topic = {"message_thread_id": thread_id} if thread_id is not None else {}

    async def send() -> None:
        if kind == "voice":
            await bot.send_voice(chat_id, ids[0], caption=caption, **topic)
        elif len(ids) == 1:
            send_one = bot.send_photo if kind == "photo" else bot.send_document
            await send_one(chat_id, ids[0], caption=caption, **topic)
        else:
            media_type = InputMediaPhoto if kind == "photo" else InputMediaDocument
            # The first item's caption is the album's.
            media = [media_type(ids[0], caption=caption), *map(media_type, ids[1:])]
            await bot.send_media_group(chat_id, media, **topic)

    return send


def files_caption(services: Services, appeal: Appeal, lang: str) -> str:
    """What each album or voice note says it belongs to."""
    return services.text(lang, "evidence.caption", number=appeal.id)


async def send_files(services: Services, bot: QuietBot, chat_id: int, appeal: Appeal, lang: str, files: Files) -> None:
    """Send `files` of `appeal` to a chat now (a reply to someone who asked for them).

    A file Telegram no longer has (a wrong or expired file id) is skipped, and the chat is told how
    many could not be sent, rather than losing the rest to one of them.
    """
    lost = 0
    for part in file_parts(bot, chat_id, files_caption(services, appeal, lang), files):
        try:
            await part()
        except BadRequest:
            lost += 1
    if lost:
        await bot.send_text(chat_id, services.text(lang, "evidence.files_lost", number=appeal.id, count=lost))


# Cards in chats


async def take_buttons_away(bot: QuietBot, chat_id: int, message_id: int) -> None:
    """Remove a message's buttons; a message that is gone or already bare is fine."""
    try:
        await bot.edit_markup(chat_id, message_id, None)
    except (BadRequest, Forbidden):
        pass


def not_modified(error: BadRequest) -> bool:
    """Whether Telegram refused an edit only because nothing would change."""
    return "not modified" in str(error).lower()


async def show(
    update: Update, context: BotContext, me: Who, appeal: Appeal, *, edit: bool = False, files: bool = False
) -> None:
    """Show `me` the card of `appeal` (in the pressed message if `edit`), as this chat's one card; then its files if asked.

    Pressed on a unit group's card, the card edited in place is the group's (no phone); a new card goes to the presser's own chat.
    """
    services, bot = context.services, update.get_bot()
    reader, lang, chat_id = me.person, me.lang, update.effective_chat.id
    if chat_id != reply_chat(update):
        desk = await services.storage.desks.by_chat(chat_id)
        if edit and desk is not None:
            reader, lang = desk.reader(), services.catalog.language_for(desk.language, None)
        else:
            chat_id, edit = reply_chat(update), False
    text, markup = await card_view(services, appeal, reader, lang)
    message_id = None
    query = update.callback_query
    if edit and query is not None and isinstance(query.message, Message) and query.message.text is not None:
        try:
            await bot.edit_text(chat_id, query.message.message_id, text, markup)
            message_id = query.message.message_id
        except BadRequest as error:
            if not_modified(error):
                message_id = query.message.message_id
            # Deleted or no longer editable since it was pressed: sent anew below.
    if message_id is None:
        message_id = await bot.send_text(chat_id, text, markup)
    await _keep_as_card(services, bot, chat_id, appeal, message_id)
    if files:
        await send_files(services, bot, chat_id, appeal, me.lang, await services.storage.appeals.attachments(appeal.id))


async def keep_current(update: Update, context: BotContext, me: Who, appeal: Appeal) -> None:
    """Bring this chat's card of `appeal` up to date in place (after something typed, not pressed, moved it on);
    a new card only when the chat has none the bot can still edit."""
    services, bot = context.services, update.get_bot()
    chat_id = update.effective_chat.id
    cards = [m for m in await services.storage.outbox.messages_about(appeal.id, chat_id) if m.kind == "card"]
    text, markup = await card_view(services, appeal, me.person, me.lang)
    message_id = None
    for card in reversed(cards):  # the newest first: the older ones have lost their buttons
        try:
            await bot.edit_text(chat_id, card.message_id, text, markup)
        except BadRequest as error:
            if not not_modified(error):
                continue  # deleted or too old to edit: try an older one, or send it anew
        message_id = card.message_id
        break
    if message_id is None:
        message_id = await bot.send_text(chat_id, text, markup)
    await _keep_as_card(services, bot, chat_id, appeal, message_id)


async def _keep_as_card(
    services: Services, bot: QuietBot, chat_id: int, appeal: Appeal, message_id: int | None
) -> None:
    """Make `message_id` the chat's card of `appeal`: the card it replaces loses its buttons."""
    outbox = services.storage.outbox
    for old in await outbox.messages_about(appeal.id, chat_id):
        if old.kind == "card" and old.message_id != message_id:
            await take_buttons_away(bot, chat_id, old.message_id)
    if message_id is not None:
        record = AppealMessage(
            chat_id=chat_id,
            message_id=message_id,
            appeal_id=appeal.id,
            kind="card",
            template=None,
            version=appeal.version,
        )
        await outbox.remember(record, services.clock())


async def on_files(update: Update, context: BotContext, me: Who, appeal: Appeal) -> None:
    """The card's Files button: send the appeal's files again to whoever may see the appeal."""
    services = context.services
    files = await services.storage.appeals.attachments(appeal.id)
    if not files:
        await update.callback_query.answer(services.text(me.lang, "evidence.no_files"), show_alert=True)
        return
    await update.callback_query.answer()
    await send_files(services, update.get_bot(), reply_chat(update), appeal, me.lang, files)
