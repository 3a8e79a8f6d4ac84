"""How an appeal looks in a chat: its text for each kind of reader, and the buttons they may press."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain import lifecycle
from domain.deadlines import Priority, extensions_left
from domain.events import RULES, SOLVED_OUTCOMES
from domain.lifecycle import Event, Guard, Role, State
from handlers import callbacks
from handlers.callbacks import AppealVerb
from handlers.deadlines_view import deadline_line
from handlers.i18n import LANGUAGES
from handlers.keyboards import Keyboard, button, inline, rows_of
from handlers.services import Services
from handlers.telegram_text import IN_HISTORY, ON_CARD, PLACE_ON_CARD, SHORT_HISTORY, one_line, quoted, shorten, units
from storage.cohandling import Part
from storage.models import Appeal, Person, TimerRow, Unit
from storage.stations import Station


@dataclass(frozen=True)
class Action:
    """A button on an appeal: its verb in callback data, the event it leads to, its label."""

    verb: AppealVerb
    event: Event
    label: str  # catalog key
    needs_text: bool = False  # the bot asks for a reason, question, answer or result first


# Each event's button as its declaration gives it (domain/events.py), in the declared order; its verb
# is the AppealVerb of the event's name.
ACTIONS = tuple(
    Action(AppealVerb[rule.event.name], rule.event, rule.button.label, rule.button.needs_text)
    for rule in RULES.values()
    if rule.button is not None
)
BY_VERB = {a.verb: a for a in ACTIONS}


def _position(person: Person, appeal: Appeal) -> lifecycle.Position:
    return lifecycle.Position(
        person.telegram_id,
        person.role,
        person.unit_id,
        appeal.courier_id,
        appeal.unit_id,
        frozenset(appeal.co_unit_ids),
    )


def roles(person: Person, appeal: Appeal) -> frozenset[Role]:
    """The roles `person` holds towards `appeal`, from database rows only (a filer is only its courier)."""
    return lifecycle.roles_of(_position(person, appeal))


def withheld(person: Person, appeal: Appeal) -> frozenset[Role]:
    """The staff or coordinator roles `person` would hold towards `appeal` but for having filed it."""
    return lifecycle.withheld_roles(_position(person, appeal))


def refusal_key(person: Person, appeal: Appeal, event: Event) -> str:
    """The catalog key that tells `person` why they may not fire `event`: their own appeal, or not theirs to do."""
    return "selfhandling.refused" if withheld(person, appeal) & lifecycle.may_ever(event) else "appeal.not_permitted"


def own_appeal_line(services: Services, person: Person, appeal: Appeal, lang: str) -> str | None:
    """The line atop a card for its reader: a co-handling unit's 协办 label; on the filer's card while the
    appeal waits for handling they may not give, who must act instead."""
    if Role.COHANDLER in roles(person, appeal):
        return services.text(lang, "cohandle.card_label")  # the lead unit is named on the card below
    held_back = withheld(person, appeal)
    if Role.STAFF in held_back and appeal.state == State.HANDLING:
        return services.text(lang, "selfhandling.card_staff")
    if Role.COORDINATOR in held_back and appeal.state in (State.ASSESSING, State.HANDLING):
        return services.text(lang, "selfhandling.card_coordinator")
    return None


def can_see(person: Person, appeal: Appeal) -> bool:
    """Couriers see their own appeals, staff their unit's, coordinators all."""
    return bool(roles(person, appeal))


def allowed(action: Action, appeal: Appeal, held: frozenset[Role], now: datetime, *, max_redos: int) -> bool:
    """Whether the lifecycle table lets someone with `held` roles take `action` now (`max_redos`: feedback.max_redos)."""
    return lifecycle.permits(appeal.facts(now, max_redos), action.event, held)


def keyboard(
    services: Services, appeal: Appeal, held: frozenset[Role], lang: str, only: tuple[str, ...] | None = None
) -> Keyboard | None:
    """The buttons this reader may press on this appeal now (None if there are none)."""
    facts = appeal.facts(services.clock(), services.storage.appeals.max_redos)
    # A unit that has had all its extra time gets no Request more time that could only be refused.
    spent = not extensions_left(appeal.extensions, services.storage.appeals.max_extensions)
    # The lead whose Resolve waits for co-handling parts sees it waiting; a press says whose part is open.
    waiting = replace(facts, parts_waived=True)
    buttons = []
    for a in ACTIONS:
        if only is not None and a.verb not in only:
            continue
        label = a.label
        if not lifecycle.permits(facts, a.event, held):
            if a.event is not Event.RESOLVE or not lifecycle.permits(waiting, a.event, held):
                continue
            label = "cohandle.button_resolve_waiting"
        if spent and a.event is Event.REQUEST_EXTENSION:
            continue
        buttons.append(button(services.text(lang, label), callbacks.appeal(appeal.id, a.verb)))
    if not buttons:
        return None
    return inline(rows_of(buttons))


def state_line(services: Services, appeal: Appeal, lang: str, *, courier: bool = False) -> str:
    """The appeal's state in plain words (to its `courier`, a wait for them is "waiting for your answer")."""
    key = f"state.{appeal.state}"
    if appeal.outcome is not None:
        key = f"outcome.{appeal.outcome}"
    elif appeal.awaiting_courier:
        key = "fixcards.awaiting_you" if courier else "state.awaiting_courier"
    elif appeal.state == State.HANDLING and appeal.accepted:
        key = "state.accepted"
    return services.text(lang, key)


@dataclass(frozen=True)
class CardFacts:
    """What an appeal's card shows besides the appeal's own row."""

    unit: Unit | None
    station: Station | None
    timers: tuple[TimerRow, ...]
    files: int
    shortened: bool = False  # the card cannot show all of it: the description, a note or older history
    # Whether the person who filed it is muted now; None when no one a coordinator may mute filed it.
    filer_muted: bool | None = None
    parts: tuple[tuple[Part, Unit | None], ...] = ()  # its co-handling units (协办) and their parts
    filer_lang: str | None = None  # the language the filer reads; None for no filer or none known


def shortened(appeal: Appeal, notes: list[str | None]) -> bool:
    """Whether a card of `appeal` (with these ledger notes) leaves anything out, so it offers the full text."""
    if appeal.description and units(quoted(appeal.description)) > ON_CARD:
        return True
    if appeal.place and units(one_line(appeal.place)) > PLACE_ON_CARD:
        return True
    return len(notes) > SHORT_HISTORY or any(note and units(quoted(note)) > IN_HISTORY for note in notes)


async def card_facts(services: Services, appeal: Appeal) -> CardFacts:
    """Read what the card of `appeal` shows besides its row: its unit, station, deadlines and files."""
    storage = services.storage
    parts = await storage.cohandling.parts(appeal.id) if appeal.co_units else []
    filer = await storage.people.get(appeal.courier_id) if appeal.courier_id is not None else None
    return CardFacts(
        unit=await storage.people.unit(appeal.unit_id) if appeal.unit_id else None,
        station=await storage.stations.get(appeal.station_id) if appeal.station_id else None,
        timers=tuple(await storage.appeals.timers(appeal.id)),
        files=len(await storage.appeals.attachments(appeal.id)),
        shortened=shortened(appeal, await storage.appeals.notes(appeal.id)),
        filer_muted=await _filer_muted(services, appeal, filer),
        parts=tuple([(part, await storage.people.unit(part.unit_id)) for part in parts]),
        filer_lang=filer.language if filer is not None else None,
    )


async def _filer_muted(services: Services, appeal: Appeal, filer: Person | None) -> bool | None:
    """Whether the appeal's filer is muted now; None for no filer (erased, or a coordinator's own appeal)."""
    if appeal.courier_id is None:
        return None
    if filer is not None and filer.role == "coordinator":
        return None  # coordinators are never muted (handlers/mutes.py)
    return await services.storage.people_actions.mute_of(appeal.courier_id, services.clock()) is not None


def _unit_key(appeal: Appeal) -> str | None:
    """How the card names the appeal's unit: while it holds the appeal (or resolved it), as its unit; once it
    sent the appeal back, as the one that did; otherwise not at all (a unit it left is not its unit)."""
    if appeal.unit_id is None:
        return None
    if appeal.state == State.ASSESSING:
        return "fixcards.sent_back_by"
    # Closed as solved, the appeal's unit is the one that handled it to the end.
    if appeal.state in (State.HANDLING, State.FEEDBACK) or appeal.outcome in SOLVED_OUTCOMES:
        return "card.unit"
    return None


# Why the lead's Resolve is refused while a co-handling part (协办) is open: lifecycle.decide's reason.
WAITS_FOR_PARTS = f"guard_{Guard.PARTS_DONE}"


async def open_parts(services: Services, appeal: Appeal, lang: str) -> dict[str, object]:
    """What the lead is told when its Resolve waits for co-handling parts: the appeal, the units whose
    parts are open."""
    parts = await services.storage.cohandling.parts(appeal.id)
    names = [await services.storage.people.unit(p.unit_id) for p in parts if p.state != "done"]
    units = services.text(lang, "digest2.list_sep").join(u.name(lang) for u in names if u is not None)
    return {"number": appeal.id, "units": units}


def parts_line(services: Services, parts: tuple[tuple[Part, Unit | None], ...], lang: str) -> str:
    """The co-handling units (协办单位) and where each part stands, in one line."""
    named = [
        services.text(
            lang,
            f"cohandle.part_{part.state}",
            unit=unit.name(lang) if unit else part.unit_id,
            accept_due=services.local(part.accept_due, lang),
            part_due=services.local(part.part_due, lang),
        )
        for part, unit in parts
    ]
    return services.text(lang, "cohandle.card_parts", parts=services.text(lang, "digest2.list_sep").join(named))


def card_text(
    services: Services,
    appeal: Appeal,
    facts: CardFacts,
    lang: str,
    *,
    for_staff: bool,
    header: str = "",
    limit: int | None = ON_CARD,
    shared: bool = False,
) -> str:
    """The appeal as one message: number, category, state, unit, place, deadline, description (quoted, cut to `limit`).

    `shared`: for a unit's group (storage/desks.py), which never sees the courier's phone.
    """
    category = services.category(appeal.category)
    lines = [header] if header else []
    title = services.text(
        lang,
        "card.title",
        number=appeal.id,
        category=category.name(lang) if category else appeal.category,
    )
    if appeal.priority == Priority.URGENT:
        title += " · " + services.text(lang, "card.urgent")
    if appeal.reopens:  # handled again after "Not solved" (重办): which time this is
        title += " · " + services.text(lang, "redo.card_count", count=appeal.reopens)
    lines += [title, services.text(lang, "card.state", state=state_line(services, appeal, lang, courier=not for_staff))]
    unit_key = _unit_key(appeal)
    if unit_key is not None:
        unit = facts.unit.name(lang) if facts.unit else appeal.unit_id
        # With co-handling units beside it, the unit holding the appeal is its lead (主办单位).
        lead = for_staff and facts.parts and unit_key == "card.unit"
        lines.append(services.text(lang, "cohandle.card_lead" if lead else unit_key, unit=unit))
    if facts.parts and for_staff:  # internal: the courier hears from the lead unit alone
        lines.append(parts_line(services, facts.parts, lang))
        if appeal.state == State.HANDLING and appeal.parts_open and not appeal.parts_waived:
            lines.append(services.text(lang, "cohandle.card_waiting"))
    if appeal.station_id:
        station = facts.station.name_for(lang) if facts.station else appeal.station_id
        lines.append(services.text(lang, "card.station", station=station))
    elif appeal.lat is not None:
        lines.append(services.text(lang, "card.location", lat=f"{appeal.lat:.5f}", lon=f"{appeal.lon:.5f}"))
    if appeal.place:
        # The courier's words on the reader's labelled line: one line, so it cannot pass for a line of the card's.
        place = one_line(appeal.place)
        lines.append(services.text(lang, "place.line", place=place if limit is None else shorten(place, PLACE_ON_CARD)))
    if for_staff:
        if appeal.contact_phone and shared:
            lines.append(services.text(lang, "desk.phone_private"))
        elif appeal.contact_phone:
            lines.append(services.text(lang, "card.phone", phone=appeal.contact_phone))
        else:
            lines.append(services.text(lang, "card.anonymous"))
    if for_staff and facts.filer_lang in LANGUAGES and facts.filer_lang != lang:
        # Questions and replies reach the courier as written: the bot translates nothing.
        lines.append(services.text(lang, f"courier_lang.{facts.filer_lang}"))
    deadline = deadline_line(services, appeal, facts.timers, lang)
    if deadline is not None:
        lines.append(deadline)
    lines += ["", services.text(lang, "limits.description")]
    if appeal.description:
        lines.append(quoted(appeal.description, limit))
    else:
        lines.append(services.text(lang, "card.description_removed"))
    if facts.files:
        lines.append(services.text(lang, "card.files", count=facts.files))
    return "\n".join(lines)
