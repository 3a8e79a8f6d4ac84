"""The schema version a database holds, read without migrating it: `check-config` and `run` ask before starting."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.locations import Location

CONNECT_TIMEOUT_S = 5


class DatabaseUnreachable(Exception):
    """The database exists in the config but cannot be read (a server down, a file that is not SQLite's)."""


@dataclass(frozen=True)
class SchemaState:
    """The database's schema version (None: no database yet) beside the code's latest."""

    version: int | None
    latest: int

    @property
    def newer(self) -> bool:
        """Whether the database was migrated by a newer bot than this one."""
        return self.version is not None and self.version > self.latest

    def describe(self) -> str:
        """One line for check-config."""
        if not self.version:
            return f"none yet: made at start (this bot's schema version {self.latest})"
        if self.newer:
            return f"version {self.version}, NEWER than this bot's {self.latest}: upgrade the bot"
        if self.version < self.latest:
            return f"version {self.version}, behind this bot's {self.latest}: migrated at start"
        return f"version {self.version}, this bot's"

    def refusal(self, where: Location) -> str:
        """The one-line error for a database newer than the code."""
        return (
            f"the database {where.shown()} is at schema version {self.version}, newer than this bot's"
            f" ({self.latest}): upgrade the bot (a newer bot migrated it; this one would misread it)"
        )


def schema_state(where: Location) -> SchemaState:
    """The schema version `where` holds and the code's latest; DatabaseUnreachable if it cannot be read."""
    if where.backend == "postgresql":
        return SchemaState(_postgresql_version(where), _latest("postgresql"))
    return SchemaState(_sqlite_version(where), _latest("sqlite"))


def _latest(backend: str) -> int:
    if backend == "postgresql":
        from storage.postgres_migrations import LATEST
    else:
        from storage.migrations import LATEST
    return LATEST


def _sqlite_version(where: Location) -> int | None:
    path = Path(where.target)
    if where.target == ":memory:" or not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise DatabaseUnreachable(f"{path} cannot be read as a SQLite database ({error})") from None


def _postgresql_version(where: Location) -> int:
    import psycopg

    from storage.postgres_migrations import schema_version

    try:
        with psycopg.connect(where.target, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            return schema_version(conn)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatabaseUnreachable(f"{where.shown()} cannot be reached ({reason})") from None
