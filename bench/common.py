"""What the benchmark scripts share: the fixture's district, the clock, figures and the machine.

Every script prints its result as one line that a test (tests/test_bench_quick.py) recognises:

    == NAME: FIGURE | baseline FIGURE | ratio R | target T: met|missed

The figure and its baseline are measured in the same run, on the same machine, one after the
other, so the ratio says something even where the absolute numbers depend on the machine. The
ratio is always the figure divided by its baseline, as printed: a rate below 1 is slower than its
baseline, a time or a size above 1 is longer or larger.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import statistics
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.config import Config, parse_config  # noqa: E402

BENCH = ROOT / "bench"
FIXTURES = BENCH / "fixtures"
TZ = ZoneInfo("Asia/Shanghai")
# The fixture's "now": Monday 2026-11-23 10:00 in Shanghai, inside working hours (as in tests).
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)

# The district every fixture holds: 14 station units and 6 departments, 3 staff each, 5 coordinators.
STATION_UNITS = [f"st{i:02d}" for i in range(1, 15)]
DEPARTMENTS = ["hr", "legal", "health", "transport", "union", "civil"]
UNITS = STATION_UNITS + DEPARTMENTS
STAFF_PER_UNIT = 3
COORDINATORS = [900_001 + i for i in range(5)]
FIRST_COURIER = 1_000_000
COURIERS = 10_000
# The city the couriers work in (Shanghai's centre), where the district's own stations are.
CITY = (31.23, 121.47)
# Category -> unit for the routing rules; "rights" and "suggestion" wait for a coordinator.
ROUTES = {"work": "hr", "life": "civil", "facilities": "st01"}


def staff_of(unit: str) -> list[int]:
    """The Telegram ids of a unit's staff."""
    return [2_000_000 + UNITS.index(unit) * 10 + k for k in range(STAFF_PER_UNIT)]


def courier_id(index: int) -> int:
    """The Telegram id of the index-th courier."""
    return FIRST_COURIER + index


def unit_kind(unit: str) -> str:
    """A unit's kind."""
    return "station" if unit in STATION_UNITS else "department"


def bench_config(database: Path | str, **overrides: Any) -> Config:
    """The district's config on `database` (a file, or a postgresql:// URL): the fixture's units, staff,
    coordinators and routing; no environment."""
    where = {"url": database} if str(database).startswith("postgresql://") else {"path": str(database)}
    data: dict[str, Any] = {
        "database": where,
        "coordinators": COORDINATORS,
        "units": [
            {"id": u, "kind": unit_kind(u), "zh": f"单位{u}", "en": f"Unit {u}", "staff": staff_of(u)} for u in UNITS
        ],
        "routing": [{"category": c, "unit": u} for c, u in ROUTES.items()],
    }
    data.update(overrides)
    return parse_config(data, "bench", environ={})


def copy_database(source: Path, target: Path) -> Path:
    """A private copy of a fixture (benchmarks write to it; the cached file stays as generated)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


def rss_bytes() -> int:
    """This process's resident set size now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This process's highest resident set size so far."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


MIB = 1024 * 1024


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by the nearest-rank method."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match[1].strip() if match else platform.processor() or "unknown"


def machine() -> str:
    """The machine the figures come from: cores, CPU, Python, SQLite and the date."""
    import sqlite3

    return (
        f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}, {date.today().isoformat()}"
    )


def header(title: str, quick: bool) -> None:
    """The first lines every script prints."""
    print(f"# {title} ({'quick' if quick else 'full size'})")
    print(f"# machine: {machine()}")


def result(name: str, figure: str, baseline: str, ratio: float, target: str, met: bool) -> None:
    """The one line that states a benchmark's figure, its same-run baseline, the ratio and the target."""
    print(
        f"== {name}: {figure} | baseline {baseline} | ratio {ratio:.2f} | target {target}: {'met' if met else 'missed'}"
    )
    sys.stdout.flush()


def quick_cli(run: Callable[[bool], Awaitable[None]], doc: str, argv: list[str] | None = None) -> int:
    """The command line of a benchmark that takes only --quick: parse it and run."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run for CI")
    args = parser.parse_args(argv)
    asyncio.run(run(args.quick))
    return 0
