"""The running bot's memory with a million appeals in its database, measured in a fresh process.

    python bench/memory.py            # the 1,000,000-appeal fixture, 500 updates
    python bench/memory.py --quick    # the 20,000-appeal fixture, 300 updates

A child process builds the bot on a copy of the fixture as tests/harness.py does (in-process Bot
API, background=False), runs post_init and one tick, then handles a few hundred updates from
couriers and staff (the scripts of bench/throughput.py) and reports its resident set (and its
peak). The baseline is a second fresh process with the same imports and the same in-process
Bot API holding the same people, running python-telegram-bot's one-reply conversation step (no
database) over the very same updates: what the bot's Python, python-telegram-bot and the fake
Telegram hold anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    COURIERS,
    MIB,
    NOW,
    UNITS,
    bench_config,
    copy_database,
    courier_id,
    header,
    peak_rss_bytes,
    result,
    rss_bytes,
    staff_of,
)
from fixtures import FULL_APPEALS, QUICK_APPEALS, ensure, sizes  # noqa: E402

# A same-run ratio: the bot with its database at most twice what python-telegram-bot's one-reply
# step holds over the same updates (the 150 MiB it was held to beside about 75 MiB).
TARGET = 2.0


async def _child(mode: str, database: str, updates_file: str, count: int) -> dict[str, float]:
    """Run the bot (or the ceiling) in this fresh process; return its memory."""
    from telegram import Update
    from throughput import People, _cast, _ceiling

    from bot.app import build_application
    from bot.outbox_sender import Pacer
    from sandbox.core import BotApiCore
    from sandbox.inprocess import InProcessRequest
    from tests.harness import PacerTime

    imported = rss_bytes()
    config = bench_config(database)
    core = BotApiCore(clock=lambda: NOW.timestamp())
    people = [*(courier_id(i) for i in range(COURIERS)), *config.coordinators, *(s for u in UNITS for s in staff_of(u))]
    for index, person in enumerate(people):
        core.add_user(person, f"P{index}", language_code="zh" if person % 5 else "en")
    handled = 0
    if mode == "bot":
        pacer_time = PacerTime()
        pacer = Pacer(monotonic=pacer_time.monotonic, sleep=pacer_time.sleep)
        app = build_application(
            config, request=InProcessRequest(core), clock=lambda: NOW, pacer=pacer, background=False
        )
        async with app:
            await app.post_init(app)
            await app.bot_data.tick()
            sender = app.bot_data.sender
            cast, feedback = _cast(Path(database), count // 10)
            actors = People(core, random.Random(7), feedback)
            scripts = [actors.courier(c) for c in cast] + [actors.staff(staff_of(u)[0]) for u in UNITS[:5]]
            recorded = []
            while handled < count:
                for script in scripts:
                    next(script)
                for raw in core.take_updates()[: count - handled]:
                    recorded.append(raw)
                    await app.process_update(Update.de_json(raw, app.bot))
                    await sender.flush()
                    handled += 1
            Path(updates_file).write_text(json.dumps(recorded))
            gc.collect()
            figures = {"rss": rss_bytes(), "peak": peak_rss_bytes()}
            await app.post_shutdown(app)
    else:
        app = _ceiling(core)
        async with app:
            for raw in json.loads(Path(updates_file).read_text()):
                await app.process_update(Update.de_json(raw, app.bot))
                handled += 1
            gc.collect()
            figures = {"rss": rss_bytes(), "peak": peak_rss_bytes()}
    return {**figures, "imported": imported, "handled": handled}


def _spawn(mode: str, database: Path, updates_file: Path, count: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(database), str(updates_file), str(count)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(quick: bool) -> None:
    appeals = QUICK_APPEALS if quick else FULL_APPEALS
    count = 300 if quick else 500
    header(f"memory: the running bot with {appeals:,} appeals, after post_init, a tick and {count} updates", quick)
    fixture = ensure(sizes(appeals))
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        updates_file = Path(folder) / "updates.json"
        bot = _spawn("bot", copy_database(fixture, Path(folder) / "bot.sqlite3"), updates_file, count)
        ceiling = _spawn("ceiling", Path(folder) / "unused.sqlite3", updates_file, count)
    mib = lambda n: f"{n / MIB:.1f} MiB"  # noqa: E731
    print(
        f"# bot:     {mib(bot['rss'])} resident (peak {mib(bot['peak'])}); {mib(bot['imported'])} once its imports were done; {bot['handled']} updates"
    )
    print(
        f"# ceiling: {mib(ceiling['rss'])} resident (peak {mib(ceiling['peak'])}); {mib(ceiling['imported'])} once its imports were done"
    )
    result(
        "memory",
        f"{mib(bot['rss'])} RSS (the bot, {appeals:,} appeals)",
        f"{mib(ceiling['rss'])} RSS (python-telegram-bot's one-reply step, same imports, same updates)",
        bot["rss"] / ceiling["rss"],
        f"<= {TARGET:.1f}",
        bot["rss"] / ceiling["rss"] <= TARGET,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run for CI")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "DATABASE", "UPDATES", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, database, updates_file, count = args.child
        print(json.dumps(asyncio.run(_child(mode, database, updates_file, int(count)))))
        return 0
    run(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
