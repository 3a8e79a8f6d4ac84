"""The knowledge base (知识库): answers imported by id, their search, and the direct answers (直接答复) given.

The search: SQLite FTS5 with the trigram tokenizer over each answer's titles, texts and keywords,
plus an exact lookup of each answer's keywords. Trigram terms need three characters, and couriers
write Chinese in two-character words (工资, 欠薪, 摔伤) with no spaces: so a courier's text is cut
into its three-character windows (FTS5 terms) and its two- to four-character windows and English
words (looked up among the keywords, an index on (keyword, answer)). An answer is shown when its
keywords and the windows its text holds add up to MIN_SCORE.

Measured (bench/answers.py, 10,000 answers, 100,000 texts, 2 shared cores): p99 32 ms, p50 4.5 ms,
against 1.9 s p99 for a plain LIKE scan of the same terms. jieba (0.42.1, its words in an FTS5
unicode61 index) found candidates in 16 ms p99 but costs a 0.6-1.1 s dictionary load and 70 MiB
at start, has had no release since 2020, and on the sandbox's answers put the right one first for
15 of 16 couriers' texts with the keywords (13 without), where trigrams and keywords did for 16.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.answers_file import AnswerRecord
from storage.db import Database
from storage.dialect import is_postgresql, json_int
from storage.models import to_ts

IMPORT_BATCH = 200
# A courier's text beyond this is the story's detail: the first part says what it is about.
SEARCHED_CHARS = 300
FTS_CANDIDATES = 30
KEYWORD_CANDIDATES = 30
KEYWORD_WEIGHT = 3
CATEGORY_BONUS = 1
MIN_SCORE = 4
# English words that say nothing about what a text is about.
_STOP = frozenset(
    "the and for with that this have has had not was were are you your our they them his her him she "
    "from but all any can could would should will what when where which who how why there their then "
    "been being into about after before over under again very just also more most some such only own "
    "same than too out off does did doing done get got its it's i'm don't didn't can't won't isn't "
    "hasn hadn haven didn doesn wasn weren isn won wouldn couldn shouldn please help need want".split()
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9][a-z0-9']*")
_SUFFIXES = ("ing", "ied", "ies", "ed", "es", "s")


@dataclass(frozen=True)
class Terms:
    """What is searched for in a text: FTS5 trigram terms, and keyword candidates (looked up exactly)."""

    trigrams: tuple[str, ...]
    keys: tuple[str, ...]


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def terms_of(text: str) -> Terms:
    """The search terms of a courier's text (its first SEARCHED_CHARS characters)."""
    text = unicodedata.normalize("NFKC", text[:SEARCHED_CHARS]).casefold()
    trigrams: dict[str, None] = {}
    keys: dict[str, None] = {}
    for run in _CJK.findall(text):
        for size in (2, 3, 4):
            for start in range(len(run) - size + 1):
                keys[run[start : start + size]] = None
        for start in range(len(run) - 2):
            trigrams[run[start : start + 3]] = None
    for word in _WORD.findall(text):
        word = word.replace("'", "")
        if len(word) < 3 or word in _STOP or word.isdigit():
            continue
        stem = _stem(word)
        keys[word] = None
        keys[stem] = None
        trigrams[stem] = None
    return Terms(tuple(trigrams), tuple(keys))


def fts_query(trigrams: Iterable[str]) -> str:
    """An FTS5 query matching any of the terms, each quoted as a phrase."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in trigrams)


@dataclass(frozen=True)
class Answer:
    """An answer as stored."""

    id: str
    category: str
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    keywords: tuple[str, ...]
    active: bool

    def title(self, lang: str) -> str:
        """The title in `lang`."""
        return self.title_en if lang == "en" else self.title_zh

    def text(self, lang: str) -> str:
        """The text in `lang`."""
        return self.text_en if lang == "en" else self.text_zh

    def body(self) -> str:
        """Everything the search reads of it, in one string (casefolded)."""
        parts = (self.title_zh, self.title_en, self.text_zh, self.text_en, *self.keywords)
        return unicodedata.normalize("NFKC", " ".join(parts)).casefold()

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Answer:
        """Build from an `answers` row."""
        return cls(
            row["id"],
            row["category"],
            row["title_zh"],
            row["title_en"],
            row["text_zh"],
            row["text_en"],
            tuple(json.loads(row["keywords"])),
            bool(row["active"]),
        )


@dataclass(frozen=True)
class Imported:
    """What an import did."""

    added: int
    updated: int


_UPSERT = (
    "INSERT INTO answers (id, category, title_zh, title_en, text_zh, text_en, keywords, active)"
    " VALUES (:id, :category, :title_zh, :title_en, :text_zh, :text_en, :keywords, coalesce(:active, 1))"
    " ON CONFLICT (id) DO UPDATE SET category = excluded.category, title_zh = excluded.title_zh,"
    " title_en = excluded.title_en, text_zh = excluded.text_zh, text_en = excluded.text_en,"
    " keywords = excluded.keywords, active = coalesce(:active, answers.active)"
)


def _row(record: AnswerRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "category": record.category,
        "title_zh": record.title_zh,
        "title_en": record.title_en,
        "text_zh": record.text_zh,
        "text_en": record.text_en,
        "keywords": json.dumps(list(record.keywords), ensure_ascii=False),
        "active": None if record.active is None else int(record.active),
    }


def scored(answers: Iterable[Answer], terms: Terms, hits: dict[str, set[str]], category: str | None) -> list[Answer]:
    """The answers that reach MIN_SCORE, best first: keywords named, trigram terms held, the category chosen."""
    ranked = []
    for answer in answers:
        body = answer.body()
        score = KEYWORD_WEIGHT * len(hits.get(answer.id, ())) + sum(1 for t in terms.trigrams if t in body)
        if score and answer.category == category:
            score += CATEGORY_BONUS
        if score >= MIN_SCORE:
            ranked.append((-score, answer.id, answer))
    return [answer for *_, answer in sorted(ranked, key=lambda r: r[:2])]


def search_conn(conn: sqlite3.Connection, text: str, category: str | None, limit: int) -> list[Answer]:
    """The active answers matching a courier's text, best first (at most `limit`), on an open connection."""
    terms = terms_of(text)
    if not terms.keys and not terms.trigrams:
        return []
    hits: dict[str, set[str]] = {}
    if terms.keys:
        # A common word (工资) names a good share of a large knowledge base: only the answers naming most
        # of the text's keywords go on to be read and scored.
        marks = ",".join("?" * len(terms.keys))
        for answer_id, keywords in conn.execute(
            f"SELECT answer_id, group_concat(keyword, ?) FROM answer_keywords WHERE keyword IN ({marks})"
            " GROUP BY answer_id ORDER BY count(*) DESC, answer_id LIMIT ?",
            ("\x1f", *terms.keys, KEYWORD_CANDIDATES),
        ):
            hits[answer_id] = set(keywords.split("\x1f"))
    rowids: list[int] = []
    found: list[str] = []
    if terms.trigrams and is_postgresql(conn):
        found = _trigram_candidates_postgresql(conn, terms.trigrams)
    elif terms.trigrams:
        rowids = [
            r[0]
            for r in conn.execute(
                "SELECT rowid FROM answer_index WHERE answer_index MATCH ? ORDER BY rank LIMIT ?",
                (fts_query(terms.trigrams), FTS_CANDIDATES),
            )
        ]
    if not hits and not rowids and not found:
        return []
    ids = list(dict.fromkeys([*hits, *found]))
    # Two lookups, by key and by rowid: one statement with "id IN (...) OR rowid IN (...)" scans the table.
    rows = {
        row["id"]: row
        for sql, keys in (
            (f"SELECT * FROM answers WHERE id IN ({','.join('?' * len(ids))})", ids),
            (f"SELECT * FROM answers WHERE rowid IN ({','.join('?' * len(rowids))})", rowids),
        )
        if keys
        for row in conn.execute(sql, keys)
        if row["active"]
    }
    return scored(map(Answer.from_row, rows.values()), terms, hits, category)[:limit]


def _trigram_candidates_postgresql(conn: Any, trigrams: tuple[str, ...]) -> list[str]:
    """FTS5's candidates on PostgreSQL: the answers whose text holds most of the terms (any case), found
    through the pg_trgm index on answer_index (migration 23's counterpart)."""
    patterns = ["%" + re.sub(r"([\\%_])", r"\\\1", t) + "%" for t in trigrams]
    held = " + ".join("(body ILIKE ?)::int" for _ in patterns)
    anywhere = " OR ".join("body ILIKE ?" for _ in patterns)
    return [
        r[0]
        for r in conn.execute(
            f"SELECT answer_id FROM answer_index WHERE {anywhere} ORDER BY {held} DESC, answer_id LIMIT ?",
            (*patterns, *patterns, FTS_CANDIDATES),
        )
    ]


class Answers:
    """The answers repository, and the direct answers given before filing."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def import_records(self, records: Iterable[AnswerRecord]) -> Imported:
        """Insert or update checked answers by id; answers the file does not name stay as they are."""
        rows = [_row(r) for r in records]

        def work(conn: sqlite3.Connection, batch: list[dict[str, object]]) -> int:
            before = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
            conn.executemany(_UPSERT, batch)
            return conn.execute("SELECT count(*) FROM answers").fetchone()[0] - before

        added = 0
        for start in range(0, len(rows), IMPORT_BATCH):
            batch = rows[start : start + IMPORT_BATCH]
            added += await self._db.write(lambda conn, batch=batch: work(conn, batch), long=True)
        return Imported(added, len(rows) - added)

    async def search(self, text: str, category: str | None = None, limit: int = 3) -> list[Answer]:
        """The active answers matching a courier's text, best first (the chosen category's first on a tie)."""
        return await self._db.run(lambda conn: search_conn(conn, text, category, limit))

    async def get(self, answer_id: str) -> Answer | None:
        """One answer by id."""
        row = await self._db.fetchone("SELECT * FROM answers WHERE id = ?", (answer_id,))
        return None if row is None else Answer.from_row(row)

    async def all(self) -> list[Answer]:
        """Every answer, active or withdrawn, by category and id."""
        return [Answer.from_row(r) for r in await self._db.fetchall("SELECT * FROM answers ORDER BY category, id")]

    async def record_direct_answer(
        self, courier_id: int, started: int, *, category: str, answer_id: str, now: datetime
    ) -> bool:
        """End the courier's draft (begun at `started`) as answered before filing, once: the draft goes and a
        direct answer (直接答复) is counted, with no person and none of their words; False if the draft was
        gone already (a second tap)."""

        def work(conn: sqlite3.Connection) -> bool:
            taken = conn.execute(
                f"DELETE FROM drafts WHERE courier_id = ? AND step = 'answers' AND {json_int(conn, 'data', 'started')} = ?",
                (courier_id, started),
            ).rowcount
            if taken != 1:
                return False
            conn.execute(
                "INSERT INTO direct_answers (category, answer_id, at) VALUES (?, ?, ?)",
                (category, answer_id, to_ts(now)),
            )
            return True

        return await self._db.write(work)

    async def direct_answers(self, start: datetime, end: datetime) -> int:
        """How many direct answers were given in [start, end)."""
        row = await self._db.fetchone(
            "SELECT count(*) FROM direct_answers WHERE at >= ? AND at < ?", (to_ts(start), to_ts(end))
        )
        return row[0] if row else 0
