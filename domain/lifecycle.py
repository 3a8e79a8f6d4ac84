"""The appeal lifecycle: one table of (state, event) -> next state, who may fire it, and when.

collect -> assess -> handle -> feedback (收集 -> 研判 -> 办理 -> 反馈). Code asks this table;
nothing else decides a transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """Where an appeal stands in the loop."""

    COLLECTING = "collecting"
    ASSESSING = "assessing"
    HANDLING = "handling"
    FEEDBACK = "feedback"
    CLOSED = "closed"


class Event(StrEnum):
    """Something a person or the system does to an appeal."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ASSIGN = "assign"
    REASSIGN = "reassign"
    REJECT = "reject"
    MERGE = "merge"
    ACCEPT = "accept"
    SEND_BACK = "send_back"
    ASK = "ask"
    ANSWER = "answer"
    NOTE = "note"
    RESOLVE = "resolve"
    RATE_SATISFIED = "rate_satisfied"
    RATE_FAIRLY_SATISFIED = "rate_fairly_satisfied"
    RATE_UNSATISFIED = "rate_unsatisfied"
    AUTO_CLOSE = "auto_close"


class Role(StrEnum):
    """Who fires an event, relative to the appeal."""

    COURIER = "courier"  # the courier who filed this appeal
    STAFF = "staff"  # staff of the unit the appeal is assigned to
    COORDINATOR = "coordinator"
    SYSTEM = "system"


class Outcome(StrEnum):
    """How a closed appeal ended."""

    RESOLVED = "resolved"
    REJECTED = "rejected"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"
    AUTO_CLOSED = "auto_closed"


class Guard(StrEnum):
    """A condition on the appeal, beyond its state, that an event needs."""

    NOT_ACCEPTED = "not_accepted"
    ACCEPTED = "accepted"
    AWAITING_COURIER = "awaiting_courier"
    NOT_AWAITING_COURIER = "not_awaiting_courier"
    SEND_BACK_ALLOWED = "send_back_allowed"


# After this many send-backs the coordinator's assignment is final (强制派单).
MAX_SEND_BACKS = 3


@dataclass(frozen=True)
class Transition:
    """One row of the lifecycle table."""

    state: State
    event: Event
    to: State
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    outcome: Outcome | None = None


def _row(
    state: State,
    event: Event,
    to: State,
    roles: set[Role],
    guards: tuple[Guard, ...] = (),
    outcome: Outcome | None = None,
) -> Transition:
    return Transition(state, event, to, frozenset(roles), guards, outcome)


S, E, R = State, Event, Role
_COURIER = {R.COURIER}
_STAFF = {R.STAFF}
_COORD = {R.COORDINATOR}

TABLE: dict[tuple[State, Event], Transition] = {
    (t.state, t.event): t
    for t in (
        # A coordinator files a proactive appeal (from a hot spot) with no courier behind it.
        _row(S.COLLECTING, E.SUBMIT, S.ASSESSING, {R.COURIER, R.COORDINATOR}),
        _row(S.COLLECTING, E.WITHDRAW, S.CLOSED, _COURIER, outcome=Outcome.WITHDRAWN),
        _row(S.ASSESSING, E.ASSIGN, S.HANDLING, {R.COORDINATOR, R.SYSTEM}),
        _row(S.ASSESSING, E.REJECT, S.CLOSED, _COORD, outcome=Outcome.REJECTED),
        _row(S.ASSESSING, E.MERGE, S.CLOSED, _COORD, outcome=Outcome.MERGED),
        _row(S.ASSESSING, E.WITHDRAW, S.CLOSED, _COURIER, outcome=Outcome.WITHDRAWN),
        _row(S.HANDLING, E.REASSIGN, S.HANDLING, _COORD),
        _row(S.HANDLING, E.ACCEPT, S.HANDLING, _STAFF, (Guard.NOT_ACCEPTED,)),
        _row(
            S.HANDLING,
            E.SEND_BACK,
            S.ASSESSING,
            _STAFF,
            (Guard.NOT_ACCEPTED, Guard.SEND_BACK_ALLOWED),
        ),
        _row(
            S.HANDLING,
            E.ASK,
            S.HANDLING,
            _STAFF,
            (Guard.ACCEPTED, Guard.NOT_AWAITING_COURIER),
        ),
        _row(S.HANDLING, E.ANSWER, S.HANDLING, _COURIER, (Guard.AWAITING_COURIER,)),
        _row(S.HANDLING, E.NOTE, S.HANDLING, {R.STAFF, R.COORDINATOR}, (Guard.ACCEPTED,)),
        _row(S.HANDLING, E.RESOLVE, S.FEEDBACK, _STAFF, (Guard.ACCEPTED,)),
        _row(S.HANDLING, E.WITHDRAW, S.CLOSED, _COURIER, outcome=Outcome.WITHDRAWN),
        _row(S.FEEDBACK, E.RATE_SATISFIED, S.CLOSED, _COURIER, outcome=Outcome.RESOLVED),
        _row(
            S.FEEDBACK,
            E.RATE_FAIRLY_SATISFIED,
            S.CLOSED,
            _COURIER,
            outcome=Outcome.RESOLVED,
        ),
        _row(S.FEEDBACK, E.RATE_UNSATISFIED, S.HANDLING, _COURIER),
        _row(S.FEEDBACK, E.AUTO_CLOSE, S.CLOSED, {R.SYSTEM}, outcome=Outcome.AUTO_CLOSED),
    )
}

OPEN_STATES = frozenset({State.ASSESSING, State.HANDLING, State.FEEDBACK})

# Events whose note (reason, question, answer, result) must not be empty.
NOTE_REQUIRED = frozenset(
    {
        Event.REJECT,
        Event.SEND_BACK,
        Event.ASK,
        Event.ANSWER,
        Event.NOTE,
        Event.RESOLVE,
        Event.RATE_UNSATISFIED,
    }
)


@dataclass(frozen=True)
class Facts:
    """What the table needs to know about an appeal beyond its state."""

    state: State
    accepted: bool = False
    awaiting_courier: bool = False
    send_backs: int = 0
    send_back_window_open: bool = True


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
    """The facts once `transition` has been applied."""
    accepted = facts.accepted
    awaiting = facts.awaiting_courier
    send_backs = facts.send_backs
    match transition.event:
        case Event.ACCEPT:
            accepted = True
        case Event.ASK:
            awaiting = True
        case Event.ANSWER | Event.RESOLVE:
            awaiting = False
        case Event.SEND_BACK:
            accepted, awaiting, send_backs = False, False, send_backs + 1
        case Event.ASSIGN | Event.REASSIGN:
            accepted, awaiting = False, False
        case Event.RATE_UNSATISFIED:
            # Reopened for the same unit, which already accepted it once.
            awaiting = False
    return Facts(transition.to, accepted, awaiting, send_backs, facts.send_back_window_open)


def roles_of(
    *,
    person_id: int | None,
    person_role: str | None,
    person_unit: str | None,
    courier_id: int | None,
    appeal_unit: str | None,
) -> frozenset[Role]:
    """The roles a person holds towards one appeal, from database facts only.

    Whoever filed an appeal is only its courier: a worker of its unit or a coordinator never
    handles their own appeal (see `withheld_roles`).
    """
    if person_id is not None and courier_id is not None and person_id == courier_id:
        return frozenset({Role.COURIER})
    return _office_roles(person_role, person_unit, appeal_unit)


def _office_roles(person_role: str | None, person_unit: str | None, appeal_unit: str | None) -> frozenset[Role]:
    """The roles a staff or coordinator position gives towards an appeal of `appeal_unit`."""
    roles: set[Role] = set()
    if person_role == "staff" and appeal_unit is not None and person_unit == appeal_unit:
        roles.add(Role.STAFF)
    if person_role == "coordinator":
        roles.add(Role.COORDINATOR)
    return frozenset(roles)


def withheld_roles(
    *,
    person_id: int | None,
    person_role: str | None,
    person_unit: str | None,
    courier_id: int | None,
    appeal_unit: str | None,
) -> frozenset[Role]:
    """The staff or coordinator roles a person would hold towards an appeal but for having filed it."""
    if person_id is None or courier_id is None or person_id != courier_id:
        return frozenset()
    return _office_roles(person_role, person_unit, appeal_unit)


def may_ever(event: Event) -> frozenset[Role]:
    """Every role that may fire `event` from some state."""
    return _MAY_EVER[event]
