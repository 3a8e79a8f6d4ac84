"""Backing up a live SQLite database and putting a copy back, checked first; and the lock that says a bot serves it.

A backup goes through SQLite's online backup API in one step: in WAL mode that is one read
transaction, so the copy is the database as of one moment, while the bot goes on writing (its
writers never wait for a reader). A restore checks the copy (SQLite's integrity check, its schema
version, the invariants), brings it to the code's schema as a start would, and moves the database
it replaces aside, with its WAL, rather than deleting it.

A bot (or the sandbox) that serves a database holds a lock on a file beside it (`<database>.bot-lock`)
for as long as it runs, and so do a restore and `migrate-data`: a second bot on the same file, a
restore under a running bot and a bot started during a restore are all refused. The kernel drops
the lock when the process dies, however it dies.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.invariants import check_invariants
from storage.locations import Location
from storage.migrations import LATEST, migrate, schema_version

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a restore cannot tell that a bot is running
    fcntl = None  # type: ignore[assignment]

SHOWN_PROBLEMS = 10


class CopyError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


class DatabaseInUse(CopyError):
    """A bot is serving the database (or a restore is under way)."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore copied."""

    path: Path
    schema: int
    appeals: int
    size: int
    migrated_from: int | None = None  # a restore: the copy's own schema version, if it was older
    set_aside: Path | None = None  # a restore: where the database it replaced now is


def lock_path(database: Path) -> Path:
    """The lock file beside a database."""
    return database.with_name(database.name + ".bot-lock")


def serving_database(where: Location) -> contextlib.AbstractContextManager[None]:
    """`serving` for the configured database: its SQLite file's lock; none on PostgreSQL (which `restore`
    never replaces), where a lock beside the config's unused `path` would only litter the folder."""
    return serving(where.target) if where.backend == "sqlite" else contextlib.nullcontext()


@contextlib.contextmanager
def serving(database: str | Path) -> Iterator[None]:
    """Hold the database's lock while a bot serves it, or a restore or a copy works on it; DatabaseInUse if taken."""
    if str(database) == ":memory:" or fcntl is None:
        yield
        return
    path = lock_path(Path(database))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(f"{database} is in use by a running bot (or a restore, or migrate-data)") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise CopyError(f"{path} does not exist or is not a file")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _appeals(conn: sqlite3.Connection) -> int:
    try:
        return conn.execute("SELECT count(*) FROM appeals").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """SQLite's online backup of `source` into a new file `target`, left in rollback-journal mode (one file)."""
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)  # one step: one read transaction, one consistent moment
        dest.execute("PRAGMA journal_mode = DELETE")
    finally:
        dest.close()


def backup(database: Path, target: Path, *, overwrite: bool = False) -> Copied:
    """Copy the live database at `database` to `target`, consistently, while a bot may be writing."""
    if target.resolve() == database.resolve():
        raise CopyError(f"{target} is the database itself")
    if target.exists() and not overwrite:
        raise CopyError(f"{target} already exists (give --force to replace it)")
    if not target.parent.is_dir():
        raise CopyError(f"the folder {target.parent} does not exist")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        source = _connect_read_only(database)
        try:
            _copy(source, partial)
        finally:
            source.close()
        check = sqlite3.connect(partial)
        try:
            copied = Copied(target, schema_version(check), _appeals(check), partial.stat().st_size)
        finally:
            check.close()
        os.replace(partial, target)
    except sqlite3.DatabaseError as error:
        partial.unlink(missing_ok=True)
        raise CopyError(f"{database} could not be copied: {error}") from None
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CopyError(f"{target} could not be written: {error.strerror or error}") from None
    return copied


def problems_in_copy(conn: sqlite3.Connection) -> list[str]:
    """Why a copy cannot be put back: damage, a schema newer than the code, broken invariants; [] if none."""
    try:
        verdict = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as error:
        return [f"damaged: {error}"]
    if verdict != ["ok"]:
        return [f"damaged: {line}" for line in verdict]
    version = schema_version(conn)
    if version > LATEST:
        return [f"its schema version {version} is newer than this bot's ({LATEST}): upgrade the bot first"]
    if version == 0:
        return ["it is not an appeals bot database (no schema)"]
    return []


def restore(copy: Path, database: Path, *, now: datetime | None = None) -> Copied:
    """Put the backup `copy` in place of `database` after checking it; the database it replaces is set aside."""
    if copy.resolve() == database.resolve():
        raise CopyError(f"{copy} is the database itself")
    if not database.parent.is_dir():
        raise CopyError(f"the folder {database.parent} does not exist")
    with serving(database):
        incoming = database.with_name(database.name + ".restoring")
        for leftover in _family(incoming):
            leftover.unlink(missing_ok=True)
        try:
            copied = _checked_copy(copy, incoming)
            aside = _set_aside(database, now or datetime.now(UTC))
            os.replace(incoming, database)
        except BaseException:
            for leftover in _family(incoming):
                leftover.unlink(missing_ok=True)
            raise
    return Copied(database, copied.schema, copied.appeals, database.stat().st_size, copied.migrated_from, aside)


def _checked_copy(copy: Path, incoming: Path) -> Copied:
    """Copy `copy` to `incoming`, check it, and migrate it to the code's schema; CopyError with the reasons."""
    try:
        source = _connect_read_only(copy)
        try:
            problems = problems_in_copy(source)
            if problems:
                raise CopyError(_refusal(copy, problems))
            _copy(source, incoming)
        finally:
            source.close()
        conn = sqlite3.connect(incoming, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            before = schema_version(conn)
            migrate(conn)
            problems = check_invariants(conn)
            if problems:
                raise CopyError(_refusal(copy, problems))
            return Copied(incoming, schema_version(conn), _appeals(conn), 0, before if before < LATEST else None)
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise CopyError(f"{copy} cannot be restored: {error}") from None


def _refusal(copy: Path, problems: list[str]) -> str:
    shown = "\n".join(f"  {problem}" for problem in problems[:SHOWN_PROBLEMS])
    more = f"\n  ... and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    return f"{copy} cannot be restored; nothing was changed:\n{shown}{more}"


def _family(database: Path) -> list[Path]:
    """The database file and the WAL and shared-memory files SQLite keeps beside it."""
    return [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]


def _set_aside(database: Path, now: datetime) -> Path | None:
    """Rename the database and its WAL together (SQLite finds a WAL by its database's name); where it went."""
    if not database.exists():
        return None
    stamp = f"{database.name}.before-restore-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    aside, number = database.with_name(stamp), 1
    while any(path.exists() for path in _family(aside)):  # two restores within a second keep both
        number += 1
        aside = database.with_name(f"{stamp}-{number}")
    for source, target in zip(_family(database), _family(aside), strict=True):
        if source.exists():
            os.replace(source, target)
    return aside
