"""Micro-wishes (微心愿): each step of a wish declared once, who may take it and from which state.

A courier posts a wish; a coordinator approves or declines it; a unit claims an approved one, arranges
it and marks it granted with where to collect it; the courier confirms receipt. storage/wishes.py takes a
step only as RULES allows, in one transaction with its row in the wish_events ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.phones import personal_number

MAX_WISH_TEXT = 120  # a short wish: a line or two
MAX_WISH_NOTE = 200  # a decline's reason, or where to collect a granted wish


class WishState(StrEnum):
    """Where a wish stands."""

    POSTED = "posted"  # waits for a coordinator's review
    APPROVED = "approved"  # listed for units to claim
    DECLINED = "declined"
    CLAIMED = "claimed"  # a unit is arranging it
    GRANTED = "granted"  # ready to collect
    COLLECTED = "collected"  # the courier confirmed receipt
    WITHDRAWN = "withdrawn"  # by the courier, or with their data erased


class WishStep(StrEnum):
    """What can happen to a wish; each is a row in wish_events."""

    POST = "post"
    APPROVE = "approve"
    DECLINE = "decline"
    CLAIM = "claim"
    GRANT = "grant"
    COLLECT = "collect"
    WITHDRAW = "withdraw"


class WishAudience(StrEnum):
    """Who hears of a step (storage/wishes.py queues the notices in the step's transaction)."""

    COURIER = "courier"  # the wish's own courier: outreach (lane 1, paced, never in quiet hours), asked for by posting
    COORDINATORS = "coordinators"  # staff notices, as an appeal's (lane 0)
    CLAIMER = "claimer"  # the workers of the unit that claimed it (lane 0)


class WishRole(StrEnum):
    """How a person stands to one wish (a person may stand in more than one way)."""

    OWNER = "owner"  # the courier who posted it
    COORDINATOR = "coordinator"
    UNIT = "unit"  # staff of any unit (station or department)
    CLAIMER = "claimer"  # staff of the unit that claimed it


@dataclass(frozen=True)
class WishRule:
    """One step: from which states, to which, who may take it, and whether it needs typed text."""

    step: WishStep
    sources: frozenset[WishState | None]
    to: WishState
    roles: frozenset[WishRole]
    needs_text: bool = False  # a decline's reason, a grant's place
    tells: frozenset[WishAudience] = frozenset()  # who hears of it (never the person who took it)


def _rule(step: WishStep, sources, to: WishState, roles, needs_text: bool = False, tells=()) -> WishRule:
    return WishRule(step, frozenset(sources), to, frozenset(roles), needs_text, frozenset(tells))


S, R, A = WishState, WishRole, WishAudience
RULES: dict[WishStep, WishRule] = {
    rule.step: rule
    for rule in (
        _rule(WishStep.POST, {None}, S.POSTED, {R.OWNER}, tells={A.COORDINATORS}),
        _rule(WishStep.APPROVE, {S.POSTED}, S.APPROVED, {R.COORDINATOR}, tells={A.COURIER}),
        _rule(WishStep.DECLINE, {S.POSTED}, S.DECLINED, {R.COORDINATOR}, needs_text=True, tells={A.COURIER}),
        _rule(WishStep.CLAIM, {S.APPROVED}, S.CLAIMED, {R.UNIT}, tells={A.COURIER}),
        _rule(WishStep.GRANT, {S.CLAIMED}, S.GRANTED, {R.CLAIMER, R.COORDINATOR}, needs_text=True, tells={A.COURIER}),
        _rule(WishStep.COLLECT, {S.GRANTED}, S.COLLECTED, {R.OWNER, R.COORDINATOR}, tells={A.CLAIMER}),
        # A unit arranging a wish hears that it was withdrawn (erased: with the courier's data).
        _rule(WishStep.WITHDRAW, {S.POSTED, S.APPROVED, S.CLAIMED}, S.WITHDRAWN, {R.OWNER}, tells={A.CLAIMER}),
    )
}

OPEN_STATES = frozenset({S.POSTED, S.APPROVED, S.CLAIMED, S.GRANTED})
# The steps the digest counts, in its order.
DIGEST_STEPS = (WishStep.POST, WishStep.CLAIM, WishStep.GRANT, WishStep.COLLECT)


class WishRefusal(StrEnum):
    """Why a step was refused."""

    STATE = "state"  # not from this state (already taken, or moved on)
    ROLE = "role"  # not this person's step


def refusal(step: WishStep, state: WishState | None, roles: set[WishRole]) -> WishRefusal | None:
    """Why `step` may not be taken from `state` by someone standing as `roles`; None if it may."""
    rule = RULES[step]
    if not roles & rule.roles:
        return WishRefusal.ROLE
    if state not in rule.sources:
        return WishRefusal.STATE
    return None


def roles_of(telegram_id: int, role: str, unit_id: str | None, owner: int | None, claimer: str | None) -> set[WishRole]:
    """How a person (their id, role and unit, as the database says) stands to a wish of `owner`, claimed by `claimer`."""
    roles: set[WishRole] = set()
    if owner is not None and telegram_id == owner:
        roles.add(WishRole.OWNER)
    if role == "coordinator":
        roles.add(WishRole.COORDINATOR)
    if role == "staff" and unit_id is not None:
        roles.add(WishRole.UNIT)
        if claimer is not None and unit_id == claimer:
            roles.add(WishRole.CLAIMER)
    return roles


def steps_for(state: WishState, roles: set[WishRole]) -> list[WishStep]:
    """The steps someone standing as `roles` may take on a wish in `state`, in RULES's order (post aside)."""
    return [s for s in RULES if s is not WishStep.POST and refusal(s, state, roles) is None]


class TextRefusal(StrEnum):
    """Why a wish's text was refused."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    PHONE = "phone"
    ID_NUMBER = "id_number"


def text_refusal(text: str, limit: int = MAX_WISH_TEXT) -> TextRefusal | None:
    """Why `text` cannot be a wish (empty, too long, or naming a phone or ID number); None if it can."""
    if not text.strip():
        return TextRefusal.EMPTY
    if len(text) > limit:
        return TextRefusal.TOO_LONG
    found = personal_number(text)
    if found is not None:
        return TextRefusal.ID_NUMBER if found == "id_number" else TextRefusal.PHONE
    return None
