"""Telegram's HTML parse mode: markup in, plain text and MessageEntity dicts out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_CHARACTER_REFERENCE = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,10})|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTE_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")
# Telegram trims these from both ends of every text and caption.
_TRIMMED = " \t\n\r\v\f"


class EntityParseError(ValueError):
    """Markup Telegram would refuse; the message follows Telegram's wording."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into plain text and entities sorted as Telegram sorts them."""
    return _HtmlParser(markup).run()


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram, shifting and clipping the entities."""
    stripped = text.strip(_TRIMMED)
    if not stripped:
        return "", []
    shift = utf16_len(text[: len(text) - len(text.lstrip(_TRIMMED))])
    end = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


@dataclass
class _OpenTag:
    name: str
    offset: int
    attributes: dict[str, str]


class _HtmlParser:
    """One pass over the markup, the way tdlib's parse_html walks it."""

    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.pos = 0
        self.text: list[str] = []
        self.offset = 0
        self.open_tags: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []
        self.code_languages: dict[int, str] = {}

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        """Consume the markup and return the text and entities."""
        while self.pos < len(self.markup):
            char = self.markup[self.pos]
            if char == "<":
                self._tag()
            elif char == "&" and (match := _CHARACTER_REFERENCE.match(self.markup, self.pos)):
                self._append(_decode_reference(match) or match.group(0))
                self.pos = match.end()
            else:
                self._append(char)
                self.pos += 1
        if self.open_tags:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{self.open_tags[-1].name}"')
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.text), entities

    def _append(self, chunk: str) -> None:
        self.text.append(chunk)
        self.offset += utf16_len(chunk)

    def _byte_offset(self, pos: int) -> int:
        # Telegram reports error positions in UTF-8 bytes of the original markup.
        return len(self.markup[:pos].encode())

    def _tag(self) -> None:
        if self.markup.startswith("</", self.pos):
            self._end_tag()
        else:
            self._start_tag()

    def _scan_name(self, start: int) -> int:
        end = start
        markup = self.markup
        while end < len(markup) and not markup[end].isspace() and markup[end] != ">":
            end += 1
        return end

    def _skip_spaces(self, pos: int) -> int:
        while pos < len(self.markup) and self.markup[pos].isspace():
            pos += 1
        return pos

    def _start_tag(self) -> None:
        begin = self.pos
        end = self._scan_name(begin + 1)
        at = self._byte_offset(begin)
        if end >= len(self.markup):
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        name = self.markup[begin + 1 : end].lower()
        if name not in _ENTITY_TYPES:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {at}')
        attributes = self._attributes(name, end, at)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        self.open_tags.append(_OpenTag(name, self.offset, attributes))

    def _attributes(self, tag: str, pos: int, at: int) -> dict[str, str]:
        attributes: dict[str, str] = {}
        markup = self.markup
        while True:
            pos = self._skip_spaces(pos)
            if pos >= len(markup):
                raise EntityParseError(f"Unclosed start tag at byte offset {at}")
            if markup[pos] == ">":
                self.pos = pos + 1
                return attributes
            name_start = pos
            while pos < len(markup) and not markup[pos].isspace() and markup[pos] not in "=>":
                pos += 1
            name = markup[name_start:pos].lower()
            if not name:
                raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {at}')
            pos = self._skip_spaces(pos)
            # Telegram accepts the bare `expandable` flag only on blockquote.
            if tag == "blockquote" and name == "expandable" and markup[pos : pos + 1] != "=":
                attributes[name] = ""
                continue
            if markup[pos : pos + 1] != "=":
                raise EntityParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {at}'
                )
            value, pos = self._attribute_value(tag, self._skip_spaces(pos + 1), at)
            attributes[name] = value

    def _attribute_value(self, tag: str, pos: int, at: int) -> tuple[str, int]:
        markup = self.markup
        if pos >= len(markup):
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        quote = markup[pos]
        if quote not in "'\"":
            token = _ATTRIBUTE_TOKEN.match(markup, pos)
            assert token is not None
            if not token.group(0):
                raise EntityParseError(
                    f'Expected quote in declaration of an attribute of the tag "{tag}" at byte offset {at}'
                )
            return token.group(0), token.end()
        close = markup.find(quote, pos + 1)
        if close < 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        raw = markup[pos + 1 : close]
        value = _CHARACTER_REFERENCE.sub(lambda m: _decode_reference(m) or m.group(0), raw)
        return value, close + 1

    def _end_tag(self) -> None:
        begin = self.pos
        at = self._byte_offset(begin)
        if not self.open_tags:
            raise EntityParseError(f"Unexpected end tag at byte offset {at}")
        end = self._scan_name(begin + 2)
        name = self.markup[begin + 2 : end].lower()
        end = self._skip_spaces(end)
        if end >= len(self.markup) or self.markup[end] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {at}")
        tag = self.open_tags.pop()
        # Telegram lets "</>" close whatever tag is open.
        if name and name != tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {at}, expected "</{tag.name}>", found "</{name}>"'
            )
        self.pos = end + 1
        self._emit(tag)

    def _emit(self, tag: _OpenTag) -> None:
        length = self.offset - tag.offset
        if length <= 0:
            return
        entity: dict[str, Any] = {
            "type": _ENTITY_TYPES[tag.name],
            "offset": tag.offset,
            "length": length,
        }
        css_class = tag.attributes.get("class", "")
        if tag.name == "a":
            if not tag.attributes.get("href"):
                return
            entity["url"] = tag.attributes["href"]
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "pre":
            self._merge_inner_code(entity)
        elif tag.name == "code" and css_class.startswith("language-"):
            self.code_languages[len(self.entities)] = css_class.removeprefix("language-")
        self.entities.append(entity)

    def _merge_inner_code(self, pre: dict[str, Any]) -> None:
        # <pre><code class="language-x">...</code></pre> is a single pre entity with a language.
        if not self.entities:
            return
        index = len(self.entities) - 1
        inner = self.entities[index]
        if inner["type"] == "code" and (inner["offset"], inner["length"]) == (
            pre["offset"],
            pre["length"],
        ):
            self.entities.pop()
            language = self.code_languages.pop(index, "")
            if language:
                pre["language"] = language


def _decode_reference(match: re.Match[str]) -> str | None:
    hex_code, decimal_code, name = match.groups()
    if name:
        return _NAMED[name]
    code = int(hex_code, 16) if hex_code else int(decimal_code)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)
