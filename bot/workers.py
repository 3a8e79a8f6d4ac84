"""`run --webhook --workers N`: N worker processes on one port and one PostgreSQL database, kept running.

Each worker is `python -m bot run --webhook` with a worker number; they all listen on the webhook's
port (SO_REUSEPORT: the kernel hands each new connection to one of them), and any of them can take
any update, because dialogs, handled updates, timers and the outbox live in the database
(docs/design.md, "Several workers"). This process only starts them, starts again one that dies,
and stops them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections import deque

log = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0
# Workers that end on their own this often are failing at start (a bad config, the database away): give
# up. One killed from outside (SIGKILL: the OOM killer, an operator) says nothing about starting, and is
# not counted: otherwise a few kills in a minute would stop every worker for good.
MOST_RESTARTS = 5
RESTART_WINDOW_S = 60.0
STOP_GRACE_S = 30.0


def worker_command(index: int, count: int, passed: list[str]) -> list[str]:
    """The command line of worker `index` of `count`: `run --webhook` with the options the supervisor was given."""
    return [
        sys.executable,
        "-m",
        "bot",
        "run",
        "--webhook",
        "--workers",
        str(count),
        "--worker-index",
        str(index),
        *passed,
    ]


class Supervisor:
    """Starts `count` workers, starts again each that dies, and stops them all when told to."""

    def __init__(self, count: int, passed: list[str]) -> None:
        self.count = count
        self.passed = passed
        self.stopping = asyncio.Event()
        self.failed = False
        self._restarts: deque[float] = deque()

    async def run(self) -> int:
        """Run until SIGINT or SIGTERM (0), or until workers keep dying (1)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        log.info("starting %d workers", self.count)
        await asyncio.gather(*(self._keep(index) for index in range(self.count)))
        return 1 if self.failed else 0

    async def _keep(self, index: int) -> None:
        while not self.stopping.is_set():
            process = await asyncio.create_subprocess_exec(*worker_command(index, self.count, self.passed))
            ended = asyncio.ensure_future(process.wait())
            stop = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait({ended, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if self.stopping.is_set():
                if not ended.done():
                    await _stop(process)
                return
            log.warning("worker %d (pid %d) ended with %s; starting it again", index, process.pid, process.returncode)
            if process.returncode != -signal.SIGKILL and self._too_many_restarts():
                log.error("workers keep ending (%d in %.0f s); stopping them all", MOST_RESTARTS, RESTART_WINDOW_S)
                self.failed = True
                self.stopping.set()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), RESTART_DELAY_S)

    def _too_many_restarts(self) -> bool:
        now = time.monotonic()
        self._restarts.append(now)
        while self._restarts and self._restarts[0] < now - RESTART_WINDOW_S:
            self._restarts.popleft()
        return len(self._restarts) > MOST_RESTARTS


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (the worker finishes its updates and closes), then SIGKILL if it takes too long."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_GRACE_S)
    except TimeoutError:
        log.warning("worker (pid %d) did not stop within %.0f s; killing it", process.pid, STOP_GRACE_S)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def supervise(count: int, passed: list[str]) -> int:
    """Run `count` webhook workers until told to stop; the exit code."""
    return asyncio.run(Supervisor(count, passed).run())
