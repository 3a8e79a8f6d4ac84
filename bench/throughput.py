"""A shift change: a burst of updates from a thousand couriers through the real Application.

    python bench/throughput.py            # 20,000 updates from 1,000 couriers and the units' staff, 1,000,000 appeals
    python bench/throughput.py --quick    # 2,000 updates from 100 couriers, 20,000 appeals

The bot is `build_application` with the in-process Bot API (`InProcessRequest` over
`sandbox.core.BotApiCore`), `background=False` and a Pacer whose sleeps only move a fake clock, on a
copy of the fixture: as tests/harness.py drives it. Every courier and staff member is a script that
reads what the bot last showed them and does the next thing a person would:

- a courier: /start; /station, shares a location, filters by an amenity, asks for a venue; /appeal,
  picks a category, describes the problem, shares a location (and picks a station nearby, if the
  bot offers one), shares a phone number or stays anonymous, confirms; /my, opens an appeal and,
  if it waits for a rating, rates it; /help;
- a staff member: /queue, opens one of the first appeals, accepts it if nobody has, resolves it
  with a written result and confirms it; again.

The scripts take turns, one update each, so the updates arrive interleaved as in a burst; every
update is fed with `Update.de_json` into `process_update` and the outbox is flushed after it, as
the harness does. Only that is timed (not the fake people deciding what to press).

The ceiling is python-telegram-bot in the same harness: an Application with one ConversationHandler
whose one step replies once and touches no database, fed the very same updates (recorded from the
bot's run) in alternation with the bot, round by round. A second ceiling replies as many times as
the bot made Bot API calls for each update, which separates what the bot's richer answers cost
from what its own work costs: the target is at least half of that second ceiling's rate (python-
telegram-bot making the bot's own calls with no database). The bot's time is split into waiting for the database, time
inside the in-process Bot API, and the rest (python-telegram-bot and the handlers' Python), and by
the kind of update (a command, a press, text, a location), each beside the ceiling's time for the
same updates. Any error logged during the burst fails the run: a benchmark of error paths would flatter the bot.
Between rounds, untimed, `gc.freeze()` takes every object alive so far out of the garbage collector's
care: the fake Telegrams' archives of every message grow by thousands a round, and full collections
of them would otherwise land inside timed updates (a bot process holds no such archive).
"""

from __future__ import annotations

import gc
import logging
import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CITY,
    COURIERS,
    NOW,
    UNITS,
    bench_config,
    copy_database,
    courier_id,
    header,
    percentile,
    quick_cli,
    result,
    staff_of,
)
from fixtures import DESCRIPTIONS, FULL_APPEALS, QUICK_APPEALS, RESULTS, ensure, sizes  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning  # noqa: E402

from bot.app import OFFLINE_TOKEN, build_application  # noqa: E402
from bot.outbox_sender import Pacer  # noqa: E402
from sandbox.core import BotApiCore  # noqa: E402
from sandbox.inprocess import InProcessRequest  # noqa: E402
from tests.harness import PacerTime  # noqa: E402

# The target (the developers' guide): at least half the rate of python-telegram-bot making the bot's
# own Bot API calls for each update with no database and no work of its own (the second ceiling).
TARGET = 0.50
# The bot's clock moves this much per update (20,000 in 20 seconds): a round of the burst stays well
# inside the 15 seconds Telegram gives a button press to be answered.
TICK = timedelta(milliseconds=1)
CATEGORIES = ["work", "life", "rights", "facilities", "suggestion"]
AMENITIES = ["water", "charging", "rest", "microwave", "toilet", "first_aid"]


class People:
    """The fake people's side of the chats: read what the bot last showed, then send, share or press."""

    def __init__(self, core: BotApiCore, rnd: random.Random, feedback: dict[int, int]) -> None:
        self.core = core
        self.rnd = rnd
        self.feedback = feedback  # courier -> an appeal of theirs that waits for a rating

    def _buttons(self, message: dict[str, Any]) -> list[str]:
        return [data for _, data in self.core.inline_buttons(message)]

    def _messages(self, user_id: int) -> list[dict[str, Any]]:
        # The core's own list, read-only: core.messages() deep-copies the whole chat on every call,
        # which made deciding the next step cost more than the bot's work in long staff chats.
        return self.core._chats[user_id].messages  # noqa: SLF001

    def newest(self, user_id: int, prefix: str) -> tuple[int, list[str]] | None:
        """The newest bot message with a button starting `prefix`: its id and its buttons' data."""
        for message in reversed(self._messages(user_id)):
            if message["from"]["is_bot"]:
                buttons = [d for d in self._buttons(message) if d.startswith(prefix)]
                if buttons:
                    return message["message_id"], buttons
        return None

    def buttons_of(self, user_id: int, message_id: int) -> list[str]:
        """The buttons a message shows now (an edit may have changed them)."""
        return self._buttons(self._messages(user_id)[message_id - 1])

    def last_bot_message(self, user_id: int) -> int:
        return next(m["message_id"] for m in reversed(self._messages(user_id)) if m["from"]["is_bot"])

    def press(self, user_id: int, prefix: str, pick: int = 0) -> bool:
        """Press a button of the newest message that has one starting `prefix`; False if there is none."""
        found = self.newest(user_id, prefix)
        if found is None:
            return False
        message_id, buttons = found
        self.core.press_button(user_id, message_id, buttons[min(pick, len(buttons) - 1)])
        return True

    def near_city(self) -> tuple[float, float]:
        return CITY[0] + self.rnd.gauss(0, 0.05), CITY[1] + self.rnd.gauss(0, 0.05)

    def courier(self, user_id: int) -> Iterator[None]:
        """A courier's few minutes at a shift change; then checking on things until the burst ends."""
        core, rnd = self.core, self.rnd
        core.send_text(user_id, "/start")
        yield
        core.send_text(user_id, "/station")
        yield
        core.share_location(user_id, *self.near_city(), horizontal_accuracy=15.0)
        yield
        if self.press(user_id, f"st:near:{rnd.choice(AMENITIES)}"):
            yield
        if self.press(user_id, "st:venue:"):
            yield
        core.send_text(user_id, "/appeal")
        yield
        if self.press(user_id, f"dr:cat:{rnd.choice(CATEGORIES)}"):
            yield
            core.send_text(user_id, rnd.choice(DESCRIPTIONS))
            yield
            core.share_location(user_id, *self.near_city(), horizontal_accuracy=20.0)
            yield
            if self.newest(user_id, "dr:st:"):  # a station within a kilometre: pick it, mostly
                self.press(user_id, "dr:st:" if rnd.random() < 0.7 else "dr:skip")
                yield
            if rnd.random() < 0.6:
                core.share_contact(user_id, f"+86138{user_id % 100_000_000:08d}", "Courier", contact_user_id=user_id)
            else:
                self.press(user_id, "dr:skip")
            yield
            if self.press(user_id, "dr:confirm"):
                yield
        while True:
            core.send_text(user_id, "/my")
            yield
            found = self.newest(user_id, "ap:")
            if found is not None:
                message_id, buttons = found
                waiting = self.feedback.pop(user_id, None)
                chosen = (
                    f"ap:{waiting}:open"
                    if f"ap:{waiting}:open" in buttons
                    else buttons[rnd.randrange(min(3, len(buttons)))]
                )
                core.press_button(user_id, message_id, chosen)
                yield
                card = self.last_bot_message(user_id)
                rating = [d for d in self.buttons_of(user_id, card) if d.endswith((":rs", ":rf"))]
                if rating:
                    core.press_button(user_id, card, rating[0] if rnd.random() < 0.8 else rating[-1])
                    yield
            core.send_text(user_id, "/help")
            yield
            core.share_location(user_id, *self.near_city())
            yield

    def staff(self, user_id: int) -> Iterator[None]:
        """A unit's worker going through the queue: open an appeal, accept it if nobody has, resolve it."""
        core, rnd = self.core, self.rnd
        while True:
            core.send_text(user_id, "/queue")
            yield
            if not self.press(user_id, "ap:", pick=rnd.randrange(3)):
                continue
            yield
            card = self.last_bot_message(user_id)
            accept = [d for d in self.buttons_of(user_id, card) if d.endswith(":acc")]
            if accept:
                core.press_button(user_id, card, accept[0])
                yield
            resolve = [d for d in self.buttons_of(user_id, card) if d.endswith(":res")]
            if resolve:
                core.press_button(user_id, card, resolve[0])
                yield
                core.send_text(user_id, rnd.choice(RESULTS))
                yield
                shown = self.last_bot_message(user_id)  # the result shown back: confirm it
                confirm = [d for d in self.buttons_of(user_id, shown) if ":ok:" in d]
                if confirm:
                    core.press_button(user_id, shown, confirm[0])
                    yield


def kind_of(raw: dict[str, Any]) -> str:
    """What a person did, for the breakdown: a command, a press (its prefix and verb), text, location, contact."""
    if "callback_query" in raw:
        parts = raw["callback_query"]["data"].split(":")
        return "press " + (f"{parts[0]}:…:{parts[2]}" if parts[0] == "ap" and len(parts) > 2 else ":".join(parts[:2]))
    message = raw["message"]
    for key in ("location", "contact"):
        if key in message:
            return key
    text = message.get("text", "")
    return text.split()[0] if text.startswith("/") else "text"


class _ErrorCount(logging.Handler):
    """Counts errors logged while the burst runs: a benchmark of error paths would flatter the bot."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _ceiling(core: BotApiCore, replies: dict[int, int] | None = None) -> Application:
    """python-telegram-bot alone: one conversation step that replies, and touches no database.

    It replies once, or (given `replies`) as many times as the bot made Bot API calls for that update.
    """
    step = 1

    async def reply(update: Update, context: Any) -> int:
        for _ in range(replies.get(update.update_id, 1) if replies else 1):
            await update.effective_chat.send_message("ok")
        return step

    handlers = [MessageHandler(filters.ALL, reply), CallbackQueryHandler(reply)]
    with warnings.catch_warnings():
        # per_message=False with a CallbackQueryHandler: the warning that it is tracked per chat, as meant.
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = ConversationHandler(entry_points=handlers, states={step: handlers}, fallbacks=[])
    request = InProcessRequest(core)
    app = ApplicationBuilder().token(OFFLINE_TOKEN).request(request).get_updates_request(request).build()
    app.add_handler(conversation)
    return app


class _TimedRequest(InProcessRequest):
    """The in-process Bot API, adding up the time the bot's requests spend in it."""

    seconds = 0.0

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        started = time.perf_counter()
        try:
            return await super().do_request(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def _by_kind(kinds: list[str], bot: list[float], ceiling: list[float], calls: list[int]) -> None:
    """Each kind of update that took 1% of the bot's time or more, beside the one-reply ceiling on the same updates."""
    totals: dict[str, list[float]] = {}
    for kind, spent, step, made in zip(kinds, bot, ceiling, calls, strict=True):
        row = totals.setdefault(kind, [0, 0.0, 0.0, 0])
        row[0] += 1
        row[1] += spent
        row[2] += step
        row[3] += made
    print("# each kind of update with 1% of the bot's time or more (mean bot vs ceiling on the same updates):")
    for kind, (count, spent, step, made) in sorted(totals.items(), key=lambda item: -item[1][1]):
        if spent < sum(bot) / 100:
            break
        print(
            f"#   {kind:18} {count:6,.0f} updates, {spent / sum(bot):4.0%} of the time:"
            f" {spent / count * 1000:5.2f} vs {step / count * 1000:4.2f} ms, {made / count:.1f} Bot API calls"
        )


def _time_database(storage: Any) -> list[float]:
    """Add up the time the bot spends on its database (inline or waiting for its thread), on this instance only."""
    spent = [0.0, 0]
    run = storage.db.run

    async def timed(work: Any, **options: Any) -> Any:
        started = time.perf_counter()
        try:
            return await run(work, **options)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += 1

    storage.db.run = timed
    return spent


def _cast(path: Path, couriers: int) -> tuple[list[int], dict[int, int]]:
    """The couriers in the burst (those with an appeal waiting for a rating first) and those appeals."""
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        waiting = dict(
            conn.execute(
                "SELECT courier_id, max(id) FROM appeals WHERE state = 'feedback' AND courier_id IS NOT NULL"
                " GROUP BY courier_id ORDER BY courier_id"
            ).fetchall()
        )
        others = [
            r[0] for r in conn.execute("SELECT telegram_id FROM people WHERE role = 'courier' ORDER BY telegram_id")
        ]
    finally:
        conn.close()
    chosen = list(waiting)[: couriers // 2]
    chosen += [c for c in others if c not in waiting][: couriers - len(chosen)]
    return chosen, {c: waiting[c] for c in chosen if c in waiting}


async def run(quick: bool) -> None:
    appeals = QUICK_APPEALS if quick else FULL_APPEALS
    total, couriers = (2_000, 100) if quick else (20_000, 1_000)
    staff_turns = 1 if quick else 3
    staff = [staff_of(u)[0] for u in UNITS] if quick else [s for u in UNITS for s in staff_of(u)]
    header(
        f"throughput: {total:,} updates from {couriers:,} couriers and {len(staff)} staff, {appeals:,} appeals", quick
    )
    fixture = ensure(sizes(appeals))
    cast, feedback = _cast(fixture, couriers)
    rnd = random.Random(20261123)

    errors = _ErrorCount()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as folder:
        path = copy_database(fixture, Path(folder) / "throughput.sqlite3")
        config = bench_config(path)
        clock = [NOW]
        cores = [BotApiCore(clock=lambda: clock[0].timestamp()) for _ in range(3)]
        # Everyone the bot may write to has a chat: the couriers of the fixture's appeals too.
        everyone = dict.fromkeys(
            [
                *cast,
                *(courier_id(i) for i in range(COURIERS)),
                *config.coordinators,
                *(s for u in UNITS for s in staff_of(u)),
            ]
        )
        for c in cores:
            for index, person in enumerate(everyone):
                c.add_user(person, f"P{index}", language_code="zh" if person % 5 else "en")
        core = cores[0]
        request = _TimedRequest(core)
        pacer_time = PacerTime()
        pacer = Pacer(monotonic=pacer_time.monotonic, sleep=pacer_time.sleep)
        bot = build_application(config, request=request, clock=lambda: clock[0], pacer=pacer, background=False)
        replies: dict[int, int] = {}
        ceilings = [_ceiling(cores[1]), _ceiling(cores[2], replies)]
        people = People(core, rnd, feedback)
        couriers_scripts = [people.courier(c) for c in cast]
        staff_scripts = [people.staff(s) for s in staff]
        bot_times: list[float] = []
        ceiling_times: list[list[float]] = [[], []]
        kinds: list[str] = []
        made: list[int] = []  # Bot API calls the bot made for each update
        async with bot, ceilings[0], ceilings[1]:
            await bot.post_init(bot)
            sender = bot.bot_data.sender
            database = _time_database(bot.bot_data.services.storage)
            api_before = request.seconds
            try:
                while len(bot_times) < total:
                    # A round: everyone does their next thing; then the bot and the ceilings take the updates.
                    for script in couriers_scripts:
                        next(script)
                    for script in staff_scripts:
                        for _ in range(staff_turns):
                            next(script)
                    batch = core.take_updates()[: total - len(bot_times)]
                    for raw in batch:
                        clock[0] = NOW + len(bot_times) * TICK  # the burst takes its time on the bot's clock
                        calls = len(core.calls)
                        started = time.perf_counter()
                        await bot.process_update(Update.de_json(raw, bot.bot))
                        await sender.flush()
                        bot_times.append(time.perf_counter() - started)
                        made.append(max(1, len(core.calls) - calls))
                        replies[raw["update_id"]] = made[-1]
                        kinds.append(kind_of(raw))
                    for app, times in zip(ceilings, ceiling_times, strict=True):
                        for raw in batch:
                            started = time.perf_counter()
                            await app.process_update(Update.de_json(raw, app.bot))
                            times.append(time.perf_counter() - started)
                    # The three fake Telegrams keep every message they were sent: tens of thousands of
                    # dicts a bot's own process would not hold. Left to the collector, its full
                    # collections walked them all, inside whichever update set one off (freezing them
                    # cut the bot's time by 1.6 s of 18 s). Between rounds, untimed, they leave its care.
                    gc.freeze()
            finally:
                await bot.post_shutdown(bot)
        api_seconds = request.seconds - api_before
        calls = Counter(name for name, _ in core.calls)

    if errors.count:
        raise SystemExit(f"{errors.count} errors were logged while the bot handled the burst: the figures would lie")
    spent = sum(bot_times)
    bot_rate = len(bot_times) / spent
    ceiling_rate, traffic_rate = (len(t) / sum(t) for t in ceiling_times)
    ms = lambda seconds: f"{seconds * 1000:.2f} ms"  # noqa: E731
    per = lambda seconds: f"{seconds / len(bot_times) * 1000:.2f} ms"  # noqa: E731
    api_calls = sum(replies.values())
    print(
        f"# {len(bot_times):,} updates; the bot's Bot API calls: "
        + ", ".join(f"{n:,} {k}" for k, n in calls.most_common(6))
    )
    print(
        f"# bot                       {bot_rate:7,.0f} updates/s  p50 {ms(percentile(bot_times, 50))}  p99 {ms(percentile(bot_times, 99))}"
    )
    print(
        f"# ceiling, one reply        {ceiling_rate:7,.0f} updates/s  p50 {ms(percentile(ceiling_times[0], 50))}  p99 {ms(percentile(ceiling_times[0], 99))}"
    )
    print(
        f"# ceiling, the bot's calls  {traffic_rate:7,.0f} updates/s  p50 {ms(percentile(ceiling_times[1], 50))}"
        f"  p99 {ms(percentile(ceiling_times[1], 99))}  ({api_calls / len(bot_times):.1f} calls an update; the bot reaches"
        f" {bot_rate / traffic_rate:.2f} of it)"
    )
    print(
        f"# the bot's time an update: {per(spent)}; in the database {per(database[0])}"
        f" ({database[1] / len(bot_times):.1f} calls), inside the in-process Bot API {per(api_seconds)},"
        f" python-telegram-bot and the handlers {per(spent - database[0] - api_seconds)}"
    )
    # What the target leaves for the bot's own work: python-telegram-bot making the bot's calls
    # with no work of its own is the best any bot giving these answers can do.
    budget = 1 / (TARGET * traffic_rate) - 1 / traffic_rate
    print(
        f"# python-telegram-bot making the bot's calls, with no work of its own, reaches {traffic_rate / ceiling_rate:.2f}"
        f" of the one-reply ceiling (the bot reaches {bot_rate / ceiling_rate:.2f} of it); {TARGET:.2f} of the bot's-calls"
        f" ceiling leaves {budget * 1000:.2f} ms an update for the bot's own work (database and handlers), which takes"
        f" {(1 / bot_rate - 1 / traffic_rate) * 1000:.2f} ms"
    )
    _by_kind(kinds, bot_times, ceiling_times[0], made)
    ratio = bot_rate / traffic_rate
    result(
        "throughput",
        f"{bot_rate:,.0f} updates/s, p50 {ms(percentile(bot_times, 50))}, p99 {ms(percentile(bot_times, 99))} (the bot)",
        f"{traffic_rate:,.0f} updates/s, p50 {ms(percentile(ceiling_times[1], 50))}"
        " (python-telegram-bot making the bot's calls, no database)",
        ratio,
        f">= {TARGET:.2f} of that ceiling",
        ratio >= TARGET,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (--quick for a small run)."""
    return quick_cli(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
