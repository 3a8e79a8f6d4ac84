"""The few expressions SQLite and PostgreSQL spell differently, each written once for both.

The storage code writes SQLite's SQL; PostgreSQL reads most of it as it is (storage/postgres.py
turns placeholders and `IS [NOT] ?` into its own, and storage/postgres_migrations.py gives it
SQLite's scalar min/max and group_concat). What is left is JSON, which SQLite types as it reads it
and PostgreSQL needs typed: a unit of work asks here, with its connection, for the expression. Keys
and columns are the code's own names, never a caller's text.
"""

from __future__ import annotations

from typing import Any


def is_postgresql(conn: Any) -> bool:
    """Whether `conn` (what a unit of work is handed) is PostgreSQL's."""
    return getattr(conn, "dialect", "sqlite") == "postgresql"


def json_int(conn: Any, column: str, key: str) -> str:
    """The integer at `key` of the JSON object in `column` (NULL where it is missing)."""
    if is_postgresql(conn):
        return f"(({column})::jsonb ->> '{key}')::bigint"
    return f"json_extract({column}, '$.{key}')"


def json_present(conn: Any, column: str, key: str) -> str:
    """Whether `key` of the JSON object in `column` holds a value (not missing, not null)."""
    if is_postgresql(conn):
        return f"(({column})::jsonb ->> '{key}') IS NOT NULL"
    return f"json_extract({column}, '$.{key}') IS NOT NULL"


def json_array_length(conn: Any, column: str, key: str) -> str:
    """The length of the array at `key` of the JSON object in `column` (NULL where it is missing)."""
    if is_postgresql(conn):
        return f"jsonb_array_length(({column})::jsonb -> '{key}')"
    return f"json_array_length({column}, '$.{key}')"


def json_without(conn: Any, column: str, *keys: str) -> str:
    """The JSON object in `column` (text) with these keys taken out."""
    if is_postgresql(conn):
        removed = "".join(f" - '{key}'" for key in keys)
        return f"(({column})::jsonb{removed})::text"
    paths = ", ".join(f"'$.{key}'" for key in keys)
    return f"json_remove({column}, {paths})"


def json_equal(conn: Any, left: str, right: str) -> str:
    """Whether two JSON texts hold the same value, whatever their spacing."""
    if is_postgresql(conn):
        return f"({left})::jsonb = ({right})::jsonb"
    return f"json({left}) = json({right})"


def json_rows(conn: Any, *values: str) -> str:
    """An aggregate: the JSON array (text) of one array of `values` per row, in order; '[]' for none."""
    if is_postgresql(conn):
        return f"coalesce(json_agg(json_build_array({', '.join(values)}))::text, '[]')"
    return f"json_group_array(json_array({', '.join(values)}))"


def byte_length(conn: Any, column: str) -> str:
    """The length of the text in `column` in bytes (UTF-8), not characters."""
    if is_postgresql(conn):
        return f"octet_length({column})"
    return f"length(CAST({column} AS BLOB))"


def join_in_order(conn: Any) -> str:
    """A join that keeps the written order of the loop: SQLite's CROSS JOIN does (its planner, with no
    statistics, may otherwise walk the larger table first); PostgreSQL's planner needs no hint, and reads
    CROSS JOIN with ON as an error."""
    return "JOIN" if is_postgresql(conn) else "CROSS JOIN"


def distinct(conn: Any, left: str, right: str) -> str:
    """Whether two values differ, NULL being a value like any other (SQLite's `IS NOT`)."""
    if is_postgresql(conn):
        return f"({left}) IS DISTINCT FROM ({right})"
    return f"({left}) IS NOT ({right})"


def table_names(conn: Any) -> str:
    """A query of one column, `name`: the database's tables (the bot's schema's, on PostgreSQL)."""
    if is_postgresql(conn):
        return (
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return "SELECT name FROM sqlite_master WHERE type = 'table'"


def tables_this_transaction_touched(conn: Any, *, read_too: bool = False) -> list[str]:
    """The tables the transaction so far changed or deleted rows of (or read, if `read_too`): on PostgreSQL,
    where old row versions stay in a table's files until it is rewritten; none on SQLite, whose
    secure_delete overwrites them as it goes."""
    if not is_postgresql(conn):
        return []
    read = " + seq_scan + coalesce(idx_scan, 0)" if read_too else ""
    rows = conn.execute(
        "SELECT relname FROM pg_stat_xact_user_tables WHERE schemaname = current_schema()"
        f" AND n_tup_upd + n_tup_del{read} > 0 ORDER BY relname"
    ).fetchall()
    return [row[0] for row in rows]
