"""An appeal's ledger told in plain words, for the courier who filed it."""

from __future__ import annotations

from domain.lifecycle import Event
from handlers.services import Services
from storage.models import Appeal, Unit

# What the courier is not shown: the reason a unit gave for sending an appeal back is internal.
_PRIVATE_NOTES = {Event.SEND_BACK}


async def history_text(services: Services, appeal: Appeal, lang: str) -> str:
    """One line per ledger event, oldest first."""
    storage = services.storage
    lines = [services.text(lang, "history.title")]
    # Each unit read once, not once per ledger line (a database trip each; bench/throughput.py).
    units: dict[str, Unit | None] = {}
    for entry in await storage.appeals.ledger(appeal.id):
        if entry.unit_id and entry.unit_id not in units:
            units[entry.unit_id] = await storage.people.unit(entry.unit_id)
        unit = units[entry.unit_id] if entry.unit_id else None
        what = services.text(
            lang,
            f"history.{entry.event}",
            unit=unit.name(lang) if unit else "",
            note="" if entry.event in _PRIVATE_NOTES else (entry.note or ""),
            original=appeal.merged_into or "",
        )
        lines.append(services.text(lang, "history.line", when=services.local(entry.at, lang), what=what))
    return "\n".join(lines)
