"""The command line: run the bot, check a config, manage people and units, import and export data."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.config import (
    Config,
    ConfigError,
    calendar_warnings,
    config_path,
    holidays_summary,
    load_config,
    renamed_key_warnings,
    service_problems,
)
from bot.log_lines import setup_logging

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
# `run` without a token; dev.py starts the sandbox when it sees this code.
EXIT_NO_TOKEN = 3

# Set by whoever starts the sandbox itself when `run` has no token (dev.py): then a line saying so
# is enough, not an error.
FALLBACK_ENV = "APPEALS_BOT_NO_TOKEN"
NO_TOKEN_FALLBACK = (
    "No bot token, so the sandbox starts instead: a web chat with a sample district on its own database."
    " To reach Telegram, set TELEGRAM_BOT_TOKEN (README, Quickstart)."
)
NO_TOKEN = """\
error: no bot token, so the bot cannot reach Telegram. Either
  - set one: TELEGRAM_BOT_TOKEN=... (or token under [telegram] in the config file), from @BotFather; or
  - try the bot without Telegram in the local sandbox, a web chat with a sample district on its own
    database: python -m bot sandbox (python3 dev.py run does this by itself when there is no token)."""


def _positive(text: str) -> int:
    """A whole number of at least 1, for argparse."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="The appeals bot for couriers and gig workers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="start the bot on Telegram (needs a bot token; without one, try `sandbox`)")
    run.add_argument("--config", help="config file (default: $APPEALS_BOT_CONFIG, else ./config.toml)")
    run.add_argument("--debug", action="store_true", help="log at debug level")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on a webhook ([webhook] in the config) instead of polling",
    )
    run.add_argument(
        "--log-format", choices=("text", "json"), help="log lines as text or JSON lines (default: ops.log_format)"
    )
    run.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="with --webhook on PostgreSQL: N worker processes on the webhook's port (default 1)",
    )
    run.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)  # set by the supervisor for each worker

    sandbox = sub.add_parser("sandbox", help="run the bot in the local sandbox: a web chat, no Telegram account")
    sandbox.add_argument("--config", help="config file (default: the sample district)")
    sandbox.add_argument(
        "--port", type=int, default=8080, help="web chat port on 127.0.0.1 (default 8080; 0: any free one)"
    )
    sandbox.add_argument("--debug", action="store_true", help="log at debug level")
    sandbox.add_argument(
        "--no-examples",
        dest="examples",
        action="store_false",
        help="start a new sample district without its example appeals (an extension to answer, a redo, ...)",
    )

    check = sub.add_parser("check-config", help="validate a config file and summarise it")
    check.add_argument("file", nargs="?", help="config file (default as for run)")

    people = sub.add_parser("people", help="manage staff and coordinators")
    people.add_argument("--config", help="config file (for the database path)")
    people_sub = people.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = people_sub.add_parser("add", help="make someone staff of a unit or a coordinator")
    add.add_argument("--role", required=True, choices=("coordinator", "staff"))
    add.add_argument("--unit", help="the unit id, for staff")
    add.add_argument("telegram_id", type=int)
    people_sub.add_parser("list", help="list staff and coordinators")
    remove = people_sub.add_parser("remove", help="take someone's role away")
    remove.add_argument("telegram_id", type=int)

    units = sub.add_parser("units", help="list units")
    units.add_argument("--config", help="config file")
    units_sub = units.add_subparsers(dest="action", metavar="ACTION", required=True)
    units_sub.add_parser("list", help="list units with their staff count")

    stations = sub.add_parser("stations", help="import or export the rest stations (CSV or JSON)")
    stations.add_argument("--config", help="config file (units and the database)")
    stations_sub = stations.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = stations_sub.add_parser("import", help="check a whole station file, then add or update its stations by id")
    load.add_argument("file", help="a .csv or .json file")
    load.add_argument("--format", choices=("csv", "json"), help="the file's format (default: from its name)")
    dump = stations_sub.add_parser("export", help="write every station in the format import reads")
    dump.add_argument("--format", choices=("csv", "json"), help="default: from -o's name, else json")
    dump.add_argument("-o", "--output", help="file to write (default: standard output)")

    answers = sub.add_parser("answers", help="import or export the knowledge base of answers (TOML or JSON)")
    answers.add_argument("--config", help="config file (categories and the database)")
    answers_sub = answers.add_subparsers(dest="action", metavar="ACTION", required=True)
    load_answers = answers_sub.add_parser(
        "import", help="check a whole answer file, then add or update its answers by id (others stay)"
    )
    load_answers.add_argument("file", help="a .toml or .json file")
    load_answers.add_argument("--format", choices=("toml", "json"), help="the file's format (default: from its name)")
    dump_answers = answers_sub.add_parser("export", help="write every answer as the TOML file import reads")
    dump_answers.add_argument("-o", "--output", help="file to write (default: standard output)")

    activities = sub.add_parser("activities", help="publish activities from a file, or export them with attendance")
    activities.add_argument("--config", help="config file (the district's time zone and the database)")
    activities_sub = activities.add_subparsers(dest="action", metavar="ACTION", required=True)
    publish = activities_sub.add_parser("import", help="check a whole activity file, then publish every activity in it")
    publish.add_argument("file", help="a .toml or .json file")
    publish.add_argument("--format", choices=("toml", "json"), help="the file's format (default: from its name)")
    dump_activities = activities_sub.add_parser(
        "export", help="the activities and their sign-ups and attendance, as CSV (one table) or Excel (both)"
    )
    dump_activities.add_argument("--table", choices=("activities", "attendance"), default="attendance", help="for CSV")
    dump_activities.add_argument("--format", choices=("csv", "xlsx"), help="default: from -o's name, else csv")
    dump_activities.add_argument("--lang", choices=("zh", "en"), help="language of the headers (default: the config's)")
    dump_activities.add_argument("-o", "--output", help="file to write (default: standard output)")
    surveys = sub.add_parser("surveys", help="import a survey (TOML or JSON); open it from the bot after a preview")
    surveys.add_argument("--config", help="config file (the database)")
    surveys_sub = surveys.add_subparsers(dest="action", metavar="ACTION", required=True)
    load_survey = surveys_sub.add_parser(
        "import", help="check a whole survey file, then add it (or replace the draft with its id) to preview and open"
    )
    load_survey.add_argument("file", help="a .toml or .json file")
    load_survey.add_argument("--format", choices=("toml", "json"), help="the file's format (default: from its name)")

    backup = sub.add_parser("backup", help="copy the database to FILE, consistently, while the bot runs")
    backup.add_argument("file", help="the copy to write (a new file)")
    backup.add_argument("--config", help="config file (the database)")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    restore = sub.add_parser(
        "restore", help="check a backup and put it in place of the database (stop the bot first); the old one is kept"
    )
    restore.add_argument("file", help="a copy made by `backup`")
    restore.add_argument("--config", help="config file (the database)")

    move = sub.add_parser(
        "migrate-data", help="copy a whole SQLite database into an empty PostgreSQL one (stop the bot first)"
    )
    move.add_argument("--from", dest="source", required=True, help="the SQLite database: sqlite:///PATH")
    move.add_argument("--to", dest="target", required=True, help="the empty PostgreSQL database: postgresql://…")

    ledger = sub.add_parser("export", help="the ledger of appeals filed in a period, as CSV or Excel")
    ledger.add_argument("--config", help="config file")
    ledger.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD (district time)")
    ledger.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD, included")
    ledger.add_argument("--format", choices=("csv", "xlsx"), help="default: from -o's name, else csv")
    ledger.add_argument("--lang", choices=("zh", "en"), help="language of the headers (default: the config's)")
    ledger.add_argument("-o", "--output", help="file to write (default: standard output)")
    return parser


def _load(explicit: str | None) -> Config:
    return load_config(config_path(explicit))


def _count(n: int, noun: str) -> str:
    """ "1 coordinator", "2 coordinators"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _summary(config: Config, source: str, verdict: str = "OK") -> str:
    staff = sum(len(u.staff) for u in config.units)
    token = "set" if config.telegram.token else "not set (the bot needs TELEGRAM_BOT_TOKEN or telegram.token)"
    lines = [
        f"{source}: {verdict}",
        f"  time zone      {config.timezone}, default language {config.default_language}",
        f"  work hours     {', '.join(config.calendar.work_hours)}; rest days {', '.join(config.calendar.rest_weekdays) or 'none'}",
        f"  holidays       {holidays_summary(config)}",
        f"  categories     {', '.join(c.id for c in config.categories)}",
        f"  units          {len(config.units)} ({staff} staff), {_count(len(config.routing), 'routing rule')},"
        f" {_count(len(config.coordinators), 'coordinator')}",
        f"  deadlines      accept {config.deadlines.accept}, handle {config.deadlines.handle}, feedback {config.deadlines.feedback}",
        f"  database       {config.database.location().shown()}",
        f"  Bot API        {config.telegram.base_url}; token {token}",
        f"  health/metrics {_ops_summary(config)}; logs as {config.ops.log_format}",
    ]
    return "\n".join(lines)


def _ops_summary(config: Config) -> str:
    ops = config.ops
    polling = f"{ops.listen}:{ops.port}" if ops.port is not None else "not served (ops.port unset)"
    return f"on the webhook's server; when polling, {polling}"


def _ready_to_serve(config: Config, path: Path | None) -> Config:
    """The config, if a bot could serve couriers with it; else ConfigError with the reasons (check-config)."""
    problems = service_problems(config)
    if problems:
        raise ConfigError(str(path) if path else "built-in defaults", problems)
    return config


def _check_config(args: argparse.Namespace) -> int:
    from storage.schema_state import DatabaseUnreachable, schema_state

    path = config_path(args.file)
    config = _ready_to_serve(load_config(path), path)
    source = str(path) if path else "built-in defaults"
    where = config.database.location()
    # "OK" reads as "ready to start": not when a start would fail on the database.
    try:
        state = schema_state(where)
    except DatabaseUnreachable as error:
        print(_summary(config, source, "valid, but the bot cannot start on its database"))
        _warn(config)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(_summary(config, source, "valid, but its database is newer than this bot" if state.newer else "OK"))
    _warn(config)
    print(f"  schema         {state.describe()}")
    if state.newer:
        print(f"error: {state.refusal(where)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _warn(config: Config) -> None:
    """check-config's warnings: renamed keys, years the holiday calendar does not know."""
    for problem in [*renamed_key_warnings(config), *calendar_warnings(config, datetime.now(config.zone()).date())]:
        print(f"warning: {problem}", file=sys.stderr)


def _schema_refusal(config: Config, reads: bool = False) -> str | None:
    """Why a command must not open the configured database (newer than the code, unreachable, or, for one
    that only `reads`, none there yet); None if it may."""
    from storage.schema_state import DatabaseUnreachable, schema_state

    where = config.database.location()
    try:
        state = schema_state(where)
    except DatabaseUnreachable as error:
        return str(error)
    if state.newer:
        return state.refusal(where)
    if reads and not state.version:
        # Listing or exporting from a database no bot has run on: most likely the wrong config (or none),
        # and "0 appeals written" would say the district has none.
        return (
            f"there is no district's database at {where.shown()} yet (no bot has run on it);"
            " name the bot's config with --config or APPEALS_BOT_CONFIG"
        )
    return None


def _on_storage(config: Config, work: Callable[..., Awaitable[int]], *, reads: bool = False) -> int:
    """Run `work` on the configured database; if it cannot be used, say why in one line (exit 1)."""
    refusal = _schema_refusal(config, reads)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_FAILED
    return asyncio.run(_with_storage(config, work))


async def _with_storage(config: Config, work: Callable[..., Awaitable[int]]) -> int:
    from bot.app import open_storage, utc_now

    storage = await open_storage(config, utc_now())
    try:
        return await work(storage)
    finally:
        await storage.close()


def _people(args: argparse.Namespace) -> int:
    from bot.app import utc_now
    from storage.people import PeopleError

    config = _load(args.config)

    async def work(storage) -> int:
        if args.action == "add":
            try:
                person = await storage.people.add(args.telegram_id, args.role, args.unit, now=utc_now())
            except PeopleError as error:
                print(f"error: {error}", file=sys.stderr)
                return EXIT_BAD_INPUT
            unit = f" of unit {person.unit_id}" if person.unit_id else ""
            print(f"{person.telegram_id} is now {person.role}{unit}")
        elif args.action == "remove":
            if not await storage.people.remove(args.telegram_id, utc_now()):
                print(f"error: {args.telegram_id} is not staff or a coordinator", file=sys.stderr)
                return EXIT_BAD_INPUT
            print(f"{args.telegram_id} is a courier again")
            if args.telegram_id in config.coordinators or any(args.telegram_id in u.staff for u in config.units):
                print("note: the config file still lists them; remove them there too, or they return at the next start")
        else:
            people = await storage.people.staff_and_coordinators()
            if not people:
                print("no staff or coordinators yet")
            for person in people:
                unit = person.unit_id or "-"
                print(f"{person.telegram_id:>14}  {person.role:<12} {unit:<20} ({person.source})")
        return EXIT_OK

    return _on_storage(config, work)


def _units(args: argparse.Namespace) -> int:
    config = _load(args.config)

    async def work(storage) -> int:
        units = await storage.people.units()
        if not units:
            print("no units: add them under [[units]] in the config file")
        for unit, staff_count in units:
            state = "" if unit.active else "  (no longer in the config)"
            print(f"{unit.id:<20} {unit.kind:<11} {unit.name_en} / {unit.name_zh}  staff: {staff_count}{state}")
        return EXIT_OK

    return _on_storage(config, work)


def _run(args: argparse.Namespace) -> int:
    from storage.backup import DatabaseInUse, serving_database

    path = config_path(args.config)
    config = load_config(path)
    setup_logging(args.debug, args.log_format or config.ops.log_format)
    if config.telegram.token is None and config.telegram.base_url.startswith("https://api.telegram.org"):
        # Nothing is opened: the configured database never sees the sandbox's sample data.
        print(NO_TOKEN_FALLBACK if os.environ.get(FALLBACK_ENV) == "sandbox" else NO_TOKEN, file=sys.stderr)
        return EXIT_NO_TOKEN
    for problem in service_problems(config):
        # check-config refuses it; a bot tried out this way still starts, and says what it lacks.
        logging.getLogger(__name__).warning("config: %s", problem)
    for problem in [*renamed_key_warnings(config), *calendar_warnings(config, datetime.now(config.zone()).date())]:
        logging.getLogger(__name__).warning("config: %s", problem)
    if args.webhook and (config.webhook.url is None or config.webhook.secret_token is None):
        print(
            "error: --webhook needs webhook.url in the config and a secret token"
            " (webhook.secret_token or TELEGRAM_WEBHOOK_SECRET)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if args.workers > 1 and not (args.webhook and config.database.location().backend == "postgresql"):
        print(
            "error: --workers needs --webhook and a PostgreSQL database (database.url = postgresql://...):"
            " on SQLite one process serves the file",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    refusal = _schema_refusal(config)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_FAILED
    if args.workers > 1 and args.worker_index is None:
        from bot.workers import supervise

        return supervise(args.workers, _passed_on(args))
    if args.worker_index is not None and config.ops.worker is not None:
        config = config.model_copy(
            update={"ops": config.ops.model_copy(update={"worker": f"{config.ops.worker}-{args.worker_index}"})}
        )
    try:
        # Held while the bot runs: `restore` refuses to replace a database a bot is serving.
        with serving_database(config.database.location()):
            return _serve(config, args.webhook, args.worker_index, args.workers)
    except DatabaseInUse as error:
        print(
            f"error: {error}; one process serves a SQLite file (for several workers, use PostgreSQL: docs/deploy.md §3)",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _passed_on(args: argparse.Namespace) -> list[str]:
    """The options of `run` that each worker is started with too."""
    passed = ["--config", str(Path(args.config).resolve())] if args.config else []
    passed += ["--debug"] if args.debug else []
    return passed + (["--log-format", args.log_format] if args.log_format else [])


def _serve(config: Config, webhook: bool, worker: int | None = None, workers: int = 1) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.ops import OpsServerError

    application = build_application(config, serve_ops=not webhook, workers=workers)
    try:
        if webhook:
            from bot.webhook import run_webhook

            asyncio.run(run_webhook(application, config, worker))
        else:
            # run_polling stops cleanly on SIGINT and SIGTERM and then runs post_shutdown.
            application.run_polling(drop_pending_updates=False)
    except OpsServerError as error:
        print(f"error: {error} (set another ops.port)", file=sys.stderr)
        return EXIT_FAILED
    except InvalidToken:
        print("error: Telegram refused the bot token: check TELEGRAM_BOT_TOKEN (from @BotFather)", file=sys.stderr)
        return EXIT_NO_TOKEN
    except NetworkError as error:
        reason = _without_token(error.message, config)
        print(
            f"error: the Bot API at {config.telegram.base_url} cannot be reached ({reason}); check the network and telegram.base_url",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _without_token(text: str, config: Config) -> str:
    """`text` with the bot token, should a library have put it there, masked."""
    token = config.telegram.token.get_secret_value() if config.telegram.token else ""
    return text.replace(token, "***") if token else text


def _sqlite_file(config: Config, command: str) -> Path | None:
    """The SQLite file `command` works on; None (having said why) when the database is PostgreSQL."""
    where = config.database.location()
    if where.backend == "sqlite":
        return Path(where.target)
    print(
        f"error: `{command}` copies a SQLite file; for PostgreSQL use pg_dump and pg_restore (docs/deploy.md §6)",
        file=sys.stderr,
    )
    return None


def _backup(args: argparse.Namespace) -> int:
    from storage.backup import CopyError, backup

    config = _load(args.config)
    database = _sqlite_file(config, "backup")
    if database is None:
        return EXIT_BAD_INPUT
    try:
        copied = backup(database, Path(args.file), overwrite=args.force)
    except CopyError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(
        f"{database} backed up to {copied.path}: schema version {copied.schema},"
        f" {copied.appeals} appeals, {copied.size / 1e6:.1f} MB"
    )
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    from storage.backup import CopyError, DatabaseInUse, restore

    config = _load(args.config)
    database = _sqlite_file(config, "restore")
    if database is None:
        return EXIT_BAD_INPUT
    try:
        copied = restore(Path(args.file), database)
    except DatabaseInUse as error:
        print(f"error: {error}; stop it first (nothing was changed)", file=sys.stderr)
        return EXIT_FAILED
    except CopyError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    migrated = f" (migrated from {copied.migrated_from})" if copied.migrated_from is not None else ""
    print(f"{args.file} restored to {database}: schema version {copied.schema}{migrated}, {copied.appeals} appeals")
    if copied.set_aside is not None:
        # Pasted as it is, elsewhere or without $APPEALS_BOT_CONFIG, it must act on this config's database.
        used = config_path(args.config)
        back = ["python", "-m", "bot", "restore", str(copied.set_aside)]
        back += ["--config", str(used.resolve())] if used is not None else []
        print(f"the database it replaced is kept as {copied.set_aside}; to go back: {shlex.join(back)}")
    return EXIT_OK


def _migrate_data(args: argparse.Namespace) -> int:
    from storage.locations import parse_location
    from storage.move_data import MoveError, move

    try:
        source, target = parse_location(args.source), parse_location(args.target)
        moved = move(source, target, progress=print)
    except (ValueError, MoveError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    rows = sum(moved.copied.values())
    print(f"{source.shown()} copied to {target.shown()}: {len(moved.copied)} tables, {rows} rows; counts match")
    for table, count in moved.rebuilt.items():
        print(f"  {table}: {count} rows, {moved.skipped[table]}")
    for table, why in moved.skipped.items():
        if table not in moved.rebuilt:
            print(f"  {table}: not copied, {why}")
    found = moved.source_invariants
    print(f"invariants on the SQLite file: {f'{len(found)} problem(s), first: {found[0]}' if found else 'all hold'}")
    if moved.invariants:
        print(f"invariants on the copy: {len(moved.invariants)} problem(s), first: {moved.invariants[0]}")
        return EXIT_FAILED
    else:
        print("invariants on the copy: all hold")
    print(f"next: set database.url = {target.shown()!r} (or APPEALS_BOT_DATABASE_URL) and start the bot")
    return EXIT_OK


def _sandbox(args: argparse.Namespace) -> int:
    # The one command that starts the sandbox, so the only place that imports it.
    from bot.sandbox_run import run_sandbox
    from storage.backup import DatabaseInUse

    setup_logging(args.debug)
    try:
        asyncio.run(
            run_sandbox(Path(args.config) if args.config else None, port=args.port, with_examples=args.examples)
        )
    except DatabaseInUse as error:
        print(f"error: {error}; is another sandbox running? Stop it first", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _write(output: str | None, data: bytes) -> bool:
    """Write to the file, or to standard output; False (with the reason printed) if it cannot be written."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return True
    try:
        Path(output).write_bytes(data)
    except OSError as error:
        print(f"error: cannot write {output}: {error.strerror or error}", file=sys.stderr)
        return False
    return True


def _written(what: str, output: str | None, fmt: str) -> None:
    """Say what an export wrote where; on standard error, so that standard output holds only the data."""
    print(f"{what} written to {output or 'standard output'} ({fmt})", file=sys.stderr)


def _stations(args: argparse.Namespace) -> int:
    from domain.stations_file import StationFileError, format_of, read_stations, write_stations

    config = _load(args.config)
    if args.action == "export":
        fmt = args.format or (format_of(args.output) if args.output else None) or "json"

        async def dump(storage) -> int:
            stations = [s.record() for s in await storage.stations.all()]
            text = write_stations(stations, fmt)
            # A byte-order mark lets Excel open the Chinese in a CSV file correctly.
            if not _write(args.output, text.encode("utf-8-sig" if fmt == "csv" else "utf-8")):
                return EXIT_FAILED
            _written(f"{len(stations)} stations", args.output, fmt)
            return EXIT_OK

        return _on_storage(config, dump, reads=True)

    path = Path(args.file)
    read = _read_input(path, args.format or format_of(path.name), ".csv or .json")
    if isinstance(read, int):
        return read
    data, fmt = read

    async def load(storage) -> int:
        units = {u.id for u in await storage.people.active_units()}
        try:
            records = read_stations(data, fmt, units)
        except StationFileError as error:
            return _refused_file(path, error.problems)
        imported = await storage.stations.import_records(records)
        print(f"{path}: {len(records)} stations imported ({imported.added} new, {imported.updated} updated)")
        return EXIT_OK

    return _on_storage(config, load)


def _read_input(path: Path, fmt: str | None, names: str) -> tuple[bytes, str] | int:
    """A station or answer file's bytes and format, or the exit code after saying why it cannot be read."""
    if fmt is None:
        print(f"error: cannot tell the format of {path}: name it {names}, or give --format", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return path.read_bytes(), fmt
    except OSError as error:
        print(f"error: cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _refused_file(path: Path, problems: list) -> int:
    """Print a refused file's first problems (nothing was imported); the exit code."""
    from domain.stations_file import first_problems

    print(f"{path}: {len(problems)} problem(s); nothing was imported", file=sys.stderr)
    shown, more = first_problems(problems)
    for problem in shown:
        print(f"  {problem}", file=sys.stderr)
    if more:
        print(f"  ... and {more} more problem(s), not listed", file=sys.stderr)
    return EXIT_BAD_INPUT


def _answers(args: argparse.Namespace) -> int:
    from domain.answers_file import AnswerFileError, AnswerRecord, format_of, read_answers, to_toml

    config = _load(args.config)
    if args.action == "export":

        async def dump(storage) -> int:
            records = [
                AnswerRecord(a.id, a.category, a.title_zh, a.title_en, a.text_zh, a.text_en, a.keywords, a.active)
                for a in await storage.answers.all()
            ]
            if not _write(args.output, to_toml(records).encode()):
                return EXIT_FAILED
            _written(f"{len(records)} answers", args.output, "toml")
            return EXIT_OK

        return _on_storage(config, dump, reads=True)

    path = Path(args.file)
    read = _read_input(path, args.format or format_of(path.name), ".toml or .json")
    if isinstance(read, int):
        return read
    data, fmt = read
    try:
        records = read_answers(data, fmt, [c.id for c in config.categories])
    except AnswerFileError as error:
        return _refused_file(path, error.problems)

    async def load(storage) -> int:
        imported = await storage.answers.import_records(records)
        print(f"{path}: {len(records)} answers imported ({imported.added} new, {imported.updated} updated)")
        return EXIT_OK

    return _on_storage(config, load)


def _activities(args: argparse.Namespace) -> int:
    from domain.activities import ActivityFileError, read_activities
    from handlers.activities import activities_workbook, activity_tables
    from handlers.i18n import Catalog
    from handlers.ledger_files import to_csv

    config = _load(args.config)
    if args.action == "export":
        fmt = args.format or ("xlsx" if args.output and args.output.lower().endswith(".xlsx") else "csv")
        lang = args.lang or config.default_language
        catalog = Catalog.load(config.default_language)

        async def dump(storage) -> int:
            tables = activity_tables(catalog, lang, config.zone(), *await storage.activities.export_rows())
            if fmt == "xlsx":
                data = activities_workbook(catalog, lang, tables)
            else:
                data = to_csv(*tables[0 if args.table == "activities" else 1])
            if not _write(args.output, data):
                return EXIT_FAILED
            _written(f"{len(tables[0][1])} activities, {len(tables[1][1])} sign-ups", args.output, fmt)
            return EXIT_OK

        return _on_storage(config, dump, reads=True)

    path = Path(args.file)
    suffix = path.name.lower().rsplit(".", 1)[-1]
    read = _read_input(path, args.format or (suffix if suffix in ("toml", "json") else None), ".toml or .json")
    if isinstance(read, int):
        return read
    data, fmt = read

    async def load(storage) -> int:
        now = datetime.now(UTC)
        stations = {s.id for s in await storage.stations.all() if s.active}
        try:
            records = read_activities(data, fmt, config.zone(), now, stations)
        except ActivityFileError as error:
            return _refused_file(path, error.problems)
        ids = await storage.activities.publish(records, None, now)
        print(f"{path}: {len(ids)} activities published")
        return EXIT_OK

    return _on_storage(config, load)


def _surveys(args: argparse.Namespace) -> int:
    from domain.surveys_file import SurveyFileError, format_of, read_survey

    config = _load(args.config)
    path = Path(args.file)
    read = _read_input(path, args.format or format_of(path.name), ".toml or .json")
    if isinstance(read, int):
        return read
    data, fmt = read
    try:
        survey = read_survey(data, fmt)
    except SurveyFileError as error:
        return _refused_file(path, error.problems)

    async def load(storage) -> int:
        outcome, _ = await storage.surveys.import_survey(survey, datetime.now(UTC))
        if outcome == "locked":
            print(
                f"{path}: the survey {survey.id!r} is already open or closed; give the file a new id", file=sys.stderr
            )
            return EXIT_BAD_INPUT
        what = "added" if outcome == "added" else "replaced the draft with its id"
        print(
            f"{path}: survey {survey.id!r} with {len(survey.questions)} questions {what}; preview and open it with /surveys"
        )
        return EXIT_OK

    return _on_storage(config, load)


def _export(args: argparse.Namespace) -> int:
    from domain.periods import PeriodError, bounds, typed
    from handlers.i18n import Catalog
    from handlers.ledger_files import table, to_csv, to_xlsx

    config = _load(args.config)
    try:
        first, last = typed(args.first, args.last)
    except PeriodError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    fmt = args.format or ("xlsx" if args.output and args.output.lower().endswith(".xlsx") else "csv")
    lang = args.lang or config.default_language
    catalog = Catalog.load(config.default_language)
    names = {c.id: (c.zh if lang == "zh" else c.en) for c in config.categories}

    async def work(storage) -> int:
        lines = await storage.ledger.lines(*bounds(first, last, config.zone()))
        headers, rows = table(lines, catalog, lang, config.zone(), lambda c: names.get(c, c))
        data = to_xlsx(headers, rows, catalog.text(lang, "export.sheet")) if fmt == "xlsx" else to_csv(headers, rows)
        if not _write(args.output, data):
            return EXIT_FAILED
        where = args.output or "standard output"
        print(f"ledger {first} to {last}: {len(lines)} appeals written to {where} ({fmt})", file=sys.stderr)
        return EXIT_OK

    return _on_storage(config, work, reads=True)


COMMANDS = {
    "run": _run,
    "sandbox": _sandbox,
    "check-config": _check_config,
    "people": _people,
    "units": _units,
    "stations": _stations,
    "answers": _answers,
    "activities": _activities,
    "surveys": _surveys,
    "export": _export,
    "backup": _backup,
    "restore": _restore,
    "migrate-data": _migrate_data,
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand; config problems exit 2 with every reason."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as error:
        print(f"{error.source}: {len(error.problems)} problem(s)", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_FAILED
