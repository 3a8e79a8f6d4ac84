"""The filing dialog's steps: STEPS says, for each, its question, the kinds of message it takes and what
takes them, and where Back and Next go. handlers/filing.py starts the dialog and routes to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from telegram import Message, Update

from domain.answers_file import SHOWN
from domain.phones import declines_phone, looks_like_phone, number_in, parse_phone, words_besides_number
from domain.station_names import names_station
from domain.texts import MIN_DESCRIPTION, has_real_words
from handlers import answer_cards, callbacks
from handlers.common import Who, edit_or_reply, main_menu, refuse, reply, retire_buttons, share_keyboard
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.services import BotContext
from handlers.telegram_text import SHOWN_BACK, one_line, said
from storage.answers import Answer
from storage.dialogs import Draft, LastText, Step

MAX_DESCRIPTION = 2000
MAX_PLACE = 200  # a typed place is a station exit, a gate or a street: longer is the story, which has its step
MAX_FILES = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
NEAR_STATION_M = 1000
# The most stations offered for a typed name.
MAX_NAMED = 5


class Kind(StrEnum):
    """What kind of message a step may take."""

    TEXT = "text"
    MEDIA = "media"  # a photo, voice note or document (its caption is text)
    LOCATION = "location"
    CONTACT = "contact"


def kind_of(message: Message) -> Kind | None:
    """The kind of `message`, or None for what no step takes (a sticker, say)."""
    if message.location is not None:
        return Kind.LOCATION
    if message.contact is not None:
        return Kind.CONTACT
    if message.photo or message.voice or message.document:
        return Kind.MEDIA
    return Kind.TEXT if message.text else None


@dataclass
class Turn:
    """One message or press in the dialog: who, their draft, and how to answer them."""

    update: Update
    context: BotContext
    me: Who
    draft: Draft

    def t(self, key: str, **values: object) -> str:
        """A message in the person's language."""
        return self.context.services.text(self.me.lang, key, **values)

    async def save(self, **changes: object) -> Draft:
        """Store the draft with `changes` and keep it as this turn's draft."""
        self.draft = self.draft.model_copy(update=changes)
        services = self.context.services
        await services.storage.dialogs.save_draft(self.me.person.telegram_id, self.draft, services.clock())
        return self.draft


Handler = Callable[[Turn, Message], Awaitable[None]]


@dataclass(frozen=True)
class StepSpec:
    """One step of the dialog: how it asks, which message kinds it takes and with what, where Back and Next go."""

    ask: Callable[[Turn, bool, str | None], Awaitable[int]]  # returns the id of the message with its buttons
    takes: dict[Kind, Handler] = field(default_factory=dict)
    back: Step | None = None
    next: Step | None = None


# ---- asking ----------------------------------------------------------------------------------


def _nav(turn: Turn, *extra: Button) -> Keyboard:
    rows = [list(extra)] if extra else []
    rows.append(
        [
            button(turn.t("button.back"), callbacks.draft("back")),
            button(turn.t("button.cancel"), callbacks.draft("cancel")),
        ]
    )
    return inline(rows)


async def _about(turn: Turn) -> str:
    """The line naming the station the appeal is about, or nothing: every step names it."""
    if not turn.draft.station:
        return ""
    station = await turn.context.services.storage.stations.get(turn.draft.station)
    return (
        turn.t("filing2.about_station", station=station.name_for(turn.me.lang) if station else turn.draft.station)
        + "\n"
    )


async def _ask_category(turn: Turn, in_place: bool, lead: str | None) -> int:
    rows = [[button(c.name(turn.me.lang), callbacks.draft("cat", c.id))] for c in turn.context.services.categories]
    rows.append([button(turn.t("button.cancel"), callbacks.draft("cancel"))])
    lang = turn.me.lang
    examples = [
        turn.t("filing2.category_example", category=c.name(lang), example=c.example(lang))
        for c in turn.context.services.categories
        if c.example(lang)
    ]
    question = "\n".join((turn.t("filing.ask_category"), *examples))
    if turn.draft.description:
        # Kept from what was typed before: the person sees which words will be the description.
        shown = turn.t("filing.review_description", description=said(turn.draft.description, SHOWN_BACK))
        question = shown + "\n" + question
    text = await _about(turn) + (turn.t(lead) + "\n" if lead else "") + question
    return await (edit_or_reply if in_place else reply)(turn.update, text, inline(rows))


async def _ask_description(turn: Turn, in_place: bool, lead: str | None) -> int:
    draft = turn.draft
    category = turn.context.services.category(draft.category or "")
    lines = [
        await _about(turn) + turn.t("filing.review_category", category=category.name(turn.me.lang) if category else "?")
    ]
    if lead:
        lines.append(turn.t(lead))
    extra: list[Button] = []
    if draft.description or draft.files:
        # Kept from before (typed first, or Back from the place step): shown, and Next goes on with it.
        if draft.description:
            lines.append(turn.t("filing.review_description", description=said(draft.description, SHOWN_BACK)))
        if draft.files:
            lines.append(turn.t("card.files", count=len(draft.files)))
        lines.append(turn.t("filing2.add_or_next"))
        extra.append(button(turn.t("button.next"), callbacks.draft("next")))
    else:
        lines.append(turn.t("filing.ask_description", limit=MAX_DESCRIPTION))
    return await (edit_or_reply if in_place else reply)(turn.update, "\n".join(lines), _nav(turn, *extra))


async def offered(turn: Turn, description: str | None = None) -> list[Answer]:
    """The answers that match the draft's description (or `description`), best first: at most SHOWN."""
    text = turn.draft.description if description is None else description
    if not text:
        return []
    return await turn.context.services.storage.answers.search(text, turn.draft.category, limit=SHOWN)


async def after_description(turn: Turn, description: str | None = None) -> Step:
    """Where the dialog goes once the description is in: the answers when some match it, else the place."""
    return Step.ANSWERS if await offered(turn, description) else Step.PLACE


async def _ask_answers(turn: Turn, in_place: bool, lead: str | None) -> int:
    services, lang = turn.context.services, turn.me.lang
    found = await offered(turn)
    text = answer_cards.card_text(services, lang, found) if found else turn.t("answers_filing.none_now")
    text = (turn.t(lead) + "\n" if lead else "") + text
    return await reply(
        turn.update, text, reply_markup=answer_cards.card_buttons(services, lang, found, turn.draft.started)
    )


async def _take_at_answers(turn: Turn, message: Message) -> None:
    """Words or a file sent while answers are offered: added to the description, and the answers looked for again."""
    if not await _keep(turn, message, needs="answers_filing.expecting"):
        return
    step = await after_description(turn)
    await advance(turn, step, lead="filing2.added")


async def _expecting_answer_button(turn: Turn, message: Message) -> None:
    await refuse(turn.update, turn.context, turn.me.lang, "answers_filing.expecting")


def _ask_sharing(step: Step) -> Callable[[Turn, bool, str | None], Awaitable[int]]:
    location = step is Step.PLACE

    async def ask(turn: Turn, in_place: bool, lead: str | None) -> int:
        # Telegram sends a reply keyboard and inline buttons in separate messages.
        if turn.draft.keyboard != step.value:
            await turn.save(keyboard=step.value)
        keyboard = share_keyboard(
            turn.t("button.share_location" if location else "button.share_phone"),
            location=location,
            contact=not location,
        )
        first = await _about(turn) + (turn.t(lead) + "\n" if lead else "") + turn.t(f"filing.ask_{step}_keyboard")
        await reply(turn.update, first, reply_markup=keyboard)
        skip = button(turn.t("button.skip" if location else "button.anonymous"), callbacks.draft("skip"))
        if not location and turn.draft.phone:
            # Back from the review: the number given stays unless another is sent or Skip is tapped.
            keep = button(turn.t("fixtext.button_keep_phone"), callbacks.draft("next"))
            given = turn.t("fixtext.phone_given", phone=turn.draft.phone)
            rows = [
                [keep],
                [skip],
                [
                    button(turn.t("button.back"), callbacks.draft("back")),
                    button(turn.t("button.cancel"), callbacks.draft("cancel")),
                ],
            ]
            return await reply(turn.update, given + "\n" + turn.t(f"filing.ask_{step}"), reply_markup=inline(rows))
        return await reply(turn.update, turn.t(f"filing.ask_{step}"), reply_markup=_nav(turn, skip))

    return ask


async def _ask_review(turn: Turn, in_place: bool, lead: str | None) -> int:
    # This message brings the main menu back in place of the share keyboard.
    if turn.draft.keyboard is not None:
        await turn.save(keyboard=None)
    await reply(
        turn.update, turn.t(lead or "filing.ready"), reply_markup=await main_menu(turn.context.services, turn.me)
    )
    confirm = button(turn.t("button.confirm"), callbacks.draft("confirm"))
    return await reply(turn.update, await summary(turn), reply_markup=_nav(turn, confirm))


async def summary(turn: Turn, title: bool = True) -> str:
    """The draft as the courier checks it before sending."""
    services, draft = turn.context.services, turn.draft
    category = services.category(draft.category or "")
    lines = [
        *([turn.t("filing.review_title")] if title else []),
        turn.t("filing.review_category", category=category.name(turn.me.lang) if category else "?"),
        turn.t(
            "filing.review_description", description=said(draft.description, SHOWN_BACK) if draft.description else "\n—"
        ),
    ]
    if draft.files:
        lines.append(turn.t("card.files", count=len(draft.files)))
    if draft.station:
        station = await services.storage.stations.get(draft.station)
        lines.append(turn.t("card.station", station=station.name_for(turn.me.lang) if station else draft.station))
    elif draft.lat is not None and draft.lon is not None:
        lines.append(turn.t("card.location", lat=f"{draft.lat:.5f}", lon=f"{draft.lon:.5f}"))
    if draft.place:
        lines.append(turn.t("place.line", place=draft.place))
    lines.append(turn.t("filing.review_phone", phone=draft.phone) if draft.phone else turn.t("filing.review_anonymous"))
    return "\n".join(lines)


async def ask(turn: Turn, in_place: bool = False, lead: str | None = None) -> None:
    """Ask for what the draft's current step needs.

    `in_place`: in the pressed message (the category and description questions are one message
    each, so moving between them by a button turns it into the next question rather than leaving
    a dead list); `lead`: a catalog key said first (what was just received or kept).
    """
    assert turn.draft.step is not None
    earlier = turn.draft.buttons_at
    shown = await STEPS[turn.draft.step].ask(turn, in_place, lead)
    if earlier is not None and earlier != shown and earlier != pressed_id(turn.update):
        # The previous step's question, superseded by a typed answer: its buttons no longer apply.
        await retire_buttons(turn.update, earlier)
    if turn.draft.buttons_at != shown:
        await turn.save(buttons_at=shown)


def pressed_id(update: Update) -> int | None:
    """The id of the message whose button was pressed, if this update is a press."""
    query = update.callback_query
    return query.message.message_id if query is not None and query.message is not None else None


# ---- taking messages -------------------------------------------------------------------------


def file_of(message: Message) -> tuple[str, str, str] | None:
    """(kind, file_id, file_unique_id) of the photo, voice note or document in `message`."""
    if message.photo:
        photo = message.photo[-1]
        return ("photo", photo.file_id, photo.file_unique_id)
    if message.voice:
        return ("voice", message.voice.file_id, message.voice.file_unique_id)
    if message.document:
        return ("document", message.document.file_id, message.document.file_unique_id)
    return None


async def _file_refused(turn: Turn, message: Message, files: list) -> bool:
    """Whether the file in `message` cannot be added (said why)."""
    if len(files) >= MAX_FILES:
        await refuse(turn.update, turn.context, turn.me.lang, "filing.too_many_files", limit=MAX_FILES)
        return True
    if message.photo and (message.photo[-1].file_size or 0) > MAX_PHOTO_BYTES:
        await refuse(turn.update, turn.context, turn.me.lang, "filing.photo_too_large", limit=MAX_PHOTO_BYTES // 2**20)
        return True
    return False


def joined(before: str | None, text: str) -> str:
    """`text` added to a description on a line of its own."""
    return "\n".join(p for p in (before, text) if p)


def last_text(message: Message, went: str, length: int = 0) -> LastText:
    """What to remember of `message` to know its continuation if Telegram split it: where it went, how long it was."""
    return LastText(message_id=message.message_id, at=int(message.date.timestamp()), went=went, length=length)


async def _take_description(turn: Turn, message: Message) -> None:
    draft = turn.draft
    text = (message.text or message.caption or "").strip()
    files = list(draft.files)
    new_file = file_of(message)
    if new_file is not None:
        if await _file_refused(turn, message, files):
            return
        files.append(new_file)
    description = joined(draft.description, text) if text else draft.description
    if text and len(description or "") > MAX_DESCRIPTION:
        # Too long with what was written before (the text alone was checked on arrival).
        await refuse(turn.update, turn.context, turn.me.lang, "filing2.description_full", limit=MAX_DESCRIPTION)
        await turn.save(last=last_text(message, "refused"))
        return
    if text and not files and not has_real_words(description, MIN_DESCRIPTION):
        await refuse(turn.update, turn.context, turn.me.lang, "filing2.need_words")
        return
    last = last_text(message, "description", len(text)) if text else draft.last
    if text:
        step = await after_description(turn, description)
        await advance(turn, step, description=description, files=files, last=last)
        return
    await turn.save(files=files, last=last)
    more = button(turn.t("button.next"), callbacks.draft("next"))
    await reply(turn.update, turn.t("filing.file_added", count=len(files)), reply_markup=_nav(turn, more))


async def _keep_at_category(turn: Turn, message: Message) -> None:
    """Words typed before a category is chosen are the description: kept, and the category asked again."""
    if not await _keep(turn, message, needs="filing.expecting_category"):
        return
    await ask(turn, lead="filing2.kept_at_category")


async def _keep_later(turn: Turn, message: Message) -> None:
    """Words or a file sent at a step that wants a button: added to the appeal, and the step says what it needs."""
    step = turn.draft.step
    assert step is not None
    if not await _keep(turn, message, needs=f"filing.expecting_{step}"):
        return
    if step is Step.REVIEW:
        await ask(turn, lead="filing2.added")
        return
    await reply(turn.update, turn.t("filing2.added") + "\n" + turn.t(f"filing.expecting_{step}"))


async def _keep(turn: Turn, message: Message, needs: str) -> bool:
    """Add the message's words and file to the draft; False (and what the step needs said) if there is nothing to keep."""
    draft = turn.draft
    text = (message.text or message.caption or "").strip()
    new_file = file_of(message)
    # A number typed where a button is wanted is not part of the story (a phone number before its step, say).
    words = bool(text) and has_real_words(text) and not looks_like_phone(text)
    if not words and new_file is None:
        await refuse(turn.update, turn.context, turn.me.lang, needs)
        return False
    files = list(draft.files)
    if new_file is not None:
        if await _file_refused(turn, message, files):
            return False
        files.append(new_file)
    description = joined(draft.description, text) if words else draft.description
    if len(description or "") > MAX_DESCRIPTION:
        await refuse(turn.update, turn.context, turn.me.lang, "filing2.description_full", limit=MAX_DESCRIPTION)
        await turn.save(last=last_text(message, "refused"))
        return False
    last = last_text(message, "description", len(text)) if words else draft.last
    await turn.save(description=description, files=files, last=last)
    return True


async def _take_place_words(turn: Turn, message: Message) -> None:
    """Words typed at the place step: stations they name are offered first; else they are the place."""
    text = (message.text or "").strip()
    if not has_real_words(text) or looks_like_phone(text):
        await refuse(turn.update, turn.context, turn.me.lang, "filing.expecting_place")
        return
    if len(one_line(text)) > MAX_PLACE:
        await refuse(turn.update, turn.context, turn.me.lang, "place.too_long", limit=MAX_PLACE)
        await turn.save(last=last_text(message, "refused"))
        return
    stations = await turn.context.services.storage.stations.all()
    named = [s for s in stations if s.active and names_station(text, (s.name, s.name_en))][:MAX_NAMED]
    if not named:
        await _place_as_typed(turn, text, message)
        return
    rows = [[button(s.name_for(turn.me.lang), callbacks.draft("st", s.id))] for s in named]
    rows.append([button(turn.t("fixtext.button_keep_typed"), callbacks.draft("next", "typed"))])
    rows.append(
        [
            button(turn.t("button.back"), callbacks.draft("back")),
            button(turn.t("button.cancel"), callbacks.draft("cancel")),
        ]
    )
    await turn.save(typed_place=text)
    shown = await reply(turn.update, turn.t("fixtext.which_station_typed"), reply_markup=inline(rows))
    await retire_buttons(turn.update, turn.draft.buttons_at)
    await turn.save(buttons_at=shown)


async def keep_typed_place(turn: Turn) -> None:
    """ "No, keep what I typed" under the stations the words named: the words are the place."""
    assert turn.draft.typed_place is not None
    await _place_as_typed(turn, turn.draft.typed_place, None)


async def _place_as_typed(turn: Turn, text: str, message: Message | None) -> None:
    """The typed place: the draft's place (replacing a place or station given before), and on to the contact step."""
    # Not "description": a message after the place is never taken for the rest of it.
    last = last_text(message, "place") if message is not None else turn.draft.last
    await advance(
        turn,
        Step.CONTACT,
        place=one_line(text),
        station=None,
        last=last,
        typed_place=None,
        lead="freetext2.place_taken",
    )


async def _take_location(turn: Turn, message: Message) -> None:
    services = turn.context.services
    lat, lon = message.location.latitude, message.location.longitude
    await turn.save(lat=lat, lon=lon, keyboard=None)
    near = [(s, d) for s, d in await services.storage.stations.nearest(lat, lon, limit=3) if d <= NEAR_STATION_M]
    if not near:
        await advance(turn, Step.CONTACT, lead="filing.location_received")
        return
    # The share keyboard hid itself once used; the contact step's keyboard comes next, and the main
    # menu with the review.
    rows = [[button(f"{s.name_for(turn.me.lang)} · {d:.0f} m", callbacks.draft("st", s.id))] for s, d in near]
    rows.append([button(turn.t("button.no_station"), callbacks.draft("skip"))])
    rows.append(
        [
            button(turn.t("button.back"), callbacks.draft("back")),
            button(turn.t("button.cancel"), callbacks.draft("cancel")),
        ]
    )
    shown = await reply(
        turn.update,
        turn.t("filing.location_received") + "\n" + turn.t("filing.which_station"),
        reply_markup=inline(rows),
    )
    # The place question's buttons are superseded by the station list's, which the next step retires in turn.
    await retire_buttons(turn.update, turn.draft.buttons_at)
    await turn.save(buttons_at=shown)


async def _take_contact(turn: Turn, message: Message) -> None:
    if message.contact.user_id != turn.me.person.telegram_id:
        await refuse(turn.update, turn.context, turn.me.lang, "filing.own_contact_only")
        return
    await advance(turn, Step.REVIEW, phone=message.contact.phone_number, lead="filing.phone_received")


async def _take_typed_phone(turn: Turn, message: Message) -> None:
    """A number typed at the contact step, alone or inside words, is taken if valid (or refused, saying why);
    a plain "no phone" skips; other words go into the description, and the step is asked again."""
    text = (message.text or "").strip()
    number = text if looks_like_phone(text) else number_in(text)
    if number is not None:
        phone = parse_phone(number)
        if phone.number is None:
            table = "fixtext" if phone.reason in ("intl_short", "intl_long") else "filing2"
            await refuse(turn.update, turn.context, turn.me.lang, f"{table}.phone_bad_{phone.reason}")
            return
        if number != text and has_real_words(words_besides_number(text, number), MIN_DESCRIPTION):
            # More than the number was said ("13900001111, the boss never paid me"): that is kept too.
            description = joined(turn.draft.description, text)
            if len(description) <= MAX_DESCRIPTION:
                last = last_text(message, "description", len(text))
                await advance(
                    turn,
                    Step.REVIEW,
                    phone=phone.number,
                    description=description,
                    last=last,
                    lead="fixtext.phone_and_words",
                )
                return
        await advance(turn, Step.REVIEW, phone=phone.number, lead="filing.phone_received")
        return
    if declines_phone(text):
        await advance(turn, Step.REVIEW, phone=None, lead="fixtext.phone_declined")
        return
    if not await _keep(turn, message, needs="filing.expecting_contact"):
        return
    await ask(turn, lead="fixtext.not_a_phone")


async def advance(turn: Turn, step: Step, in_place: bool = False, lead: str | None = None, **changes: object) -> None:
    """Store `changes` and move the draft to `step` (past the place when a station is known), and ask it."""
    if step is Step.PLACE and (changes.get("station") or turn.draft.station):
        step = Step.CONTACT  # the courier started from a station: the place is known
    # The step's question shows its share keyboard, or the review the menu: stored with the step, in one write.
    keyboard = (
        step.value if step in (Step.PLACE, Step.CONTACT) else None if step is Step.REVIEW else turn.draft.keyboard
    )
    await turn.save(step=step, keyboard=keyboard, **changes)
    await ask(turn, in_place, lead)


STEPS: dict[Step, StepSpec] = {
    Step.CATEGORY: StepSpec(
        ask=_ask_category,
        takes={Kind.TEXT: _keep_at_category, Kind.MEDIA: _keep_at_category},
        next=Step.DESCRIPTION,
    ),
    Step.DESCRIPTION: StepSpec(
        ask=_ask_description,
        takes={Kind.TEXT: _take_description, Kind.MEDIA: _take_description},
        back=Step.CATEGORY,
        next=Step.PLACE,
    ),
    Step.ANSWERS: StepSpec(
        ask=_ask_answers,
        takes={
            Kind.TEXT: _take_at_answers,
            Kind.MEDIA: _take_at_answers,
            Kind.LOCATION: _expecting_answer_button,
            Kind.CONTACT: _expecting_answer_button,
        },
        back=Step.DESCRIPTION,
        next=Step.PLACE,
    ),
    Step.PLACE: StepSpec(
        ask=_ask_sharing(Step.PLACE),
        takes={Kind.LOCATION: _take_location, Kind.TEXT: _take_place_words, Kind.MEDIA: _keep_later},
        back=Step.DESCRIPTION,
        next=Step.CONTACT,
    ),
    Step.CONTACT: StepSpec(
        ask=_ask_sharing(Step.CONTACT),
        takes={Kind.CONTACT: _take_contact, Kind.TEXT: _take_typed_phone, Kind.MEDIA: _keep_later},
        back=Step.PLACE,
        next=Step.REVIEW,
    ),
    Step.REVIEW: StepSpec(
        ask=_ask_review,
        takes={Kind.TEXT: _keep_later, Kind.MEDIA: _keep_later},
        back=Step.CONTACT,
    ),
}
