"""Checks of the committed geodata files in data/ (no network, no npm package)."""

from pathlib import Path

import pytest
import shapely

from geo.border import build_border_line
from geo.crs import METRIC_CRS
from geo.io import load_layer
from geo.simplify import MIN_HOLE_KM2, remove_slivers

DATA = Path(__file__).resolve().parent.parent / "data"
LAYERS = ("countries", "border", "places", "kfor_areas", "serbian_deployments", "ground_safety_zone", "air_safety_zone")
#: Slack for coordinates rounded to 6 decimals (about 0.1 m) and buffer polygon approximation.
ROUNDING_M = 1.0


@pytest.fixture(scope="module")
def layers():
    return {name: load_layer(DATA / f"{name}.geojson", name) for name in LAYERS}


@pytest.fixture(scope="module")
def metric(layers):
    return {name: frame.to_crs(METRIC_CRS) for name, frame in layers.items()}


def country(metric, code):
    frame = metric["countries"]
    return shapely.union_all(frame.loc[frame["iso_a3"] == code].geometry.values)


def country_without_slivers(metric, code):
    """The country with the holes the sliver rule fills in areas (water bodies) filled too."""
    frame = metric["countries"]
    filled, _ = remove_slivers(frame.loc[frame["iso_a3"] == code])
    return shapely.union_all(filled.geometry.values)


@pytest.mark.parametrize("name", LAYERS)
def test_every_feature_cites_a_url(layers, name):
    for sources in layers[name]["sources"]:
        assert sources and all(s["url"].startswith(("http://", "https://")) for s in sources)


@pytest.mark.parametrize("name", LAYERS)
def test_ids_unique(layers, name):
    assert layers[name]["id"].is_unique


def test_all_data_files_are_small():
    total = sum(f.stat().st_size for f in DATA.glob("*.geojson") if f.stem in LAYERS)
    assert total < 4 * 1024 * 1024


def test_countries_layer_has_the_ten_countries(layers):
    assert set(layers["countries"]["iso_a3"]) == {"XKX", "SRB", "MNE", "ALB", "MKD", "BIH", "HRV", "HUN", "ROU", "BGR"}


def test_countries_do_not_overlap(metric):
    geoms = metric["countries"].geometry.values
    union_area = shapely.union_all(geoms).area
    assert sum(g.area for g in geoms) - union_area < 1e4  # < 0.01 km2 in total


def test_border_lies_on_both_countries_boundaries(metric):
    line = shapely.union_all(metric["border"].geometry.values)
    for code in ("XKX", "SRB"):
        outline = country(metric, code).boundary
        assert shapely.hausdorff_distance(line, shapely.intersection(outline, line.buffer(ROUNDING_M))) < 5
        assert line.difference(outline.buffer(ROUNDING_M)).length < 1.0


def test_border_file_matches_rebuilding_from_countries(layers, metric):
    rebuilt = build_border_line(layers["countries"]).to_crs(METRIC_CRS).geometry.iloc[0]
    stored = metric["border"].geometry.iloc[0]
    assert abs(rebuilt.length - stored.length) < 50
    assert shapely.hausdorff_distance(rebuilt, stored) < 5


@pytest.mark.parametrize("layer, code", [("kfor_areas", "XKX"), ("serbian_deployments", "SRB")])
def test_force_areas_stay_on_their_side(metric, layer, code):
    home = country_without_slivers(metric, code).buffer(ROUNDING_M)
    for fid, geom in zip(metric[layer]["id"], metric[layer].geometry):
        assert geom.within(home), fid


@pytest.mark.parametrize("layer, width_km", [("ground_safety_zone", 5), ("air_safety_zone", 25)])
def test_zone_width_holds(metric, layer, width_km):
    zone = metric[layer].geometry.iloc[0]
    # Kosovo with its lake holes filled: the zones are measured from the outer boundary.
    kosovo = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(country(metric, "XKX"))])
    vertices = shapely.points(shapely.get_coordinates(zone))
    distances = shapely.distance(vertices, kosovo)
    assert distances.max() <= width_km * 1000 + 10
    assert distances.max() >= width_km * 1000 * 0.98
    assert metric[layer]["width_km"].iloc[0] == width_km


@pytest.mark.parametrize("layer", ["ground_safety_zone", "air_safety_zone"])
def test_zones_stay_out_of_albania_and_north_macedonia(metric, layer):
    zone = metric[layer].geometry.iloc[0]
    for code in ("ALB", "MKD"):
        assert zone.intersection(country(metric, code)).area < 1e3  # < 0.001 km2 (edge rounding)


def test_zones_are_inside_serbia_and_montenegro(metric):
    host = shapely.union_all([country(metric, "SRB"), country(metric, "MNE")]).buffer(ROUNDING_M)
    zone = metric["air_safety_zone"].geometry.iloc[0]
    # Outside the two countries lie only the filled water bodies (the sliver rule),
    # each under its threshold and away from the zone's outer edge.
    outside = [p for p in shapely.get_parts(zone.difference(host)) if p.area > 1.0]
    assert all(p.area < MIN_HOLE_KM2 * 1e6 for p in outside)
    assert all(p.distance(zone.exterior) > 0 for p in outside)


def test_countries_within_stated_simplification(layers):
    stated = layers["countries"]["max_deviation_m"]
    assert (stated <= 50).all()


def test_places_have_positive_precision_and_three_names(layers):
    places = layers["places"]
    assert (places["precision_m"] > 0).all()
    assert places[["name", "name_sq", "name_sr"]].notna().all().all()


def test_places_sit_on_the_expected_side(metric):
    kosovo, serbia = country(metric, "XKX"), country(metric, "SRB")
    places = metric["places"].set_index("id").geometry
    for fid in ("banjska-village", "banjska-monastery", "zvecan", "leposavic", "camp-bondsteel", "film-city",
                "pristina", "vushtrri", "samadrexhe"):
        assert kosovo.buffer(100).contains(places[fid]), fid
    for fid in ("raska", "bujanovac", "jug-base", "belgrade", "novi-pazar", "kursumlija", "vranje"):
        assert serbia.contains(places[fid]), fid
    assert country(metric, "MKD").contains(places["ohrid"])


#: Places events name that the places layer does not hold (no cited coordinate collected yet;
#: listed in data/EVENTS.md). Any other related id must be a place id.
NOT_IN_GAZETTEER = {"gnjilica", "north-kosovo", "rudare"}


def test_event_related_ids_are_places_and_points_match_them(layers):
    from geo.events import load_events, place_links
    from layers.config import PRECISION_RADIUS_M

    events = load_events(DATA / "events.geojson")
    unknown, too_far = place_links(events, layers["places"], PRECISION_RADIUS_M)
    assert {slug for _, slug in unknown} <= NOT_IN_GAZETTEER, sorted(unknown)
    assert too_far == []
    # an event at a gazetteer place sits on the place's cited coordinate
    at_place = events[events["location"].map(lambda loc: loc["en"]).isin(set(layers["places"]["name"]))]
    assert len(at_place) >= 30
    places = layers["places"].set_index("name")
    for _, event in at_place.iterrows():
        assert event.geometry.equals_exact(places.loc[event["location"]["en"]].geometry, 1e-9), event["id"]
