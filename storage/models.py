"""What storage returns: pydantic models of rows, and time conversion at the boundary."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from domain.deadlines import Priority
from domain.lifecycle import DEFAULT_MAX_REDOS, Event, Facts, Outcome, Role, State
from domain.merges import MergeSide


def to_ts(moment: datetime) -> int:
    """An aware datetime as the integer Unix seconds stored in the database."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return int(moment.timestamp())


def from_ts(seconds: int | None) -> datetime | None:
    """Stored Unix seconds as an aware UTC datetime."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class Row(BaseModel):
    """A frozen model built from a database row."""

    model_config = ConfigDict(frozen=True)


class Unit(Row):
    id: str
    kind: str
    name_zh: str
    name_en: str
    active: bool = True

    def name(self, language: str) -> str:
        """The unit's name in `language`."""
        return self.name_zh if language == "zh" else self.name_en


class Person(Row):
    telegram_id: int
    role: str
    unit_id: str | None
    language: str | None
    source: str
    reachable: bool


class Appeal(Row):
    id: int
    courier_id: int | None
    category: str
    priority: Priority
    state: State
    outcome: Outcome | None
    unit_id: str | None
    station_id: str | None
    lat: float | None
    lon: float | None
    description: str
    place: str | None = None  # typed by the courier at the place step (no station matched)
    contact_phone: str | None
    language: str
    accepted: bool
    awaiting_courier: bool
    send_backs: int
    reopens: int
    send_back_until: datetime | None
    merged_into: int | None
    extension_pending: bool = False  # the unit asked for more time; no coordinator has answered yet
    extensions: int = 0  # extensions approved (延期)
    co_units: str = ""  # its co-handling units (协办单位), space-separated in the order added
    parts_open: int = 0  # co-handling parts not done
    parts_unsigned: int = 0  # of those, parts not signed for
    parts_waived: bool = False  # a coordinator let the lead resolve with parts open
    version: int
    created_at: datetime
    updated_at: datetime

    def facts(self, now: datetime, max_redos: int) -> Facts:
        """What the lifecycle table needs to know about this appeal at `now` (`max_redos`: feedback.max_redos)."""
        return appeal_facts(
            self.state,
            accepted=self.accepted,
            awaiting_courier=self.awaiting_courier,
            send_backs=self.send_backs,
            send_back_until=self.send_back_until,
            now=now,
            extension_pending=self.extension_pending,
            redos=self.reopens,
            max_redos=max_redos,
            parts=(self.parts_open, self.parts_unsigned, self.parts_waived),
        )

    @property
    def co_unit_ids(self) -> tuple[str, ...]:
        """Its co-handling units (协办单位), in the order they were added."""
        return tuple(self.co_units.split())

    def merge_side(self) -> MergeSide:
        """What the merge rule needs to know about this appeal."""
        return MergeSide(self.id, self.state, self.outcome, self.category, self.station_id, self.updated_at)

    @classmethod
    def from_row(cls, row: sqlite3.Row | dict) -> Appeal:
        """Build from an `appeals` row."""
        data = dict(row)
        for key in ("created_at", "updated_at", "send_back_until"):
            data[key] = from_ts(data[key])
        return cls.model_validate(data)


def appeal_facts(
    state: State,
    *,
    accepted: bool,
    awaiting_courier: bool,
    send_backs: int,
    send_back_until: datetime | None,
    now: datetime,
    extension_pending: bool = False,
    redos: int = 0,
    max_redos: int = DEFAULT_MAX_REDOS,
    parts: tuple[int, int, bool] = (0, 0, False),
) -> Facts:
    """What the lifecycle table needs to know about an appeal at `now` (from a model or straight from a row)."""
    return Facts(
        state=state,
        accepted=accepted,
        awaiting_courier=awaiting_courier,
        send_backs=send_backs,
        send_back_window_open=send_back_until is None or now <= send_back_until,
        extension_pending=extension_pending,
        redos=redos,
        max_redos=max_redos,
        parts_open=parts[0],
        parts_unsigned=parts[1],
        parts_waived=parts[2],
    )


class LedgerEntry(Row):
    id: int
    appeal_id: int
    event: Event
    actor_id: int | None
    actor_role: Role
    from_state: State
    to_state: State
    unit_id: str | None
    note: str | None
    on_time: bool | None
    at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> LedgerEntry:
        """Build from an `events` row."""
        data = dict(row)
        data["at"] = from_ts(data["at"])
        return cls.model_validate(data)


class TimerRow(Row):
    appeal_id: int
    kind: str
    due_at: datetime | None
    remaining_s: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> TimerRow:
        """Build from a `timers` row."""
        data = dict(row)
        data["due_at"] = from_ts(data["due_at"])
        data.pop("set_at", None)
        return cls.model_validate(data)


class OutboxMessage(Row):
    id: int
    chat_id: int
    appeal_id: int | None
    event_id: int | None
    template: str
    params: str
    status: str
    attempts: int
    parts_sent: int = 0
    lane: int = 0  # 0: an appeal's notice; 1: outreach, sent behind them (storage/outreach.py)
    send_id: int | None = None  # the outreach send it belongs to


class AppealMessage(Row):
    """A bot message that shows an appeal in a chat: its card, or a notice with answer buttons."""

    chat_id: int
    message_id: int
    appeal_id: int
    kind: str  # "card" or "buttons"
    template: str | None  # the notice's catalog key, for "buttons"
    version: int  # the appeal's version the message shows
