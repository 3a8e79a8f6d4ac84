"""`migrate-data`: a district's whole SQLite database copied into an empty PostgreSQL one, then checked.

Every table the migrations make is copied, parents before children (foreign keys), in batches, in one
PostgreSQL transaction: a failure leaves the target as it was. SQLite's own index tables are not
copied: the answers' FTS5 index and the stations' R*Tree (and their shadow tables) have plain
counterparts on PostgreSQL that its triggers fill as answers and stations arrive, as they fill
answer_keywords. Identity columns then continue after the largest id copied, every table's row count
is compared with the source's, and the invariant checker reads the copy where it can.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.backup import DatabaseInUse, serving
from storage.locations import Location

BATCH = 1000

# Tables filled by PostgreSQL's triggers from the rows copied (copying them too would double them).
DERIVED = {"answer_keywords": "made from the answers' keywords by a trigger as answers are copied"}


class MoveError(Exception):
    """Why the data cannot be moved (one line); nothing was written."""


@dataclass
class Moved:
    """What was copied: rows per table, what was left out and why, and the invariant checker's verdict."""

    copied: dict[str, int] = field(default_factory=dict)
    rebuilt: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    invariants: list[str] = field(default_factory=list)  # the checker's problems on the committed copy
    source_invariants: list[str] = field(default_factory=list)


def move(source: Location, target: Location, progress: Callable[[str], None] = lambda _line: None) -> Moved:
    """Copy the SQLite database `source` into the empty PostgreSQL database `target`; MoveError if refused."""
    if source.backend != "sqlite":
        raise MoveError(f"--from must be a SQLite database (sqlite:///PATH), not {source.shown()}")
    if target.backend != "postgresql":
        raise MoveError(f"--to must be a PostgreSQL database (postgresql://…), not {target.shown()}")
    path = Path(source.target)
    if not path.is_file():
        raise MoveError(f"{path} does not exist")
    try:
        # Exclusive: a bot serving the file would keep writing what the copy has already passed.
        with serving(path):
            return _move(path, target, progress)
    except DatabaseInUse as error:
        raise MoveError(f"{error}: stop it first (nothing was copied)") from None


def _move(path: Path, target: Location, progress: Callable[[str], None]) -> Moved:
    import psycopg

    from storage import postgres_migrations
    from storage.invariants import check_invariants

    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        _check_source(src, path)
        try:
            dst = psycopg.connect(target.target, autocommit=True, connect_timeout=5)
        except psycopg.Error as error:
            raise MoveError(f"{target.shown()} cannot be opened ({target.masked(_first_line(error))})") from None
        with dst:
            version = postgres_migrations.schema_version(dst)
            if version > postgres_migrations.LATEST:
                raise MoveError(
                    f"{target.shown()} is at schema version {version}, newer than this bot's"
                    f" ({postgres_migrations.LATEST}): upgrade the bot"
                )
            full = _tables_with_rows(dst)
            if full:
                raise MoveError(
                    f"{target.shown()} is not empty ({', '.join(full[:5])}{' …' if len(full) > 5 else ''} have rows):"
                    " migrate-data copies into an empty database only (nothing was copied)"
                )
            if version < postgres_migrations.LATEST:
                progress(f"migrating {target.shown()} from schema version {version} to {postgres_migrations.LATEST}")
                try:
                    postgres_migrations.migrate(dst)
                except psycopg.errors.InsufficientPrivilege as error:
                    raise MoveError(
                        f"the schema cannot be made in {target.shown()} ({_first_line(error)}): the bot's role must own"
                        " the database (createdb --owner=ROLE NAME, docs/deploy.md §8); nothing was copied"
                    ) from None
                except psycopg.Error as error:
                    raise MoveError(f"the schema cannot be made in {target.shown()} ({_first_line(error)})") from None
            src.execute("BEGIN")  # one snapshot of the source for every table
            try:
                moved = _copy(src, dst, progress)
                # The planner's statistics of the tables just filled: without them the first hours'
                # queries are planned blind (the transitions benchmark ran 1.7x slower).
                dst.execute("ANALYZE")
                # The copy, committed, checked as `restore` checks a file: on a connection of its own.
                moved.invariants = check_invariants(target)
                return moved
            except psycopg.Error as error:
                raise MoveError(f"the copy failed and was undone: {_first_line(error)}") from None
            finally:
                src.execute("ROLLBACK")
    except sqlite3.DatabaseError as error:
        raise MoveError(f"{path} cannot be read as a SQLite database ({error})") from None
    finally:
        src.close()


def _check_source(src: sqlite3.Connection, path: Path) -> None:
    from storage.migrations import LATEST

    version = src.execute("PRAGMA user_version").fetchone()[0]
    if version > LATEST:
        raise MoveError(f"{path} is at schema version {version}, newer than this bot's ({LATEST}): upgrade the bot")
    if version < LATEST:
        raise MoveError(
            f"{path} is at schema version {version}, older than this bot's ({LATEST}): start this bot on it once"
            " (it migrates at start), stop it, then move it"
        )


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _tables_with_rows(dst: Any) -> list[str]:
    """The PostgreSQL tables (but the schema's version) holding any row."""
    names = [
        row[0]
        for row in dst.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]
    return [
        name
        for name in names
        if name != "schema_version" and dst.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}")').fetchone()[0]
    ]


def _plan(src: sqlite3.Connection) -> tuple[list[str], dict[str, str]]:
    """The tables to copy, parents first, and the ones left out with why."""
    rows = src.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    virtual = {name: sql.split("USING", 1)[1].split("(", 1)[0].strip() for name, sql in rows if "VIRTUAL TABLE" in sql}
    skipped: dict[str, str] = {}
    tables: list[str] = []
    shadows: dict[str, int] = dict.fromkeys(virtual, 0)
    for name, _sql in rows:
        owner = next((v for v in virtual if name.startswith(f"{v}_")), None)
        if owner is not None:
            shadows[owner] += 1
        elif name.startswith("sqlite_"):
            skipped[name] = "SQLite's own bookkeeping"
        elif name in DERIVED:
            skipped[name] = DERIVED[name]
        elif name not in virtual:
            tables.append(name)
    for name, kind in virtual.items():
        skipped[name] = (
            f"SQLite's {kind.upper()} index (with its {shadows[name]} tables of storage): PostgreSQL's"
            " counterpart is filled by its triggers from the rows copied"
        )
    parents = {
        table: {r[2] for r in src.execute(f'PRAGMA foreign_key_list("{table}")') if r[2] != table} for table in tables
    }
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:
            raise MoveError(f"the tables' foreign keys go round: {sorted(set(tables) - set(ordered))}")
        ordered += ready
    return ordered, skipped


def _copy(src: sqlite3.Connection, dst: Any, progress: Callable[[str], None]) -> Moved:
    from storage.invariants import check_invariants

    tables, skipped = _plan(src)
    moved = Moved(skipped=skipped, source_invariants=check_invariants(src))
    with dst.transaction():
        for table in tables:
            moved.copied[table] = _copy_table(src, dst, table)
            progress(f"  {table:<22} {moved.copied[table]:>9} rows")
        _continue_identities(dst)
        for table in DERIVED:
            moved.rebuilt[table] = dst.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        mismatched = []
        for table in [*moved.copied, *moved.rebuilt]:
            here = dst.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            there = src.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if here != there:
                mismatched.append(f"{table}: {there} in SQLite, {here} copied")
        if mismatched:
            raise MoveError(f"the row counts differ, so the copy was undone: {'; '.join(mismatched)}")
    return moved


def _copy_table(src: sqlite3.Connection, dst: Any, table: str) -> int:
    """Copy one table's rows (a row that refers to another of its table arrives after that one); how many."""
    columns = [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]
    theirs = {
        r[0]
        for r in dst.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        )
    }
    if set(columns) != theirs:
        raise MoveError(
            f"table {table} has other columns on PostgreSQL ({', '.join(sorted(set(columns) ^ theirs))}): not copied"
        )
    keys = [r[1] for r in sorted(src.execute(f'PRAGMA table_info("{table}")'), key=lambda r: r[5]) if r[5]]
    # (referring column, referred column) of each foreign key into the table itself, e.g. appeals.merged_into.
    own = [
        (columns.index(r[3]), columns.index(r[4]))
        for r in src.execute(f'PRAGMA foreign_key_list("{table}")')
        if r[2] == table
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(f'"{k}"' for k in keys) or "rowid"
    cursor = src.execute(f'SELECT {listed} FROM "{table}" ORDER BY {order}')
    # A self-reference cannot be written first and filled in later: a CHECK may tie it to another
    # column (a merged appeal has merged_into), so such a row waits until the row it names is in.
    held: list[tuple[Any, ...]] = []
    present: list[set[Any]] = [set() for _ in own]
    count = 0
    with dst.cursor() as out:
        with out.copy(f'COPY "{table}" ({listed}) FROM STDIN') as copy:
            while batch := cursor.fetchmany(BATCH):
                for row in batch:
                    if any(row[referring] is not None for referring, _ in own):
                        held.append(row)
                        continue
                    copy.write_row(row)
                    for known, (_, referred) in zip(present, own, strict=True):
                        known.add(row[referred])
                count += len(batch)
        while held:
            ready = [r for r in held if all(r[a] is None or r[a] in k for k, (a, _) in zip(present, own, strict=True))]
            if not ready:
                raise MoveError(f"rows of {table} refer to each other in a circle: not copied")
            with out.copy(f'COPY "{table}" ({listed}) FROM STDIN') as copy:
                for row in ready:
                    copy.write_row(row)
                    for known, (_, referred) in zip(present, own, strict=True):
                        known.add(row[referred])
            taken = {id(r) for r in ready}
            held = [r for r in held if id(r) not in taken]
    return count


def _continue_identities(dst: Any) -> None:
    """Each identity column's next value is one past the largest copied (else the next insert would collide)."""
    identities = dst.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall()
    for table, column in identities:
        dst.execute(
            f'SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max("{column}"), 0) + 1, false) FROM "{table}"',
            (f'"{table}"', column),
        )
