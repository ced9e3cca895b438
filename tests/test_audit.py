"""Tests of the catalogue audit (geo.audit): each check on small constructed inputs, then the shipped catalogue."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo import audit
from geo.audit import ERROR, WARNING, Boundary, audit_event, audit_features, event_side, prepare_places
from layers.config import PRECISION_RADIUS_M

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"

# A made-up boundary along the meridian 21 E: "Kosovo" west of it, "Serbia" east of it.
LINE_LON = 21.0
COUNTRIES = gpd.GeoDataFrame(
    {"id": ["kosovo", "serbia"], "iso_a3": ["XKX", "SRB"]},
    geometry=[box(20.0, 42.0, LINE_LON, 44.0), box(LINE_LON, 42.0, 22.0, 44.0)],
    crs=4326,
)
PLACES = gpd.GeoDataFrame(
    {
        "id": ["westtown", "easttown"],
        "name": ["Westtown", "Easttown"],
        "name_sq": ["Westtowni", "Easttowni"],
        "name_sr": ["Vesttaun", "Isttaun"],
        "precision_m": [500, 500],
    },
    geometry=[Point(20.7, 43.0), Point(21.3, 43.0)],
    crs=4326,
)
# Degrees of longitude per kilometre at 43 N (1 degree ~ 81.4 km): positions at a chosen distance east or west.
KM_LON = 1 / 81.4


@pytest.fixture(scope="module")
def boundary():
    return Boundary.from_layers(COUNTRIES)


@pytest.fixture(scope="module")
def places():
    return prepare_places(PLACES)


def event(**overrides):
    props = {
        "id": "2023-09-24-test",
        "title": "A test event",
        "date": "2023-09-24",
        "time_precision": 1,
        "summary": "Something happened.",
        "event_type": "Strategic developments",
        "sub_event_type": "Other",
        "actors": ["Kosovo Police"],
        "location": {"en": "Westtown", "sq": "Westtowni", "sr": "Vesttaun"},
        "geo_precision": 1,
        "related_ids": ["westtown"],
        "claims": [],
        "sources": [{"publisher": "Agency", "title": "A report", "date": "2023-09-24", "url": "https://example.org/a"}],
    }
    props.update(overrides)
    return props


def at(lon, lat=43.0):
    return {"type": "Point", "coordinates": [lon, lat]}


def run(props, geometry, places, boundary):
    return audit_event(props, geometry, places, boundary, PRECISION_RADIUS_M)


def checks(findings, check, severity=None):
    return [f for f in findings if f.check == check and (severity is None or f.severity == severity)]


# --- distance stated in the text -----------------------------------------------------------


def test_a_10_km_text_at_5_4_km_is_an_error(places, boundary):
    props = event(summary="Police arrested four men in a village about 10 km from Westtown.",
                  related_ids=["somevillage", "westtown"], geo_precision=2)
    findings = run(props, at(20.7 - 5.4 * KM_LON), places, boundary)
    errors = checks(findings, "distance", ERROR)
    assert len(errors) == 1
    assert "10.0 km from Westtown" in errors[0].message and "5.4 km" in errors[0].message


def test_a_10_km_text_at_9_5_km_passes(places, boundary):
    props = event(summary="Police arrested four men in a village about 10 km from Westtown.",
                  related_ids=["somevillage", "westtown"], geo_precision=2)
    assert checks(run(props, at(20.7 - 9.5 * KM_LON), places, boundary), "distance") == []


def test_an_unhedged_distance_has_a_tighter_tolerance(places, boundary):
    # 10 km stated without "about": 10 % (1 km) plus the place's 500 m; 8.2 km is too close.
    props = event(summary="The camp lies 10 km from Westtown.", related_ids=["camp", "westtown"], geo_precision=3)
    assert checks(run(props, at(20.7 - 8.2 * KM_LON), places, boundary), "distance", ERROR)
    assert not checks(run(props, at(20.7 - 9.0 * KM_LON), places, boundary), "distance", ERROR)


def test_a_distance_from_a_place_not_in_related_ids_is_a_warning(places, boundary):
    props = event(summary="It happened about 10 km from Westtown.", related_ids=["somevillage"], geo_precision=3)
    warnings = checks(run(props, at(20.7 - 10 * KM_LON), places, boundary), "distance", WARNING)
    assert warnings and "not in related_ids" in warnings[0].message


def test_a_distance_to_an_unknown_place_is_not_measured(places, boundary):
    props = event(summary="It happened about 10 km from Nowhere.", related_ids=["westtown"], geo_precision=3)
    assert checks(run(props, at(20.7), places, boundary), "distance") == []


# --- position against the main place and the location precision -------------------------------


def test_point_farther_from_its_main_place_than_the_precision_allows_is_an_error(places, boundary):
    props = event(geo_precision=1)  # at Westtown: only the place's 500 m
    errors = checks(run(props, at(20.7 - 2 * KM_LON), places, boundary), "precision", ERROR)
    assert errors and "Westtown" in errors[0].message


def test_a_coarser_precision_allows_the_same_point(places, boundary):
    props = event(geo_precision=2)  # 3 km + 500 m
    assert checks(run(props, at(20.7 - 2 * KM_LON), places, boundary), "precision") == []


def test_at_the_place_precision_with_a_text_distance_is_a_warning(places, boundary):
    props = event(summary="The clash happened about 10 km from Westtown.", geo_precision=1)
    findings = run(props, at(20.7 - 10 * KM_LON), places, boundary)
    assert checks(findings, "precision", WARNING)


# --- side of the boundary -------------------------------------------------------------------------


def serbian_side(**overrides):
    return event(location={"en": "Serbian side of the boundary", "sq": "Ana serbe", "sr": "Srpska strana"},
                 related_ids=["easttown"], geo_precision=3, **overrides)


def test_a_serbian_side_event_placed_in_kosovo_is_an_error(places, boundary):
    findings = run(serbian_side(), at(LINE_LON - 2 * KM_LON), places, boundary)
    errors = checks(findings, "side", ERROR)
    assert errors and "point in Kosovo" in errors[0].message


def test_a_serbian_side_event_whose_circle_reaches_far_into_kosovo_is_an_error(places, boundary):
    # 0.34 km east of the line with a 15 km circle: about a third of the circle lies in "Kosovo".
    findings = run(serbian_side(), at(LINE_LON + 0.34 * KM_LON), places, boundary)
    errors = checks(findings, "side", ERROR)
    assert errors and "uncertainty circle" in errors[0].message


def test_a_serbian_side_event_with_a_tenth_of_its_circle_in_kosovo_passes(places, boundary):
    # 10.5 km from a straight line: about a tenth of the 15 km circle crosses it (Raška: 8.3 km
    # from the real, winding line, 10.5 % of its circle).
    findings = run(serbian_side(), at(LINE_LON + 10.5 * KM_LON), places, boundary)
    assert checks(findings, "side") == []


def test_a_share_between_the_thresholds_is_a_warning(places, boundary):
    # 7 km from the line: the circle's segment beyond it is about 21 % of the circle.
    findings = run(serbian_side(), at(LINE_LON + 7 * KM_LON), places, boundary)
    assert [f.severity for f in checks(findings, "side")] == [WARNING]


def test_a_kosovo_side_event_placed_in_serbia_is_an_error(places, boundary):
    props = event(related_ids=["westtown"], geo_precision=3)  # side from its first related place, in Kosovo
    findings = run(props, at(LINE_LON + 3 * KM_LON), places, boundary)
    assert checks(findings, "side", ERROR)


def test_a_disputed_location_has_no_side(places, boundary):
    claims = [
        {"party": "Kosovo", "claim": "The officers were seized 300 m inside Kosovo."},
        {"party": "Serbia", "claim": "They were arrested 1.8 km inside Serbia."},
    ]
    props = event(claims=claims, related_ids=["westtown"], geo_precision=3)
    side, why = event_side(props, places, boundary)
    assert side is None and "disputed" in why
    assert checks(run(props, at(LINE_LON + 3 * KM_LON), places, boundary), "side") == []


def test_a_deployment_of_serbian_forces_is_on_the_serbian_side(places, boundary):
    props = event(sub_event_type="Change to group/activity", actors=["Serbian Armed Forces"],
                  related_ids=["westtown"], location={"en": "Boundary", "sq": "Kufiri", "sr": "Granica"})
    assert event_side(props, places, boundary)[0] == audit.SERBIA
    both = dict(props, actors=["Serbian Armed Forces", "KFOR"])
    assert event_side(both, places, boundary)[0] == audit.KOSOVO  # falls through to the related place


# --- numbers ------------------------------------------------------------------------------------------


def test_a_number_in_no_claim_or_source_title_is_a_warning(places, boundary):
    props = event(summary="Troops were cut from 8,350 to 4,500 on 2 October 2023, after mourning on 26–28 September.",
                  claims=[{"party": "Army", "claim": "Now 4,500 troops."}])
    warnings = checks(run(props, at(20.7), places, boundary), "numbers", WARNING)
    assert len(warnings) == 1 and "8350" in warnings[0].message and "4500" not in warnings[0].message
    assert "2023" not in warnings[0].message and " 2," not in warnings[0].message  # dates are not figures
    assert "26" not in warnings[0].message and "28" not in warnings[0].message  # nor a range of days


def test_numbers_found_in_claims_or_source_titles_pass(places, boundary):
    props = event(title="Serbia says it cut troops to 4,500",
                  summary="Troops were cut from 8,350 to 4,500 at 09:30 by the 1st Battalion.",
                  claims=[{"party": "Army", "claim": "8,350 cut to 4,500."}])
    assert checks(run(props, at(20.7), places, boundary), "numbers") == []
    source_only = event(summary="KFOR said 30 soldiers were hurt.",
                        sources=[{"publisher": "A", "title": "30 soldiers hurt", "date": "2023-09-24", "url": "https://e.org/x"}])
    assert checks(run(source_only, at(20.7), places, boundary), "numbers") == []


# --- sources --------------------------------------------------------------------------------------------


def source(date="2023-09-25", url="https://example.org/a", title="A report", publisher="Agency"):
    return {"publisher": publisher, "title": title, "date": date, "url": url}


def test_a_source_without_a_date_is_an_error(places, boundary):
    undated = source()
    del undated["date"]
    findings = run(event(sources=[undated]), at(20.7), places, boundary)
    assert any("no publication date" in f.message for f in checks(findings, "sources", ERROR))


def test_a_source_published_long_after_the_event_is_a_warning(places, boundary):
    findings = run(event(sources=[source(date="2024-03-01")]), at(20.7), places, boundary)
    assert [f.severity for f in checks(findings, "sources")] == [WARNING]


def test_a_source_published_before_the_event_is_an_error_unless_an_announcement(places, boundary):
    assert checks(run(event(sources=[source(date="2023-09-01")]), at(20.7), places, boundary), "sources", ERROR)
    assert checks(run(event(sources=[source(date="2023-09-22")]), at(20.7), places, boundary), "sources") == []


def test_duplicate_sources_are_errors(places, boundary):
    same_url = [source(), source(url="http://www.example.org/a/", title="Another title")]
    errors = checks(run(event(sources=same_url), at(20.7), places, boundary), "sources", ERROR)
    assert len(errors) == 1 and "same URL" in errors[0].message
    same_title = [source(), source(url="https://mirror.example.net/a")]
    errors = checks(run(event(sources=same_title), at(20.7), places, boundary), "sources", ERROR)
    assert len(errors) == 1 and "same publisher, title and date" in errors[0].message


def test_a_clean_event_has_no_findings(places, boundary):
    assert run(event(), at(20.7), places, boundary) == []


# --- the shipped catalogue -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    places = gpd.read_file(DATA / "places.geojson")
    countries = gpd.read_file(DATA / "countries.geojson")
    border = gpd.read_file(DATA / "border.geojson")
    features = json.loads((DATA / "events.geojson").read_text(encoding="utf-8"))["features"]
    return features, prepare_places(places), Boundary.from_layers(countries, border)


def test_the_shipped_catalogue_has_no_errors(shipped):
    features, places, boundary = shipped
    errors = [f for f in audit_features(features, places, boundary, PRECISION_RADIUS_M) if f.severity == ERROR]
    assert errors == [], "\n".join(map(str, errors))


@pytest.mark.parametrize(
    ("event_id", "old_position", "check"),
    [
        ("2023-09-24-rudare-arrests", [20.81, 42.93], "distance"),  # 5.4 km from Banjska, text says about 10
        ("2023-09-29-kirby-serbian-military-buildup", [20.75, 43.25], "side"),  # a third of its circle in Kosovo
    ],
)
def test_the_corrected_errors_would_be_found_again(shipped, event_id, old_position, check):
    features, places, boundary = shipped
    feature = copy.deepcopy(next(f for f in features if f["properties"]["id"] == event_id))
    assert not checks(audit_event(feature["properties"], feature["geometry"], places, boundary, PRECISION_RADIUS_M),
                      check, ERROR)
    feature["geometry"]["coordinates"] = old_position
    if event_id == "2023-09-24-rudare-arrests":
        feature["properties"]["geo_precision"] = 2
    found = audit_event(feature["properties"], feature["geometry"], places, boundary, PRECISION_RADIUS_M)
    assert checks(found, check, ERROR), found


def test_command_line_exit_codes_and_json(tmp_path, capsys):
    assert audit.main(["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == [] and report["events"] >= 38
    features = json.loads((DATA / "events.geojson").read_text(encoding="utf-8"))["features"]
    broken = copy.deepcopy(next(f for f in features if f["properties"]["id"] == "2023-09-29-kirby-serbian-military-buildup"))
    broken["geometry"]["coordinates"] = [20.75, 43.25]
    path = tmp_path / "events.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [broken]}), encoding="utf-8")
    assert audit.main(["--events", str(path)]) == 1
    text = capsys.readouterr().out
    assert "Errors (1):" in text and "Warnings (" in text and "kirby" in text
    (tmp_path / "bad.geojson").write_text("not json", encoding="utf-8")
    assert audit.main(["--events", str(tmp_path / "bad.geojson")]) == 2


def test_command_line_audits_the_store(tmp_path, monkeypatch, capsys):
    """--store reads the store's current catalogue (seeded once from the files), not the events file."""
    events_file = tmp_path / "events.geojson"
    catalogue = json.loads((DATA / "events.geojson").read_text(encoding="utf-8"))
    events_file.write_text(json.dumps(catalogue), encoding="utf-8")
    monkeypatch.setenv("BORDER_BRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("BORDER_BRIEF_EVENTS_FILE", str(events_file))
    assert audit.main(["--store", "--json"]) == 0  # creates and seeds the store
    report = json.loads(capsys.readouterr().out)
    assert report["source"].startswith("store") and report["events"] == len(catalogue["features"])
    # the file changes afterwards: the store's catalogue does not, the file's audit does
    for feature in catalogue["features"]:
        if feature["properties"]["id"] == "2023-09-29-kirby-serbian-military-buildup":
            feature["geometry"]["coordinates"] = [20.75, 43.25]
    events_file.write_text(json.dumps(catalogue), encoding="utf-8")
    assert audit.main(["--store"]) == 0
    assert audit.main([]) == 1
    assert "kirby" in capsys.readouterr().out
