"""Dialog state that must survive a restart: a courier's draft, and the text a person owes the bot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.events import RULES, Event
from storage.db import Database
from storage.dialect import json_array_length, json_equal, json_int, json_present, json_without
from storage.models import from_ts, to_ts


class Step(StrEnum):
    """The filing dialog's steps, in order (handlers/filing_steps.py says what each one asks and takes)."""

    CATEGORY = "category"
    DESCRIPTION = "description"
    ANSWERS = "answers"  # answers from the knowledge base that may settle it, when some match the description
    PLACE = "place"
    CONTACT = "contact"
    REVIEW = "review"


# The drafts row of someone with no appeal being written who has typed something kept for a tap.
IDLE = "idle"


class LastText(BaseModel):
    """The last text taken or refused, so the rest of a message Telegram split in parts goes where it went."""

    message_id: int
    at: int  # the message's date, Unix seconds
    went: str  # "refused", "description", "kept" or "place"
    length: int = 0  # characters it added there


class Draft(BaseModel):
    """An appeal being filled in (or, with no step, only text kept for a tap), stored as JSON."""

    model_config = ConfigDict(extra="ignore")

    step: Step | None = None
    started: int = (
        0  # when it was begun (Unix seconds): its reminder's buttons name it, so they never act on a later one
    )
    category: str | None = None
    description: str | None = None
    files: list[tuple[str, str, str]] = Field(default_factory=list)  # (kind, file_id, file_unique_id)
    station: str | None = None
    lat: float | None = None
    lon: float | None = None
    phone: str | None = None
    # Where it happened in the courier's words, typed at the place step when no station was picked (one line).
    place: str | None = None
    # Typed at the place step and naming stations: kept while the courier picks one or keeps these words.
    typed_place: str | None = None
    # When a bare /join asked for the invitation code (Unix seconds; 0: not asked): the next text is the code.
    code_asked: int = 0
    # When a unit's worker pressed "Add a reply" (Unix seconds; 0: not asked): the next text is the canned reply.
    reply_asked: int = 0
    # Typed with no appeal being written: kept until the person taps "file it" or picks the appeal it answers.
    kept: str | None = None
    kept_files: list[tuple[str, str, str]] = Field(default_factory=list)
    # The id of the message that began the kept text: its offer's buttons name it, so a replaced text's never act.
    kept_id: int = 0
    # Which of the dialog's share keyboards is up ("place" or "contact"); None once the menu is back.
    keyboard: str | None = None
    # The dialog message whose buttons belong to the current step: they go when the next step is asked.
    buttons_at: int | None = None
    last: LastText | None = None
    updated_at: datetime | None = Field(default=None, exclude=True)

    @property
    def open(self) -> bool:
        """Whether an appeal is being written (not only text kept)."""
        return self.step is not None

    @classmethod
    def stored(cls, step: str, data: dict[str, Any], updated_at: datetime | None = None) -> Draft:
        """A draft from its row; rows written before the model (a step and a plain dict) load too."""
        return cls.model_validate({**data, "step": None if step == IDLE else step, "updated_at": updated_at})

    def data(self) -> str:
        """The JSON stored in the row's data column."""
        return self.model_dump_json(exclude={"step", "updated_at"}, exclude_defaults=True)


class _TypedEvent(StrEnum):
    """A kind of typed text, named and valued as the lifecycle event the text completes."""

    @property
    def event(self) -> Event:
        """The lifecycle event the typed text completes."""
        return Event(self.value)


# What the bot asked a person to type: one kind for each event whose button asks for text first
# (domain/events.py), so a new one needs no line here. PromptKind.SEND_BACK, .ASK, .NOTE, .RESOLVE...
PromptKind = _TypedEvent(
    "PromptKind",
    [
        (rule.event.name, rule.event.value)
        for rule in RULES.values()
        if rule.button is not None and rule.button.needs_text
    ],
)


class PromptData(BaseModel):
    """What a prompt holds: the pressed message's id, the question's, and, once typed and shown back, the text,
    the version and the show-back's id."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    message_id: int | None = None
    text: str | None = None
    files: list[tuple[str, str, str]] = Field(default_factory=list)  # (kind, file_id, file_unique_id)
    version: int | None = None  # the appeal's version the text was shown back at
    asked_at: int | None = None  # the question's message: its Cancel button goes once the text arrives
    shown_at: int | None = None  # the newest show-back: its buttons go when a newer text is shown back
    days: int | None = None  # the working days an extension request asks for (chosen before its reason)

    @property
    def typed(self) -> bool:
        """Whether the text was typed and waits for its confirm button."""
        return self.text is not None and self.version is not None


@dataclass(frozen=True)
class Prompt:
    """The bot asked this person for text (a reason, an answer, a result) about an appeal."""

    verb: PromptKind
    appeal_id: int | None
    data: PromptData = PromptData()

    def __post_init__(self) -> None:
        object.__setattr__(self, "verb", PromptKind(self.verb))  # strict: only the enum's values
        if isinstance(self.data, dict):
            object.__setattr__(self, "data", PromptData.model_validate(self.data))


class Dialogs:
    """Drafts and prompts, one row per person."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def draft(self, courier_id: int) -> Draft | None:
        """The courier's unfinished appeal, if any."""
        row = await self._db.fetchone("SELECT step, data, updated_at FROM drafts WHERE courier_id = ?", (courier_id,))
        return None if row is None else Draft.stored(row["step"], json.loads(row["data"]), from_ts(row["updated_at"]))

    async def save_draft(self, courier_id: int, draft: Draft, now: datetime) -> None:
        """Store the draft, replacing the previous one."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO drafts (courier_id, step, data, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (courier_id) DO UPDATE SET step = excluded.step, data = excluded.data,"
                " updated_at = excluded.updated_at",
                (courier_id, draft.step or IDLE, draft.data(), to_ts(now)),
            )
        )

    async def drop_draft(self, courier_id: int) -> bool:
        """Throw the draft (and any kept text) away; False if there was none."""
        return await self._db.write(
            lambda conn: conn.execute("DELETE FROM drafts WHERE courier_id = ?", (courier_id,)).rowcount == 1
        )

    async def take_kept(self, courier_id: int, kept_id: int) -> bool:
        """Take the text kept for a tap (the one begun by message `kept_id`) out of the row, once: False if
        it is not there any more (another tap took it, or a later text replaced it)."""
        return await self._db.write(
            lambda conn: (
                conn.execute(
                    f"UPDATE drafts SET data = {json_without(conn, 'data', 'kept', 'kept_files', 'kept_id')}"
                    f" WHERE courier_id = ? AND step = ? AND coalesce({json_int(conn, 'data', 'kept_id')}, 0) = ?"
                    f" AND ({json_present(conn, 'data', 'kept')} OR {json_array_length(conn, 'data', 'kept_files')} > 0)",
                    (courier_id, IDLE, kept_id),
                ).rowcount
                == 1
            )
        )

    async def prompt(self, telegram_id: int) -> Prompt | None:
        """What the bot is waiting for this person to type, if anything."""
        row = await self._db.fetchone("SELECT verb, appeal_id, data FROM prompts WHERE telegram_id = ?", (telegram_id,))
        if row is None or row["verb"] not in {kind.value for kind in PromptKind}:
            return None  # a prompt written by a newer bot: nothing this one can finish
        return Prompt(PromptKind(row["verb"]), row["appeal_id"], PromptData.model_validate_json(row["data"]))

    async def set_prompt(self, telegram_id: int, prompt: Prompt, now: datetime) -> None:
        """Wait for this person's next text for `prompt` (replacing an earlier one)."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO prompts (telegram_id, appeal_id, verb, data, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET appeal_id = excluded.appeal_id, verb = excluded.verb,"
                " data = excluded.data, created_at = excluded.created_at",
                (
                    telegram_id,
                    prompt.appeal_id,
                    prompt.verb.value,
                    prompt.data.model_dump_json(exclude_defaults=True),
                    to_ts(now),
                ),
            )
        )

    async def take_prompt(self, telegram_id: int, prompt: Prompt) -> bool:
        """Stop waiting for text for `prompt`, if it is still what is awaited; False if it is not
        (another update took or replaced it): the caller must not act on it then."""
        return await self._db.write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM prompts WHERE telegram_id = ? AND appeal_id IS ? AND verb = ?"
                    f" AND {json_equal(conn, 'data', '?')}",
                    (
                        telegram_id,
                        prompt.appeal_id,
                        prompt.verb.value,
                        prompt.data.model_dump_json(exclude_defaults=True),
                    ),
                ).rowcount
                == 1
            )
        )

    async def clear_prompt(self, telegram_id: int) -> bool:
        """Stop waiting for text from this person; False if nothing was awaited."""
        return await self._db.write(
            lambda conn: conn.execute("DELETE FROM prompts WHERE telegram_id = ?", (telegram_id,)).rowcount == 1
        )
