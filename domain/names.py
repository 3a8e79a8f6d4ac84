"""The lifecycle's vocabulary: states, roles, outcomes, guards, timers, audiences and ratings.

Names only, so that every module of the lifecycle (domain/events.py declares each event with them)
can import them without a cycle. Their values are what the database stores.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where an appeal stands in the loop."""

    COLLECTING = "collecting"
    ASSESSING = "assessing"
    HANDLING = "handling"
    FEEDBACK = "feedback"
    CLOSED = "closed"


class Role(StrEnum):
    """Who fires an event, relative to the appeal."""

    COURIER = "courier"  # the courier who filed this appeal
    STAFF = "staff"  # staff of the unit the appeal is assigned to (the lead, 主办单位)
    COHANDLER = "cohandler"  # staff of a co-handling unit of the appeal (协办单位)
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
    EXTENSION_PENDING = "extension_pending"  # the unit asked for more time and no coordinator has answered
    NO_EXTENSION_PENDING = "no_extension_pending"
    REDOS_LEFT = "redos_left"  # the unit has not yet had feedback.max_redos redos (重办)
    NO_REDOS_LEFT = "no_redos_left"
    PART_TO_SIGN = "part_to_sign"  # a co-handling unit (协办) has not yet signed for its part
    PART_SIGNED = "part_signed"  # a co-handling unit signed for its part and has not finished it
    PARTS_OPEN = "parts_open"  # some co-handling part is not done, and no coordinator let the lead go on
    PARTS_DONE = "parts_done"  # every co-handling part is done, or a coordinator let the lead resolve anyway


class Timer(StrEnum):
    """A deadline kept as a row with an indexed due time."""

    TRIAGE = "triage"  # a coordinator routes what no rule routed
    ACCEPT = "accept"  # the unit signs for the appeal (签收)
    HANDLE = "handle"  # the unit resolves it
    FEEDBACK = "feedback"  # the courier rates, else the appeal closes by itself
    FOLLOWUP = "followup"  # some days after a resolved appeal closes: "is it still solved?"


# The deadlines someone must meet (the follow-up is a question, not a deadline): an appeal that
# closes clears them all, and a digest lists those overdue.
DEADLINES = (Timer.TRIAGE, Timer.ACCEPT, Timer.HANDLE, Timer.FEEDBACK)


class Audience(StrEnum):
    """A group of people an event concerns, resolved to chats by storage."""

    COURIER = "courier"
    UNIT = "unit"  # staff of the unit the appeal is with after the event
    PREVIOUS_UNIT = "previous_unit"  # staff of the unit it left, when it changed
    COORDINATORS = "coordinators"
    FOLLOWERS = "followers"  # couriers whose duplicates were merged into this appeal
    COHANDLER_ADDED = "cohandler_added"  # staff of the co-handling unit (协办单位) the event adds
    COHANDLERS = "cohandlers"  # staff of every co-handling unit of the appeal, its part done or not


class Rating(StrEnum):
    """A courier's rating of a resolution, as the satisfaction rate counts it (domain/rates.py)."""

    SATISFIED = "satisfied"
    FAIRLY_SATISFIED = "fairly_satisfied"
    UNSATISFIED = "unsatisfied"
