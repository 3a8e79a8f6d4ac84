"""Start-up with 100,000 pending deadlines: time to ready and memory, beside one JobQueue job per deadline.

    python bench/timers.py            # the 1,000,000-appeal fixture: 100,000 pending deadlines
    python bench/timers.py --quick    # a 100,000-appeal fixture with 10,000 pending deadlines

Each side runs in a fresh Python process on its own copy of the fixture, and measures from the
moment its imports are done:

- the bot: build the Application, initialize it, post_init (open the file, migrate, make the
  units and staff agree with the config, set the commands), then the first tick (fire what is
  due: the fixture has three chase-ups due at its clock; queue digests; send the outbox) and the
  look-up of the earliest pending step. Deadlines stay in the database, in an indexed column.
- the baseline: the same start-up, then every pending deadline read from the database and
  scheduled as one python-telegram-bot JobQueue job (APScheduler) at its step's time, the design
  docs/design.md §3.3 rules out.

Memory is the growth of the resident set over that span, after a garbage collection.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import MIB, NOW, bench_config, copy_database, header, result, rss_bytes  # noqa: E402
from fixtures import FULL_APPEALS, ensure, sizes  # noqa: E402

# Same-run ratios: the bot's start-up at most a fifth of the JobQueue design's time, and an eighth
# of its memory (at full size they were 1 s and 20 MiB beside about 5 s and 160 MiB).
TARGET_TIME_RATIO = 0.20
TARGET_MEMORY_RATIO = 0.125
QUICK_APPEALS = 100_000
QUICK_TIMERS = 10_000


async def _child(mode: str, database: str) -> dict[str, float]:
    """Start the bot one way in this fresh process; return seconds and RSS growth."""
    from bot.app import build_application
    from bot.outbox_sender import Pacer
    from sandbox.core import BotApiCore
    from sandbox.inprocess import InProcessRequest
    from storage.models import from_ts
    from tests.harness import PacerTime

    config = bench_config(database)
    core = BotApiCore(clock=lambda: NOW.timestamp())
    for person in [*config.coordinators, *(p for unit in config.units for p in unit.staff)]:
        core.add_user(person, "staff")
    pacer_time = PacerTime()
    pacer = Pacer(monotonic=pacer_time.monotonic, sleep=pacer_time.sleep)
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    phases: dict[str, float] = {}

    def mark(name: str) -> None:
        phases[name] = time.perf_counter() - started

    app = build_application(config, request=InProcessRequest(core), clock=lambda: NOW, pacer=pacer, background=False)
    await app.initialize()
    mark("built and initialized")
    await app.post_init(app)
    mark("post_init")
    storage = app.bot_data.services.storage
    jobs = 0
    if mode == "bot":
        await app.bot_data.tick()
        mark("first tick")
        earliest = await storage.timers.next_fire_at()
        mark("earliest step found")
        phases["earliest"] = earliest.timestamp() - NOW.timestamp() if earliest else -1.0
    else:
        rows = await storage.db.fetchall(
            "SELECT appeal_id, kind, stage, fire_at FROM timers WHERE fire_at IS NOT NULL ORDER BY fire_at"
        )
        mark("deadlines read")

        async def step(context) -> None:  # what a per-deadline job would do when it fires
            pass

        await app.job_queue.start()
        for row in rows:
            app.job_queue.run_once(
                step, when=from_ts(row["fire_at"]), name=f"{row['appeal_id']}:{row['kind']}", data=row["stage"]
            )
        jobs = len(app.job_queue.jobs())
        mark("one job per deadline scheduled")
    seconds = time.perf_counter() - started
    gc.collect()
    grown = rss_bytes() - before
    if mode != "bot":
        await app.job_queue.stop(wait=False)
    await app.post_shutdown(app)
    await app.shutdown()
    return {"seconds": seconds, "rss": grown, "jobs": jobs, **{f"phase {k}": v for k, v in phases.items()}}


def _spawn(mode: str, database: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(database)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(quick: bool) -> None:
    size = sizes(QUICK_APPEALS, QUICK_TIMERS) if quick else sizes(FULL_APPEALS)
    header(f"timers: start-up with {size.timers:,} pending deadlines ({size.appeals:,} appeals)", quick)
    fixture = ensure(size)
    with tempfile.TemporaryDirectory(prefix="bench-timers-") as folder:
        bot = _spawn("bot", copy_database(fixture, Path(folder) / "bot.sqlite3"))
        jobs = _spawn("jobs", copy_database(fixture, Path(folder) / "jobs.sqlite3"))
    for name, figures in (("bot", bot), ("one job per deadline", jobs)):
        phases = ", ".join(
            f"{k.removeprefix('phase ')} {v * 1000:.0f} ms"
            for k, v in figures.items()
            if k.startswith("phase ") and k != "phase earliest"
        )
        print(f"# {name}: {phases}; RSS {figures['rss'] / MIB:+.1f} MiB")
    print(
        f"# jobs scheduled: {jobs['jobs']:,}; the bot's earliest pending step is {bot['phase earliest']:.0f} s after its clock"
    )
    ready = bot["seconds"] / jobs["seconds"]
    result(
        "timers-ready",
        f"{bot['seconds'] * 1000:.0f} ms to ready (deadlines in an indexed column)",
        f"{jobs['seconds'] * 1000:,.0f} ms (one JobQueue job per deadline)",
        ready,
        f"<= {TARGET_TIME_RATIO:.2f}",
        ready <= TARGET_TIME_RATIO,
    )
    # Below zero where the bot's resident set shrank (a collection freed more than start-up took).
    memory = bot["rss"] / jobs["rss"] if jobs["rss"] > 0 else float("inf")
    result(
        "timers-memory",
        f"{bot['rss'] / MIB:+.1f} MiB RSS at ready",
        f"{jobs['rss'] / MIB:+.1f} MiB (one JobQueue job per deadline)",
        memory,
        f"<= {TARGET_MEMORY_RATIO:.3f}",
        memory <= TARGET_MEMORY_RATIO,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run for CI")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DATABASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = asyncio.run(_child(*args.child))
        print(json.dumps(figures))
        return 0
    run(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
