"""The handler modules in ON_POSTGRESQL run on PostgreSQL as well as on SQLite (tests/harness.py's
running_bot opens whichever this run of the test is on)."""

import os

import pytest

from tests import harness

# The handler test modules that pass whole on PostgreSQL; each of their tests runs on both backends
# (on PostgreSQL as a slow test: it needs the session's server). APPEALS_BOT_TEST_ALL_ON_POSTGRESQL=1
# runs every module on both, to see what is left. A test marked sqlite_only runs on SQLite only
# (test_erasure's scans of the database's files for a courier's bytes), one marked postgresql_only
# on PostgreSQL only (the same scans of PostgreSQL's files).
ON_POSTGRESQL = {
    "test_activities",
    "test_activities_views",
    "test_answers",
    "test_bad_input",
    "test_callbacks",
    "test_canned_replies",
    "test_cards_in_hand",
    "test_catalogs",
    "test_cohandling",
    "test_database_outage",
    "test_erasure",
    "test_evidence",
    "test_export",
    "test_export_evidence",
    "test_export_formulas",
    "test_extensions",
    "test_filing_limits",
    "test_fixtext",
    "test_free_text",
    "test_heavy_work",
    "test_invite_codes",
    "test_keyboards",
    "test_list_pages",
    "test_loop",
    "test_mute_button",
    "test_mutes",
    "test_nearest",
    "test_outreach",
    "test_outreach_polish",
    "test_outreach_privacy",
    "test_outreach_schedule",
    "test_presses",
    "test_privacy",
    "test_redo",
    "test_roles",
    "test_self_handling",
    "test_start",
    "test_station_admin",
    "test_stations_journey",
    "test_survey_chart",
    "test_surveys",
    "test_surveys_staff",
    "test_telegram_limits",
    "test_typed_place",
    "test_unit_desk",
    "test_wishes",
    "test_wishes_delivery",
}


def pytest_generate_tests(metafunc) -> None:
    """A module in ON_POSTGRESQL runs each test once per backend (but a test marked sqlite_only)."""
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return
    if "backend" in metafunc.fixturenames and (
        module in ON_POSTGRESQL or os.environ.get("APPEALS_BOT_TEST_ALL_ON_POSTGRESQL")
    ):
        on_postgresql = pytest.param("postgresql", marks=pytest.mark.slow)
        only = metafunc.definition.get_closest_marker("postgresql_only")
        metafunc.parametrize("backend", [on_postgresql] if only else ["sqlite", on_postgresql], indirect=True)


@pytest.fixture(autouse=True)
def backend(request):
    """The backend this run of the test is on; on PostgreSQL, a fresh database per database path, dropped after."""
    chosen = getattr(request, "param", "sqlite")
    if chosen != "postgresql":
        yield chosen
        return
    server = request.getfixturevalue("postgres_server")
    urls: dict[object, str] = {}

    def database_for(path) -> str:
        if path not in urls:
            urls[path] = server.create_database(migrated=True)
        return urls[path]

    harness.postgres_database_for = database_for
    try:
        yield chosen
    finally:
        harness.postgres_database_for = None
        for url in urls.values():
            server.drop_database(url)
