"""A real PostgreSQL server for the tests, from Debian's `postgresql` package, in a temporary directory.

The server listens on a unix socket in its own directory only (no TCP port to collide with another
run), with durability off (fsync, full pages): a test's data need not survive a power cut. PostgreSQL
refuses to run as root, so under root (a CI container) it runs as the `postgres` account the package
made, or `nobody`; the directory is made theirs.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

SUPERUSER = "appeals"
START_TIMEOUT_S = 60
SETTINGS = (
    "-c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    " -c max_connections=200 -c shared_buffers=32MB"
)


def binaries() -> Path | None:
    """The directory holding initdb and pg_ctl (Debian keeps them off PATH, per major version), or None."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


def _account() -> pwd.struct_passwd | None:
    """The account the server runs as: None (this one) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root with neither a postgres nor a nobody account to run PostgreSQL as")


@dataclass
class PostgresServer:
    """One running server: `url(name)` reaches a database on it; `create_database` makes a fresh one."""

    bindir: Path
    root: Path
    account: pwd.struct_passwd | None
    _names = count(1)

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str = "postgres") -> str:
        """A postgresql:// URL for `database` over the server's socket."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def _run(self, *args: str) -> None:
        as_user = {} if self.account is None else {"user": self.account.pw_uid, "group": self.account.pw_gid}
        completed = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            extra_groups=[] if self.account is not None else None,
            **as_user,
        )
        if completed.returncode:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {completed.stderr.strip()}\n{tail}")

    @classmethod
    def start(cls, bindir: Path) -> PostgresServer:
        """initdb a cluster in a new temporary directory and start it, waiting until it accepts connections."""
        root = Path(tempfile.mkdtemp(prefix="appeals-pg-"))
        server = cls(bindir, root, _account())
        (root / "socket").mkdir()
        if server.account is not None:
            for path in (root, root / "socket"):
                os.chown(path, server.account.pw_uid, server.account.pw_gid)
        try:
            server._run("initdb", "-D", "data", "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
            server._run(
                "pg_ctl", "-D", "data", "-l", "server.log", "-w", "-t", str(START_TIMEOUT_S),
                "-o", f"-k {root / 'socket'} {SETTINGS}", "start",
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return server

    def stop(self) -> None:
        """Stop the server (fast: open connections are cut) and remove its directory."""
        try:
            self._run("pg_ctl", "-D", "data", "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, migrated: bool = False) -> str:
        """A new database's URL: empty, or `migrated` (a copy of one migrated once a session: much quicker)."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            template = f' TEMPLATE "{self._migrated_template(admin)}"' if migrated else ""
            admin.execute(f'CREATE DATABASE "{name}"{template}')
        return self.url(name)

    def _migrated_template(self, admin: Any) -> str:
        from storage.postgres_migrations import migrate

        name = "migrated_template"
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')
            import psycopg

            with psycopg.connect(self.url(name), autocommit=True) as conn:
                migrate(conn)
        return name

    def drop_database(self, url: str) -> None:
        """Drop a database made by create_database, cutting any connection left open to it."""
        import psycopg

        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def away(url: str, gone: bool) -> None:
    """Make the database at `url` away as a restarting server is (new sessions refused, open ones ended),
    or back (`gone` False)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
        allow = sql.SQL("false" if gone else "true")
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(sql.Identifier(name), allow))
        if gone:
            admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = %s", (name,))
