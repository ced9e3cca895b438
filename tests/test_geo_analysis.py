"""geo.analysis: measurements on tiny geometries and on the committed layers."""

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from geo.analysis import (
    PUBLISHED,
    boundary_length_km,
    compare_with_published,
    country_area_km2,
    distances_to_border_km,
    zone_intersections,
)
from geo.crs import METRIC_CRS
from geo.io import load_layer

DATA = Path(__file__).resolve().parent.parent / "data"


def border():
    return gpd.GeoDataFrame({"id": ["b"]}, geometry=[LineString([(510_000, 4_700_000), (510_000, 4_710_000)])], crs=METRIC_CRS)


def test_boundary_length_in_km():
    assert boundary_length_km(border()) == pytest.approx(10.0)


def test_boundary_length_same_in_degrees_input():
    assert boundary_length_km(border().to_crs("EPSG:4326")) == pytest.approx(10.0, rel=1e-5)


def test_country_area_km2():
    frame = gpd.GeoDataFrame({"iso_a3": ["XKX"]}, geometry=[box(0, 0, 2_000, 3_000)], crs=METRIC_CRS)
    assert country_area_km2(frame, "XKX") == pytest.approx(6.0)


def test_distances_sorted_and_in_km():
    points = gpd.GeoDataFrame(
        {"id": ["far", "near"], "name": ["Far", "Near"]},
        geometry=[Point(500_000, 4_705_000), Point(509_000, 4_705_000)],
        crs=METRIC_CRS,
    )
    result = distances_to_border_km(points, border())
    assert list(result["id"]) == ["near", "far"]
    assert list(result["distance_km"]) == pytest.approx([1.0, 10.0])


def test_zone_intersections_report_overlap():
    areas = gpd.GeoDataFrame({"id": ["in", "out"], "name": ["In", "Out"]}, geometry=[box(0, 0, 1_000, 1_000), box(5_000, 0, 6_000, 1_000)], crs=METRIC_CRS)
    zone = gpd.GeoDataFrame(geometry=[box(500, 0, 2_000, 1_000)], crs=METRIC_CRS)
    result = zone_intersections(areas, {"gsz": zone}).set_index("id")
    assert result.loc["in", "intersects"] and not result.loc["out", "intersects"]
    assert result.loc["in", "overlap_km2"] == pytest.approx(0.5)
    assert result.loc["in", "share_of_area"] == pytest.approx(0.5)


def test_missing_crs_raises():
    with pytest.raises(ValueError, match="no CRS"):
        boundary_length_km(border().set_crs(None, allow_override=True))


def test_wrong_type_raises():
    with pytest.raises(TypeError):
        boundary_length_km([LineString([(0, 0), (1, 1)])])


# --- on the committed data --------------------------------------------------

@pytest.fixture(scope="module")
def data():
    names = ("countries", "border", "places", "serbian_deployments", "kfor_areas", "ground_safety_zone", "air_safety_zone")
    return {n: load_layer(DATA / f"{n}.geojson", n) for n in names}


def test_figures_close_to_published(data):
    table = compare_with_published(data["countries"], data["border"]).set_index("figure")
    # Kosovo area within 0.5 %, boundary within 3 % of the CIA World Factbook (see data/SOURCES.md).
    assert abs(table.loc["kosovo_area_km2", "difference_pct"]) < 0.5
    assert abs(table.loc["kosovo_serbia_boundary_km", "difference_pct"]) < 3
    assert table.loc["kosovo_area_km2", "published"] == PUBLISHED["kosovo_area_km2"][0]


def test_crossings_lie_near_the_line(data):
    crossings = data["places"].loc[data["places"]["kind"] == "border-crossing"]
    distances = distances_to_border_km(crossings, data["border"]).set_index("id")["distance_km"]
    precision_km = crossings.set_index("id")["precision_m"] / 1000
    assert (distances <= precision_km.loc[distances.index] + 1.5).all()


def test_banjska_about_ten_km_from_border(data):
    distances = distances_to_border_km(data["places"], data["border"]).set_index("id")["distance_km"]
    assert 5 < distances["banjska-village"] < 15


def test_serbian_belts_touch_the_ground_safety_zone(data):
    zones = {"ground_safety_zone": data["ground_safety_zone"], "air_safety_zone": data["air_safety_zone"]}
    result = zone_intersections(data["serbian_deployments"], zones)
    assert result["intersects"].all()
    assert (result.loc[result["zone"] == "air_safety_zone", "share_of_area"] > 0.99).all()
