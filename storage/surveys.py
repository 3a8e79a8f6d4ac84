"""Surveys (问卷): imported surveys, each courier's progress through one, and the answers given.

Answering once: `survey_takers` names who has answered; its rows carry no time and, kept without a
rowid, no order of arrival, so they cannot be matched to an anonymous survey's responses, which
carry neither the person nor the time. A non-anonymous response names its courier and is erased
with their data (storage/privacy.py). Progress (what a courier has answered so far) names them
until they finish; then it goes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from domain.surveys_file import Survey
from storage.db import Database
from storage.models import from_ts, to_ts

State = Literal["draft", "open", "closed"]
# What a courier has answered so far, by question number: chosen options (1-5 for a scale), a text,
# or None for a question skipped.
Answers = dict[str, list[int] | str | None]


@dataclass(frozen=True)
class StoredSurvey:
    """A survey as stored: its number (in buttons), its file's survey, and where it stands."""

    id: int
    survey: Survey
    state: State
    opened_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Progress:
    """Where one courier is in one survey."""

    survey_id: int
    step: int  # the question being asked (0-based); len(questions) once all are answered
    answers: Answers = field(default_factory=dict)
    awaiting_text: bool = False


@dataclass(frozen=True)
class Results:
    """A survey's answers counted: per question, each option's count (index: option, or scale value - 1),
    how many answered it, and its texts."""

    responses: int
    counts: list[list[int]]
    answered: list[int]
    texts: list[list[str]]


ImportOutcome = Literal["added", "replaced", "locked"]


def _survey(row: sqlite3.Row) -> StoredSurvey:
    return StoredSurvey(
        row["id"],
        Survey.from_json(row["definition"]),
        row["state"],
        from_ts(row["opened_at"]),
        from_ts(row["closed_at"]),
    )


def _progress(row: sqlite3.Row) -> Progress:
    return Progress(row["survey_id"], row["step"], json.loads(row["answers"]), bool(row["awaiting_text"]))


class Surveys:
    """The surveys repository."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def import_survey(self, survey: Survey, now: datetime) -> tuple[ImportOutcome, int]:
        """Add a checked survey, or replace a draft with the same id; a survey once opened stays as it was."""

        def work(conn: sqlite3.Connection) -> tuple[ImportOutcome, int]:
            row = conn.execute("SELECT id, state FROM surveys WHERE key = ?", (survey.id,)).fetchone()
            if row is not None and row["state"] != "draft":
                return "locked", row["id"]
            if row is not None:
                conn.execute(
                    "UPDATE surveys SET definition = ?, anonymous = ?, imported_at = ? WHERE id = ?",
                    (survey.to_json(), int(survey.anonymous), to_ts(now), row["id"]),
                )
                return "replaced", row["id"]
            added = conn.execute(
                "INSERT INTO surveys (key, definition, anonymous, imported_at) VALUES (?, ?, ?, ?) RETURNING id",
                (survey.id, survey.to_json(), int(survey.anonymous), to_ts(now)),
            ).fetchone()
            return "added", int(added[0])

        return await self._db.write(work)

    async def get(self, survey_id: int) -> StoredSurvey | None:
        """One survey by its number."""
        row = await self._db.fetchone("SELECT * FROM surveys WHERE id = ?", (survey_id,))
        return None if row is None else _survey(row)

    async def by_key(self, key: str) -> StoredSurvey | None:
        """One survey by its file's id."""
        row = await self._db.fetchone("SELECT * FROM surveys WHERE key = ?", (key,))
        return None if row is None else _survey(row)

    async def all(self) -> list[StoredSurvey]:
        """Every survey, newest first."""
        return [_survey(r) for r in await self._db.fetchall("SELECT * FROM surveys ORDER BY id DESC")]

    async def set_state(self, survey_id: int, state: State, now: datetime) -> bool:
        """Open a draft or close an open survey; False if it was not in the state before (a second tap)."""
        before, column = ("draft", "opened_at") if state == "open" else ("open", "closed_at")

        def work(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    f"UPDATE surveys SET state = ?, {column} = ? WHERE id = ? AND state = ?",
                    (state, to_ts(now), survey_id, before),
                ).rowcount
                == 1
            )

        return await self._db.write(work)

    async def open_for(self, telegram_id: int) -> list[tuple[StoredSurvey, Progress | None]]:
        """The open surveys this person has not answered, oldest first, each with their progress if begun."""
        rows = await self._db.fetchall(
            "SELECT s.*, p.step, p.answers, p.awaiting_text, p.survey_id FROM surveys s"
            " LEFT JOIN survey_progress p ON p.survey_id = s.id AND p.telegram_id = ?"
            " WHERE s.state = 'open' AND NOT EXISTS"
            " (SELECT 1 FROM survey_takers t WHERE t.survey_id = s.id AND t.telegram_id = ?) ORDER BY s.id",
            (telegram_id, telegram_id),
        )
        return [(_survey(r), _progress(r) if r["step"] is not None else None) for r in rows]

    async def answered_open(self, telegram_id: int) -> list[StoredSurvey]:
        """The open surveys this person has already answered, oldest first."""
        rows = await self._db.fetchall(
            "SELECT s.* FROM surveys s JOIN survey_takers t ON t.survey_id = s.id AND t.telegram_id = ?"
            " WHERE s.state = 'open' ORDER BY s.id",
            (telegram_id,),
        )
        return [_survey(r) for r in rows]

    async def answered(self, survey_id: int, telegram_id: int) -> bool:
        """Whether this person has answered the survey."""
        row = await self._db.fetchone(
            "SELECT 1 FROM survey_takers WHERE survey_id = ? AND telegram_id = ?", (survey_id, telegram_id)
        )
        return row is not None

    async def progress(self, survey_id: int, telegram_id: int) -> Progress | None:
        """Where this person is in the survey, if they have begun it."""
        row = await self._db.fetchone(
            "SELECT * FROM survey_progress WHERE survey_id = ? AND telegram_id = ?", (survey_id, telegram_id)
        )
        return None if row is None else _progress(row)

    async def save_progress(self, telegram_id: int, progress: Progress, now: datetime) -> None:
        """Keep where this person is; waiting for typed text in one survey stops any other's wait."""

        def work(conn: sqlite3.Connection) -> None:
            if progress.awaiting_text:
                conn.execute(
                    "UPDATE survey_progress SET awaiting_text = 0 WHERE telegram_id = ? AND survey_id != ?",
                    (telegram_id, progress.survey_id),
                )
            conn.execute(
                "INSERT INTO survey_progress (survey_id, telegram_id, step, answers, awaiting_text, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (survey_id, telegram_id) DO UPDATE SET step = excluded.step,"
                " answers = excluded.answers, awaiting_text = excluded.awaiting_text, updated_at = excluded.updated_at",
                (
                    progress.survey_id,
                    telegram_id,
                    progress.step,
                    json.dumps(progress.answers, ensure_ascii=False),
                    int(progress.awaiting_text),
                    to_ts(now),
                ),
            )

        await self._db.write(work)

    async def awaiting_text(self, telegram_id: int) -> Progress | None:
        """The survey whose text question this person's next typed message answers, if any."""
        row = await self._db.fetchone(
            "SELECT * FROM survey_progress WHERE telegram_id = ? AND awaiting_text = 1", (telegram_id,)
        )
        return None if row is None else _progress(row)

    async def stop_waiting(self, telegram_id: int) -> bool:
        """Stop taking this person's typed text as a survey's answer (their progress stays); whether one waited."""

        def work(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "UPDATE survey_progress SET awaiting_text = 0 WHERE telegram_id = ? AND awaiting_text = 1",
                    (telegram_id,),
                ).rowcount
                > 0
            )

        return await self._db.write(work)

    async def finish(self, stored: StoredSurvey, telegram_id: int, answers: Answers, now: datetime) -> bool:
        """Record a courier's answers once, and drop their progress; False if they had answered already
        or the survey is no longer open."""
        anonymous = stored.survey.anonymous

        def work(conn: sqlite3.Connection) -> bool:
            if conn.execute("SELECT state FROM surveys WHERE id = ?", (stored.id,)).fetchone()[0] != "open":
                return False
            taken = conn.execute(
                "INSERT INTO survey_takers (survey_id, telegram_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (stored.id, telegram_id),
            ).rowcount
            conn.execute(
                "DELETE FROM survey_progress WHERE survey_id = ? AND telegram_id = ?", (stored.id, telegram_id)
            )
            if not taken:
                return False
            response = conn.execute(
                "INSERT INTO survey_responses (survey_id, telegram_id, submitted_at) VALUES (?, ?, ?) RETURNING id",
                (stored.id, None, None) if anonymous else (stored.id, telegram_id, to_ts(now)),
            ).fetchone()[0]
            rows = []
            for question, answer in answers.items():
                if isinstance(answer, str):
                    rows.append((response, int(question), None, answer))
                elif isinstance(answer, list):
                    rows += [(response, int(question), choice, None) for choice in answer]
            conn.executemany(
                "INSERT INTO survey_answers (response_id, question, choice, text) VALUES (?, ?, ?, ?)", rows
            )
            return True

        return await self._db.write(work)

    async def results(self, stored: StoredSurvey) -> Results:
        """The survey's answers counted, with its texts (in the order they came)."""
        questions = stored.survey.questions

        def work(conn: sqlite3.Connection) -> Results:
            responses = conn.execute(
                "SELECT count(*) FROM survey_responses WHERE survey_id = ?", (stored.id,)
            ).fetchone()[0]
            counts = [[0] * (5 if q.kind == "scale" else len(q.options_zh)) for q in questions]
            answered = [0] * len(questions)
            texts: list[list[str]] = [[] for _ in questions]
            for question, choice, count in conn.execute(
                "SELECT a.question, a.choice, count(*) FROM survey_answers a JOIN survey_responses r"
                " ON r.id = a.response_id WHERE r.survey_id = ? AND a.choice IS NOT NULL GROUP BY 1, 2",
                (stored.id,),
            ):
                if 0 <= question < len(questions):
                    index = choice - 1 if questions[question].kind == "scale" else choice
                    if 0 <= index < len(counts[question]):
                        counts[question][index] = count
            for question, count in conn.execute(
                "SELECT a.question, count(DISTINCT a.response_id) FROM survey_answers a JOIN survey_responses r"
                " ON r.id = a.response_id WHERE r.survey_id = ? GROUP BY 1",
                (stored.id,),
            ):
                if 0 <= question < len(questions):
                    answered[question] = count
            for question, text in conn.execute(
                "SELECT a.question, a.text FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id"
                " WHERE r.survey_id = ? AND a.text IS NOT NULL ORDER BY a.response_id",
                (stored.id,),
            ):
                if 0 <= question < len(questions):
                    texts[question].append(text)
            return Results(responses, counts, answered, texts)

        return await self._db.run(work, long=True)

    async def held(self, telegram_id: int) -> int:
        """How many of this person's survey answers (with their name) and unfinished surveys are kept."""
        row = await self._db.fetchone(
            "SELECT (SELECT count(*) FROM survey_responses WHERE telegram_id = ?)"
            " + (SELECT count(*) FROM survey_progress WHERE telegram_id = ?)",
            (telegram_id, telegram_id),
        )
        return row[0] if row else 0
