"""Layer file validation: every problem names the file, the feature and the field."""

import json

import pytest

from geo.crs import STORAGE_CRS
from geo.io import LayerValidationError, load_layer, parse_layer

SOURCE = {"publisher": "Example", "title": "A page", "date": "2023-09-24", "url": "https://example.org/a"}


def zone(fid="zone-a", coords=None, **props):
    coords = coords or [[[20.0, 43.0], [20.1, 43.0], [20.1, 43.1], [20.0, 43.1], [20.0, 43.0]]]
    properties = {
        "id": fid,
        "name": "Zone A",
        "sources": [SOURCE],
        "width_km": 5,
        "history": "Defined in 1999.",
        "summary": "A test zone.",
        **props,
    }
    return {"type": "Feature", "properties": properties, "geometry": {"type": "Polygon", "coordinates": coords}}


def collection(*features, **extra):
    return json.dumps({"type": "FeatureCollection", "features": list(features), **extra})


def problems_of(text, layer_id="ground_safety_zone"):
    with pytest.raises(LayerValidationError) as caught:
        parse_layer(text, layer_id, source_name="zones.geojson")
    return caught.value.problems


def test_valid_file_loads_in_storage_crs(tmp_path):
    path = tmp_path / "ground_safety_zone.geojson"
    path.write_text(collection(zone()), encoding="utf-8")
    frame = load_layer(path, "ground_safety_zone")
    assert frame.crs.to_string() == STORAGE_CRS
    assert list(frame["id"]) == ["zone-a"]
    assert frame.iloc[0]["sources"] == [SOURCE]


def test_broken_json_says_where():
    (problem,) = problems_of('{"type": "FeatureCollection", "features": [')
    assert problem.file == "zones.geojson"
    assert "not valid JSON" in problem.message and "line 1" in problem.message


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(LayerValidationError, match="file not found"):
        load_layer(tmp_path / "missing.geojson", "ground_safety_zone")


def test_not_a_feature_collection():
    (problem,) = problems_of(json.dumps({"type": "Feature"}))
    assert "FeatureCollection" in problem.message


def test_declared_projected_crs_is_rejected_with_a_fix():
    text = collection(zone(), crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}})
    (problem,) = problems_of(text)
    assert problem.field == "crs" and "EPSG:4326" in problem.message and "3857" in problem.message


def test_legacy_wgs84_crs_member_is_accepted():
    text = collection(zone(), crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}})
    assert len(parse_layer(text, "ground_safety_zone")) == 1


def test_projected_coordinates_without_crs_member_are_caught():
    metres = [[[500000, 4760000], [510000, 4760000], [510000, 4770000], [500000, 4760000]]]
    (problem,) = problems_of(collection(zone(coords=metres)))
    assert problem.feature == "'zone-a'" and problem.field == "geometry"
    assert "projected" in problem.message


def test_invalid_geometry_names_feature_and_reason():
    bowtie = [[[20.0, 43.0], [20.1, 43.1], [20.1, 43.0], [20.0, 43.1], [20.0, 43.0]]]
    (problem,) = problems_of(collection(zone(coords=bowtie)))
    assert problem.field == "geometry" and "Self-intersection" in problem.message


def test_wrong_geometry_type():
    feature = zone()
    feature["geometry"] = {"type": "Point", "coordinates": [20.0, 43.0]}
    (problem,) = problems_of(collection(feature))
    assert "Polygon or MultiPolygon" in problem.message


def test_missing_and_malformed_fields_are_all_listed():
    feature = zone(fid="zone-b")
    del feature["properties"]["history"]
    feature["properties"]["width_km"] = "five"
    feature["properties"]["sources"] = [{"publisher": "X", "title": "Y", "date": "2023-09-24", "url": "ftp://x"}]
    problems = problems_of(collection(feature))
    fields = {p.field for p in problems}
    assert fields == {"history", "width_km", "sources"}
    assert all(p.feature == "'zone-b'" for p in problems)
    assert "zones.geojson, feature 'zone-b', field 'history': is missing" in {str(p) for p in problems} | {
        str(p)[: len("zones.geojson, feature 'zone-b', field 'history': is missing")] for p in problems
    }


def test_duplicate_ids_are_rejected():
    problems = problems_of(collection(zone(), zone()))
    assert any(p.field == "id" and "duplicates" in p.message for p in problems)


def test_bad_id_is_rejected():
    problems = problems_of(collection(zone(fid="Zone A!")))
    assert [p.field for p in problems] == ["id"]


def test_html_in_text_is_kept_as_data():
    frame = parse_layer(collection(zone(summary="<script>alert(1)</script> & co")), "ground_safety_zone")
    assert frame.iloc[0]["summary"] == "<script>alert(1)</script> & co"


def test_feature_without_id_is_named_by_position():
    feature = zone()
    del feature["properties"]["id"]
    problems = problems_of(collection(feature))
    assert [(p.feature, p.field) for p in problems] == [("#0", "id")]


def test_error_message_lists_problems():
    with pytest.raises(LayerValidationError) as caught:
        parse_layer(collection(zone(fid="BAD")), "ground_safety_zone", source_name="z.geojson")
    assert "z.geojson, feature 'BAD', field 'id'" in str(caught.value)


# The quick position check (geo.io._positions_ok) may only say "fine" where the full walk
# (_first_bad_position) finds nothing; anything else goes to the walk for its message.
_RING = [[20.0, 42.0], [21.0, 42.0], [21.0, 43.0], [20.0, 42.0]]
_POSITION_CASES = [
    [20.0, 42.0],
    _RING,
    [_RING],
    [[_RING], [_RING]],
    [[20, 42], [21, 42.5], [21, 43], [20, 42]],
    [[20.0, 42.0, 100.0], [21.0, 42.0, 5], [21.0, 43.0, 0], [20.0, 42.0, 1]],
    [[20.0, 42.0], [True, 42.0], [21.0, 43.0]],
    [[20.0, 42.0], [21.0, float("nan")], [21.0, 43.0]],
    [[20.0, 42.0], [21.0, float("inf")], [21.0, 43.0]],
    [[20.0, 42.0], [500000.0, 4700000.0]],
    [[20.0, 42.0], [21.0]],
    [[20.0, 42.0], "21,43"],
    [[20.0, 42.0], [21.0, 42.0, "x"]],
    [[20.0, 42.0], [[21.0, 42.0]]],
    [_RING, []],
    [[[[[[20.0, 42.0]]]]]],
    [],
    [[]],
    [[20.0, "42"], [21.0, 42.0]],
]


@pytest.mark.parametrize("coordinates", _POSITION_CASES, ids=range(len(_POSITION_CASES)))
def test_the_quick_position_check_never_passes_what_the_full_walk_refuses(coordinates):
    from geo.io import _first_bad_position, _positions_ok

    if _positions_ok(coordinates):
        assert _first_bad_position(coordinates) is None


def test_the_quick_position_check_passes_large_valid_outlines():
    from geo.io import _positions_ok

    ring = [[20.0 + i / 10000, 42.0 + (i % 7) / 1000] for i in range(20000)] + [[20.0, 42.0]]
    assert _positions_ok([[ring], [ring]])
    assert not _positions_ok([[ring], [ring + [[20.0, 95.0]]]])
