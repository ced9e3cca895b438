"""Unit tests of geo.border, geo.areas and geo.simplify on tiny explicit geometries."""

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from geo.areas import Construction, build_area, describe_construction
from geo.border import build_border_line, build_safety_zone, harmonise_countries
from geo.crs import METRIC_CRS
from geo.simplify import display_version, max_deviation_m

# Squares 10 km wide in UTM 34N near Kosovo: A west, B east, sharing x = 510 km.
A = box(500_000, 4_700_000, 510_000, 4_710_000)
B = box(510_000, 4_700_000, 520_000, 4_710_000)
C = box(500_000, 4_690_000, 520_000, 4_700_000)  # south of both


def squares(*extra):
    rows = [("XKX", A), ("SRB", B), *extra]
    return gpd.GeoDataFrame({"iso_a3": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=METRIC_CRS)


def test_shared_edge_of_adjacent_squares_is_their_common_side():
    line = build_border_line(squares())
    assert line["length_km"].iloc[0] == pytest.approx(10.0, abs=1e-6)
    assert line.geometry.iloc[0].hausdorff_distance(LineString([(510_000, 4_700_000), (510_000, 4_710_000)])) < 1e-6


def test_border_line_comes_back_in_input_crs():
    line = build_border_line(squares().to_crs("EPSG:4326"))
    assert line.crs.to_epsg() == 4326
    assert line["length_km"].iloc[0] == pytest.approx(10.0, rel=1e-4)


def test_countries_that_do_not_touch_give_empty_frame():
    far = box(600_000, 4_700_000, 610_000, 4_710_000)
    frame = gpd.GeoDataFrame({"iso_a3": ["XKX", "SRB"]}, geometry=[A, far], crs=METRIC_CRS)
    assert build_border_line(frame).empty


def test_missing_crs_raises():
    with pytest.raises(ValueError, match="no CRS"):
        build_border_line(squares().set_crs(None, allow_override=True))


def test_missing_country_raises():
    with pytest.raises(KeyError, match="MNE"):
        build_safety_zone(squares(), 5, into=("SRB", "MNE"))


def test_safety_zone_stays_in_host_country_and_has_requested_width():
    zone = build_safety_zone(squares(("MKD", C)), 5, into=("SRB",)).geometry.iloc[0]
    assert zone.within(B.buffer(1e-6))
    assert zone.intersection(C).area == pytest.approx(0, abs=1e-6)
    assert zone.area == pytest.approx(5_000 * 10_000, rel=1e-9)  # 5 km deep strip of B


def test_safety_zone_rejects_non_positive_width():
    with pytest.raises(ValueError):
        build_safety_zone(squares(), 0, into=("SRB",))


def test_harmonise_removes_overlap_and_closes_sliver():
    overlapping = box(509_900, 4_700_000, 520_000, 4_705_000)  # overlaps A by 100 m
    gapped = box(510_200, 4_705_000, 520_000, 4_710_000)  # leaves a 200 m sliver
    frame = gpd.GeoDataFrame({"iso_a3": ["XKX", "SRB"]}, geometry=[A, overlapping.union(gapped)], crs=METRIC_CRS)
    clean, report = harmonise_countries(frame, gap_width_m=500)
    srb = clean.loc[clean["iso_a3"] == "SRB"].geometry.iloc[0]
    assert srb.intersection(A).area == pytest.approx(0, abs=1)
    assert report["overlap_removed_km2"] == pytest.approx(0.5, rel=1e-6)
    # round buffer ends of the closing trim the sliver's corners slightly
    assert report["gap_filled_km2"] == pytest.approx(1.0, rel=0.01)
    assert build_border_line(clean)["length_km"].iloc[0] == pytest.approx(10.0, abs=0.01)


def test_points_buffer_is_clipped_to_country():
    places = gpd.GeoDataFrame({"id": ["camp"]}, geometry=[Point(509_000, 4_705_000)], crs=METRIC_CRS)
    area = build_area(Construction("points-buffer", 3, "XKX", ("camp",)), squares(), places)
    geom = area.geometry.iloc[0]
    assert geom.within(A.buffer(1e-6))
    assert geom.bounds[2] == pytest.approx(510_000)
    assert "3 km buffers" in area["construction"].iloc[0]


def test_border_band_reaches_requested_depth():
    border = build_border_line(squares())
    area = build_area(Construction("border-band", 2, "SRB"), squares(), border_gdf=border)
    assert area["area_km2"].iloc[0] == pytest.approx(20.0, rel=1e-3)


def test_unknown_anchor_raises():
    places = gpd.GeoDataFrame({"id": ["camp"]}, geometry=[Point(505_000, 4_705_000)], crs=METRIC_CRS)
    with pytest.raises(KeyError, match="nowhere"):
        build_area(Construction("points-buffer", 3, "XKX", ("nowhere",)), squares(), places)


def test_construction_validates_kind():
    with pytest.raises(ValueError):
        Construction("freehand", 3, "XKX")
    assert "clipped to SRB" in describe_construction(Construction("border-band", 10, "SRB"))


def test_display_version_keeps_within_tolerance():
    wiggly = LineString([(500_000 + i * 100, 4_700_000 + (30 if i % 2 else 0)) for i in range(100)])
    frame = gpd.GeoDataFrame({"id": ["w"]}, geometry=[wiggly], crs=METRIC_CRS)
    simple = display_version(frame, 50)
    assert simple.crs.to_epsg() == 4326
    assert len(simple.geometry.iloc[0].coords) < 10
    assert max_deviation_m(frame, simple) <= 50 + 0.01


def test_max_deviation_needs_matching_rows():
    frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=[A], crs=METRIC_CRS)
    with pytest.raises(ValueError):
        max_deviation_m(frame, frame.iloc[0:0])
