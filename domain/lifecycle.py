"""The appeal lifecycle: one table of (state, event) -> next state, who may fire it, and when.

collect -> assess -> handle -> feedback (收集 -> 研判 -> 办理 -> 反馈). Code asks this table;
nothing else decides a transition. Its rows are the `steps` each event declares in domain/events.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import RULES, Event
from domain.names import Guard, Outcome, Role, State

__all__ = ["Event", "Guard", "Outcome", "Role", "State"]  # their home is domain/names.py and domain/events.py


# After this many send-backs the coordinator's assignment is final (强制派单).
MAX_SEND_BACKS = 3
# Redos (重办) a unit gets before "Not solved" goes to a coordinator (feedback.max_redos's default).
DEFAULT_MAX_REDOS = 2


@dataclass(frozen=True)
class Transition:
    """One row of the lifecycle table (declared in domain/events.py)."""

    state: State
    event: Event
    to: State
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    outcome: Outcome | None = None


TABLE: dict[tuple[State, Event], Transition] = {
    (row.state, rule.event): Transition(row.state, rule.event, row.to, row.roles, row.guards, row.outcome)
    for rule in RULES.values()
    for row in rule.steps
}

OPEN_STATES = frozenset({State.ASSESSING, State.HANDLING, State.FEEDBACK})


@dataclass(frozen=True)
class Facts:
    """What the table needs to know about an appeal beyond its state."""

    state: State
    accepted: bool = False
    awaiting_courier: bool = False
    send_backs: int = 0
    send_back_window_open: bool = True
    extension_pending: bool = False
    redos: int = 0  # redos (重办) the appeal has had
    max_redos: int = DEFAULT_MAX_REDOS  # feedback.max_redos
    parts_open: int = 0  # co-handling parts (协办) not done
    parts_unsigned: int = 0  # of those, parts their unit has not signed for
    parts_waived: bool = False  # a coordinator let the lead resolve with parts open


class LifecycleError(Exception):
    """An event the lifecycle refuses; `reason` is a stable key for the message catalog."""

    def __init__(self, reason: str, state: State, event: Event) -> None:
        super().__init__(f"{event} refused in {state}: {reason}")
        self.reason = reason
        self.state = state
        self.event = event


class IllegalEvent(LifecycleError):
    """The event does not exist in this state, or a guard fails."""


class NotPermitted(LifecycleError):
    """The person has no role that may fire this event."""


class StaleEvent(LifecycleError):
    """The appeal moved on since the person last saw it."""


def _guard_holds(guard: Guard, facts: Facts) -> bool:
    match guard:
        case Guard.NOT_ACCEPTED:
            return not facts.accepted
        case Guard.ACCEPTED:
            return facts.accepted
        case Guard.AWAITING_COURIER:
            return facts.awaiting_courier
        case Guard.NOT_AWAITING_COURIER:
            return not facts.awaiting_courier
        case Guard.SEND_BACK_ALLOWED:
            return facts.send_backs < MAX_SEND_BACKS and facts.send_back_window_open
        case Guard.EXTENSION_PENDING:
            return facts.extension_pending
        case Guard.NO_EXTENSION_PENDING:
            return not facts.extension_pending
        case Guard.REDOS_LEFT:
            return facts.redos < facts.max_redos
        case Guard.NO_REDOS_LEFT:
            return facts.redos >= facts.max_redos
        case Guard.PART_TO_SIGN:
            return facts.parts_unsigned > 0
        case Guard.PART_SIGNED:
            return facts.parts_open > facts.parts_unsigned
        case Guard.PARTS_OPEN:
            return facts.parts_open > 0 and not facts.parts_waived
        case Guard.PARTS_DONE:
            return facts.parts_open == 0 or facts.parts_waived


# Who may fire each event from some state: a person with none of these roles is refused before
# the state is looked at, so that a stranger learns nothing about an appeal's state.
_MAY_EVER: dict[Event, frozenset[Role]] = {
    event: frozenset().union(*(t.roles for t in TABLE.values() if t.event is event)) for event in Event
}


# The reason a filer is refused what their staff or coordinator role would otherwise allow.
OWN_APPEAL = "own_appeal"


def decide(
    facts: Facts, event: Event, roles: frozenset[Role] | set[Role], withheld: frozenset[Role] = frozenset()
) -> Transition:
    """Return the transition `event` takes from `facts`, or raise why it may not happen.

    `withheld` are the roles the person lost towards this appeal by filing it (`withheld_roles`):
    an event only they would allow is refused as the person's own appeal.
    """
    roles = frozenset(roles)
    if not _MAY_EVER[event] & roles:
        reason = OWN_APPEAL if _MAY_EVER[event] & withheld else "not_permitted"
        raise NotPermitted(reason, facts.state, event)
    transition = TABLE.get((facts.state, event))
    if transition is None:
        raise IllegalEvent(f"not_in_{facts.state}", facts.state, event)
    if not transition.roles & roles:
        raise NotPermitted(OWN_APPEAL if transition.roles & withheld else "not_permitted", facts.state, event)
    for guard in transition.guards:
        if not _guard_holds(guard, facts):
            raise IllegalEvent(f"guard_{guard}", facts.state, event)
    return transition


def permits(facts: Facts, event: Event, roles: frozenset[Role]) -> bool:
    """Whether `decide` would let `event` happen, without building the reason it would not.

    For drawing buttons: a card asks this of every action, and most are refused.
    """
    transition = TABLE.get((facts.state, event))
    return (
        transition is not None
        and bool(transition.roles & roles)
        and all(_guard_holds(guard, facts) for guard in transition.guards)
    )


def after(facts: Facts, transition: Transition) -> Facts:
    """The facts once `transition` has been applied (what its event's declaration changes)."""
    rule = RULES[transition.event]
    pending = facts.extension_pending if rule.extension_pending is None else rule.extension_pending
    # A request for more time is the unit's: it lapses when the appeal leaves the unit's hands.
    pending = pending and transition.to is State.HANDLING and not rule.takes_unit
    return Facts(
        transition.to,
        facts.accepted if rule.accepted is None else rule.accepted,
        facts.awaiting_courier if rule.awaiting_courier is None else rule.awaiting_courier,
        facts.send_backs + int(rule.counts_send_back),
        facts.send_back_window_open,
        pending,
        facts.redos + int(rule.reopens),
        facts.max_redos,
        facts.parts_open + int(rule.adds_part) - int(rule.finishes_part),
        facts.parts_unsigned + int(rule.adds_part) - int(rule.signs_part),
        # A part added later is waited for again.
        (facts.parts_waived or rule.waives_parts) and not rule.adds_part,
    )


@dataclass(frozen=True)
class Position:
    """Where a person stands towards one appeal, from database facts only."""

    person_id: int | None
    person_role: str | None
    person_unit: str | None
    courier_id: int | None
    appeal_unit: str | None
    co_units: frozenset[str] = frozenset()  # the appeal's co-handling units (协办单位)

    def filed_it(self) -> bool:
        """Whether this person is the appeal's courier."""
        return self.person_id is not None and self.courier_id is not None and self.person_id == self.courier_id


def roles_of(position: Position) -> frozenset[Role]:
    """The roles a person holds towards one appeal.

    Whoever filed an appeal is only its courier: a worker of its unit or a coordinator never
    handles their own appeal (see `withheld_roles`).
    """
    if position.filed_it():
        return frozenset({Role.COURIER})
    return _office_roles(position)


def _office_roles(position: Position) -> frozenset[Role]:
    """The roles a staff or coordinator position gives towards the appeal."""
    roles: set[Role] = set()
    unit = position.appeal_unit
    if position.person_role == "staff" and unit is not None and position.person_unit == unit:
        roles.add(Role.STAFF)
    elif position.person_role == "staff" and position.person_unit in position.co_units:
        roles.add(Role.COHANDLER)
    if position.person_role == "coordinator":
        roles.add(Role.COORDINATOR)
    return frozenset(roles)


def withheld_roles(position: Position) -> frozenset[Role]:
    """The staff or coordinator roles a person would hold towards an appeal but for having filed it."""
    return _office_roles(position) if position.filed_it() else frozenset()


def may_ever(event: Event) -> frozenset[Role]:
    """Every role that may fire `event` from some state."""
    return _MAY_EVER[event]
