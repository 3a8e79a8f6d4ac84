"""The webhook over HTTP: couriers' updates posted to `python -m bot run --webhook` as Telegram posts them.

    python bench/webhook.py            # 200 couriers x 10 updates; SQLite, PG 1 worker, PG 2 workers, there and back
    python bench/webhook.py --quick    # 10 couriers, each configuration once

The bot runs as a process of its own (`python -m bot run --webhook [--workers 2]`) with the bench
district's config (bench/common.py) on a fresh database for each configuration; the sandbox's HTTP Bot
API (sandbox/server.py) plays Telegram for it in this process (it takes about a tenth of a core here,
so it stays in this process). Every courier goes through /start, /station and a location, /appeal to
its confirmation, and /my, one update after another (each posted only once the one before was
answered 200, as Telegram keeps one chat's order), all couriers at once over at most MAX_CONNECTIONS
connections (Telegram's default max_connections); the kernel spreads new connections across the
workers (SO_REUSEPORT; each worker's count is read from its /metrics). Timed: each post's round trip
(p50, p99) and the updates per second of the whole run (wall clock). Where the CPU went is read from
/proc: the bot's processes, PostgreSQL's backends on the run's database, this process, and the rest
of the machine (other work that shares it). On PostgreSQL a thread samples pg_locks every 5 ms for
storage/postgres.py's WRITE_LOCK, the one lock every write transaction of every worker takes.

python-telegram-bot's AIORateLimiter holds each process's replies to Telegram's 30 messages a second;
it is lifted in the bot's processes (a sitecustomize on their PYTHONPATH), or every configuration
would measure that cap. The line after the figures says what it would allow.

Order: after each answer the courier's chat must show that step's reply (the dialog reaches its
confirmation only if every step came in turn), /my must list the one appeal filed, and every courier
ends with as many of the bot's messages as the others (nothing handled twice).

The baseline is SQLite in one process, from the same run; beside it PostgreSQL with one worker, and
two workers beside one (on a 2-core machine the point is that the second worker loses neither
throughput nor order). Where no PostgreSQL server is at hand (bench/postgres_server.py) only SQLite
runs. APPEALS_BOT_BENCH_POSTGRESQL's database is used as a server to create fresh databases on, or,
without the right to, wiped before each configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from common import (  # noqa: E402
    CITY,
    COORDINATORS,
    ROOT,
    ROUTES,
    UNITS,
    courier_id,
    header,
    percentile,
    quick_cli,
    result,
    staff_of,
    unit_kind,
)
from postgres_server import postgresql_database  # noqa: E402

from sandbox.core import BotApiCore  # noqa: E402
from sandbox.server import start_server  # noqa: E402

TOKEN = "123456:BENCH"
SECRET = "bench-webhook-secret"
MAX_CONNECTIONS = 40  # Telegram's default max_connections for a webhook
# The target: two workers on PostgreSQL lose no throughput against one (on 2 cores no scaling is asked).
TARGET = 1.00
READY_S = 60.0
# python-telegram-bot's AIORateLimiter (bot/app.py) holds a process's replies to Telegram's 30 messages a
# second: a bench of it would measure that cap (about 20 updates/s here, in every configuration). Lifted in
# the bot's processes by this sitecustomize, so that what is measured is the bot's own work.
UNCAPPED = """
from telegram.ext import AIORateLimiter

_init = AIORateLimiter.__init__


def _uncapped(self, *args, **kwargs):
    kwargs["overall_max_rate"] = 0
    _init(self, *args, **kwargs)


AIORateLimiter.__init__ = _uncapped
"""


def _toml(value: Any) -> str:
    return (
        json.dumps(value) if isinstance(value, str | int | float | bool) else "[" + ", ".join(map(_toml, value)) + "]"
    )


def write_config(path: Path, database: str, port: int) -> None:
    """The bench district (bench/common.py) as a config file, on `database`, with its webhook on `port`."""
    lines = ['default_language = "en"', f"coordinators = {_toml(COORDINATORS)}", "[database]"]
    lines.append(f"url = {_toml(database)}" if database.startswith("postgresql://") else f"path = {_toml(database)}")
    lines += ["[webhook]", f'url = "http://127.0.0.1:{port}"', f"port = {port}"]
    for unit in UNITS:
        lines += ["[[units]]", f'id = "{unit}"', f'kind = "{unit_kind(unit)}"', f'zh = "单位{unit}"']
        lines += [f'en = "Unit {unit}"', f"staff = {_toml(staff_of(unit))}"]
    for category, unit in ROUTES.items():
        lines += ["[[routing]]", f'category = "{category}"', f'unit = "{unit}"']
    path.write_text("\n".join(lines) + "\n")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# A courier's updates, each with a fragment that the chat's newest bot message shows once it was handled.
Step = tuple[str, Callable[[BotApiCore, int], Any], str]


def _press(data: str) -> Callable[[BotApiCore, int], Any]:
    def press(core: BotApiCore, user: int) -> Any:
        newest = next(m for m in reversed(core.bot_messages(user)) if any(d == data for _, d in core.inline_buttons(m)))
        return core.press_button(user, newest["message_id"], data)

    return press


STEPS: list[Step] = [
    ("/start", lambda core, user: core.send_text(user, "/start"), "Hello, "),
    ("/station", lambda core, user: core.send_text(user, "/station"), "share your location"),
    ("location", lambda core, user: core.share_location(user, *CITY, horizontal_accuracy=15.0), "rest station"),
    ("/appeal", lambda core, user: core.send_text(user, "/appeal"), "What is it about?"),
    ("category", _press("dr:cat:work"), "Describe the problem"),
    ("text", lambda core, user: core.send_text(user, "The station's charger has been broken for a week"), "If the place does not matter"),
    ("no place", _press("dr:skip"), "staff will then see only what you wrote"),
    ("anonymous", _press("dr:skip"), "Please check your appeal"),
    ("confirm", _press("dr:confirm"), "is filed"),
    ("/my", lambda core, user: core.send_text(user, "/my"), "Your appeals"),
]  # fmt: skip


@dataclass
class Run:
    """One configuration's figures."""

    name: str
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    kept: int = 0  # couriers whose every step showed its reply in turn, with nothing handled twice
    couriers: int = 0
    failures: list[str] = field(default_factory=list)
    # CPU seconds while the couriers ran: this process (the HTTP clients and the Bot API sandbox), the bot's
    # processes, PostgreSQL's, and the whole machine's.
    cpu: dict[str, float] = field(default_factory=dict)
    messages: dict[int, int] = field(default_factory=dict)  # courier -> the bot's messages in the chat
    api_calls: int = 0
    chat_calls: int = 0  # Bot API calls with a chat_id: the ones AIORateLimiter holds to 30 a second
    per_worker: list[int] = field(default_factory=list)  # updates each worker handled
    write_lock: WriteLockSampler | None = None

    def check(self) -> None:
        """Every courier that went through in turn has as many messages as the others: none was handled twice."""
        counts = sorted(self.messages.values())
        usual = counts[len(counts) // 2] if counts else 0
        for user, count in self.messages.items():
            if count != usual:
                self.failures.append(f"courier {user}: {count} messages from the bot where the others have {usual}")
        self.kept = sum(count == usual for count in self.messages.values())

    def others(self) -> float:
        """CPU seconds the machine spent on anything but this benchmark while it ran."""
        return max(0.0, self.cpu["machine"] - self.cpu["bot"] - self.cpu["postgresql"] - self.cpu["bench"])

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def figure(self) -> str:
        ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
        return f"{self.rate:,.0f} updates/s, p50 {ms(percentile(self.latencies, 50))}, p99 {ms(percentile(self.latencies, 99))}"


async def _wait_ready(log: Path, process: asyncio.subprocess.Process, workers: int, core: BotApiCore) -> None:
    """Until every worker listens and Telegram was told the webhook (the bot's log and the sandbox's calls)."""
    deadline = time.monotonic() + READY_S
    while True:
        text = log.read_text(errors="replace")
        if text.count("webhook listening") >= workers and any(m.lower() == "setwebhook" for m, _ in core.calls):
            return
        if process.returncode is not None or time.monotonic() > deadline:
            raise SystemExit(f"the bot did not start (exit code {process.returncode}):\n{text[-3000:]}")
        await asyncio.sleep(0.05)


async def _courier(
    core: BotApiCore, http: aiohttp.ClientSession, hook: str, slots: asyncio.Semaphore, user: int, run: Run
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for name, act, shows in STEPS:
        act(core, user)
        # Taken at once, with no await in between: the one update this courier just made.
        (update,) = core.take_updates()
        async with slots:
            started = time.perf_counter()
            async with http.post(hook, json=update, headers=headers) as response:
                await response.read()
                status = response.status
            run.latencies.append(time.perf_counter() - started)
        newest = core.bot_messages(user)[-1].get("text") or ""
        if status != 200 or shows not in newest:
            run.failures.append(f"courier {user}, {name}: HTTP {status}, the chat shows {newest[:60]!r}")
            return
    listed = [line for line in newest.splitlines() if line.startswith("#")]
    if len(listed) != 1:
        run.failures.append(f"courier {user}: /my lists {len(listed)} appeals, not the one filed")
        return
    run.messages[user] = len(core.bot_messages(user))


TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(bot: int, database: str) -> dict[str, float]:
    """CPU seconds so far: the bot's processes (`bot` and its children), PostgreSQL's backends serving `database`,
    and the whole machine (other work on it included)."""
    name = urlsplit(database).path.lstrip("/") if database.startswith("postgresql://") else None
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    serving: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                text = (entry / "stat").read_text()
                fields = text[text.rindex(")") + 2 :].split()
                pid = int(entry.name)
                parents[pid], spent[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) * TICK_S
                # A backend's title: "postgres: USER DATABASE HOST STATE".
                if name and text[text.index("(") + 1 : text.rindex(")")] == "postgres":
                    if name in (entry / "cmdline").read_bytes().decode(errors="replace").split():
                        serving.add(pid)
    tree, grew = {bot}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    with open("/proc/stat") as machine:
        busy = [int(v) for v in machine.readline().split()[1:]]
    return {
        "bot": sum(spent.get(pid, 0.0) for pid in tree),
        "postgresql": sum(spent.get(pid, 0.0) for pid in serving),
        "machine": (sum(busy) - busy[3] - busy[4]) * TICK_S,  # all but idle and iowait
    }


class WriteLockSampler:
    """Who holds and who waits for storage/postgres.py's WRITE_LOCK on one database, sampled every few milliseconds."""

    EVERY_S = 0.005

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples = self.held = self.waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="write-lock-sampler", daemon=True)

    def __enter__(self) -> WriteLockSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psycopg

        from storage.postgres import WRITE_LOCK

        # A bigint advisory key shows in pg_locks as its high and low 32 bits.
        sql = (
            "SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) FROM pg_locks"
            " WHERE locktype = 'advisory' AND objsubid = 1 AND classid = %s AND objid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(self.EVERY_S):
                held, waiting = conn.execute(sql, (WRITE_LOCK >> 32, WRITE_LOCK & 0xFFFFFFFF)).fetchone()
                self.samples += 1
                self.held += held
                self.waiting += waiting

    def summary(self, rate: float) -> str:
        """The share of the time a transaction held the lock, how many waited for it, and what that makes of `rate`."""
        if not self.samples:
            return "WRITE_LOCK not sampled"
        held = self.held / self.samples
        # Held `held` of each second at `rate` updates a second: that long an update, and at most 1/that of them.
        return (
            f"WRITE_LOCK held {held:.0%} of the time ({self.samples:,} samples), {self.waiting / self.samples:.2f}"
            f" transactions waiting for it on average: {held / rate * 1000:.1f} ms held an update, so one lock"
            f" for all workers caps the bot near {rate / held:,.0f} updates/s at that hold time"
        )


HANDLED = re.compile(r'^appeals_bot_updates_handled_total\{worker="([^"]+)"\} ([0-9.e+]+)$', re.MULTILINE)


async def handled_per_worker(port: int, workers: int) -> list[int]:
    """The updates each worker handled, from its /metrics (asked on new connections until every worker answered)."""
    seen: dict[str, int] = {}
    for _ in range(20 * workers):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                for worker, count in HANDLED.findall(await response.text()):
                    seen[worker] = int(float(count))
        if len(seen) >= workers:
            break
    return sorted(seen.values(), reverse=True)


async def drive(folder: Path, name: str, database: str, workers: int, couriers: int, wipe: bool = False) -> Run:
    """Start the bot on `database` (`wipe` it first) with `workers`, drive `couriers` through it, stop it; the figures."""
    run = Run(name, couriers=couriers)
    core = BotApiCore()
    users = [courier_id(i) for i in range(couriers)]
    for index, person in enumerate([*users, *COORDINATORS, *(s for u in UNITS for s in staff_of(u))]):
        core.add_user(person, f"P{index}", language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    (folder / "uncapped").mkdir(exist_ok=True)
    (folder / "uncapped" / "sitecustomize.py").write_text(UNCAPPED)
    if wipe:
        _wipe(database)
    port = free_port()
    config = folder / f"{name.replace(' ', '-')}.toml"
    write_config(config, database, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "APPEALS_BOT_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=f"{url}/bot",
        TELEGRAM_BASE_FILE_URL=f"{url}/file/bot",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        APPEALS_BOT_CONFIG=str(config),
        PYTHONPATH=f"{folder / 'uncapped'}{os.pathsep}{ROOT}",
    )
    command = [sys.executable, "-m", "bot", "run", "--webhook"] + (["--workers", str(workers)] if workers > 1 else [])
    log = folder / f"{name.replace(' ', '-')}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(*command, cwd=folder, env=env, stdout=out, stderr=out)
    try:
        await _wait_ready(log, process, workers, core)
        hook = f"http://127.0.0.1:{port}/telegram"
        slots = asyncio.Semaphore(MAX_CONNECTIONS)
        connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
        async with aiohttp.ClientSession(connector=connector) as http:
            cpu = cpu_seconds(process.pid, database)
            started, bench_cpu = time.perf_counter(), time.process_time()
            calls = len(core.calls)
            with contextlib.ExitStack() as sampling:
                if database.startswith("postgresql://"):
                    run.write_lock = sampling.enter_context(WriteLockSampler(database))
                await asyncio.gather(*(_courier(core, http, hook, slots, user, run) for user in users))
            run.wall = time.perf_counter() - started
            run.cpu = {k: v - cpu[k] for k, v in cpu_seconds(process.pid, database).items()}
            run.cpu["bench"] = time.process_time() - bench_cpu
            made = core.calls[calls:]
            run.api_calls, run.chat_calls = len(made), sum("chat_id" in params for _, params in made)
        run.per_worker = await handled_per_worker(port, workers)
    finally:
        if process.returncode is None:
            process.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 30)
        if process.returncode is None:
            process.kill()
            await process.wait()
        await runner.cleanup()
    run.check()
    return run


@contextlib.contextmanager
def fresh_databases(url: str, count: int) -> Iterator[list[str]]:
    """`count` new databases on `url`'s server (dropped afterwards); or, without the right to create one, `url` wiped each time."""
    import psycopg

    names = [f"bench_webhook_{os.getpid()}_{n}" for n in range(count)]
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            for name in names:
                admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.errors.InsufficientPrivilege:
        yield [url] * count  # one database for every configuration: `drive` wipes it before each
        return
    parts = urlsplit(url)
    try:
        yield [urlunsplit(parts._replace(path=f"/{name}")) for name in names]
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wipe(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def merged(runs: list[Run]) -> Run:
    """One configuration's runs as one: their updates over their summed wall time, their latencies together."""
    whole = Run(runs[0].name, couriers=sum(r.couriers for r in runs), kept=sum(r.kept for r in runs))
    whole.wall = sum(r.wall for r in runs)
    for one in runs:
        whole.latencies += one.latencies
        whole.failures += one.failures
        whole.api_calls += one.api_calls
        whole.chat_calls += one.chat_calls
        for key, value in one.cpu.items():
            whole.cpu[key] = whole.cpu.get(key, 0.0) + value
        whole.per_worker = [
            a + b for a, b in zip(whole.per_worker or [0] * len(one.per_worker), one.per_worker, strict=True)
        ]
    return whole


def report(one: Run) -> None:
    """A configuration's line: its figures, its order check, where the CPU went."""
    per = len(one.latencies)
    print(
        f"# {one.name}: {one.figure()}; order: kept for {one.kept}/{one.couriers} couriers; {one.wall:.1f} s."
        f" CPU in cores: the bot {one.cpu['bot'] / one.wall:.2f}, PostgreSQL {one.cpu['postgresql'] / one.wall:.2f},"
        f" this process (clients, Bot API sandbox) {one.cpu['bench'] / one.wall:.2f},"
        f" other work on the machine {one.others() / one.wall:.2f} (of {os.cpu_count()})."
        f" {one.api_calls / per:.2f} Bot API calls an update ({one.chat_calls / per:.2f} with a chat_id);"
        f" handled by each worker: {' + '.join(map(str, one.per_worker))}"
    )
    if one.write_lock is not None:
        print(f"#   {one.write_lock.summary(one.rate)}")
    for failure in one.failures[:5]:
        print(f"#   {failure}")


async def run(quick: bool) -> None:
    couriers, rounds = (10, 1) if quick else (200, 2)
    header(f"webhook: {couriers} couriers x {len(STEPS)} updates over HTTP, {MAX_CONNECTIONS} connections", quick)
    names = ["SQLite, 1 process", "PostgreSQL, 1 worker", "PostgreSQL, 2 workers"]
    runs: dict[str, list[Run]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as folder, postgresql_database() as url:
        work = Path(folder)
        with contextlib.ExitStack() as stack:
            if url is None:
                names = names[:1]
            else:
                databases = stack.enter_context(fresh_databases(url, 2 * rounds))
            for turn in range(rounds):
                # There and back (ABC, then CBA): a machine that slows down or speeds up during the run favours none.
                for name in names if turn % 2 == 0 else names[::-1]:
                    if name.startswith("SQLite"):
                        database, wipe = str(work / f"bot-{turn}.sqlite3"), False
                    else:
                        database = databases.pop()
                        wipe = database == url
                    runs[name].append(
                        await drive(work, name, database, 2 if "2 workers" in name else 1, couriers, wipe)
                    )
                    report(runs[name][-1])
    figures = [merged(runs[name]) for name in names]
    if rounds > 1:
        print(f"# each configuration's {rounds} runs together:")
        for one in figures:
            report(one)
    base = figures[0]
    capped = 30 / (base.chat_calls / len(base.latencies))
    print(
        f"# AIORateLimiter (lifted here) would hold each process to Telegram's 30 messages/s:"
        f" {capped:.0f} updates/s at {base.chat_calls / len(base.latencies):.2f} chat messages an update"
    )
    if len(figures) == 3:
        one, two = figures[1], figures[2]
        ratio = one.rate / base.rate
        result("webhook-postgresql", one.figure(), base.figure(), ratio, ">= 0.50", ratio >= 0.5)
        ratio = two.rate / one.rate
        result("webhook-2-workers", two.figure(), one.figure(), ratio, f">= {TARGET:.2f}", ratio >= TARGET)
    for one in figures:
        if one.kept != one.couriers:
            raise SystemExit(f"order: kept for {one.kept}/{one.couriers} couriers only ({one.name})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (--quick for a small run)."""
    return quick_cli(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
