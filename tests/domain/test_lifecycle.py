"""The lifecycle table over every (state, event, role) and every guard."""

from itertools import product

import pytest

from domain.lifecycle import (
    DEFAULT_MAX_REDOS,
    MAX_SEND_BACKS,
    OWN_APPEAL,
    Event,
    Facts,
    IllegalEvent,
    LifecycleError,
    NotPermitted,
    Outcome,
    Position,
    Role,
    State,
    after,
    decide,
    permits,
    roles_of,
    withheld_roles,
)

S, E, R = State, Event, Role
C, ST, CO, SY, CH = R.COURIER, R.STAFF, R.COORDINATOR, R.SYSTEM, R.COHANDLER

# The specification, written out from docs/design.md §2.2 independently of domain/lifecycle.py:
# (state, event) -> (next state, roles that may fire it, outcome when closing).
SPEC = {
    (S.COLLECTING, E.SUBMIT): (S.ASSESSING, {C, CO}, None),  # coordinators: proactive appeals
    (S.COLLECTING, E.WITHDRAW): (S.CLOSED, {C}, Outcome.WITHDRAWN),
    (S.ASSESSING, E.ASSIGN): (S.HANDLING, {CO, SY}, None),
    (S.ASSESSING, E.REJECT): (S.CLOSED, {CO}, Outcome.REJECTED),
    (S.ASSESSING, E.MERGE): (S.CLOSED, {CO}, Outcome.MERGED),
    (S.ASSESSING, E.WITHDRAW): (S.CLOSED, {C}, Outcome.WITHDRAWN),
    (S.HANDLING, E.REASSIGN): (S.HANDLING, {CO}, None),
    (S.HANDLING, E.ACCEPT): (S.HANDLING, {ST}, None),
    (S.HANDLING, E.SEND_BACK): (S.ASSESSING, {ST}, None),
    (S.HANDLING, E.ASK): (S.HANDLING, {ST}, None),
    (S.HANDLING, E.ANSWER): (S.HANDLING, {C}, None),
    (S.HANDLING, E.NOTE): (S.HANDLING, {ST, CO}, None),
    (S.HANDLING, E.RESOLVE): (S.FEEDBACK, {ST}, None),
    (S.HANDLING, E.WITHDRAW): (S.CLOSED, {C}, Outcome.WITHDRAWN),
    (S.FEEDBACK, E.RATE_SATISFIED): (S.CLOSED, {C}, Outcome.RESOLVED),
    (S.FEEDBACK, E.RATE_FAIRLY_SATISFIED): (S.CLOSED, {C}, Outcome.RESOLVED),
    (S.FEEDBACK, E.RATE_UNSATISFIED): (S.HANDLING, {C}, None),
    (S.FEEDBACK, E.AUTO_CLOSE): (S.CLOSED, {SY}, Outcome.AUTO_CLOSED),
    # Extensions (延期): the unit asks, a coordinator approves or refuses.
    (S.HANDLING, E.REQUEST_EXTENSION): (S.HANDLING, {ST}, None),
    (S.HANDLING, E.APPROVE_EXTENSION): (S.HANDLING, {CO}, None),
    (S.HANDLING, E.REFUSE_EXTENSION): (S.HANDLING, {CO}, None),
    # Redo (重办): "Not solved" once the unit's redos are used up goes to a coordinator instead.
    (S.FEEDBACK, E.ESCALATE_UNSOLVED): (S.ASSESSING, {C}, None),
    # Co-handling (协办): a coordinator adds a unit beside the lead; it signs and finishes its part; a
    # coordinator may let the lead resolve with parts open.
    (S.HANDLING, E.ADD_COHANDLER): (S.HANDLING, {CO}, None),
    (S.HANDLING, E.SIGN_PART): (S.HANDLING, {CH}, None),
    (S.HANDLING, E.FINISH_PART): (S.HANDLING, {CH}, None),
    (S.HANDLING, E.ALLOW_RESOLVE): (S.HANDLING, {CO}, None),
    (S.HANDLING, E.CO_NOTE): (S.HANDLING, {CH}, None),  # to the lead, not the courier
}


def _facts_where_guards_hold(state: State, event: Event) -> Facts:
    """Facts under which the event's own guards are satisfied, so only roles decide."""
    accepted = event in (E.ASK, E.NOTE, E.RESOLVE, E.ANSWER, E.REQUEST_EXTENSION)
    awaiting = event is E.ANSWER
    pending = event in (E.APPROVE_EXTENSION, E.REFUSE_EXTENSION)
    redos = 2 if event is E.ESCALATE_UNSOLVED else 0  # the default feedback.max_redos used up
    parts = 1 if event in (E.SIGN_PART, E.FINISH_PART, E.ALLOW_RESOLVE) else 0
    unsigned = 1 if event is E.SIGN_PART else 0
    return Facts(
        state,
        accepted=accepted,
        awaiting_courier=awaiting,
        extension_pending=pending,
        redos=redos,
        parts_open=parts,
        parts_unsigned=unsigned,
    )


@pytest.mark.parametrize("state,event,role", list(product(State, Event, Role)))
def test_every_state_event_role(state: State, event: Event, role: Role) -> None:
    """Allowed triples move to the specified state; every other one is refused."""
    facts = _facts_where_guards_hold(state, event)
    spec = SPEC.get((state, event))
    if spec is None:
        # A role that may never fire the event is told so; otherwise the state is wrong.
        never = all(role not in roles for (_, e), (_, roles, _) in SPEC.items() if e is event)
        with pytest.raises(NotPermitted if never else IllegalEvent):
            decide(facts, event, {role})
        return
    to, roles, outcome = spec
    if role in roles:
        transition = decide(facts, event, {role})
        assert (transition.to, transition.outcome) == (to, outcome)
        assert after(facts, transition).state is to
    else:
        with pytest.raises(NotPermitted):
            decide(facts, event, {role})


def test_closed_is_terminal() -> None:
    """Nothing leaves `closed`, whoever tries."""
    for event in Event:
        with pytest.raises(IllegalEvent):
            decide(Facts(S.CLOSED), event, set(Role))


def test_a_role_that_can_never_fire_an_event_is_not_permitted() -> None:
    """Staff rating an appeal is refused as not theirs to do, in any state."""
    for state in State:
        with pytest.raises(NotPermitted):
            decide(Facts(state), E.RATE_SATISFIED, {ST})


def test_no_roles_is_refused_everywhere() -> None:
    """A stranger (no role towards the appeal) can fire nothing."""
    for state, event in SPEC:
        with pytest.raises(NotPermitted):
            decide(_facts_where_guards_hold(state, event), event, set())


@pytest.mark.parametrize(
    "facts,event,allowed",
    [
        (Facts(S.HANDLING, accepted=False), E.ACCEPT, True),
        (Facts(S.HANDLING, accepted=True), E.ACCEPT, False),
        (Facts(S.HANDLING, accepted=False), E.SEND_BACK, True),
        (Facts(S.HANDLING, accepted=True), E.SEND_BACK, False),
        (Facts(S.HANDLING, send_backs=MAX_SEND_BACKS - 1), E.SEND_BACK, True),
        (Facts(S.HANDLING, send_backs=MAX_SEND_BACKS), E.SEND_BACK, False),
        (Facts(S.HANDLING, send_back_window_open=False), E.SEND_BACK, False),
        (Facts(S.HANDLING, accepted=False), E.ASK, False),
        (Facts(S.HANDLING, accepted=True), E.ASK, True),
        (Facts(S.HANDLING, accepted=True, awaiting_courier=True), E.ASK, False),
        (Facts(S.HANDLING, accepted=True, awaiting_courier=False), E.ANSWER, False),
        (Facts(S.HANDLING, accepted=True, awaiting_courier=True), E.ANSWER, True),
        (Facts(S.HANDLING, accepted=False), E.NOTE, False),
        (Facts(S.HANDLING, accepted=True), E.NOTE, True),
        (Facts(S.HANDLING, accepted=False), E.RESOLVE, False),
        (Facts(S.HANDLING, accepted=True), E.RESOLVE, True),
        (Facts(S.HANDLING, accepted=True, awaiting_courier=True), E.RESOLVE, True),
        (Facts(S.HANDLING, accepted=False), E.REQUEST_EXTENSION, False),
        (Facts(S.HANDLING, accepted=True), E.REQUEST_EXTENSION, True),
        (Facts(S.HANDLING, accepted=True, extension_pending=True), E.REQUEST_EXTENSION, False),
        (Facts(S.HANDLING, accepted=True, awaiting_courier=True), E.REQUEST_EXTENSION, False),
        (Facts(S.HANDLING, accepted=True), E.APPROVE_EXTENSION, False),
        (Facts(S.HANDLING, accepted=True, extension_pending=True), E.APPROVE_EXTENSION, True),
        (Facts(S.HANDLING, accepted=True), E.REFUSE_EXTENSION, False),
        (Facts(S.HANDLING, accepted=True, extension_pending=True), E.REFUSE_EXTENSION, True),
        (Facts(S.FEEDBACK, accepted=True, redos=1, max_redos=2), E.RATE_UNSATISFIED, True),
        (Facts(S.FEEDBACK, accepted=True, redos=2, max_redos=2), E.RATE_UNSATISFIED, False),
        (Facts(S.FEEDBACK, accepted=True, redos=1, max_redos=2), E.ESCALATE_UNSOLVED, False),
        (Facts(S.FEEDBACK, accepted=True, redos=2, max_redos=2), E.ESCALATE_UNSOLVED, True),
        (Facts(S.FEEDBACK, accepted=True, redos=0, max_redos=0), E.RATE_UNSATISFIED, False),
        (Facts(S.FEEDBACK, accepted=True, redos=0, max_redos=0), E.ESCALATE_UNSOLVED, True),
        # Co-handling (协办): the lead resolves once every part is done, or a coordinator allows it.
        (Facts(S.HANDLING, accepted=True, parts_open=1, parts_unsigned=0), E.RESOLVE, False),
        (Facts(S.HANDLING, accepted=True, parts_open=1, parts_waived=True), E.RESOLVE, True),
        (Facts(S.HANDLING, parts_open=1, parts_unsigned=1), E.SIGN_PART, True),
        (Facts(S.HANDLING, parts_open=1, parts_unsigned=0), E.SIGN_PART, False),
        (Facts(S.HANDLING, parts_open=1, parts_unsigned=1), E.FINISH_PART, False),
        (Facts(S.HANDLING, parts_open=1, parts_unsigned=0), E.FINISH_PART, True),
        (Facts(S.HANDLING, parts_open=0), E.ALLOW_RESOLVE, False),
        (Facts(S.HANDLING, parts_open=1), E.ALLOW_RESOLVE, True),
        (Facts(S.HANDLING, parts_open=1, parts_waived=True), E.ALLOW_RESOLVE, False),
    ],
)
def test_guards(facts: Facts, event: Event, allowed: bool) -> None:
    """Acceptance, questions, send-backs and requests for more time follow the unit's progress."""
    role = (
        C
        if event in (E.ANSWER, E.RATE_UNSATISFIED, E.ESCALATE_UNSOLVED)
        else CO
        if event in (E.APPROVE_EXTENSION, E.REFUSE_EXTENSION, E.ALLOW_RESOLVE)
        else CH
        if event in (E.SIGN_PART, E.FINISH_PART)
        else ST
    )
    if allowed:
        decide(facts, event, {role})
    else:
        with pytest.raises(IllegalEvent):
            decide(facts, event, {role})


def test_after_tracks_the_unit_progress() -> None:
    """Accept, ask, answer, send back and reopen update the facts the guards read."""
    facts = Facts(S.ASSESSING)
    facts = after(facts, decide(facts, E.ASSIGN, {SY}))
    assert (facts.state, facts.accepted) == (S.HANDLING, False)
    facts = after(facts, decide(facts, E.SEND_BACK, {ST}))
    assert (facts.state, facts.send_backs) == (S.ASSESSING, 1)
    facts = after(facts, decide(facts, E.ASSIGN, {CO}))
    facts = after(facts, decide(facts, E.ACCEPT, {ST}))
    assert facts.accepted
    facts = after(facts, decide(facts, E.ASK, {ST}))
    assert facts.awaiting_courier
    facts = after(facts, decide(facts, E.ANSWER, {C}))
    assert not facts.awaiting_courier
    facts = after(facts, decide(facts, E.RESOLVE, {ST}))
    facts = after(facts, decide(facts, E.RATE_UNSATISFIED, {C}))
    assert (facts.state, facts.accepted, facts.send_backs, facts.redos) == (S.HANDLING, True, 1, 1)
    facts = after(facts, decide(facts, E.REASSIGN, {CO}))
    assert not facts.accepted


def test_roles_come_from_database_facts() -> None:
    """Ownership, unit membership and the coordinator role each give their role, nothing else does;
    whoever filed an appeal is only its courier, whatever else they are."""
    base = dict(person_id=7, courier_id=7, appeal_unit="s1")
    assert roles_of(Position(person_role="courier", person_unit=None, **base)) == {C}
    assert roles_of(Position(person_role="staff", person_unit="s1", **base)) == {C}
    assert withheld_roles(Position(person_role="staff", person_unit="s1", **base)) == {ST}
    assert roles_of(Position(person_role="staff", person_unit="s2", **base)) == {C}
    assert withheld_roles(Position(person_role="staff", person_unit="s2", **base)) == set()
    assert roles_of(Position(person_role="coordinator", person_unit=None, **base)) == {C}
    assert withheld_roles(Position(person_role="coordinator", person_unit=None, **base)) == {CO}
    other = dict(person_id=8, courier_id=7, appeal_unit="s1")
    assert roles_of(Position(person_role="staff", person_unit="s1", **other)) == {ST}
    assert roles_of(Position(person_role="coordinator", person_unit=None, **other)) == {CO}
    assert withheld_roles(Position(person_role="coordinator", person_unit=None, **other)) == set()
    assert roles_of(Position(person_role="courier", person_unit=None, **other)) == set()
    assert roles_of(Position(person_role="staff", person_unit="s2", **other)) == set()
    assert roles_of(Position(person_role=None, person_unit=None, **other)) == set()
    unassigned = dict(person_id=8, courier_id=7, appeal_unit=None)
    assert roles_of(Position(person_role="staff", person_unit=None, **unassigned)) == set()
    # A coordinator's proactive appeal has no courier: they keep their role towards it.
    proactive = dict(person_id=9, courier_id=None, appeal_unit=None)
    assert roles_of(Position(person_role="coordinator", person_unit=None, **proactive)) == {CO}


def test_a_filer_is_refused_as_the_filer_not_as_a_stranger() -> None:
    """What a withheld role alone would allow is refused with its own reason; what no role of theirs
    could ever do, as before."""
    handling = Facts(S.HANDLING, accepted=True)
    for event in (E.ACCEPT, E.RESOLVE, E.ASK, E.NOTE, E.SEND_BACK):
        with pytest.raises(NotPermitted) as refused:
            decide(Facts(S.HANDLING), event, {C}, withheld=frozenset({ST}))
        assert refused.value.reason == OWN_APPEAL
    for event in (E.ASSIGN, E.REJECT, E.MERGE):
        with pytest.raises(NotPermitted) as refused:
            decide(Facts(S.ASSESSING), event, {C}, withheld=frozenset({CO}))
        assert refused.value.reason == OWN_APPEAL
    with pytest.raises(NotPermitted) as refused:
        decide(handling, E.REASSIGN, {C}, withheld=frozenset({ST}))
    assert refused.value.reason == "not_permitted"  # staff never reassign
    assert decide(Facts(S.HANDLING, awaiting_courier=True), E.ANSWER, {C}, withheld=frozenset({ST})).to is S.HANDLING


def test_permits_answers_as_decide_does_for_every_state_event_roles_and_facts() -> None:
    """Buttons are drawn with `permits`; pressing one goes through `decide`: they must never disagree."""
    role_sets = [
        frozenset(c for c, keep in zip(Role, mask, strict=True) if keep) for mask in product((0, 1), repeat=len(Role))
    ]
    checked = 0
    for state, event, roles in product(State, Event, role_sets):
        for accepted, awaiting, send_backs, window, redos in product(
            (False, True), (False, True), (0, MAX_SEND_BACKS), (False, True), (0, DEFAULT_MAX_REDOS)
        ):
            facts = Facts(state, accepted, awaiting, send_backs, window, redos=redos)
            try:
                decide(facts, event, roles)
                decided = True
            except LifecycleError:
                decided = False
            assert permits(facts, event, roles) is decided, (facts, event, roles)
            checked += decided
    assert checked > 100  # the table lets many through, not none


def test_a_request_for_more_time_waits_until_answered_and_lapses_with_the_unit() -> None:
    """Asking sets the request pending; approving or refusing answers it; a resolution or reassignment drops it."""
    facts = Facts(S.HANDLING, accepted=True)
    asked = after(facts, decide(facts, E.REQUEST_EXTENSION, {ST}))
    assert asked.extension_pending
    assert not after(asked, decide(asked, E.APPROVE_EXTENSION, {CO})).extension_pending
    assert not after(asked, decide(asked, E.REFUSE_EXTENSION, {CO})).extension_pending
    assert after(asked, decide(asked, E.NOTE, {ST})).extension_pending
    assert not after(asked, decide(asked, E.RESOLVE, {ST})).extension_pending
    assert not after(asked, decide(asked, E.REASSIGN, {CO})).extension_pending


def test_redos_are_counted_until_they_are_used_up_then_a_coordinator_decides() -> None:
    """Each "Not solved" with a redo left reopens it for the unit and counts a redo; with none left it goes
    to triage, no longer accepted, and no redo is counted."""
    facts = Facts(S.FEEDBACK, accepted=True, max_redos=2)
    for count in (1, 2):
        facts = after(facts, decide(facts, E.RATE_UNSATISFIED, {C}))
        assert (facts.state, facts.accepted, facts.redos) == (S.HANDLING, True, count)
        facts = after(facts, decide(facts, E.RESOLVE, {ST}))
    assert not permits(facts, E.RATE_UNSATISFIED, frozenset({C}))
    facts = after(facts, decide(facts, E.ESCALATE_UNSOLVED, {C}))
    assert (facts.state, facts.accepted, facts.redos) == (S.ASSESSING, False, 2)


def test_co_handling_parts_hold_the_lead_until_done_or_allowed() -> None:
    """Adding a unit opens its part (unsigned); signing, then finishing, closes it; the lead resolves then, or
    once a coordinator allows it; a part added after an allowance is waited for again."""
    facts = Facts(S.HANDLING, accepted=True)
    facts = after(facts, decide(facts, E.ADD_COHANDLER, {CO}))
    assert (facts.parts_open, facts.parts_unsigned) == (1, 1)
    assert not permits(facts, E.RESOLVE, frozenset({ST}))
    signed = after(facts, decide(facts, E.SIGN_PART, {CH}))
    assert (signed.parts_open, signed.parts_unsigned) == (1, 0)
    done = after(signed, decide(signed, E.FINISH_PART, {CH}))
    assert done.parts_open == 0 and permits(done, E.RESOLVE, frozenset({ST}))
    allowed = after(facts, decide(facts, E.ALLOW_RESOLVE, {CO}))
    assert allowed.parts_waived and permits(allowed, E.RESOLVE, frozenset({ST}))
    again = after(allowed, decide(allowed, E.ADD_COHANDLER, {CO}))
    assert not again.parts_waived and not permits(again, E.RESOLVE, frozenset({ST}))


def test_staff_of_a_co_handling_unit_hold_the_co_handler_role_only() -> None:
    """A co-handling unit's staff are co-handlers (协办), never the lead's staff; a filer stays only its courier."""
    other = dict(person_id=8, courier_id=7, appeal_unit="s1", co_units=frozenset({"s2"}))
    assert roles_of(Position(person_role="staff", person_unit="s2", **other)) == {CH}
    assert roles_of(Position(person_role="staff", person_unit="s1", **other)) == {ST}
    assert roles_of(Position(person_role="staff", person_unit="s3", **other)) == set()
    assert roles_of(Position(person_role="coordinator", person_unit=None, **other)) == {CO}
    filer = dict(person_id=7, courier_id=7, appeal_unit="s1", co_units=frozenset({"s2"}))
    assert roles_of(Position(person_role="staff", person_unit="s2", **filer)) == {C}
    assert withheld_roles(Position(person_role="staff", person_unit="s2", **filer)) == {CH}
