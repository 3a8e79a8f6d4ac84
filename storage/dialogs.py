"""Dialog state that must survive a restart: a courier's draft, and the text a person owes the bot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.lifecycle import Event

from storage.db import Database
from storage.models import to_ts


@dataclass(frozen=True)
class Draft:
    """An appeal being filled in: the dialog step and what has been collected."""

    step: str
    data: dict[str, Any]


class PromptKind(StrEnum):
    """What the bot asked a person to type; each is the lifecycle event the text completes."""

    SEND_BACK = Event.SEND_BACK.value
    ASK = Event.ASK.value
    NOTE = Event.NOTE.value
    RESOLVE = Event.RESOLVE.value
    REJECT = Event.REJECT.value
    MERGE = Event.MERGE.value
    ANSWER = Event.ANSWER.value
    RATE_UNSATISFIED = Event.RATE_UNSATISFIED.value

    @property
    def event(self) -> Event:
        """The lifecycle event the typed text completes."""
        return Event(self.value)


@dataclass(frozen=True)
class Prompt:
    """The bot asked this person for text (a reason, an answer, a result) about an appeal.

    `data` holds the pressed message's id and, once typed and shown back for confirmation,
    the text and the appeal's version it was shown at.
    """

    verb: PromptKind
    appeal_id: int | None
    data: dict[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "verb", PromptKind(self.verb))  # strict: only the enum's values


class Dialogs:
    """Drafts and prompts, one row per person."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def draft(self, courier_id: int) -> Draft | None:
        """The courier's unfinished appeal, if any."""
        row = await self._db.fetchone("SELECT step, data FROM drafts WHERE courier_id = ?", (courier_id,))
        return None if row is None else Draft(row["step"], json.loads(row["data"]))

    async def save_draft(self, courier_id: int, draft: Draft, now: datetime) -> None:
        """Store the draft's step and data, replacing the previous ones."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO drafts (courier_id, step, data, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (courier_id) DO UPDATE SET step = excluded.step, data = excluded.data,"
                " updated_at = excluded.updated_at",
                (courier_id, draft.step, json.dumps(draft.data, ensure_ascii=False), to_ts(now)),
            )
        )

    async def drop_draft(self, courier_id: int) -> bool:
        """Throw the draft away; False if there was none."""
        return await self._db.write(
            lambda conn: conn.execute("DELETE FROM drafts WHERE courier_id = ?", (courier_id,)).rowcount == 1
        )

    async def prompt(self, telegram_id: int) -> Prompt | None:
        """What the bot is waiting for this person to type, if anything."""
        row = await self._db.fetchone(
            "SELECT verb, appeal_id, data FROM prompts WHERE telegram_id = ?", (telegram_id,)
        )
        if row is None or row["verb"] not in PromptKind._value2member_map_:
            return None  # a prompt written by a newer bot: nothing this one can finish
        return Prompt(PromptKind(row["verb"]), row["appeal_id"], json.loads(row["data"]))

    async def set_prompt(self, telegram_id: int, prompt: Prompt, now: datetime) -> None:
        """Wait for this person's next text for `prompt` (replacing an earlier one)."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO prompts (telegram_id, appeal_id, verb, data, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (telegram_id, prompt.appeal_id, prompt.verb.value, json.dumps(prompt.data, ensure_ascii=False), to_ts(now)),
            )
        )

    async def clear_prompt(self, telegram_id: int) -> bool:
        """Stop waiting for text from this person; False if nothing was awaited."""
        return await self._db.write(
            lambda conn: conn.execute("DELETE FROM prompts WHERE telegram_id = ?", (telegram_id,)).rowcount == 1
        )
