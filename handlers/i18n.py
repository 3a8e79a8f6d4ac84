"""Message catalogs: one TOML file per language under locales/, looked up by dotted key."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("zh", "en")


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = str(value)
    return flat


def placeholders(text: str) -> set[str]:
    """The {names} a message expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Catalog:
    """All languages' messages; `text(lang, key, **values)` renders one."""

    def __init__(self, messages: dict[str, dict[str, str]], default: str) -> None:
        self.messages = messages
        self.default = default

    @classmethod
    def load(cls, default: str = "zh", directory: Path = LOCALES_DIR) -> Catalog:
        """Read every language's catalog file."""
        messages = {
            lang: _flatten(tomllib.loads((directory / f"{lang}.toml").read_text(encoding="utf-8")))
            for lang in LANGUAGES
        }
        return cls(messages, default)

    def text(self, lang: str | None, key: str, /, **values: Any) -> str:
        """The message `key` in `lang` (else the default language) with `values` filled in."""
        catalog = self.messages.get(lang or self.default) or self.messages[self.default]
        return catalog[key].format(**values)

    def all_labels(self, key: str) -> set[str]:
        """The message `key` in every language (to recognise a menu button's text)."""
        return {catalog[key] for catalog in self.messages.values()}

    def language_for(self, stored: str | None, telegram_code: str | None) -> str:
        """A person's language: their choice, else Telegram's language_code, else the default."""
        if stored in self.messages:
            return stored
        code = (telegram_code or "").lower().split("-")[0]
        return code if code in self.messages else self.default
