"""A district's years of ledger as a SQLite file, through the bot's real schema, with a fixed seed.

    python bench/fixtures.py                 # 1,000,000 appeals (the size of docs/design.md §1)
    python bench/fixtures.py --quick         # 20,000 appeals
    python bench/fixtures.py --appeals N --timers T --stations S --seed X [--force]

The file is cached under bench/fixtures/ (git-ignored), named by its sizes, seed and schema version,
so the other benchmarks build it once and copy it. What it holds, at the fixture's clock
(bench.common.NOW, Monday 2026-11-23 10:00 in Shanghai):

- units, their staff and coordinators as bench.common.bench_config lists them, and 10,000 couriers;
- stations (a fifth of the appeal count by default: 200,000 at full size): 2,000 in the city where
  the couriers work (a big city's network), the rest around other cities and scattered over the
  country, as a national file would be;
- appeals filed over the 700 days before the clock, each with the ledger its story produces
  (submit, routing or triage, accept, questions, resolve, ratings, reopening, auto-close, send-back,
  withdrawal, rejection, merge), attachments for some, and the notices those events sent (status
  sent: retention keeps sent notices for 730 days);
- the newest appeals still open (waiting for triage, to be accepted, in handling, waiting for a
  rating) or recently closed with a follow-up due, until exactly `timers` deadlines have a next
  step ahead of the clock (100,000 at full size, the pending deadlines of docs/design.md §1); a
  handful are due at the clock itself, as after a restart. A running bot has already climbed every
  ladder step that lies in the past, so no other step is pending.

Rows go in with bulk INSERTs in a few transactions; the indexes of the big tables are dropped first
and re-created afterwards from the schema's own SQL, so the file ends with exactly the schema the
migrations make (checked), and nothing the bot would not have (no ANALYZE statistics).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sqlite3
import sys
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CITY,
    COORDINATORS,
    COURIERS,
    DEPARTMENTS,
    FIXTURES,
    NOW,
    ROUTES,
    STATION_UNITS,
    UNITS,
    courier_id,
    staff_of,
    unit_kind,
)

from domain.deadlines import Priority, Timer  # noqa: E402
from domain.hours import WEEKDAYS  # noqa: E402
from domain.ladder import Stage  # noqa: E402
from domain.lifecycle import Event, Outcome, Role, State  # noqa: E402
from domain.stations_file import AMENITIES  # noqa: E402
from storage.migrations import LATEST, migrate  # noqa: E402

SEED = 20261123
FULL_APPEALS = 1_000_000
QUICK_APPEALS = 20_000
# Bump when the generator changes what it writes, so cached files are rebuilt.
GENERATOR_VERSION = 4
SPAN_DAYS = 700
# Tables whose indexes are dropped for the load and re-created after it. The ledger keeps its own:
# both grow at their ends as events are appended in time order, which costs less than a rebuild.
BULK_TABLES = ("appeals", "outbox", "attachments")
CHUNK = 100_000  # appeals told by the worker process per batch

CATEGORIES = ["work", "life", "rights", "facilities", "suggestion"]
CATEGORY_WEIGHTS = [30, 25, 15, 20, 10]
# Who routes an unrouted category once a coordinator has looked at it.
TRIAGED_TO = {"rights": "legal", "suggestion": "union"}

DESCRIPTIONS = [
    "平台拖欠上月配送费，多次联系客服无果",
    "送餐途中电动车被撞，保险理赔迟迟不办",
    "驿站充电桩坏了一周，无法给电动车充电",
    "孩子暑假无人照看，想了解托管服务",
    "站点饮水机没有热水",
    "站点微波炉坏了",
    "被平台无故封号，申诉无人处理",
    "超时罚款不合理，遇到暴雨封路",
    "想咨询工伤认定怎么办理",
    "夜班骑手希望驿站延长开放时间",
    "The platform deducted my pay for a late order that was the restaurant's fault",
    "The charging station at the rest stop has been broken for days",
    "I was injured in a traffic accident while delivering and need help with insurance",
    "The rest station has no first-aid kit",
    "Please add more seats at the station near the metro",
    "劳务公司不签合同，也不交社保",
    "站点厕所长期关闭",
    "建议在商圈增设休息点",
    "配送地址小区不让电动车进入，要求协调",
    "手机被偷，需要开具证明",
]
RESULTS = [
    "已联系平台核实，补发配送费",
    "已协调保险公司受理理赔",
    "充电桩已更换",
    "已安排托管班名额",
    "已维修完毕",
    "已与平台沟通，恢复账号",
    "Contacted the platform; the deduction was refunded",
    "Repaired on site",
]
QUESTIONS = ["请提供订单号", "请问事故发生的具体时间？", "Which station exactly?"]
ANSWERS = ["订单号 2026110312345", "上周三下午三点", "The one by the metro exit"]
REASONS = ["不属于本单位职责", "Wrong unit: this is a platform dispute"]
SCHEDULES = [
    {d: "07:00-22:00" for d in WEEKDAYS},
    {d: "00:00-24:00" for d in WEEKDAYS},
    {**{d: "09:00-18:00" for d in WEEKDAYS}, "sun": "closed"},
    {d: "22:00-06:00" for d in WEEKDAYS},
]

HOUR, DAY = 3600, 86400
CITY_STATIONS = 2_000
STAFF = {u: staff_of(u) for u in UNITS}


@dataclass(frozen=True)
class Sizes:
    """What one fixture file holds; its name is made from these."""

    appeals: int
    timers: int
    stations: int
    seed: int = SEED

    @property
    def path(self) -> Path:
        """Where the file is cached."""
        name = f"appeals-{self.appeals}-timers-{self.timers}-stations-{self.stations}-seed-{self.seed}"
        return FIXTURES / f"{name}-schema{LATEST}-gen{GENERATOR_VERSION}.sqlite3"


def sizes(appeals: int, timers: int | None = None, stations: int | None = None, seed: int = SEED) -> Sizes:
    """Sizes with the defaults: a tenth of the appeals as pending deadlines, a fifth as stations."""
    return Sizes(
        appeals,
        appeals // 10 if timers is None else timers,
        max(500, appeals // 5) if stations is None else stations,
        seed,
    )


def ensure(size: Sizes, *, force: bool = False, quiet: bool = False) -> Path:
    """The fixture file for `size`, built first if it is not cached."""
    path = size.path
    if path.exists() and not force:
        return path
    FIXTURES.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # Two benchmarks may build the same file at once: each writes its own, the last rename wins.
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    counts = build(partial, size)
    os.replace(partial, path)
    if not quiet:
        print(f"# built {path.name} in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
    return path


# --------------------------------------------------------------------------- the build


def _stations(rnd: random.Random, count: int) -> list[tuple]:
    """Stations: up to 2,000 in the couriers' city (its own units), the rest around other cities and scattered."""
    amenity_sets = [json.dumps([a for i, a in enumerate(AMENITIES) if bits >> i & 1]) for bits in range(64)]
    hours = [json.dumps(s, ensure_ascii=False) for s in SCHEDULES]
    cities = [(rnd.uniform(22.0, 42.0), rnd.uniform(100.0, 122.0)) for _ in range(60)]
    city_count = min(CITY_STATIONS, max(1, count // 2))
    rows = []
    for i in range(count):
        if i < city_count:
            lat, lon = CITY[0] + rnd.gauss(0, 0.08), CITY[1] + rnd.gauss(0, 0.08)
            unit = STATION_UNITS[i % len(STATION_UNITS)]
        elif rnd.random() < 0.8:
            c_lat, c_lon = cities[rnd.randrange(len(cities))]
            lat, lon, unit = c_lat + rnd.gauss(0, 0.1), c_lon + rnd.gauss(0, 0.1), None
        else:
            lat, lon, unit = rnd.uniform(20.0, 45.0), rnd.uniform(75.0, 130.0), None
        rows.append(
            (
                f"cn-{i:06d}",
                f"爱心驿站 {i}",
                f"{rnd.randrange(1, 999)}号",
                round(lat, 6),
                round(lon, 6),
                "ABC"[rnd.randrange(3)],
                amenity_sets[rnd.randrange(1, 64)],
                hours[rnd.randrange(len(hours))],
                unit,
                1 if rnd.random() < 0.97 else 0,
                i + 1,
            )
        )
    return rows


class _Ledger:
    """Collects the rows of appeals, events, timers and attachments as stories are told."""

    def __init__(self, rnd: random.Random, city_stations: list[tuple[str, float, float, str]], now: int) -> None:
        self.rnd = rnd
        self.now = now
        self.city_stations = city_stations
        self.appeals: list[tuple] = []
        self.events: list[tuple] = []  # without ids: numbered by SQLite in the order inserted
        self.timers: list[tuple] = []
        self.attachments: list[tuple] = []

    def event(
        self,
        appeal: int,
        event: str,
        actor: int | None,
        role: str,
        a: str,
        b: str,
        unit: str | None,
        note: str | None,
        on_time: int | None,
        at: int,
    ) -> None:
        self.events.append((appeal, event, actor, role, a, b, unit, note, on_time, at))


def _story_weights() -> tuple[list[str], list[int]]:
    stories = {
        "satisfied": 44,
        "fair": 12,
        "asked": 6,  # a question to the courier and the answer, then satisfied
        "auto": 13,  # no rating: closed by itself
        "reopened": 5,  # not solved, handled again, then satisfied
        "sent_back": 3,  # the unit sends it back, a coordinator routes it elsewhere
        "withdrawn": 4,
        "withdrawn_late": 2,  # withdrawn while in handling
        "rejected": 3,
        "merged": 2,
        "unsatisfied_auto": 6,  # reopened, resolved again, then no rating
    }
    return list(stories), list(stories.values())


# Open kinds for the newest appeals, and how many pending deadlines each leaves.
OPEN_KINDS = ["assessing", "handling_new", "handling_accepted", "awaiting_courier", "feedback", "followup"]
OPEN_WEIGHTS = [10, 20, 33, 2, 15, 20]
PENDING = {
    "assessing": 1,
    "handling_new": 2,
    "handling_accepted": 1,
    "awaiting_courier": 0,
    "feedback": 1,
    "followup": 1,
}


def _plan_open(rnd: random.Random, appeals: int, timers: int) -> dict[int, str]:
    """The newest appeals' open kinds, newest first, until exactly `timers` deadlines are pending."""
    plan: dict[int, str] = {}
    pending = 0
    appeal = appeals
    while pending < timers and appeal >= 1:
        kind = rnd.choices(OPEN_KINDS, OPEN_WEIGHTS)[0]
        if pending + PENDING[kind] > timers:
            kind = "handling_accepted"  # one deadline: lands exactly on the target
        plan[appeal] = kind
        pending += PENDING[kind]
        appeal -= 1
    if pending < timers:
        raise ValueError(f"{appeals} appeals cannot hold {timers} pending deadlines")
    return plan


def _tell(
    led: _Ledger, appeal: int, created: int, courier: int, category: str, story: str, open_kind: str | None
) -> tuple:
    """Write one appeal's ledger (and timers); return its appeals row."""
    rnd, now = led.rnd, led.now
    random = rnd.random
    routed = ROUTES.get(category)
    station = lat = lon = None
    place = rnd.random()
    if place < 0.4:
        station, lat, lon, station_unit = led.city_stations[rnd.randrange(len(led.city_stations))]
        if category == "facilities":
            routed = station_unit
        lat = lon = None
    elif place < 0.7:
        lat, lon = round(CITY[0] + rnd.gauss(0, 0.06), 6), round(CITY[1] + rnd.gauss(0, 0.06), 6)
    unit = routed or TRIAGED_TO[category]
    staff = STAFF[unit][appeal % 3]
    coordinator = COORDINATORS[appeal % len(COORDINATORS)]
    priority = "urgent" if rnd.random() < 0.05 else "normal"
    phone = f"138{appeal % 100_000_000:08d}" if rnd.random() < 0.6 else None
    language = "zh" if courier % 7 else "en"
    description = DESCRIPTIONS[appeal % len(DESCRIPTIONS)]
    if rnd.random() < 0.1:
        # Linked to the submit event once the events are numbered (_link_attachments).
        led.attachments.append((appeal, None, "photo", f"photo-{appeal}", f"uniq-{appeal}", created))

    if open_kind is not None:
        # As far as it has got; a tenth of those past a result were reopened once on the way.
        past_result = open_kind in ("handling_accepted", "feedback", "followup")
        story = "reopened" if past_result and rnd.random() < 0.1 else "satisfied"
    t = created
    state, outcome, current_unit = "collecting", None, None
    accepted = awaiting = 0
    send_backs = reopens = 0
    send_back_until = merged_into = None
    version = 0

    def step(
        event: str,
        actor: int | None,
        role: str,
        to: str,
        note: str | None = None,
        on_time: int | None = None,
        gap: tuple[int, int] = (60, HOUR),
    ) -> None:
        nonlocal t, state, version
        if event != "submit":
            t += gap[0] + int(random() * (gap[1] - gap[0]))
        t = min(t, now - 60)  # the newest stories are cut short by the clock
        led.event(appeal, event, actor, role, state, to, current_unit, note, on_time, t)
        state = to
        version += 1

    def staff_step(
        event: str, to: str, note: str | None = None, on_time: int | None = None, gap: tuple[int, int] = (60, HOUR)
    ) -> None:
        """A step taken by a staff member of the unit that holds the appeal."""
        step(event, STAFF[current_unit][appeal % 3], "staff", to, note, on_time, gap)

    def assign(to_unit: str, by_coordinator: bool) -> None:
        nonlocal current_unit, accepted, awaiting, send_back_until
        current_unit = to_unit
        if by_coordinator:
            step("assign", coordinator, "coordinator", "handling", gap=(10 * 60, 4 * HOUR))
        else:
            step("assign", None, "system", "handling", gap=(0, 0))
        accepted = awaiting = 0
        send_back_until = t + DAY

    def accept() -> None:
        nonlocal accepted
        staff_step("accept", "handling", on_time=int(rnd.random() < 0.85), gap=(5 * 60, DAY))
        accepted = 1

    def resolve() -> None:
        staff_step(
            "resolve",
            "feedback",
            note=RESULTS[appeal % len(RESULTS)],
            on_time=int(rnd.random() < 0.8),
            gap=(HOUR, 5 * DAY),
        )

    def rate(event: str) -> None:
        nonlocal outcome
        to = "handling" if event == "rate_unsatisfied" else "closed"
        step(event, courier, "courier", to, note="还是没解决" if to == "handling" else None, gap=(10 * 60, 3 * DAY))
        if to == "closed":
            outcome = "resolved"

    step("submit", courier, "courier", "assessing")
    if story in ("withdrawn", "rejected", "merged"):
        if story == "withdrawn":
            step("withdraw", courier, "courier", "closed", gap=(5 * 60, 6 * HOUR))
            outcome = "withdrawn"
        elif story == "rejected":
            step("reject", coordinator, "coordinator", "closed", note=REASONS[0], gap=(10 * 60, 4 * HOUR))
            outcome = "rejected"
        else:
            merged_into = max(1, appeal - 1 - rnd.randrange(50))
            step("merge", coordinator, "coordinator", "closed", gap=(10 * 60, 4 * HOUR))
            outcome = "merged"
    elif open_kind == "assessing":
        routed = None  # waiting for a coordinator to route it
    else:
        assign(unit, by_coordinator=routed is None)
        if story == "sent_back":
            step("send_back", staff, "staff", "assessing", note=REASONS[1], gap=(10 * 60, 6 * HOUR))
            send_backs, current_unit = 1, None
            other = DEPARTMENTS[(DEPARTMENTS.index(unit) + 1) % len(DEPARTMENTS)] if unit in DEPARTMENTS else "civil"
            assign(other, by_coordinator=True)
        if story == "withdrawn_late":
            step("withdraw", courier, "courier", "closed", gap=(HOUR, 2 * DAY))
            outcome = "withdrawn"
        elif open_kind != "handling_new":
            accept()
            if story == "asked" or open_kind == "awaiting_courier":
                staff_step("ask", "handling", note=QUESTIONS[appeal % len(QUESTIONS)], gap=(HOUR, DAY))
                awaiting = 1
                if open_kind != "awaiting_courier":
                    step(
                        "answer",
                        courier,
                        "courier",
                        "handling",
                        note=ANSWERS[appeal % len(ANSWERS)],
                        gap=(10 * 60, DAY),
                    )
                    awaiting = 0
            if open_kind == "handling_accepted" and story == "reopened":
                resolve()
                rate("rate_unsatisfied")
                reopens = 1
            elif open_kind not in ("handling_accepted", "awaiting_courier"):
                resolve()
                if story in ("reopened", "unsatisfied_auto"):
                    rate("rate_unsatisfied")
                    reopens = 1
                    resolve()
                if open_kind == "feedback":
                    pass
                elif story in ("auto", "unsatisfied_auto"):
                    step("auto_close", None, "system", "closed", gap=(3 * DAY, 3 * DAY + HOUR))
                    outcome = "auto_closed"
                else:
                    rate("rate_fairly_satisfied" if story == "fair" else "rate_satisfied")

    if open_kind is not None:
        _open_timers(led, appeal, open_kind, t, priority)
    return (
        appeal,
        courier,
        category,
        priority,
        state,
        outcome,
        current_unit,
        station,
        lat,
        lon,
        description,
        phone,
        language,
        accepted,
        awaiting,
        send_backs,
        reopens,
        send_back_until,
        merged_into,
        version,
        created,
        t,
        None,
    )


def _open_timers(led: _Ledger, appeal: int, kind: str, last: int, priority: str) -> None:
    """The deadlines an open appeal holds, each with its next ladder step ahead of the clock."""
    rnd, now = led.rnd, led.now

    def pending(timer: str, ladder: bool = True) -> None:
        due = now + rnd.randint(HOUR, 10 * DAY)
        if ladder and due - 2 * HOUR > now + 60:
            stage, fire = "remind", due - 2 * HOUR
        else:
            stage, fire = "due", due
        led.timers.append((appeal, timer, due, None, last, stage, fire))

    match kind:
        case "assessing":
            pending("triage")
        case "handling_new":
            pending("accept")
            pending("handle")
        case "handling_accepted":
            pending("handle")
        case "awaiting_courier":
            led.timers.append((appeal, "handle", None, rnd.randint(HOUR, 3 * DAY), last, "remind", None))
        case "feedback":
            pending("feedback")
        case "followup":
            pending("followup", ladder=False)


def build(path: Path, size: Sizes) -> dict[str, int]:
    """Write the fixture file at `path`; return the row counts."""
    rnd = random.Random(size.seed)
    now = int(NOW.timestamp())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn)
        schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=str)
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "cache_size = -524288",
            "temp_store = MEMORY",
            "locking_mode = EXCLUSIVE",
        ):
            conn.execute(f"PRAGMA {pragma}")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({','.join('?' * len(BULK_TABLES))})",
            BULK_TABLES,
        ).fetchall()
        conn.execute("BEGIN")
        for name, _sql in indexes:
            conn.execute(f"DROP INDEX {name}")
        _people_and_units(conn, rnd, now)
        # Each IN (...) check costs several microseconds a row, most of the build: the big tables'
        # checks are made once at the end instead (_verify), with the schema's own value lists.
        conn.execute("PRAGMA ignore_check_constraints = ON")
        stations = _stations(rnd, size.stations)
        city = [(s[0], s[3], s[4], s[8]) for s in stations if s[8] is not None and s[9]]

        plan = _plan_open(rnd, size.appeals, size.timers)
        counts = {"appeals": 0, "events": 0, "timers": 0, "attachments": 0}
        batches = [(first, min(first + CHUNK, size.appeals + 1)) for first in range(1, size.appeals + 1, CHUNK)]
        # A worker process tells the stories while this one writes the rows of the batch before.
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:

            def tell(batch: tuple[int, int]) -> Future:
                first, end = batch
                chunk_plan = {a: k for a, k in plan.items() if first <= a < end}
                return pool.submit(_tell_batch, size.seed, first, end, size.appeals, chunk_plan, city, now)

            queued = deque(tell(b) for b in batches[:3])
            waiting = deque(batches[3:])
            conn.executemany(
                "INSERT INTO stations (id, name, address, lat, lon, grade, amenities, hours, unit_id, active,"
                " index_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                stations,
            )
            conn.execute("COMMIT")
            while queued:
                rows = queued.popleft().result()
                if waiting:
                    queued.append(tell(waiting.popleft()))
                _flush(conn, *rows)
                counts = {k: counts[k] + len(r) for k, r in zip(counts, rows, strict=True)}
        _due_now(conn, now)
        conn.execute(
            "UPDATE appeals SET next_due = (SELECT min(t.due_at) FROM timers t WHERE t.appeal_id = appeals.id)"
            " WHERE id IN (SELECT appeal_id FROM timers WHERE due_at IS NOT NULL)"
        )
        _notices(conn)
        conn.execute("PRAGMA ignore_check_constraints = OFF")
        _verify(conn, thorough=size.appeals <= 200_000)
        conn.execute("BEGIN")
        for _name, sql in indexes:
            conn.execute(sql)
        conn.execute(
            "UPDATE attachments SET event_id = (SELECT min(e.id) FROM events e WHERE e.appeal_id = attachments.appeal_id)"
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA locking_mode = NORMAL")
        conn.execute("PRAGMA journal_mode = WAL")
        after = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=str)
        if after != schema:
            raise RuntimeError("the fixture's schema differs from the migrations' schema")
        counts["stations"] = len(stations)
        counts["outbox"] = conn.execute("SELECT max(id) FROM outbox").fetchone()[0] or 0
        counts["pending_timers"] = conn.execute("SELECT count(*) FROM timers WHERE fire_at IS NOT NULL").fetchone()[0]
        return counts
    finally:
        conn.close()


def _verify(conn: sqlite3.Connection, thorough: bool) -> None:
    """The CHECK constraints of the rows written with checks off, and the enums' value sets the
    schema leaves to the code (storage/invariants.py), as queries; raise on any violation.

    `thorough` adds the ledger's checks and the foreign keys: two full scans that take a tenth of a
    million-appeal build; the same generator's quick fixture is checked with them.
    """
    states = _values(State)
    checks = {
        "appeals": f"state NOT IN ({states}) OR (outcome IS NOT NULL AND outcome NOT IN ({_values(Outcome)}))"
        f" OR priority NOT IN ({_values(Priority)}) OR language NOT IN ('zh', 'en') OR accepted NOT IN (0, 1)"
        " OR awaiting_courier NOT IN (0, 1) OR send_backs < 0 OR reopens < 0"
        " OR (state = 'closed') != (outcome IS NOT NULL) OR (outcome = 'merged') != (merged_into IS NOT NULL)"
        " OR (state IN ('handling', 'feedback') AND unit_id IS NULL)",
        "events": f"event NOT IN ({_values(Event)}) OR actor_role NOT IN ({_values(Role)})"
        f" OR from_state NOT IN ({states}) OR to_state NOT IN ({states}) OR (on_time IS NOT NULL AND on_time NOT IN (0, 1))",
        "outbox": "status NOT IN ('pending', 'sent', 'dead') OR (status = 'sent') != (sent_at IS NOT NULL)",
        "attachments": "kind NOT IN ('photo', 'voice', 'document')",
        "timers": f"kind NOT IN ({_values(Timer)})"
        f" OR stage NOT IN ({_values(Stage)}) OR (due_at IS NULL) = (remaining_s IS NULL)"
        " OR (fire_at IS NOT NULL AND due_at IS NULL) OR remaining_s < 0",
    }
    for table, violation in checks.items():
        if table == "events" and not thorough:
            continue
        bad = conn.execute(f"SELECT count(*) FROM {table} WHERE {violation}").fetchone()[0]
        if bad:
            raise RuntimeError(f"{bad} rows of {table} break its CHECK constraints")
    problems = conn.execute("PRAGMA foreign_key_check").fetchmany(5) if thorough else []
    if problems:
        raise RuntimeError(f"rows with dangling references: {problems}")


def _values(enum: type[StrEnum]) -> str:
    """An enum's values as an SQL list."""
    return ", ".join(f"'{member.value}'" for member in enum)


def _people_and_units(conn: sqlite3.Connection, rnd: random.Random, now: int) -> None:
    conn.executemany(
        "INSERT INTO units (id, kind, name_zh, name_en, active) VALUES (?, ?, ?, ?, 1)",
        [(u, unit_kind(u), f"单位{u}", f"Unit {u}") for u in UNITS],
    )
    people = [
        (
            courier_id(i),
            "courier",
            None,
            "zh" if courier_id(i) % 7 else "en",
            "bot",
            now - rnd.randrange(SPAN_DAYS * DAY),
        )
        for i in range(COURIERS)
    ]
    people += [(s, "staff", u, "zh", "config", now - SPAN_DAYS * DAY) for u in UNITS for s in staff_of(u)]
    people += [(c, "coordinator", None, "zh", "config", now - SPAN_DAYS * DAY) for c in COORDINATORS]
    conn.executemany(
        "INSERT INTO people (telegram_id, role, unit_id, language, source, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        people,
    )
    # A third of the couriers have looked up a station in the last month.
    conn.executemany(
        "INSERT INTO last_locations (telegram_id, lat, lon, accuracy_m, at) VALUES (?, ?, ?, ?, ?)",
        [
            (
                courier_id(i),
                round(CITY[0] + rnd.gauss(0, 0.05), 6),
                round(CITY[1] + rnd.gauss(0, 0.05), 6),
                20.0,
                now - rnd.randrange(30 * DAY),
            )
            for i in range(0, COURIERS, 3)
        ],
    )


def _tell_batch(
    seed: int, first: int, end: int, total: int, plan: dict[int, str], city: list[tuple], now: int
) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """Tell the stories of appeals first..end-1 (of `total`); each batch has its own seeded generator."""
    rnd = random.Random(f"{seed}:{first}")
    led = _Ledger(rnd, city, now)
    story_names, story_weights = _story_weights()
    count = end - first
    categories = rnd.choices(CATEGORIES, CATEGORY_WEIGHTS, k=count)
    stories = rnd.choices(story_names, story_weights, k=count)
    # Some couriers write far more often than others.
    couriers = [courier_id(int(COURIERS * rnd.random() ** 1.3)) for _ in range(count)]
    start, spacing = now - SPAN_DAYS * DAY, SPAN_DAYS * DAY / total
    for index, appeal in enumerate(range(first, end)):
        created = min(now - 120, int(start + (appeal - 1) * spacing) + rnd.randrange(int(spacing) + 1))
        led.appeals.append(
            _tell(led, appeal, created, couriers[index], categories[index], stories[index], plan.get(appeal))
        )
    return led.appeals, led.events, led.timers, led.attachments


def _flush(
    conn: sqlite3.Connection, appeals: list[tuple], events: list[tuple], timers: list[tuple], attachments: list[tuple]
) -> None:
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO appeals (id, courier_id, category, priority, state, outcome, unit_id, station_id, lat, lon,"
        " description, contact_phone, language, accepted, awaiting_courier, send_backs, reopens, send_back_until,"
        " merged_into, version, created_at, updated_at, anonymised_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        appeals,
    )
    conn.executemany(
        "INSERT INTO events (appeal_id, event, actor_id, actor_role, from_state, to_state, unit_id, note,"
        " on_time, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    conn.executemany(
        "INSERT INTO timers (appeal_id, kind, due_at, remaining_s, set_at, stage, fire_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        timers,
    )
    conn.executemany(
        "INSERT INTO attachments (appeal_id, event_id, kind, file_id, file_unique_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        attachments,
    )
    conn.execute("COMMIT")


def _due_now(conn: sqlite3.Connection, now: int) -> None:
    """Three acceptance deadlines fall due at the clock: the first tick after a restart chases them up."""
    conn.execute(
        "UPDATE timers SET due_at = ?, stage = 'due', fire_at = ? WHERE kind = 'accept' AND appeal_id IN"
        " (SELECT appeal_id FROM timers WHERE kind = 'accept' ORDER BY appeal_id LIMIT 3)",
        (now - 30, now - 30),
    )


def _notices(conn: sqlite3.Connection) -> None:
    """The notices the ledger's events sent, as the outbox keeps them (sent) for the retention period."""
    sent = (
        "INSERT INTO outbox (chat_id, appeal_id, event_id, template, params, status, attempts, not_before,"
        " created_at, sent_at) SELECT {chat}, e.appeal_id, e.id, 'notice.' || e.event || '.{audience}', '{{}}',"
        " 'sent', 1, e.at, e.at, e.at + 2 FROM events e NOT INDEXED {join} WHERE {where} ORDER BY e.id"
    )
    conn.execute("BEGIN")
    # The courier hears of routing (unless routed at once: the confirmation says it), answers and results.
    conn.execute(
        sent.format(
            chat="a.courier_id",
            audience="courier",
            join="JOIN appeals a ON a.id = e.appeal_id",
            where="e.event IN ('assign', 'reassign', 'reject', 'merge', 'accept', 'ask', 'note', 'resolve',"
            " 'auto_close') AND NOT (e.event = 'assign' AND e.actor_role = 'system')",
        )
    )
    # The unit (here: the staff member on duty for the appeal) hears of new work, answers and ratings.
    conn.execute(
        sent.format(
            chat="(SELECT min(p.telegram_id) + e.appeal_id % 3 FROM people p WHERE p.role = 'staff'"
            " AND p.unit_id = e.unit_id)",
            audience="unit",
            join="",
            where="e.event IN ('assign', 'reassign', 'withdraw', 'answer', 'rate_satisfied', 'rate_fairly_satisfied',"
            " 'rate_unsatisfied', 'auto_close') AND e.unit_id IS NOT NULL",
        )
    )
    conn.execute("COMMIT")


def main(argv: list[str] | None = None) -> int:
    """Build (or find) a fixture and say what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_APPEALS:,} appeals instead of {FULL_APPEALS:,}")
    parser.add_argument("--appeals", type=int)
    parser.add_argument("--timers", type=int, help="pending deadlines (default: a tenth of the appeals)")
    parser.add_argument("--stations", type=int, help="stations (default: a fifth of the appeals)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    appeals = args.appeals or (QUICK_APPEALS if args.quick else FULL_APPEALS)
    size = sizes(appeals, args.timers, args.stations, args.seed)
    cached = size.path.exists() and not args.force
    started = time.perf_counter()
    path = ensure(size, force=args.force, quiet=True)
    took = time.perf_counter() - started
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = ("appeals", "events", "outbox", "timers", "people", "stations", "attachments")
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        pending = conn.execute("SELECT count(*) FROM timers WHERE fire_at IS NOT NULL").fetchone()[0]
        open_ = conn.execute("SELECT count(*) FROM appeals WHERE state != 'closed'").fetchone()[0]
    finally:
        conn.close()
    print(f"# {path}")
    print(
        "# "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items())
        + f"; open appeals {open_:,}; pending deadlines {pending:,}"
    )
    megabytes = path.stat().st_size / 2**20
    print(
        f"== fixture: {counts['appeals']:,} appeals, {counts['events']:,} events, {pending:,} pending deadlines,"
        f" {megabytes:,.0f} MiB | {'cached' if cached else f'built in {took:.1f} s'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
