"""Updates from one chat or person, or pressed about one appeal, station or hot spot, are handled one
at a time in the order they came; everyone else's run side by side.

python-telegram-bot either handles every update one after another (one slow import or export then
holds everybody back) or, with `concurrent_updates`, all of them at once (a double tap, or a text
and a press from the same person, would then race). This processor sits in between, and both
polling (through the Application's update queue) and the webhook (bot/webhook.py) go through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from handlers.callbacks import Family, decode

# Updates handled at once across different people; more wait in python-telegram-bot's semaphore.
MAX_CONCURRENT_UPDATES = 32
# Presses whose argument names something several people share: two coordinators closing one
# station, or making one hot spot into an appeal, take turns too.
_SHARED = {Family.STATION_ADMIN: "station", Family.HOTSPOT: "hotspot"}


def order_keys(update: object) -> frozenset[str]:
    """What an update must wait its turn for: its chat, its sender, and what a button press is about."""
    if not isinstance(update, Update):
        return frozenset({"other"})
    keys = set()
    if update.effective_chat is not None:
        keys.add(f"chat:{update.effective_chat.id}")
    if update.effective_user is not None:
        keys.add(f"user:{update.effective_user.id}")
    query = update.callback_query
    press = decode(query.data) if query is not None else None
    if press is not None and press.kind is Family.APPEAL:
        keys.add(f"appeal:{press.appeal_id}")
    elif press is not None and press.kind in _SHARED and press.arg:
        keys.add(f"{_SHARED[press.kind]}:{press.arg}")
    return frozenset(keys)


class OrderedUpdates(BaseUpdateProcessor):
    """Each update waits for the earlier updates that share a key with it (see `order_keys`), then runs."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # The newest update holding each key, as a future set when it is done.
        self._last: dict[str, asyncio.Future[None]] = {}
        self.waiting = 0  # updates waiting for an earlier one with a key in common

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the earlier updates with a key in common, then handle this one."""
        keys = order_keys(update)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Taken and replaced with no await in between: the order is the order updates arrived in.
        earlier = {self._last[key] for key in keys if key in self._last}
        for key in keys:
            self._last[key] = done
        started = False
        try:
            if earlier:
                self.waiting += 1
                try:
                    # asyncio.wait, not await: a cancelled waiter must not cancel an earlier update's future.
                    await asyncio.wait(earlier)
                finally:
                    self.waiting -= 1
            started = True
            await coroutine
        finally:
            pending = [f for f in earlier if not f.done()]
            if started or not pending:
                self._finish(done, keys)
            else:
                # Cancelled while waiting (a shutdown): the updates behind it still wait for those before it.
                asyncio.gather(*pending).add_done_callback(lambda _: self._finish(done, keys))
            if not started and hasattr(coroutine, "close"):
                coroutine.close()  # never run: no "never awaited" warning

    def _finish(self, done: asyncio.Future[None], keys: frozenset[str]) -> None:
        done.set_result(None)
        for key in keys:
            if self._last.get(key) is done:
                del self._last[key]

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""
