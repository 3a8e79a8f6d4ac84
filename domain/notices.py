"""The notices an event sends: one catalog key per event and audience told (each event's `tells`)."""

from __future__ import annotations

from domain.events import Event
from domain.names import Audience


def template(event: Event, audience: Audience) -> str:
    """The message-catalog key of the notice `audience` gets for `event`."""
    return f"notice.{event}.{audience}"
