"""The benchmarks' quick runs: each script under bench/ runs with --quick and prints its figures.

This is how CI runs the benchmarks. Speed is never asserted here (a shared CI machine would make
such a test flaky): a target may be met or missed. Only that each script works end to end and
states its figure, its same-run baseline, the ratio and the target, judged on that ratio.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
# The line every benchmark ends with (bench/common.py `result`). Its target bounds the ratio: a
# number with no unit (an absolute time or size would depend on the machine and the day).
RESULT = r"^== {name}: .+ \| baseline .+ \| ratio (-?[0-9.]+|inf|nan) \| target [<>]=? ?[0-9.]+(x| of [^:|]+)?: (met|missed)$"

pytestmark = pytest.mark.slow  # each benchmark runs as a process of its own

SCRIPTS = {
    "fixtures.py": [r"^== fixture: [\d,]+ appeals, [\d,]+ events, [\d,]+ pending deadlines, [\d,]+ MiB \| .+$"],
    "transitions.py": [RESULT.format(name="transitions")],
    "digest.py": [RESULT.format(name="digest")],
    "timers.py": [RESULT.format(name="timers-ready"), RESULT.format(name="timers-memory")],
    "memory.py": [RESULT.format(name="memory")],
    "throughput.py": [RESULT.format(name="throughput")],
    "stations.py": [RESULT.format(name="stations"), RESULT.format(name="stations-first-aid")],
    "answers.py": [RESULT.format(name="answers")],
    "outreach.py": [RESULT.format(name="outreach"), RESULT.format(name="outreach-appeal")],
    "station_import.py": [r"^SQLite, [\d,]+ stations line: [\d,]+ rows/s$"],
    # The bot as a process of its own over HTTP: SQLite's line, then PostgreSQL's ratios below (where a server is at hand).
    "webhook.py": [r"^# SQLite, 1 process: [\d,]+ updates/s, .+; order: kept for (\d+)/\1 couriers; "],
}

# The result lines of the scripts that repeat their work on PostgreSQL in the same run (bench/postgres_server.py).
ON_POSTGRESQL = {
    "transitions.py": ["transitions-postgresql"],
    "stations.py": ["stations-postgresql", "stations-postgresql-first-aid"],
    "station_import.py": ["station-import-postgresql"],
    "webhook.py": ["webhook-postgresql", "webhook-2-workers"],
}


def _run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script} --quick exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_quick_benchmark_runs_and_prints_its_figures(script: str) -> None:
    """`python bench/<script> --quick` exits 0 and prints each of its figure lines."""
    out = _run(script)
    expected = list(SCRIPTS[script])
    if script in ON_POSTGRESQL:
        from tests.postgres import binaries

        # The same work on PostgreSQL where its server can be started (or one is named), else a line saying so.
        if binaries() is not None or os.environ.get("APPEALS_BOT_BENCH_POSTGRESQL"):
            expected += [RESULT.format(name=name) for name in ON_POSTGRESQL[script]]
        else:
            expected.append(r"^# PostgreSQL: skipped ")
    for pattern in expected:
        assert re.search(pattern, out, re.MULTILINE), f"{script} printed no line matching {pattern!r}:\n{out}"
    assert "# machine:" in out or script == "fixtures.py", f"{script} did not say which machine:\n{out}"
