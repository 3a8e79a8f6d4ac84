"""The schema version a database holds, read without migrating it: `check-config` and `run` ask before starting."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.locations import Location

CONNECT_TIMEOUT_S = 5


class DatabaseUnreachable(Exception):
    """The configured database cannot be used: a server down, a file that is not SQLite's, a folder not writable."""


@dataclass(frozen=True)
class SchemaState:
    """The database's schema version (None: no database yet) beside the code's latest."""

    version: int | None
    latest: int
    made: str = ""  # where a start makes the schema, if in something new: "a new file", "a new file; /x is made too"

    @property
    def newer(self) -> bool:
        """Whether the database was migrated by a newer bot than this one."""
        return self.version is not None and self.version > self.latest

    def describe(self) -> str:
        """One line for check-config."""
        if not self.version:
            made = f", in {self.made}" if self.made else ""
            return f"none yet: made at start (this bot's schema version {self.latest}){made}"
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
    """The schema version `where` holds and the code's latest; DatabaseUnreachable if it cannot be used."""
    if where.backend == "postgresql":
        return SchemaState(_postgresql_version(where), _latest("postgresql"))
    path = Path(where.target)
    if where.target == ":memory:":
        return SchemaState(None, _latest("sqlite"))
    if not path.exists():
        return SchemaState(None, _latest("sqlite"), _creatable(path))
    return SchemaState(_sqlite_version(path), _latest("sqlite"))


def _latest(backend: str) -> int:
    if backend == "postgresql":
        from storage.postgres_migrations import LATEST
    else:
        from storage.migrations import LATEST
    return LATEST


def _creatable(path: Path) -> str:
    """What a start makes to create the SQLite file `path`; DatabaseUnreachable if it could not (a start makes folders)."""
    folder, missing = path.parent, None
    while not folder.exists():
        folder, missing = folder.parent, folder
    if not folder.is_dir():
        raise DatabaseUnreachable(f"the database {path} cannot be created: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseUnreachable(
            f"the database {path} cannot be created: the folder {folder} is not writable by this user"
        )
    return f"a new file; {missing} is made too" if missing else "a new file"


def _sqlite_version(path: Path) -> int:
    if not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseUnreachable(f"the database {path} is not readable and writable by this user")
    # SQLite keeps its write-ahead log and the bot its lock file beside the database.
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseUnreachable(
            f"the database {path} cannot be written: its folder {path.parent} is not writable by this user"
        )
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise DatabaseUnreachable(f"the database {path} cannot be read as a SQLite database ({error})") from None


def _postgresql_version(where: Location) -> int:
    import psycopg

    from storage.postgres_migrations import schema_version

    try:
        with psycopg.connect(where.target, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            return schema_version(conn)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatabaseUnreachable(f"the database {where.shown()} cannot be opened ({where.masked(reason)})") from None
