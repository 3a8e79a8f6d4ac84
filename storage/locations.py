"""Where the database is: a file path or `sqlite:///path` (SQLite, the default) or `postgresql://…`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

SQLITE_PREFIX = "sqlite:///"
POSTGRESQL_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class Location:
    """A parsed database location: which backend, and the file path or connection URL it opens."""

    backend: str  # "sqlite" or "postgresql"
    target: str

    def shown(self) -> str:
        """The location fit for a log line or a screen: a URL's password is never shown."""
        if self.backend == "sqlite":
            return self.target
        parts = urlsplit(self.target)
        if parts.password is None:
            return self.target
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))


def parse_location(text: str) -> Location:
    """The backend and target `text` names; ValueError for another scheme (a typo must not make a file)."""
    if text.startswith(SQLITE_PREFIX):
        path = text.removeprefix(SQLITE_PREFIX)
        if not path:
            raise ValueError("sqlite:/// needs a file path after it, as in sqlite:///appeals.sqlite3")
        return Location("sqlite", path)
    scheme, sep, _rest = text.partition("://")
    if not sep:
        return Location("sqlite", text)
    if scheme.lower() in POSTGRESQL_SCHEMES:
        return Location("postgresql", text)
    raise ValueError(f"{scheme}:// is not a database this bot opens: use a file path, sqlite:///… or postgresql://…")
