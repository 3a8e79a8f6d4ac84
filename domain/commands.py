"""What people ask of an appeal, as typed commands: pure data that the use cases (storage/usecases.py) carry out."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from domain.deadlines import Priority
from domain.hotspots import HotSpot
from domain.lifecycle import Event

# A file as the attachments table keeps it: (kind, Telegram file id, file unique id).
File = tuple[str, str, str]


@dataclass(frozen=True)
class EventArgs:
    """What an event carries besides its name."""

    note: str | None = None
    unit: str | None = None
    priority: Priority | None = None
    merged_into: int | None = None
    days: int | None = None  # working days of an extension asked for or granted
    # Files that came with the text (an answer may be a photo, a voice note or a document), stored with the event.
    attachments: tuple[File, ...] = ()


@dataclass(frozen=True)
class ActOnAppeal:
    """One lifecycle event on one appeal by one person (None: the system): accept, rate, assign, merge, withdraw...

    With `expected_version`, it acts only on the appeal as it was shown (a double tap acts once).
    """

    appeal_id: int
    event: Event
    actor_id: int | None
    args: EventArgs = EventArgs()
    expected_version: int | None = None


class NewAppeal(BaseModel):
    """What a courier's dialog hands over on confirm."""

    model_config = ConfigDict(frozen=True)

    courier_id: int
    category: str
    description: str
    language: str
    priority: Priority = Priority.NORMAL
    station_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None  # the courier's own words for where, when no station was picked
    contact_phone: str | None = None
    attachments: tuple[File, ...] = ()


@dataclass(frozen=True)
class FileAppeal:
    """File the courier's draft begun at `started` (its stamp: a second tap of Confirm files nothing)."""

    appeal: NewAppeal
    started: int


@dataclass(frozen=True)
class AnswerFollowUp:
    """The courier's answer to "is it still solved?"; if not, `description` opens a new appeal linked to it."""

    appeal_id: int
    courier_id: int
    solved: bool
    description: str


@dataclass(frozen=True)
class OpenHotSpot:
    """A coordinator turns a hot spot into one appeal that gathers its appeals."""

    coordinator_id: int
    spot: HotSpot
    description: str
    language: str


@dataclass(frozen=True)
class AddToAnswer:
    """Files, or words, a courier sent just after answering a question: they belong to that answer (its ledger row)."""

    appeal_id: int
    answer_id: int
    files: tuple[File, ...] = ()
    words: str | None = None
