"""The sliver rule: no tiny hole or part in the shipped deployment areas and zones.

The land-only source outlines leave water bodies and land holes out of the
countries, so every area clipped to them inherited holes (46 in the 25 km zone,
the largest in the Kosovo part of Gazivode lake, 6.3 km2). ``scripts/build_geodata.py``
removes holes under ``MIN_HOLE_KM2`` and parts under ``MIN_PART_KM2``
(``geo.simplify.remove_slivers``, documented in data/SOURCES.md).
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.io import load_layer
from geo.simplify import MIN_HOLE_KM2, MIN_PART_KM2, remove_slivers, slivers
from layers.config import DATA_DIR

AREA_LAYERS = ("kfor_areas", "serbian_deployments", "ground_safety_zone", "air_safety_zone")


@pytest.mark.parametrize("layer", AREA_LAYERS)
def test_shipped_areas_have_no_hole_or_part_under_the_thresholds(layer):
    frame = load_layer(DATA_DIR / f"{layer}.geojson", layer)
    assert slivers(frame) == []


@pytest.mark.parametrize("layer", AREA_LAYERS)
def test_shipped_areas_state_the_rule(layer):
    frame = load_layer(DATA_DIR / f"{layer}.geojson", layer)
    column = "construction" if "construction" in frame.columns else "derived_from"
    for text in frame[column]:
        assert f"Holes under {MIN_HOLE_KM2:g} km2" in text and f"parts under {MIN_PART_KM2:g} km2" in text


def test_the_thresholds_are_the_documented_ones():
    sources = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert f"{MIN_HOLE_KM2:g} km²" in sources and f"{MIN_PART_KM2:g} km²" in sources


def _metric(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [f"a{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=METRIC_CRS)


def _square(x: float, y: float, side_m: float) -> list[tuple[float, float]]:
    return [(x, y), (x + side_m, y), (x + side_m, y + side_m), (x, y + side_m)]


def test_small_holes_are_filled_and_large_ones_kept():
    shell = _square(500_000, 4_700_000, 20_000)
    small = _square(502_000, 4_702_000, 500)  # 0.25 km2
    large = _square(505_000, 4_705_000, 4_000)  # 16 km2
    frame = _metric(Polygon(shell, [small, large]))
    cleaned, report = remove_slivers(frame, min_hole_km2=10, min_part_km2=1)
    geom = cleaned.geometry.iloc[0]
    assert len(geom.interiors) == 1 and Polygon(geom.interiors[0]).area == pytest.approx(16e6)
    assert report == {"holes_removed": 1, "parts_removed": 0, "area_added_km2": 0.25, "area_removed_km2": 0.0}
    assert slivers(cleaned, 10, 1) == [] and slivers(frame, 10, 1) == [("a0", "hole", pytest.approx(0.25))]


def test_small_parts_are_dropped_but_the_largest_part_always_stays():
    main = Polygon(_square(500_000, 4_700_000, 10_000))
    crumb = Polygon(_square(520_000, 4_700_000, 800))  # 0.64 km2
    lone = Polygon(_square(540_000, 4_700_000, 300))  # a feature that is only a crumb
    frame = _metric(MultiPolygon([main, crumb]), lone)
    cleaned, report = remove_slivers(frame, min_hole_km2=10, min_part_km2=1)
    assert cleaned.geometry.iloc[0].area == pytest.approx(100e6)
    assert cleaned.geometry.iloc[1].equals(lone)
    assert report["parts_removed"] == 1 and report["area_removed_km2"] == pytest.approx(0.64)


def test_untouched_geometries_keep_their_exact_coordinates_and_the_crs():
    geographic = gpd.GeoDataFrame(
        {"id": ["a", "b"]},
        geometry=[box(20.5, 42.8, 20.9, 43.1), Polygon(box(20.0, 42.0, 20.4, 42.3).exterior.coords,
                                                       [box(20.1, 42.1, 20.101, 42.101).exterior.coords])],
        crs=STORAGE_CRS,
    )
    cleaned, report = remove_slivers(geographic)
    assert cleaned.crs == geographic.crs
    assert cleaned.geometry.iloc[0].equals_exact(geographic.geometry.iloc[0], 0)
    assert len(cleaned.geometry.iloc[1].interiors) == 0 and report["holes_removed"] == 1
    # the filled shell is the original one, vertex for vertex
    assert list(cleaned.geometry.iloc[1].exterior.coords) == list(geographic.geometry.iloc[1].exterior.coords)


def test_bad_thresholds_and_frames_are_refused():
    with pytest.raises(ValueError, match="thresholds"):
        remove_slivers(_metric(box(0, 0, 1, 1)), min_hole_km2=-1)
    with pytest.raises((TypeError, ValueError)):
        remove_slivers(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]))  # no CRS


def test_the_maps_display_copies_have_no_slivers():
    from layers.config import load_settings
    from layers.data import SLIVER_FREE_LAYERS, load_layer_data

    display = load_layer_data(load_settings({})).display
    assert set(SLIVER_FREE_LAYERS) == {"countries", *AREA_LAYERS}
    for layer in SLIVER_FREE_LAYERS:
        assert slivers(display[layer]) == [], layer
    # the countries file itself keeps its lakes (the rule is for drawing only)
    assert slivers(load_layer(DATA_DIR / "countries.geojson", "countries"))
