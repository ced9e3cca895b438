"""ACLED CSV exports mapped onto event features (store.acled), on small synthetic files.

Every file here is written by the test: fake ids (XKX99...), fake names ("Test ..."),
coordinates inside the region box. Row numbers are spreadsheet rows (header = 1).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from geo.events import SUMMARY_MAX_CHARS, parse_events
from geo.io import LayerValidationError, Problem
from store import acled
from store.acled import REQUIRED_COLUMNS, RowProblem, read_acled_csv

# ACLED's 31 export columns, in export order (research notes, section 1).
COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3",
    "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
    "fatalities", "tags", "timestamp",
]  # fmt: skip


def _row(**overrides):
    row = {name: "" for name in COLUMNS}
    row.update(
        event_id_cnty="XKX99001",
        event_date="2023-09-24",
        year="2023",
        time_precision="1",
        disorder_type="Political violence",
        event_type="Battles",
        sub_event_type="Armed clash",
        actor1="Test Group A",
        inter1="State forces",
        country="Test country",
        location="Test Village",
        latitude="42.9836",
        longitude="20.7717",
        geo_precision="1",
        source="Test Outlet",
        source_scale="National",
        notes="Test row. Something happened in a test village.",
        fatalities="0",
        timestamp="1700000000",
    )
    row.update(overrides)
    return row


def _csv(*rows, columns=COLUMNS) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def _read(*rows, columns=COLUMNS, **kwargs):
    return read_acled_csv(_csv(*rows, columns=columns).encode("utf-8"), "test-export.csv", **kwargs)


def _ok(*rows, **kwargs):
    features, problems = _read(*rows, **kwargs)
    assert problems == [], [str(p) for p in problems]
    return features


def _only_problem(*rows, **kwargs) -> RowProblem:
    features, problems = _read(*rows, **kwargs)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def _collection(features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features})


# --- mapping -----------------------------------------------------------------------

def test_a_row_becomes_a_catalogue_feature():
    [feature] = _ok(_row())
    props = feature["properties"]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [20.7717, 42.9836]}
    assert props["id"] == "acled-xkx99001"
    assert props["acled_id"] == "XKX99001"
    assert props["title"] == props["name"] == "Armed clash in Test Village"
    assert props["summary"] == "Test row. Something happened in a test village."
    assert (props["event_type"], props["sub_event_type"]) == ("Battles", "Armed clash")
    assert props["status"] == "reported"
    assert props["remote"] is False and props["remote_location"] is None
    assert props["background"] is False
    assert props["claims"] == [] and props["related_ids"] == []
    assert props["location"] == {"en": "Test Village", "sq": "Test Village", "sr": "Test Village"}


@pytest.mark.parametrize("written", ["2023-09-24", "24 September 2023", "24-Sep-23", "24 Sep 2023"])
def test_api_and_web_export_dates(written):
    [feature] = _ok(_row(event_date=written))
    assert feature["properties"]["date"] == "2023-09-24"


def test_both_date_formats_in_one_file():
    features = _ok(
        _row(event_id_cnty="XKX99001", event_date="2023-06-05"),
        _row(event_id_cnty="XKX99002", event_date="5 June 2023"),
    )
    assert [f["properties"]["date"] for f in features] == ["2023-06-05", "2023-06-05"]


@pytest.mark.parametrize("code", [1, 2, 3])
def test_precision_codes_map_onto_ours(code):
    [feature] = _ok(_row(time_precision=str(code), geo_precision=str(code), event_date="2023-09-15"))
    props = feature["properties"]
    assert props["time_precision"] == code and props["geo_precision"] == code
    assert not isinstance(props["time_precision"], bool)


def test_month_precision_is_dated_to_the_first_of_the_month():
    # ACLED records mid-month; the catalogue wants the first with time_precision 3.
    [feature] = _ok(_row(time_precision="3", event_date="15 September 2023"))
    assert feature["properties"]["date"] == "2023-09-01"
    assert feature["properties"]["sources"][0]["date"] == "2023-09-01"


@pytest.mark.parametrize("column", ["time_precision", "geo_precision"])
@pytest.mark.parametrize("code", ["0", "4", "one", ""])
def test_bad_precision_code_is_reported(column, code):
    problem = _only_problem(_row(**{column: code}))
    assert (problem.row, problem.field) == (2, column)


def test_actors_joined_split_and_deduplicated_in_order():
    [feature] = _ok(
        _row(
            actor1="Test Police",
            assoc_actor_1="Test Unit; Test Police",
            actor2="Test Group B",
            assoc_actor_2=" ; Test Unit;Test Civilians",
        )
    )
    assert feature["properties"]["actors"] == ["Test Police", "Test Unit", "Test Group B", "Test Civilians"]


def test_actors_from_a_file_without_the_optional_actor_columns():
    columns = [c for c in COLUMNS if c not in ("assoc_actor_1", "actor2", "assoc_actor_2", "timestamp")]
    [feature] = _ok(_row(actor1="Test Police"), columns=columns)
    assert feature["properties"]["actors"] == ["Test Police"]
    assert feature["properties"]["provenance"]["acled_timestamp"] is None


def test_sources_are_named_without_links():
    [feature] = _ok(_row(source="Test Outlet; Test Agency;Test Outlet"))
    sources = feature["properties"]["sources"]
    assert [s["publisher"] for s in sources] == ["Test Outlet", "Test Agency", "Test Outlet"]
    for source in sources:
        assert source["title"] == "Reported to ACLED (XKX99001)"
        assert source["date"] == "2023-09-24"
        assert "url" not in source


def test_provenance_names_file_row_id_and_timestamp():
    features = _ok(_row(event_id_cnty="XKX99001"), _row(event_id_cnty="XKX99002", timestamp=""))
    assert [f["properties"]["provenance"] for f in features] == [
        {"file": "test-export.csv", "row": 2, "acled_id": "XKX99001", "acled_timestamp": 1700000000},
        {"file": "test-export.csv", "row": 3, "acled_id": "XKX99002", "acled_timestamp": None},
    ]


def test_zero_fatalities_are_kept_with_a_note():
    [zero] = _ok(_row(fatalities="0"))
    assert zero["properties"]["fatalities"] == 0
    assert "ACLED records 0 when no fatalities are reported" in zero["properties"]["fatalities_note"]
    [three] = _ok(_row(fatalities="3"))
    assert three["properties"]["fatalities"] == 3 and three["properties"]["fatalities_note"] is None


@pytest.mark.parametrize("value", ["-1", "2.5", "", "many"])
def test_bad_fatalities_are_reported(value):
    problem = _only_problem(_row(fatalities=value))
    assert (problem.row, problem.field) == (2, "fatalities")


def test_coordinates_are_rounded_to_six_decimals():
    [feature] = _ok(_row(latitude="42.98361234567", longitude="20.77171234567"))
    assert feature["geometry"]["coordinates"] == [20.771712, 42.983612]


def test_background_follows_the_crisis_window():
    features = _ok(
        _row(event_id_cnty="XKX99001", event_date="2011-07-26"),
        _row(event_id_cnty="XKX99002", event_date="2023-05-01"),
    )
    assert [f["properties"]["background"] for f in features] == [True, False]


@pytest.mark.parametrize("day", ["2023-12-05", "2024-01-10", "2005-03-01"])
def test_date_outside_the_catalogue_window_is_a_problem(day):
    problem = _only_problem(_row(event_date=day))
    assert (problem.row, problem.field) == (2, "event_date")
    assert "window" in problem.message


def test_long_notes_are_cut_to_the_summary_limit_and_missing_notes_get_a_stand_in():
    features = _ok(
        _row(event_id_cnty="XKX99001", notes="Test row word. " * 100),
        _row(event_id_cnty="XKX99002", notes=""),
    )
    long_summary, stand_in = (f["properties"]["summary"] for f in features)
    assert len(long_summary) <= SUMMARY_MAX_CHARS and long_summary.endswith("…")
    assert "Armed clash in Test Village" in stand_in


def test_other_sub_event_type_gets_a_readable_title():
    [feature] = _ok(_row(event_type="Strategic developments", sub_event_type="Other", fatalities="0"))
    assert feature["properties"]["title"] == "Strategic developments in Test Village"


# --- ids -----------------------------------------------------------------------------

def test_ids_are_stable_across_imports():
    text = _csv(_row(event_id_cnty="XKX99001"), _row(event_id_cnty="XKX99002")).encode()
    first, _ = read_acled_csv(text, "export-1.csv")
    again, _ = read_acled_csv(text, "export-2.csv")
    assert [f["properties"]["id"] for f in first] == [f["properties"]["id"] for f in again]
    assert [f["properties"]["id"] for f in first] == ["acled-xkx99001", "acled-xkx99002"]


def test_an_updated_row_keeps_its_id():
    [before] = _ok(_row(fatalities="0", notes="Test row, first version."))
    [after] = _ok(_row(fatalities="2", notes="Test row, corrected."))
    assert before["properties"]["id"] == after["properties"]["id"]


def test_odd_acled_ids_are_sanitised():
    [feature] = _ok(_row(event_id_cnty=" XKX_99/001 "))
    assert feature["properties"]["id"] == "acled-xkx-99-001"
    assert feature["properties"]["acled_id"] == "XKX_99/001"


def test_empty_and_duplicate_acled_ids_are_reported():
    features, problems = _read(
        _row(event_id_cnty="XKX99001"), _row(event_id_cnty="XKX99001"), _row(event_id_cnty="--")
    )
    assert [(p.row, p.field) for p in problems] == [(3, "event_id_cnty"), (4, "event_id_cnty")]
    assert "row 2" in problems[0].message


# --- bad rows ------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["2023-02-30", "24/09/2023", "September 2023", "2023-9-24", ""])
def test_bad_date_is_reported_on_its_row_and_column(written):
    features, problems = _read(_row(event_id_cnty="XKX99001"), _row(event_id_cnty="XKX99002", event_date=written))
    assert [(p.row, p.field) for p in problems] == [(3, "event_date")]
    assert "24 September 2023" in problems[0].message
    assert [f["properties"]["acled_id"] for f in features] == ["XKX99001"]


@pytest.mark.parametrize(
    "latitude, longitude, column",
    [("20.7717", "42.9836", "latitude, longitude"), ("42.9836", "0.5", "longitude"), ("52.1", "20.7", "latitude")],
)
def test_coordinate_outside_the_region_is_reported(latitude, longitude, column):
    problem = _only_problem(_row(latitude=latitude, longitude=longitude))
    assert (problem.row, problem.field) == (2, column)
    assert "outside the region" in problem.message


@pytest.mark.parametrize("value", ["", "north", "nan", "inf"])
def test_unreadable_coordinate_is_reported(value):
    problem = _only_problem(_row(latitude=value))
    assert (problem.row, problem.field) == (2, "latitude")


def test_unknown_event_type_is_reported():
    problem = _only_problem(_row(event_type="Skirmish"))
    assert (problem.row, problem.field) == (2, "event_type")
    assert "Battles" in problem.message


def test_sub_event_type_of_another_event_type_is_reported():
    problem = _only_problem(_row(event_type="Battles", sub_event_type="Peaceful protest"))
    assert (problem.row, problem.field) == (2, "sub_event_type")
    assert "Armed clash" in problem.message


def test_row_without_actor_or_location_is_reported():
    features, problems = _read(_row(actor1="", location=" "))
    assert {(p.row, p.field) for p in problems} == {(2, "actor1"), (2, "location")}
    assert features == []


def test_every_problem_of_a_file_is_listed():
    features, problems = _read(
        _row(event_id_cnty="XKX99001", event_date="yesterday"),
        _row(event_id_cnty="XKX99002"),
        _row(event_id_cnty="XKX99003", latitude="99", event_type="Skirmish"),
    )
    assert [(p.row, p.field) for p in problems] == [(2, "event_date"), (4, "event_type"), (4, "latitude")]
    assert all(isinstance(p, Problem) and p.file == "test-export.csv" for p in problems)
    assert "row 4" in str(problems[-1]) and "'latitude'" in str(problems[-1])
    assert [f["properties"]["acled_id"] for f in features] == ["XKX99002"]


# --- bad files -----------------------------------------------------------------------

def test_missing_required_columns_are_each_named():
    columns = [c for c in COLUMNS if c not in ("fatalities", "geo_precision")]
    features, problems = _read(_row(), columns=columns)
    assert features == []
    assert sorted(p.field for p in problems) == ["fatalities", "geo_precision"]
    assert all("missing" in p.message for p in problems)


def test_file_without_header_is_refused():
    # A file whose first line is already data.
    text = _csv(_row()).split("\n", 1)[1]
    features, problems = read_acled_csv(text.encode(), "no-header.csv")
    assert features == [] and len(problems) == len(REQUIRED_COLUMNS)
    assert "header" in problems[0].message


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_empty_file_is_refused(data):
    features, problems = read_acled_csv(data, "empty.csv")
    assert features == [] and len(problems) == 1 and "empty" in problems[0].message


def test_non_utf8_file_is_refused_with_one_problem():
    data = _csv(_row(location="Test Zvečan")).encode("cp1250")
    features, problems = read_acled_csv(data, "cp1250.csv")
    assert features == []
    assert len(problems) == 1 and problems[0].row is None
    assert problems[0].message.startswith("the file is not UTF-8 text")


def test_utf16_file_is_refused():
    features, problems = read_acled_csv(_csv(_row()).encode("utf-16"), "utf16.csv")
    assert features == [] and len(problems) == 1 and "not UTF-8" in problems[0].message


def test_utf8_file_with_bom_is_read():
    data = b"\xef\xbb\xbf" + _csv(_row(location="Test Zvečan")).encode("utf-8")
    [feature] = _ok_bytes(data)
    assert feature["properties"]["location"]["en"] == "Test Zvečan"
    assert feature["properties"]["id"] == "acled-xkx99001"  # the BOM is not part of the first column's name


def _ok_bytes(data: bytes):
    features, problems = read_acled_csv(data, "bom.csv")
    assert problems == [], [str(p) for p in problems]
    return features


def test_truncated_file_cut_mid_row_is_reported():
    text = _csv(_row(event_id_cnty="XKX99001"), _row(event_id_cnty="XKX99002"))
    cut = text[: text.index("XKX99002") + 30]  # the last row stops after a few fields
    features, problems = read_acled_csv(cut.encode(), "cut.csv")
    assert [(p.row, p.field) for p in problems] == [(3, "")]
    assert "truncated" in problems[0].message


def test_truncated_file_cut_inside_quoted_notes_is_reported():
    text = _csv(_row(event_id_cnty="XKX99001"), _row(event_id_cnty="XKX99002", notes="Test row, with a comma."))
    cut = text[: text.index("with a comma")]
    features, problems = read_acled_csv(cut.encode(), "cut.csv")
    assert [p.row for p in problems] == [3]
    assert "truncated" in problems[0].message


def test_more_than_max_rows_is_refused_before_building(monkeypatch):
    rows = [_row(event_id_cnty=f"XKX99{n:03d}") for n in range(6)]
    built = []
    original = acled._build_feature
    monkeypatch.setattr(acled, "_build_feature", lambda *a: built.append(1) or original(*a))
    features, problems = _read(*rows, max_rows=5)
    assert features == [] and len(problems) == 1 and "more than 5" in problems[0].message
    assert built == []
    assert len(_ok(*rows, max_rows=6)) == 6


def test_quoted_notes_with_newlines_count_as_one_row():
    features = _ok(
        _row(event_id_cnty="XKX99001", notes="Test row.\nSecond line."), _row(event_id_cnty="XKX99002")
    )
    assert features[0]["properties"]["summary"] == "Test row. Second line."
    assert features[1]["properties"]["provenance"]["row"] == 3


# --- the catalogue's own validation -----------------------------------------------------

def test_every_produced_feature_passes_parse_events():
    features = _ok(
        _row(event_id_cnty="XKX99001"),
        _row(event_id_cnty="XKX99002", event_date="1 June 2023", time_precision="3", geo_precision="3"),
        _row(
            event_id_cnty="XKX99003",
            event_date="2012-03-04",
            event_type="Protests",
            sub_event_type="Peaceful protest",
            fatalities="0",
        ),
        _row(event_id_cnty="XKX99004", event_type="Strategic developments", sub_event_type="Arrests"),
    )
    frame = parse_events(_collection(features), source_name="test-export.csv")
    assert sorted(frame["id"]) == ["acled-xkx99001", "acled-xkx99002", "acled-xkx99003", "acled-xkx99004"]


def test_catalogue_problems_are_mapped_back_to_rows(monkeypatch):
    # Force a summary the catalogue refuses, to see parse_events' finding on the right row.
    monkeypatch.setattr(acled, "_summary", lambda notes, title, date: "x" * (SUMMARY_MAX_CHARS + 1))
    features, problems = _read(_row(event_id_cnty="XKX99001"))
    assert features == []
    assert [(p.row, p.field) for p in problems] == [(2, "notes")]
    assert "summary" in problems[0].message


# --- schema: sources without url need provenance -------------------------------------------

def _imported_feature():
    [feature] = _ok(_row())
    return feature


def test_url_less_source_is_refused_without_provenance():
    feature = _imported_feature()
    del feature["properties"]["provenance"]
    with pytest.raises(LayerValidationError) as caught:
        parse_events(_collection([feature]), source_name="report.geojson")
    assert [(p.field) for p in caught.value.problems] == ["sources"]
    assert "missing 'url'" in caught.value.problems[0].message


@pytest.mark.parametrize(
    "provenance",
    [
        {"file": "", "row": 2, "acled_id": "XKX99001", "acled_timestamp": None},
        {"file": "x.csv", "row": 2, "acled_timestamp": None},
        {"file": "x.csv", "row": 0, "acled_id": "XKX99001", "acled_timestamp": None},
        {"file": "x.csv", "row": 2, "acled_id": "XKX99001", "acled_timestamp": "soon"},
        "x.csv",
    ],
)
def test_invalid_provenance_is_refused(provenance):
    feature = _imported_feature()
    feature["properties"]["provenance"] = provenance
    with pytest.raises(LayerValidationError) as caught:
        parse_events(_collection([feature]), source_name="report.geojson")
    assert "provenance" in {p.field for p in caught.value.problems}


def test_a_given_url_must_still_be_valid_with_provenance():
    feature = _imported_feature()
    feature["properties"]["sources"][0]["url"] = "example.org/no-scheme"
    with pytest.raises(LayerValidationError) as caught:
        parse_events(_collection([feature]), source_name="report.geojson")
    assert [p.field for p in caught.value.problems] == ["sources"]


def test_acled_id_must_match_provenance():
    feature = _imported_feature()
    feature["properties"]["acled_id"] = "XKX99999"
    with pytest.raises(LayerValidationError) as caught:
        parse_events(_collection([feature]), source_name="report.geojson")
    assert [p.field for p in caught.value.problems] == ["acled_id"]
