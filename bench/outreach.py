"""A notice to every opted-in courier through the real outbox sender, with an appeal filed half-way through.

    python bench/outreach.py            # 100,000 opted-in couriers
    python bench/outreach.py --quick    # 3,000 opted-in couriers

The bot is `build_application` with the in-process Bot API (`InProcessRequest` over
`sandbox.core.BotApiCore`), `background=False` and a Pacer whose sleeps only move a fake clock, as
tests/harness.py drives it; the district's clock is that fake clock too, so quiet hours and
`not_before` see the same time the pacer keeps. The couriers are written straight into a new
database (people rows, each opted in to notices) and registered with the fake Telegram. A
coordinator's notice is queued for all of them with `storage.outreach.audience` and `broadcast`,
exactly as the /notice dialog's Send does, and one `sender.flush()` sends them all.

When half the expected time has passed on the fake clock, a courier's appeal is filed through
`storage.appeals.submit` (what the filing dialog's last step does): its notices to the unit's staff
go in the appeals' lane. The figure is the rate the notice reached on the fake clock, beside
Telegram's 30 messages a second (the target is 0.95 of it), and how long after it was filed the
appeal's notice reached its unit (the target: within 2 seconds). The wall-clock time per message says
whether this machine could keep that pace for real: the sender's own work per message (database,
rendering, the in-process Bot API) must stay under 1/30 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import COORDINATORS, NOW, bench_config, header, quick_cli, result, staff_of  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.outbox_sender import Pacer  # noqa: E402
from domain.commands import NewAppeal  # noqa: E402
from sandbox.core import BotApiCore  # noqa: E402
from sandbox.inprocess import InProcessRequest  # noqa: E402
from storage.models import to_ts  # noqa: E402
from tests.harness import PacerTime  # noqa: E402

TELEGRAM_RATE = 30.0  # messages a second, bot-wide
TARGET = 0.95
APPEAL_WITHIN_S = 2.0
FULL, QUICK = 100_000, 3_000
FIRST = 5_000_000  # the couriers' Telegram ids (apart from the fixture's)
APPEAL_UNIT = "hr"


@dataclass
class Watch:
    """What the fake Telegram saw, on the fake clock: the couriers' messages and the appeal's notice."""

    pacer: PacerTime
    staff: set[int]
    first: float | None = None
    last: float = 0.0
    couriers: int = 0
    filed_at: float | None = None
    appeal_seen: float | None = None

    def changed(self, chat: int) -> None:
        now = self.pacer.now
        if chat >= FIRST:
            self.couriers += 1
            self.first = now if self.first is None else self.first
            self.last = now
        elif chat in self.staff and self.filed_at is not None and self.appeal_seen is None:
            self.appeal_seen = now


async def run(quick: bool) -> None:
    """Queue the notice, send it all, and print the figures."""
    header("outreach: a notice to every opted-in courier, an appeal filed half-way", quick)
    count = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-outreach-") as folder:
        config = bench_config(Path(folder) / "outreach.sqlite3")
        pacer_time = PacerTime()
        clock = lambda: NOW + timedelta(seconds=pacer_time.now)  # noqa: E731
        core = BotApiCore(clock=lambda: clock().timestamp())
        couriers = range(FIRST, FIRST + count)
        staff = set(staff_of(APPEAL_UNIT))
        for person in (*couriers, *staff, *COORDINATORS):
            core.add_user(person, f"P{person}", language_code="zh")
        watch = Watch(pacer_time, staff)
        core.subscribe(watch.changed)
        app = build_application(
            config,
            request=InProcessRequest(core),
            clock=clock,
            pacer=Pacer(monotonic=pacer_time.monotonic, sleep=pacer_time.sleep),
            background=False,
        )
        async with app:
            await app.post_init(app)
            try:
                services, sender = app.bot_data.services, app.bot_data.sender
                storage = services.storage
                ts = to_ts(clock())
                await storage.db.write(
                    lambda conn: (
                        conn.executemany(
                            "INSERT INTO people (telegram_id, role, language, created_at) VALUES (?, 'courier', 'zh', ?)",
                            ((c, ts) for c in couriers),
                        ),
                        conn.executemany(
                            "INSERT INTO outreach_choices (telegram_id, notices, asked_at, updated_at) VALUES (?, 1, ?, ?)",
                            ((c, ts, ts) for c in couriers),
                        ),
                    )
                )
                await sender.flush()  # what the start queued (none expected), before the clock starts
                started = time.perf_counter()
                audience = await storage.outreach.audience("notices")
                notice = await storage.outreach.add_notice("夏季送清凉：本周六上午在一号驿站领取防暑降温包。", clock())
                send = await storage.outreach.broadcast(
                    kind="notice", ref=str(notice), topic="notices", recipients=audience, now=clock()
                )
                queued = time.perf_counter() - started
                half = count / TELEGRAM_RATE / 2
                real_sleep = pacer_time.sleep

                async def sleep(seconds: float) -> None:
                    await real_sleep(seconds)
                    if watch.filed_at is None and pacer_time.now >= half:
                        watch.filed_at = pacer_time.now
                        new = NewAppeal(courier_id=FIRST, category="work", description="工资被拖欠", language="zh")
                        await storage.appeals.submit(new, APPEAL_UNIT, clock())

                sender._pacer.sleep = sleep  # noqa: SLF001
                started = time.perf_counter()
                await sender.flush()
                wall = time.perf_counter() - started
                counts = await storage.outreach.send(send)
            finally:
                await app.post_shutdown(app)
    assert counts is not None and counts.sent == count, counts
    assert watch.couriers == count and watch.appeal_seen is not None and watch.filed_at is not None
    span = watch.last - (watch.first or 0.0)
    rate = (count - 1) / span if span > 0 else float("inf")
    ratio = rate / TELEGRAM_RATE
    appeal_delay = watch.appeal_seen - watch.filed_at
    print(
        f"# {count:,} couriers opted in; audience drawn and {count:,} outbox rows written in {queued:.2f} s (wall clock)"
    )
    print(
        f"# sent {counts.sent:,} in {span:,.1f} s on the fake clock; {wall:,.1f} s of wall clock for the sender's own work,"
        f" {wall / count * 1000:.2f} ms a message (the pace needs under {1000 / TELEGRAM_RATE:.1f} ms)"
    )
    print(
        f"# delivery counts: sent {counts.sent}, undelivered {counts.dead}, blocked {counts.blocked}, stopped {counts.stopped}"
    )
    print(f"# the appeal filed at {watch.filed_at:,.1f} s reached its unit {appeal_delay:.2f} s later")
    result(
        "outreach",
        f"{rate:.2f} messages/s to {count:,} couriers (the sender, fake clock)",
        f"{TELEGRAM_RATE:.0f} messages/s (Telegram's limit)",
        ratio,
        f">= {TARGET:.2f} of Telegram's limit",
        ratio >= TARGET,
    )
    result(
        "outreach-appeal",
        f"{appeal_delay:.2f} s from filing to the unit's notice, mid-broadcast",
        f"{APPEAL_WITHIN_S:.1f} s (the issue's bound)",
        appeal_delay / APPEAL_WITHIN_S,
        "<= 1.00 of the bound",
        appeal_delay <= APPEAL_WITHIN_S,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (--quick for a small run)."""
    return quick_cli(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
