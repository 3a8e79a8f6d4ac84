"""Recording the statements repository code runs, so a benchmark can replay them on plain sqlite3."""

from __future__ import annotations

import sqlite3
from typing import Any


class Recorder:
    """A connection that remembers every statement and its parameters, for the plain replay."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.log: list[tuple[str, Any]] = []

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self.log.append((sql, params))
        return self.conn.execute(sql, params)

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self)


class RecordingCursor:
    """A cursor of a Recorder: its statements go into the same log."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._cursor = recorder.conn.cursor()

    @property
    def row_factory(self) -> Any:
        return self._cursor.row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:
        self._cursor.row_factory = factory

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self._recorder.log.append((sql, params))
        return self._cursor.execute(sql, params)
