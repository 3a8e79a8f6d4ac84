"""Who hears about each event: the audiences the outbox writes to."""

from __future__ import annotations

from enum import StrEnum

from domain.lifecycle import Event


class Audience(StrEnum):
    """A group of people an event concerns, resolved to chats by storage."""

    COURIER = "courier"
    UNIT = "unit"  # staff of the unit the appeal is with after the event
    PREVIOUS_UNIT = "previous_unit"  # staff of the unit it left, when it changed
    COORDINATORS = "coordinators"
    FOLLOWERS = "followers"  # couriers whose duplicates were merged into this appeal


E, A = Event, Audience

AUDIENCES: dict[Event, tuple[Audience, ...]] = {
    E.SUBMIT: (A.COORDINATORS,),
    E.WITHDRAW: (A.UNIT, A.FOLLOWERS),
    E.ASSIGN: (A.UNIT, A.COURIER),
    E.REASSIGN: (A.UNIT, A.PREVIOUS_UNIT, A.COURIER),
    E.REJECT: (A.COURIER, A.FOLLOWERS),
    E.MERGE: (A.COURIER, A.FOLLOWERS),
    E.ACCEPT: (A.COURIER, A.FOLLOWERS),
    E.SEND_BACK: (A.COORDINATORS, A.COURIER),
    E.ASK: (A.COURIER,),
    E.ANSWER: (A.UNIT,),
    E.NOTE: (A.COURIER,),
    E.RESOLVE: (A.COURIER, A.FOLLOWERS),
    E.RATE_SATISFIED: (A.UNIT,),
    E.RATE_FAIRLY_SATISFIED: (A.UNIT,),
    E.RATE_UNSATISFIED: (A.UNIT, A.FOLLOWERS),
    E.AUTO_CLOSE: (A.COURIER, A.UNIT, A.FOLLOWERS),
}


def template(event: Event, audience: Audience) -> str:
    """The message-catalog key of the notice `audience` gets for `event`."""
    return f"notice.{event}.{audience}"
