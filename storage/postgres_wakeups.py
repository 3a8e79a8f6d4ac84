"""New outbox rows committed by any worker wake this process's sender: PostgreSQL's LISTEN/NOTIFY.

With several workers, the one that sends the outbox is often not the one whose update wrote a
notice; without a wake-up the notice would wait for the sender's next round (up to 2 seconds). A
trigger on the outbox (migration "new outbox rows wake the sender ...") notifies `appeals_outbox`
at each commit that added rows; here a thread listens on a connection of its own and calls `wake`
on the event loop. A lost connection is opened again; meanwhile the sender's rounds carry on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from storage.connection_trouble import ConnectionTrouble

CHANNEL = "appeals_outbox"
POLL_S = 1.0  # how soon the thread sees that it should stop
RECONNECT_S = 5.0
CONNECT_TIMEOUT_S = 5


class OutboxWakeups:
    """A thread that calls `wake` on `loop` for every NOTIFY on the outbox's channel."""

    def __init__(self, url: str, wake: Callable[[], None], loop: asyncio.AbstractEventLoop) -> None:
        self._url = url
        self._wake = wake
        self._loop = loop
        self._stop = threading.Event()
        self.listening = threading.Event()  # set once LISTEN is in force (tests wait on it)
        self._thread = threading.Thread(target=self._listen, name="outbox-wakeups", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        trouble = ConnectionTrouble("the outbox listener's connection")
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    trouble.answered()
                    while not self._stop.is_set():
                        if any(True for _ in conn.notifies(timeout=POLL_S)):
                            self._call_wake()
            except psycopg.Error as error:
                self.listening.clear()
                trouble.failed(error)
                self._stop.wait(RECONNECT_S)

    def _call_wake(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # the loop has closed: the bot is stopping
            self._stop.set()

    def close(self) -> None:
        """Stop listening (the thread ends within POLL_S)."""
        self._stop.set()

    def join(self, timeout: float) -> Any:
        """Wait for the thread to end."""
        self._thread.join(timeout)
