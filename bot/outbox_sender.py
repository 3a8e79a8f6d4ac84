"""Send what the outbox holds, in order, paced to Telegram's limits, and record every outcome.

Delivery is at least once: a row is marked sent only after Telegram has accepted the message,
so a process that dies between the two sends that message again after a restart. The other
choice (mark, then send) would lose the notice instead, and a courier's appeal notice lost is
worse than one seen twice. The rows Telegram accepted are marked in one write at the end of each
batch, and before any pause for pacing: a death in between repeats at most the messages sent since
(a new appeal's notices to its unit's workers), where a write per message cost more than the sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application

from handlers.digest import digest_parts
from handlers.notices import NoticeMemo, render
from handlers.services import Services
from storage.models import OutboxMessage, Person, from_ts

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=5)
LAST_RETRY = timedelta(minutes=10)
MAX_ATTEMPTS = 12  # about an hour of backoff before a message is given up as dead


@dataclass
class Pacer:
    """Telegram's limits: 30 messages a second overall, 1 a second per chat, 20 a minute per group."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    per_second: int = 30
    chat_gap: float = 1.0
    group_per_minute: int = 20
    _recent: deque[float] = field(default_factory=deque)
    _last_in_chat: dict[int, float] = field(default_factory=dict)
    _group_recent: dict[int, deque[float]] = field(default_factory=dict)
    _paused_until: float = 0.0

    def wait_for(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` may go (0 when it may go now)."""
        now = self.monotonic()
        waits = [self._paused_until - now]
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.per_second:
            waits.append(self._recent[0] + 1.0 - now)
        if chat_id in self._last_in_chat:
            waits.append(self._last_in_chat[chat_id] + self.chat_gap - now)
        if chat_id < 0:
            group = self._group_recent.setdefault(chat_id, deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= self.group_per_minute:
                waits.append(group[0] + 60.0 - now)
        return max(0.0, *waits)

    def sent(self, chat_id: int) -> None:
        """Count a message that went out now."""
        now = self.monotonic()
        self._recent.append(now)
        self._last_in_chat[chat_id] = now
        if chat_id < 0:
            self._group_recent.setdefault(chat_id, deque()).append(now)

    def pause(self, seconds: float) -> None:
        """Telegram said to wait (flood control applies to the whole bot)."""
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)


def _backoff(attempts: int) -> timedelta:
    return min(LAST_RETRY, FIRST_RETRY * 2 ** max(0, attempts))


class OutboxSender:
    """Drains due outbox rows in order; one flush at a time."""

    def __init__(self, application: Application, services: Services, pacer: Pacer | None = None) -> None:
        self._application = application
        self._services = services
        self._pacer = pacer or Pacer()
        self._lock = asyncio.Lock()
        self._kick = asyncio.Event()

    def kick(self) -> None:
        """Wake the background loop: something new may be in the outbox."""
        self._kick.set()

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        """The background loop: flush, then wait for a kick (or a little while, for retries)."""
        while True:
            try:
                await self.flush()
            except Exception:
                log.exception("outbox flush failed; retrying")
            try:
                await asyncio.wait_for(self._kick.wait(), idle_seconds)
            except TimeoutError:
                pass
            self._kick.clear()

    async def flush(self) -> int:
        """Send every due message, pacing as needed; return how many were sent."""
        async with self._lock:
            sent = 0
            storage = self._services.storage
            while batch := await storage.outbox.due(self._services.clock()):
                people = await storage.people.get_many({message.chat_id for message in batch})
                memo = NoticeMemo()
                accepted: list[tuple[int, datetime]] = []
                progressed = False
                deferred: set[int] = set()
                try:
                    for message in batch:
                        if message.chat_id in deferred:
                            continue  # keep each chat's messages in order behind one that must wait
                        wait = self._pacer.wait_for(message.chat_id)
                        if wait > 0:
                            await self._record(accepted)  # what went out is on file before any pause
                            await self._pacer.sleep(wait)
                        outcome = await self._send_one(message, people.get(message.chat_id), memo, accepted)
                        if outcome == "later":
                            deferred.add(message.chat_id)
                            continue
                        progressed = True
                        sent += outcome == "sent"
                finally:
                    await self._record(accepted)
                if not progressed:
                    break
            return sent

    async def _record(self, accepted: list[tuple[int, datetime]]) -> None:
        """Mark the messages Telegram accepted as sent, in one write (a commit per message cost more than its send)."""
        if accepted:
            await self._services.storage.outbox.mark_sent(accepted)
            accepted.clear()

    async def _deliver(self, message: OutboxMessage, person: Person | None, memo: NoticeMemo) -> bool:
        """Send the message's part(s) to Telegram; False if there is nothing left to send."""
        bot, services = self._application.bot, self._services
        if message.template.startswith("digest."):
            lang = services.catalog.language_for(person.language if person else None, None)
            params = json.loads(message.params)
            start, end = from_ts(params["start"]), from_ts(params["end"])
            data = await services.storage.reports.digest(start, end, services.clock())
            for index, part in enumerate(await digest_parts(services, lang, data, f"digest.title_{params['kind']}")):
                if index:
                    await self._pacer.sleep(self._pacer.wait_for(message.chat_id))
                    self._pacer.sent(message.chat_id)
                if part.photo is not None:
                    await bot.send_photo(message.chat_id, part.photo, caption=part.text)
                else:
                    await bot.send_message(message.chat_id, part.text, reply_markup=part.markup)
            return True
        rendered = await render(services, message, person, memo)
        if rendered is None:
            return False
        text, markup = rendered
        await bot.send_text(message.chat_id, text, markup)
        return True

    async def _send_one(
        self, message: OutboxMessage, person: Person | None, memo: NoticeMemo, accepted: list[tuple[int, datetime]]
    ) -> str:
        """Try one message: "sent" (added to `accepted`), "dead" (given up, with the reason kept) or "later"."""
        services, outbox = self._services, self._services.storage.outbox
        now = services.clock()
        try:
            if not await self._deliver(message, person, memo):
                await outbox.mark_dead(message.id, "the appeal no longer exists")
                return "dead"
        except RetryAfter as error:
            delay = error.retry_after if isinstance(error.retry_after, timedelta) else timedelta(seconds=error.retry_after)
            self._pacer.pause(delay.total_seconds())
            await outbox.retry_later(message.id, now + delay, "flood control (429)", count=False)
            return "later"
        except Forbidden as error:
            await outbox.mark_dead(message.id, f"forbidden: {error.message}")
            if await services.storage.people.set_reachable(message.chat_id, False):
                await outbox.tell_coordinators_unreachable(message.chat_id, message.appeal_id, now)
            return "dead"
        except BadRequest as error:
            await outbox.mark_dead(message.id, f"rejected: {error.message}")
            return "dead"
        except NetworkError as error:
            if message.attempts + 1 >= MAX_ATTEMPTS:
                await outbox.mark_dead(message.id, f"network, gave up: {error.message}")
                return "dead"
            await outbox.retry_later(message.id, now + _backoff(message.attempts), f"network: {error.message}")
            return "later"
        self._pacer.sent(message.chat_id)
        accepted.append((message.id, now))
        row, template, appeal = message.id, message.template, message.appeal_id
        log.debug("outbox %d sent (%s, appeal %s)", row, template, appeal)
        return "sent"
