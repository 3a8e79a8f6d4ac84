"""Station files: every problem reported with line, column and reason; exports read back the same."""

import dataclasses
import json
from pathlib import Path

import pytest

from domain.stations_file import (
    COLUMNS,
    StationFileError,
    StationRecord,
    check_row,
    format_of,
    parse_form,
    read_stations,
    to_csv,
    to_json,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sandbox" / "district" / "stations.json"
UNITS = {
    "hrss",
    "civil",
    "insurance",
    "union",
    "legal",
    "station-renmin",
    "station-nanjing",
    "station-laoximen",
    "station-xintiandi",
    "station-dapuqiao",
    "station-waitan",
}
# The columns of a file written before the English forms: it still imports.
OLD_COLUMNS = COLUMNS[: COLUMNS.index("name_en")]
HOURS = {
    "mon": "07:00-22:00",
    "tue": "07:00-22:00",
    "wed": "07:00-22:00",
    "thu": "07:00-22:00",
    "fri": "07:00-22:00",
    "sat": "22:00-06:00",
    "sun": "closed",
}


def problems_of(data: bytes, fmt: str, units=UNITS) -> list[tuple[int | None, str | None, str]]:
    """(line, column, reason) of every problem, or fail if the file was accepted."""
    with pytest.raises(StationFileError) as caught:
        read_stations(data, fmt, units)
    return [(p.line, p.column, p.reason) for p in caught.value.problems]


def test_the_sample_district_reads_whole() -> None:
    """36 stations with all seven days, amenities in the fixed order, units known."""
    records = read_stations(SAMPLE.read_bytes(), "json", UNITS)
    assert len(records) == 36
    first = records[0]
    assert (first.id, first.grade, first.unit, first.active) == ("hp-001", "A", "station-renmin", None)
    assert first.amenities == ("water", "charging", "rest", "microwave", "toilet", "first_aid")
    assert all(len(r.hours) == 7 for r in records)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip(fmt: str) -> None:
    """What an export writes reads back as the same stations, and writes out byte for byte the same."""
    records = [
        dataclasses.replace(r, active=r.id != "hp-002") for r in read_stations(SAMPLE.read_bytes(), "json", UNITS)
    ]
    records.append(StationRecord("x-1", 'Quote "and", comma', -33.9, 151.2, "C", "", (), {}, None, True, "", ""))
    write = to_csv if fmt == "csv" else to_json
    text = write(records)
    again = read_stations(text.encode("utf-8-sig"), fmt, UNITS)
    assert again == records
    assert write(again) == text


def test_several_bad_json_rows_are_all_reported_with_their_lines() -> None:
    """Each problem names the line of the field, its column and the reason; nothing is returned."""
    stations = [
        {"id": "ok-1", "name": "Fine", "lat": 31.2, "lon": 121.4, "grade": "A", "hours": HOURS, "unit": "union"},
        {"id": "Bad Id", "name": "", "lat": 95, "lon": "east", "grade": "D"},
        {
            "id": "ok-2",
            "name": "Hours",
            "lat": 0,
            "lon": 0,
            "grade": "B",
            "amenities": ["water", "wifi"],
            "hours": {**HOURS, "mon": "25:00-26:00", "tue": None},
            "unit": "nowhere",
            "colour": "red",
        },
        {"id": "ok-1", "name": "Twice", "lat": 1, "lon": 1, "grade": "C"},
    ]
    text = json.dumps({"stations": stations}, indent=1)
    lines = text.splitlines()

    def line_of(fragment: str, after: int = 0) -> int:
        return next(i for i, line in enumerate(lines, 1) if i > after and fragment in line)

    second = line_of('"Bad Id"')
    third = line_of('"ok-2"')
    found = problems_of(text.encode(), "json")
    assert (second, "id", "'Bad Id': use 1-40 lowercase letters, digits, '.', '-' or '_'") in found
    assert (line_of('"name": ""'), "name", "is missing") in found
    assert (line_of('"lat": 95'), "lat", "95 is not a latitude (-90 to 90)") in found
    assert any(p[:2] == (line_of('"lon": "east"'), "lon") and "not a number" in p[2] for p in found)
    assert (line_of('"grade": "D"'), "grade", "'D' is not a grade; use A, B or C") in found
    assert any(p[:2] == (line_of('"amenities"', third), "amenities") and "'wifi'" in p[2] for p in found)
    assert any(p[:2] == (line_of('"mon": "25:00', third), "hours.mon") for p in found)
    assert any(p[:2] == (line_of('"tue": null', third), "hours.tue") and "missing" in p[2] for p in found)
    assert any(p[:2] == (line_of('"unit": "nowhere"'), "unit") and "'nowhere'" in p[2] for p in found)
    assert any(p[:2] == (line_of('"colour"'), "colour") and "not a station field" in p[2] for p in found)
    assert (line_of('"ok-1"', third), "id", f"'ok-1' is also on line {line_of('ok-1')}") in found
    assert [p[0] for p in found] == sorted(p[0] for p in found)


def test_several_bad_csv_rows_are_all_reported() -> None:
    """CSV lines count from the header; a quoted cell over two lines keeps the count right."""
    header = ",".join(OLD_COLUMNS)
    good = 'ok-1,"Two\nlines? no",,31.2,121.4,A,water;charging,' + ",".join(HOURS.values()) + ",union,"
    rows = [
        header,
        "ok-2,Fine,Addr,31.2,121.4,A,water,,,,,,,,,",
        good,
        "ok-3,Short,row",
        "ok-4,Bad,,91,181,b,water;water,09:00-18:00,,,,,,,,maybe",
        "",
        "ok-2,Again,,1,1,C,,,,,,,,,,",
    ]
    found = problems_of("\n".join(rows).encode(), "csv")
    assert (3, "name", "must be one line of text, without control characters") in found
    assert (5, None, "has 3 cells; the header has 16") in found
    assert (6, "lat", "91 is not a latitude (-90 to 90)") in found
    assert (6, "lon", "181 is not a longitude (-180 to 180)") in found
    assert (6, "grade", "'b' is not a grade; use A, B or C") in found
    assert (6, "amenities", "'water' given twice") in found
    assert (6, "tue", "is missing; give all seven days (HH:MM-HH:MM or closed), or none") in found
    assert (6, "active", "'maybe' is not true or false") in found
    assert (8, "id", "'ok-2' is also on line 2") in found


def test_csv_header_problems_come_first() -> None:
    """Unknown, doubled and missing columns, and half the days, are reported on line 1."""
    found = problems_of(b"id,name,colour,lat,lat,mon,tue\n", "csv")
    assert (1, "colour", f"is not a column; the columns are {', '.join(COLUMNS)}") in found
    assert (1, "lat", "is named twice") in found
    assert (1, "lon", "is missing from the header") in found
    assert (1, "grade", "is missing from the header") in found
    assert any(p[0] == 1 and p[1].startswith("wed") and "all seven" in p[2] for p in found)


@pytest.mark.parametrize(
    ("data", "fmt", "expected"),
    [
        (b'{"stations": [\n {"id": "a",}\n]}', "json", (2, None, "not valid JSON")),
        (b"[]", "json", (1, None, 'the file must be a JSON object with a "stations" list')),
        (b'{"stations": {}}', "json", (1, "stations", "the file must be a JSON object")),
        (b"", "csv", (1, None, "the file is empty")),
        (b"id,name\n\xff\xfe", "csv", (2, None, "is not UTF-8 text (byte 0xff)")),
        (b'{"stations": [3]}', "json", (1, None, "each station must be an object")),
    ],
)
def test_unreadable_files_say_where(data: bytes, fmt: str, expected: tuple) -> None:
    """Syntax, shape and encoding problems have a line and a reason, never a traceback."""
    (line, column, reason), *_ = problems_of(data, fmt)
    assert (line, column) == expected[:2]
    assert reason.startswith(expected[2])


def test_a_byte_order_mark_and_blank_hours_are_fine() -> None:
    """Excel's UTF-8 CSV starts with a BOM; seven empty day cells mean the hours are not known."""
    text = ",".join(OLD_COLUMNS) + "\nok-1,Name,,31.2,121.4,B,,,,,,,,,,\n"
    (record,) = read_stations(text.encode("utf-8-sig"), "csv", UNITS)
    assert (record.hours, record.amenities, record.unit, record.active) == ({}, (), None, None)
    assert (record.name_en, record.address_en) == (None, None)  # not given: a stored English name stays


def test_english_names_and_addresses_in_every_format() -> None:
    """name_en and address_en are optional columns and keys; an empty cell clears, a missing column keeps."""
    csv_text = (
        "id,name,name_en,address,address_en,lat,lon,grade\n"
        "a-1,人民广场驿站,People's Square Station,人民广场61号,\"61 People's Square, Huangpu\",31.2,121.4,A\n"
        "a-2,老西门驿站,,老西门1号,,31.2,121.5,B\n"
    )
    first, second = read_stations(csv_text.encode(), "csv", UNITS)
    assert (first.name_en, first.address_en) == ("People's Square Station", "61 People's Square, Huangpu")
    assert (second.name_en, second.address_en) == ("", "")
    json_text = json.dumps(
        {"stations": [{"id": "a-1", "name": "驿站", "name_en": "Station", "lat": 1, "lon": 1, "grade": "C"}]}
    )
    (record,) = read_stations(json_text.encode(), "json", UNITS)
    assert (record.name_en, record.address_en) == ("Station", None)
    fields, problems = parse_form('id=a-1 name_en="Bund Station" address_en="1 The Bund"')
    assert problems == [] and (fields["name_en"], fields["address_en"]) == ("Bund Station", "1 The Bund")
    too_long = json.dumps(
        {"stations": [{"id": "a-1", "name": "驿站", "name_en": "x" * 101, "lat": 1, "lon": 1, "grade": "C"}]}
    )
    assert problems_of(too_long.encode(), "json") == [(1, "name_en", "is 101 characters long; at most 100")]


def test_the_one_line_form() -> None:
    """key=value with quotes; hours= sets every day and a day overrides it; the row check is the same."""
    fields, problems = parse_form(
        'id=hp-040 name="People\'s Square" lat=31.2 lon=121.4 grade=B '
        "amenities=water;rest hours=07:00-22:00 sun=closed unit=union"
    )
    assert problems == []
    record, row_problems = check_row(fields, UNITS)
    assert row_problems == []
    assert (record.name, record.amenities, record.hours["sat"], record.hours["sun"]) == (
        "People's Square",
        ("water", "rest"),
        "07:00-22:00",
        "closed",
    )
    _, problems = parse_form('id=x name="unclosed')
    assert "close every quote" in problems[0].reason
    _, problems = parse_form("id=x colour=red bare")
    assert [(p.column, p.reason.split(";")[0]) for p in problems] == [
        ("colour", "is not a station field"),
        (None, "'bare' is not key=value"),
    ]


def test_formats_from_names() -> None:
    """The file name's ending says the format."""
    assert (format_of("a.CSV"), format_of("b.json"), format_of("c.txt"), format_of("csv")) == (
        "csv",
        "json",
        None,
        None,
    )
