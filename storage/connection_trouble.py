"""A connection retried in the background (the outbox sender's lock, the outbox listener) says once that
it failed and once that it answers again, however many times it is retried meanwhile: during a database
restart a line every round would bury the log."""

from __future__ import annotations

import logging

from storage.db import first_line

log = logging.getLogger(__name__)


class ConnectionTrouble:
    """The failing-or-not state of one background connection, and its two log lines."""

    def __init__(self, what: str) -> None:
        self._what = what
        self.failing = False

    def failed(self, error: BaseException) -> None:
        """The connection failed: say so, unless it was failing already."""
        if not self.failing:
            log.warning("%s failed: %s; trying again, quietly until it answers", self._what, first_line(error))
        self.failing = True

    def answered(self) -> None:
        """The connection answered: say so if it had been failing."""
        if self.failing:
            log.info("%s answers again", self._what)
        self.failing = False
