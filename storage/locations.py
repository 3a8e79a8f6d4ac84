"""Where the database is: a file path or `sqlite:///path` (SQLite, the default) or `postgresql://…`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SQLITE_PREFIX = "sqlite:///"
# libpq also takes the password as a query parameter: postgresql://user@host/db?password=...
_QUERY_PASSWORD = re.compile(r"(?<=[?&]password=)[^&#]*", re.IGNORECASE)
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
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
        query = _QUERY_PASSWORD.sub("***", parts.query)
        if (netloc, query) == (parts.netloc, parts.query):
            return self.target
        # Not urlunsplit: it writes postgresql:///appeals (a socket's URL, no host) as postgresql:/appeals.
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        return f"{parts.scheme}://{netloc}{parts.path}{'?' if query else ''}{query}{fragment}"

    def masked(self, text: str) -> str:
        """`text` (a driver's message, say) with this URL's passwords, as written or decoded, replaced by ***."""
        if self.backend == "sqlite":
            return text
        parts = urlsplit(self.target)
        # libpq quotes a password it cannot decode in its message ("invalid percent-encoded token").
        secrets = [parts.password or "", *(m.group() for m in _QUERY_PASSWORD.finditer(parts.query))]
        for secret in sorted({form for raw in secrets if raw for form in (raw, unquote(raw))}, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


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
