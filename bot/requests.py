"""The HTTP request class for the Bot API: python-telegram-bot's, with a short retry for transient failures."""

from __future__ import annotations

import asyncio

from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

RETRIES = 2
BACKOFF_SECONDS = (0.5, 1.5)
# Server errors: the request did not complete. Trying again may, rarely, send a message twice;
# not trying loses a reply (an appeal's number, say), which is worse.
_TRANSIENT = {500, 502, 503, 504}


class RetryingRequest(HTTPXRequest):
    """Retries a request that failed to connect or got a 5xx, twice, briefly.

    A timeout is not retried: Telegram may well have sent the message, and a second try would
    then send it twice. Flood control (429) is the rate limiter's job.
    """

    async def do_request(self, *args, **kwargs) -> tuple[int, bytes]:
        """Send, trying again after a transient failure."""
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                code, payload = await super().do_request(*args, **kwargs)
            except TimedOut:
                raise
            except NetworkError:
                if last:
                    raise
            else:
                if code not in _TRANSIENT or last:
                    return code, payload
            await asyncio.sleep(BACKOFF_SECONDS[attempt])
        raise AssertionError("unreachable")
