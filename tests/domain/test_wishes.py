"""The micro-wish table over every (state, step, role), and the text check."""

from itertools import product

import pytest

from domain.wishes import (
    RULES,
    TextRefusal,
    WishRefusal,
    WishRole,
    WishState,
    WishStep,
    refusal,
    roles_of,
    steps_for,
    text_refusal,
)

S, P, R = WishState, WishStep, WishRole

# The specification, written out from the issue independently of domain/wishes.py:
# (state, step) -> (next state, roles that may take it).
SPEC = {
    (None, P.POST): (S.POSTED, {R.OWNER}),
    (S.POSTED, P.APPROVE): (S.APPROVED, {R.COORDINATOR}),
    (S.POSTED, P.DECLINE): (S.DECLINED, {R.COORDINATOR}),
    (S.APPROVED, P.CLAIM): (S.CLAIMED, {R.UNIT}),
    (S.CLAIMED, P.GRANT): (S.GRANTED, {R.CLAIMER, R.COORDINATOR}),
    (S.GRANTED, P.COLLECT): (S.COLLECTED, {R.OWNER, R.COORDINATOR}),
    (S.POSTED, P.WITHDRAW): (S.WITHDRAWN, {R.OWNER}),
    (S.APPROVED, P.WITHDRAW): (S.WITHDRAWN, {R.OWNER}),
    (S.CLAIMED, P.WITHDRAW): (S.WITHDRAWN, {R.OWNER}),
}


@pytest.mark.parametrize(("state", "step", "role"), list(product([None, *S], P, R)))
def test_every_state_step_and_role(state, step, role) -> None:
    """Each step from each state by each role: allowed exactly where the specification says."""
    spec = SPEC.get((state, step))
    why = refusal(step, state, {role})
    if spec is not None and role in spec[1]:
        assert why is None
        assert RULES[step].to is spec[0]
    elif role not in RULES[step].roles:
        assert why is WishRefusal.ROLE
    else:
        assert why is WishRefusal.STATE


def test_only_a_reason_and_a_place_are_typed() -> None:
    """Declining asks why, granting asks where to collect; nothing else needs text."""
    assert {s for s, rule in RULES.items() if rule.needs_text} == {P.DECLINE, P.GRANT}


def test_roles_of_a_person_to_a_wish() -> None:
    """The owner, a coordinator, any unit's staff, and the claiming unit's staff."""
    assert roles_of(7, "courier", None, owner=7, claimer=None) == {R.OWNER}
    assert roles_of(8, "courier", None, owner=7, claimer=None) == set()
    assert roles_of(9, "coordinator", None, owner=7, claimer="st1") == {R.COORDINATOR}
    assert roles_of(5, "staff", "st1", owner=7, claimer="st1") == {R.UNIT, R.CLAIMER}
    assert roles_of(6, "staff", "hr", owner=7, claimer="st1") == {R.UNIT}
    assert roles_of(4, "staff", None, owner=7, claimer=None) == set()  # staff without a unit are no unit


def test_buttons_follow_the_table() -> None:
    """What a reader may do on a wish is what the table allows them from its state."""
    assert steps_for(S.POSTED, {R.COORDINATOR}) == [P.APPROVE, P.DECLINE]
    assert steps_for(S.APPROVED, {R.UNIT}) == [P.CLAIM]
    assert steps_for(S.CLAIMED, {R.UNIT}) == []
    assert steps_for(S.GRANTED, {R.OWNER}) == [P.COLLECT]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("一件雨衣，L码", None),
        ("Books for my 8-year-old, 2 or 3", None),
        ("", TextRefusal.EMPTY),
        ("x" * 121, TextRefusal.TOO_LONG),
        ("手机支架，电话 138-0013-8000", TextRefusal.PHONE),
        ("call +44 20 7946 0958", TextRefusal.PHONE),
        ("身份证 11010119900307451X", TextRefusal.ID_NUMBER),
        ("ID 110101900307451", TextRefusal.ID_NUMBER),
    ],
)
def test_a_wish_names_no_phone_or_id_number(text, why) -> None:
    """Short words only: a phone or an ID number is refused."""
    assert text_refusal(text) is why
