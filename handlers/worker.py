"""CPU-heavy work in a worker process: checking station files and building export files.

A thread keeps such work off the event loop but not out of the loop's process: it takes the GIL in
turns with the loop, and the garbage collector's full passes over the objects it makes stop every
thread at once (a 20,000-station file made 200 ms pauses on a busy machine). A process of its own
holds nobody up; the loop's process only hands over the input and takes back a compact result.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # One process: heavy work is rare and comes from coordinators; more would only share two cores.
        # Spawned, not forked: a fork copies the loop's process with its threads' locks held mid-use.
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def in_worker(work: Callable[..., T], /, *args: Any) -> T:
    """`work(*args)` in the worker process (a module-level function, picklable arguments); its result or its exception."""
    global _pool
    try:
        return await asyncio.get_running_loop().run_in_executor(_executor(), work, *args)
    except BrokenProcessPool:
        _pool = None  # the worker died (killed, out of memory): the next call starts a new one
        raise
