"""An activities export: the activities and their attendance as CSV and Excel, for /activities export and the CLI."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InputFile, Update

from domain.activities import in_language
from handlers.common import Who
from handlers.i18n import Catalog
from handlers.ledger_files import Value, to_csv, to_workbook
from handlers.services import BotContext

Table = tuple[list[str], list[list[Value]]]


def _place(activity: sqlite3.Row, lang: str) -> str:
    """Where an activity is, as the card says it: its station's name in the reader's language, else its address
    (else, for a station since removed, the station's id)."""
    if activity["station_name"] is not None:
        return in_language(activity["station_name"], activity["station_name_en"], lang)
    return in_language(activity["address"], activity["address_en"], lang) or activity["station_id"] or ""


def activity_tables(
    catalog: Catalog, lang: str, zone: ZoneInfo, activities: list[sqlite3.Row], signups: list[sqlite3.Row]
) -> tuple[Table, Table]:
    """The activities and the attendance as two tables: headers in the reader's language, times in district time.

    /activities export and `python -m bot activities export` both build their files from these."""
    t = lambda key: catalog.text(lang, f"activities.{key}")  # noqa: E731
    local = lambda ts: datetime.fromtimestamp(ts, zone).replace(tzinfo=None)  # noqa: E731
    first = [
        t(f"col_{c}")
        for c in ("id", "title", "starts", "place", "places", "taken", "waiting", "attended", "until", "who")
    ]
    rows: list[list[Value]] = [
        [
            a["id"],
            in_language(a["title"], a["title_en"], lang),
            local(a["starts_at"]),
            _place(a, lang),
            a["places"],
            a["taken"],
            a["waiting"],
            a["came"],
            local(a["signup_until"]),
            t(f"who_{a['audience']}"),
        ]
        for a in activities
    ]
    state = {"in": t("col_state_in"), "waiting": t("col_state_waiting")}
    came = {1: t("col_came_yes"), 0: t("col_came_no"), None: ""}
    second = [t(f"col_{c}") for c in ("id", "title", "name", "person", "state", "signed_up", "came")]
    rows2: list[list[Value]] = [
        [
            s["activity_id"],
            in_language(s["title"], s["title_en"], lang),
            s["name"],
            s["person_id"],
            state[s["state"]],
            local(s["at"]),
            came[s["attended"]],
        ]
        for s in signups
    ]
    return (first, rows), (second, rows2)


def activities_workbook(catalog: Catalog, lang: str, tables: tuple[Table, Table]) -> bytes:
    """Both tables in one Excel workbook: the activities' sheet, then the attendance's."""
    (h1, r1), (h2, r2) = tables
    sheets = (catalog.text(lang, "activities.sheet_activities"), catalog.text(lang, "activities.sheet_attendance"))
    return to_workbook([(sheets[0], h1, r1), (sheets[1], h2, r2)])


async def export(update: Update, context: BotContext, me: Who) -> None:
    """Send a coordinator the activities and attendance as two CSV files and one workbook."""
    services = context.services
    activities, signups = await services.storage.activities.export_rows()
    tables = activity_tables(services.catalog, me.lang, services.zone, activities, signups)
    (h1, r1), (h2, r2) = tables
    chat = update.effective_chat
    await chat.send_document(InputFile(to_csv(h1, r1), filename="activities.csv"))
    await chat.send_document(InputFile(to_csv(h2, r2), filename="attendance.csv"))
    await chat.send_document(
        InputFile(activities_workbook(services.catalog, me.lang, tables), filename="activities.xlsx"),
        caption=services.text(me.lang, "activities.exported", activities=len(r1), signups=len(r2)),
    )
