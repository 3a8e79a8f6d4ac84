"""Send what the outbox holds, in order, and record the outcome of every attempt."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application

from handlers.notices import render
from handlers.services import Services

log = logging.getLogger(__name__)

RETRY_DELAY = timedelta(seconds=5)
MAX_ATTEMPTS = 10


class OutboxSender:
    """Drains due outbox rows; one flush at a time."""

    def __init__(self, application: Application, services: Services) -> None:
        self._application = application
        self._services = services
        self._lock = asyncio.Lock()

    async def flush(self) -> int:
        """Send every due message; return how many were sent."""
        async with self._lock:
            sent = 0
            while batch := await self._services.storage.outbox.due(self._services.clock()):
                progressed = False
                for message in batch:
                    if await self._send_one(message):
                        sent += 1
                        progressed = True
                if not progressed:
                    break
            return sent

    async def _send_one(self, message) -> bool:
        services, outbox = self._services, self._services.storage.outbox
        person = await services.storage.people.get(message.chat_id)
        rendered = await render(services, message, person)
        if rendered is None:
            await outbox.mark_dead(message.id, "the appeal no longer exists")
            return False
        text, markup = rendered
        try:
            await self._application.bot.send_message(message.chat_id, text, reply_markup=markup)
        except RetryAfter as error:
            delay = error.retry_after if isinstance(error.retry_after, timedelta) else timedelta(seconds=error.retry_after)
            await outbox.retry_later(message.id, services.clock() + delay, "flood control")
            return False
        except Forbidden as error:
            await outbox.mark_dead(message.id, f"forbidden: {error.message}")
            await services.storage.people.set_reachable(message.chat_id, False)
            return False
        except BadRequest as error:
            await outbox.mark_dead(message.id, f"rejected: {error.message}")
            return False
        except NetworkError as error:
            if message.attempts + 1 >= MAX_ATTEMPTS:
                await outbox.mark_dead(message.id, f"network, gave up: {error.message}")
            else:
                await outbox.retry_later(message.id, services.clock() + RETRY_DELAY, f"network: {error.message}")
            return False
        await outbox.mark_sent(message.id, services.clock())
        return True
