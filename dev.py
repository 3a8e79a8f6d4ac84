"""Install what the bot needs into .venv and run it, its tests or its benchmarks: `python3 dev.py run|test|bench [args]`.

Needs only Python 3.11+. The virtual environment is made on first use and refreshed whenever
pyproject.toml changes; everything after the subcommand is passed on (to `python -m bot` or pytest;
`bench` takes `--quick` and benchmark names). `run` with no token starts the sandbox instead, on its
own database (`run --port N` picks its web chat's port); `test` lints with ruff first, and
`test -m "not slow"` is the fast tier.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".installed"


def _ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 dev.py runs under whatever python3 the machine has
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing the bot and its test tools into .venv ...", flush=True)
    # One environment serves both commands: the test tools are small.
    target = f"{ROOT}[test]"
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target],
        check=True,
    )
    STAMP.write_text(wanted)


# Debian packages the tests drive, and the program (a name) or file (a path) that shows each is there.
DEBIAN_PACKAGES = {
    "chromium": "chromium",  # the sandbox's browser test
    "chromium-driver": "chromedriver",  # ... through its own driver
    "libreoffice-calc": "soffice",  # the ledger export's test converts the .xlsx file headless
    # The digest chart's Chinese labels (handlers/chart.py); the bot draws in English without it.
    "fonts-noto-cjk": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    # Headless chromium draws emoji (the station list's icons) as phones do, not as boxes.
    "fonts-noto-color-emoji": "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    # The storage suite's second backend: tests/postgres.py starts a server of its own (off PATH on Debian).
    "postgresql": "/usr/lib/postgresql/*/bin/initdb",
}
# What only slow tests (the browser, LibreOffice) use: the fast tier, `test -m "not slow"`, goes without.
# PostgreSQL's tests start its server, a process, so they are slow ones too.
SLOW_ONLY = {"chromium", "chromium-driver", "libreoffice-calc", "fonts-noto-color-emoji", "postgresql"}


def _installed(sign: str) -> bool:
    """Whether a package's sign is there: a file path (a pattern, where versions differ) exists, or a program is on PATH."""
    return bool(glob.glob(sign)) if os.path.isabs(sign) else shutil.which(sign) is not None


def _ensure_debian_packages(fast: bool) -> None:
    """Install whichever of the Debian packages the tests need is missing, where we can (for the fast tier, fewer)."""
    wanted = {p: sign for p, sign in DEBIAN_PACKAGES.items() if not (fast and p in SLOW_ONLY)}
    missing = [package for package, sign in wanted.items() if not _installed(sign)]
    if not missing:
        return
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing {', '.join(missing)} (Debian packages) for the tests ...", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
        subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, **quiet)
        return
    print(
        f"note: {', '.join(missing)} missing, so the browser, ledger export or chart font tests will fail"
        " (PostgreSQL's are skipped);"
        " install those Debian packages (or your system's equivalent).",
        flush=True,
    )


def main() -> int:
    """Dispatch `run`, `test` or `bench`."""
    command, *rest = sys.argv[1:] or ["run"]
    if command == "run":
        _ensure_environment()
        return _run(rest)
    if command == "test":
        _ensure_environment()
        _ensure_debian_packages(fast="not slow" in " ".join(rest))
        linted = _lint()
        tested = subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)
        return tested or linted
    if command == "bench":
        _ensure_environment()
        return _bench(rest)
    sys.exit(f"usage: python3 dev.py run|test|bench [args]  (unknown: {command})")


# `python -m bot run`'s exit code when there is no token (bot/cli.py, EXIT_NO_TOKEN).
EXIT_NO_TOKEN = 3


def _lint() -> int:
    """Ruff's lint and format check over the tree (settings in pyproject.toml); nonzero if either finds something."""
    checked = subprocess.call([str(PYTHON), "-m", "ruff", "check", "--quiet", "."], cwd=ROOT)
    formatted = subprocess.call([str(PYTHON), "-m", "ruff", "format", "--check", "--quiet", "."], cwd=ROOT)
    if checked or formatted:
        print("ruff: fix the above (`.venv/bin/ruff check --fix . && .venv/bin/ruff format .`)", file=sys.stderr)
    return checked or formatted


def _run(args: list[str]) -> int:
    """`run [--port N] [--no-examples] [run's options]`: the bot on Telegram, or with no token the sandbox.

    The sandbox runs on its own database; `--no-examples` starts a new one without its example appeals.

    `run COMMAND ...` (check-config, sandbox, people, ...) runs that command of `python -m bot` instead.
    """
    if args and not args[0].startswith("-"):
        return subprocess.call([str(PYTHON), "-m", "bot", *args], cwd=ROOT)
    port, rest = _without_port(args)
    # The sandbox's own; `run` would refuse it.
    no_examples = ["--no-examples"] if "--no-examples" in rest else []
    rest = [word for word in rest if word != "--no-examples"]
    # The bot decides whether it has a token (environment, --config, config.toml) and opens nothing
    # without one; told that the sandbox follows (bot/cli.py's FALLBACK_ENV), it says so in a line.
    env = {**os.environ, "APPEALS_BOT_NO_TOKEN": "sandbox"}
    code = subprocess.call([str(PYTHON), "-m", "bot", "run", *rest], cwd=ROOT, env=env)
    if code != EXIT_NO_TOKEN:
        return code
    debug = ["--debug"] if "--debug" in rest else []
    return subprocess.call([str(PYTHON), "-m", "bot", "sandbox", "--port", port, *debug, *no_examples], cwd=ROOT)


def _without_port(args: list[str]) -> tuple[str, list[str]]:
    """The sandbox's `--port N` (or `--port=N`; default 8080) and the other arguments, which are run's."""
    port, rest, words = "8080", [], iter(args)
    for word in words:
        if word == "--port":
            port = next(words, port)
        elif word.startswith("--port="):
            port = word.removeprefix("--port=")
        else:
            rest.append(word)
    return port, rest


# The benchmarks, in the order `bench` runs them (each prints its figures; see README, Benchmarks).
BENCHMARKS = ("fixtures", "transitions", "digest", "timers", "memory", "throughput", "stations")


def _bench(args: list[str]) -> int:
    """`bench [--quick] [NAME ...]`: run bench/NAME.py (default: every benchmark), full size unless --quick."""
    quick = [a for a in args if a == "--quick"]
    names = [a for a in args if a != "--quick"] or [b for b in BENCHMARKS if (ROOT / "bench" / f"{b}.py").exists()]
    for name in names:
        code = subprocess.call([str(PYTHON), str(ROOT / "bench" / f"{name.removesuffix('.py')}.py"), *quick], cwd=ROOT)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
