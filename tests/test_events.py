"""Tests of the event catalogue (geo.events) and of data/events.geojson itself."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from geo.crs import REGION_BBOX
from geo.events import (
    BACKGROUND_START,
    CATALOGUE_END,
    CRISIS_WINDOW,
    EVENT_TYPES,
    event_index,
    is_in_region,
    load_events,
    parse_events,
)
from geo.io import LayerValidationError
from geo.schema import SCHEMAS

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "events.geojson"
URL_SAFE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


# --- the real catalogue -----------------------------------------------------------


@pytest.fixture(scope="module")
def events():
    return load_events(CATALOGUE)


@pytest.fixture(scope="module")
def by_id(events):
    return {row["id"]: row for _, row in events.iterrows()}


def test_schema_is_registered_for_points():
    assert SCHEMAS["events"].geometry_types == ("Point",)


def test_catalogue_loads_whole(events):
    raw = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    assert len(events) == len(raw["features"])
    assert 25 <= len(events) <= 40
    assert events.crs.to_epsg() == 4326


def test_ids_are_unique_and_url_safe(events):
    assert events["id"].is_unique
    for event_id in events["id"]:
        assert URL_SAFE_ID.match(event_id), event_id


def test_ids_start_with_their_date(events):
    for _, row in events.iterrows():
        assert row["id"].startswith(row["date"] + "-"), row["id"]


def test_every_event_has_a_dated_source_with_url(events):
    for _, row in events.iterrows():
        assert row["sources"], row["id"]
        for source in row["sources"]:
            assert source["url"].startswith(("http://", "https://")), row["id"]
            dt.date.fromisoformat(source["date"])
            assert source["publisher"].strip() and source["title"].strip()


def test_dates_fall_in_the_stated_windows(events):
    for _, row in events.iterrows():
        day = dt.date.fromisoformat(row["date"])
        assert BACKGROUND_START <= day <= CATALOGUE_END, row["id"]
        if row["background"]:
            assert day < CRISIS_WINDOW[0], row["id"]
        else:
            assert CRISIS_WINDOW[0] <= day <= CRISIS_WINDOW[1], row["id"]


def test_points_lie_in_the_region(events):
    # Remote events are shown at the place they concern, so every point is in the region.
    for _, row in events.iterrows():
        assert is_in_region(row.geometry.x, row.geometry.y), row["id"]


def test_remote_events_name_where_they_happened(events):
    remote = events[events["remote"]]
    assert len(remote) >= 3
    assert remote["remote_location"].map(lambda text: bool(text and text.strip())).all()
    assert (remote["geo_precision"] == 3).all()
    assert events.loc[~events["remote"], "remote_location"].isna().all()


def test_sub_event_types_belong_to_their_type(events):
    for _, row in events.iterrows():
        assert row["sub_event_type"] in EVENT_TYPES[row["event_type"]], row["id"]


def test_event_types_follow_acled():
    assert set(EVENT_TYPES) == {
        "Battles",
        "Explosions/Remote violence",
        "Violence against civilians",
        "Protests",
        "Riots",
        "Strategic developments",
    }
    assert EVENT_TYPES["Battles"] == (
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    )
    assert "Disrupted weapons use" in EVENT_TYPES["Strategic developments"]


def test_event_index_gives_row_positions(events):
    index = event_index(events)
    assert len(index) == len(events)
    for event_id, position in index.items():
        assert events.iloc[position]["id"] == event_id


def test_banjska_attack_with_bunjakus_death(by_id):
    attack = by_id["2023-09-24-banjska-attack"]
    assert attack["date"] == "2023-09-24"
    assert attack["event_type"] == "Battles"
    assert attack["fatalities"] == 1
    assert "Bunjaku" in attack["title"] + attack["summary"]
    assert "banjska-village" in attack["related_ids"]
    siege = by_id["2023-09-24-banjska-monastery-siege"]
    assert siege["fatalities"] == 3
    assert "banjska-monastery" in siege["related_ids"]


def test_key_briefing_events_are_present(events, by_id):
    kirby = by_id["2023-09-29-kirby-serbian-military-buildup"]
    assert kirby["remote"] and kirby["remote_location"] == "Washington, D.C."
    assert "John Kirby" in kirby["actors"]
    assert "Antony Blinken" in by_id["2023-09-29-blinken-calls-vucic"]["actors"]
    uk = by_id["2023-10-01-uk-battalion-to-kfor"]
    assert "UK Ministry of Defence" in uk["actors"]
    radoicic = by_id["2023-09-29-radoicic-admits-role-resigns"]
    assert "Milan Radoičić" in radoicic["actors"]
    assert "Jeffrey Hovenier" in by_id["2023-09-26-hovenier-trained-organised-group"]["actors"]
    assert by_id["2008-02-17-kosovo-declares-independence"]["background"]
    drawdown = by_id["2023-10-02-serbia-claims-troop-drawdown"]
    assert drawdown["status"] == "claimed"
    assert any("8,350" in claim["claim"] and "4,500" in claim["claim"] for claim in drawdown["claims"])


def test_disputed_figures_are_recorded_as_claims(by_id):
    for event_id in (
        "2023-09-24-banjska-attack",
        "2023-05-29-zvecan-kfor-clashes",
        "2023-06-14-serbia-detains-three-kosovo-police",
    ):
        claims = by_id[event_id]["claims"]
        assert len({claim["party"] for claim in claims}) >= 2, event_id


def test_locations_have_three_languages(events):
    for location in events["location"]:
        assert set(location) >= {"en", "sq", "sr"}


# --- negative tests on hand-made catalogues -----------------------------------------


def _event(**overrides):
    properties = {
        "id": "2023-09-24-test-event",
        "name": "Test event",
        "title": "Test event",
        "date": "2023-09-24",
        "time_precision": 1,
        "time_of_day": None,
        "background": False,
        "summary": "Something happened. It is described here.",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actors": ["Kosovo Police"],
        "fatalities": 0,
        "fatalities_note": None,
        "location": {"en": "Banjska", "sq": "Banjskë", "sr": "Banjska"},
        "geo_precision": 1,
        "related_ids": ["banjska"],
        "remote": False,
        "remote_location": None,
        "status": "confirmed",
        "claims": [],
        "sources": [
            {"publisher": "Example", "title": "Report", "date": "2023-09-24", "url": "https://example.org/report"}
        ],
    }
    properties.update(overrides)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [20.7717, 42.9836]}, "properties": properties}


def _collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _problems(*features):
    with pytest.raises(LayerValidationError) as caught:
        parse_events(_collection(*features), source_name="report.geojson")
    return caught.value.problems


def _assert_names(problems, event_id, field):
    matching = [p for p in problems if p.feature == repr(event_id) and p.field == field]
    assert matching, [str(p) for p in problems]
    message = str(matching[0])
    assert event_id in message and f"'{field}'" in message and "report.geojson" in message
    return matching[0]


def test_minimal_valid_report_parses():
    frame = parse_events(_collection(_event()), source_name="report.geojson")
    assert list(frame["id"]) == ["2023-09-24-test-event"]


def test_empty_report_is_an_empty_frame():
    frame = parse_events(_collection(), source_name="report.geojson")
    assert len(frame) == 0


@pytest.mark.parametrize("bad_date", ["2023-02-30", "24.09.2023", "2023-09"])
def test_bad_date_is_reported(bad_date):
    _assert_names(_problems(_event(date=bad_date)), "2023-09-24-test-event", "date")


def test_date_outside_crisis_window_is_reported():
    problem = _assert_names(_problems(_event(date="2023-12-15")), "2023-09-24-test-event", "date")
    assert "crisis window" in problem.message


def test_date_before_catalogue_window_is_reported():
    problem = _assert_names(_problems(_event(date="1999-06-12", background=True)), "2023-09-24-test-event", "date")
    assert "catalogue window" in problem.message


@pytest.mark.parametrize("field", ["time_precision", "geo_precision"])
@pytest.mark.parametrize("code", [0, 4, "1", True])
def test_bad_precision_code_is_reported(field, code):
    _assert_names(_problems(_event(**{field: code})), "2023-09-24-test-event", field)


def test_missing_field_is_reported():
    feature = _event()
    del feature["properties"]["summary"]
    problem = _assert_names(_problems(feature), "2023-09-24-test-event", "summary")
    assert "missing" in problem.message


def test_bad_source_url_is_reported():
    source = {"publisher": "Example", "title": "Report", "date": "2023-09-24", "url": "example.org/report"}
    problem = _assert_names(_problems(_event(sources=[source])), "2023-09-24-test-event", "sources")
    assert "url" in problem.message


def test_source_needs_a_full_publication_date():
    source = {"publisher": "Example", "title": "Report", "date": "2023-09", "url": "https://example.org/r"}
    _assert_names(_problems(_event(sources=[source])), "2023-09-24-test-event", "sources")


def test_no_source_is_reported():
    _assert_names(_problems(_event(sources=[])), "2023-09-24-test-event", "sources")


def test_unknown_sub_event_type_is_reported():
    problem = _assert_names(
        _problems(_event(sub_event_type="Peaceful protest")), "2023-09-24-test-event", "sub_event_type"
    )
    assert "Armed clash" in problem.message


def test_unknown_event_type_is_reported():
    _assert_names(_problems(_event(event_type="Skirmish")), "2023-09-24-test-event", "event_type")


def test_duplicated_id_is_reported():
    problems = _problems(_event(), _event())
    problem = _assert_names(problems, "2023-09-24-test-event", "id")
    assert "duplicates" in problem.message


def test_violent_event_needs_a_fatality_count():
    _assert_names(_problems(_event(fatalities=None)), "2023-09-24-test-event", "fatalities")


def test_point_outside_region_is_reported_unless_remote():
    feature = _event()
    feature["geometry"]["coordinates"] = [-77.036871, 38.907192]
    _assert_names(_problems(feature), "2023-09-24-test-event", "geometry")
    remote = copy.deepcopy(feature)
    remote["properties"].update(remote=True, remote_location="Washington, D.C.", geo_precision=3)
    assert len(parse_events(_collection(remote), source_name="report.geojson")) == 1


def test_remote_event_needs_its_location_and_region_precision():
    problems = _problems(_event(remote=True, remote_location=None))
    _assert_names(problems, "2023-09-24-test-event", "remote_location")
    _assert_names(problems, "2023-09-24-test-event", "geo_precision")


def test_too_many_coordinate_decimals_are_reported():
    feature = _event()
    feature["geometry"]["coordinates"] = [20.77171234, 42.9836]
    _assert_names(_problems(feature), "2023-09-24-test-event", "geometry")


def test_time_of_day_format_and_precision():
    _assert_names(_problems(_event(time_of_day="3am")), "2023-09-24-test-event", "time_of_day")
    _assert_names(_problems(_event(time_of_day="03:00", time_precision=2)), "2023-09-24-test-event", "time_of_day")


def test_all_problems_of_a_report_are_listed_together():
    problems = _problems(_event(date="2023-02-30", sub_event_type="Grenade", status="rumoured"))
    assert {p.field for p in problems} >= {"date", "sub_event_type", "status"}


def test_html_like_text_is_kept_literally():
    script = "<script>alert('x')</script> & <b>bold</b>"
    frame = parse_events(
        _collection(_event(summary=script, title=script, name=script)), source_name="report.geojson"
    )
    assert frame.loc[0, "summary"] == script
    assert frame.loc[0, "title"] == script


def test_not_a_feature_collection_is_a_file_problem():
    with pytest.raises(LayerValidationError) as caught:
        parse_events(json.dumps({"type": "Feature"}), source_name="report.geojson")
    assert caught.value.problems[0].feature == ""


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(LayerValidationError, match="file not found"):
        load_events(tmp_path / "nope.geojson")


def test_region_bbox_is_used():
    lon_min, lat_min, lon_max, lat_max = REGION_BBOX
    assert is_in_region(lon_min, lat_min) and not is_in_region(lon_max + 1, lat_max)


def test_place_links_reports_unknown_slugs_and_points_away_from_their_place():
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.events import place_links

    places = gpd.GeoDataFrame(
        {"id": ["jarinje-crossing"], "precision_m": [200.0]}, geometry=[Point(20.691667, 43.218611)], crs="EPSG:4326"
    )
    events = gpd.GeoDataFrame(
        {
            "id": ["at-crossing", "12-km-off", "near-enough", "city"],
            "related_ids": [["jarinje-crossing"], ["jarinje-crossing", "raska"], ["jarinje-crossing"], ["pristina"]],
            "geo_precision": [1, 1, 2, 3],
        },
        geometry=[Point(20.691667, 43.218611), Point(20.588, 43.148), Point(20.70, 43.23), Point(21.1655, 42.6629)],
        crs="EPSG:4326",
    )
    unknown, too_far = place_links(events, places, {1: 0, 2: 3_000, 3: 15_000})
    assert unknown == [("12-km-off", "raska"), ("city", "pristina")]
    assert [(e, p) for e, p, _, _ in too_far] == [("12-km-off", "jarinje-crossing")]
    event_id, _, distance, allowed = too_far[0]
    assert 11_000 < distance < 12_000 and allowed == 200.0
