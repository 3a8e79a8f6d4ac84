"""An appeal's ledger told in plain words, for the courier who filed it and the staff who handle it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from domain.lifecycle import Event
from handlers.services import Services
from handlers.telegram_text import said
from storage.models import Appeal, LedgerEntry, Unit

_FILE_KINDS = ("photo", "voice", "document")

# What the courier is not shown: the reason a unit gave for sending an appeal back, and what a co-handling
# unit (协办) tells the lead or says of its part, are internal.
_PRIVATE_NOTES = {Event.SEND_BACK, Event.FINISH_PART, Event.CO_NOTE}


async def history_text(
    services: Services,
    appeal: Appeal,
    lang: str,
    *,
    entries: Sequence[LedgerEntry] | None = None,
    for_staff: bool = False,
    newest: int | None = None,
    note_limit: int | None = None,
) -> str:
    """One line per ledger event, oldest first (only the `newest` lines if given); staff also read internal notes.

    People's words in a line are quoted below it, each cut to `note_limit` units if given.
    """
    storage = services.storage
    if entries is None:
        entries = await storage.appeals.ledger(appeal.id)
    lines = [services.text(lang, "history.title")]
    if newest is not None and len(entries) > newest:
        entries = entries[-newest:]
        lines.append("…")
    # Each unit read once, not once per ledger line (a database trip each; bench/throughput.py).
    units: dict[str, Unit | None] = {}
    parts = await storage.cohandling.units_of_events(appeal.id) if appeal.co_units else {}
    for unit_id in {entry.unit_id for entry in entries} | set(parts.values()):
        if unit_id:
            units[unit_id] = await storage.people.unit(unit_id)
    for entry in entries:
        unit = units[entry.unit_id] if entry.unit_id else None
        part_unit = units.get(parts[entry.id]) if entry.id in parts else None
        private = entry.event in _PRIVATE_NOTES and not for_staff
        key = f"history.{entry.event}"
        if for_staff and entry.event in _PRIVATE_NOTES:
            key = f"evidence.history_{entry.event}"  # the same line, with the reason staff gave
        note = "" if private else (entry.note or "")
        if note or entry.event is Event.ANSWER:
            note = await answer_words(services, lang, appeal.id, entry.id, note, note_limit)
        what = services.text(
            lang,
            key,
            unit=unit.name(lang) if unit else "",
            part_unit=part_unit.name(lang) if part_unit else parts.get(entry.id, ""),
            note=note,
            original=appeal.merged_into or "",
        )
        lines.append(services.text(lang, "history.line", when=services.local(entry.at, lang), what=what))
    return "\n".join(lines)


def files_said(services: Services, lang: str, files: Sequence[tuple[str, ...]]) -> str:
    """What came instead of words, by kind: "(1 photo)", "（照片 2 张、语音 1 条）"; empty if no files."""
    counts = Counter(f[0] for f in files)
    parts = [
        services.text(
            lang, f"freetext2.{kind}_one" if counts[kind] == 1 else f"freetext2.{kind}_many", count=counts[kind]
        )
        for kind in _FILE_KINDS
        if counts[kind]
    ]
    return (
        services.text(lang, "freetext2.files_instead", files=services.text(lang, "freetext2.list_sep").join(parts))
        if parts
        else ""
    )


async def answer_words(
    services: Services, lang: str, appeal_id: int, event_id: int, note: str | None, limit: int | None = None
) -> str:
    """An answer as read back, on the lines below what introduces it: its words quoted (cut to `limit`),
    or, for files alone, what was sent instead."""
    if note:
        return said(note, limit)
    files = files_said(services, lang, await services.storage.appeals.attachments(appeal_id, event_id))
    return "\n" + files if files else ""
