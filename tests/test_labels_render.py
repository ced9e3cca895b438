"""Place labels and the compact country outlines, on the Python side of the map.

The browser side (labels drawn, decluttered, switched by language, never taking a
click) is tests/browser/test_labels_browser.py.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo.crs import METRIC_CRS, STORAGE_CRS
from layers.catalog import DEFAULT_VISIBLE, PLACE_LABEL_DEFAULT, PLACE_LABEL_KINDS
from layers.render import OUTLINE_ALPHABET, build_map, encode_outlines, place_label_payload

#: The map of the real catalogue with the default layers must stay within this (issue 13).
PAYLOAD_BUDGET_BYTES = 600_000


def decode_outlines(payload: dict) -> list[shapely.MultiPolygon]:
    """The Python twin of CountryOutlines' JavaScript decoder."""
    lookup = {c: i for i, c in enumerate(payload["alphabet"])}
    shapes = []
    for feature in payload["features"]:
        values, result, shift = [], 0, 0
        for char in feature["c"]:
            digit = lookup[char]
            result |= (digit & 31) << shift
            shift += 5
            if not digit & 32:
                values.append(~(result >> 1) if result & 1 else result >> 1)
                result, shift = 0, 0
        points = np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0) / payload["scale"]
        polygons, k = [], 0
        for counts in feature["n"]:
            rings = []
            for count in counts:
                rings.append(points[k : k + count])
                k += count
            polygons.append(Polygon(rings[0], rings[1:]))
        assert k == len(points)
        shapes.append(MultiPolygon(polygons))
    return shapes


def _frame(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [f"f{i}" for i in range(len(geoms))], **columns}, geometry=geoms, crs=STORAGE_CRS)


def test_outlines_round_trip_within_half_a_grid_step():
    shell = [(20.123456, 42.5), (21.0, 42.512345), (20.987654, 43.2), (20.1, 43.198765), (20.123456, 42.5)]
    hole = [(20.5, 42.8), (20.6, 42.8), (20.6, 42.9), (20.5, 42.8)]
    west = Polygon(shell, [hole])
    east = box(-1.5, -0.5, -1.2, -0.2)  # negative coordinates: the zigzag sign
    frame = _frame([MultiPolygon([west, east])], name=["Test"])
    payload = encode_outlines(frame, ("id", "name"))
    (decoded,) = decode_outlines(payload)
    assert payload["features"][0]["id"] == "f0" and payload["features"][0]["name"] == "Test"
    assert payload["features"][0]["n"] == [[5, 4], [5]]
    assert shapely.hausdorff_distance(decoded, frame.geometry.iloc[0]) <= 0.5e-4 + 1e-12
    assert decoded.area == pytest.approx(frame.geometry.iloc[0].area, rel=1e-3)


def test_outline_text_uses_only_characters_that_need_no_escaping(layer_data):
    payload = encode_outlines(layer_data.display["countries"], ("id",))
    used = set("".join(f["c"] for f in payload["features"]))
    assert used <= set(OUTLINE_ALPHABET) and len(OUTLINE_ALPHABET) == 64
    assert not used & set('_\\"<>&\'')


def test_rings_that_collapse_on_the_grid_are_dropped():
    speck = Polygon([(20.00001, 42.0), (20.00002, 42.00001), (20.00001, 42.00002), (20.00001, 42.0)])
    frame = _frame([MultiPolygon([box(20.1, 42.1, 20.2, 42.2), speck])])
    payload = encode_outlines(frame, ("id",))
    assert payload["features"][0]["n"] == [[5]]
    with pytest.raises(ValueError, match="EPSG:4326"):
        encode_outlines(frame.to_crs(METRIC_CRS), ("id",))


def test_real_country_outlines_stay_within_a_grid_step_of_the_display_copy(layer_data):
    countries = layer_data.display["countries"]
    decoded = decode_outlines(encode_outlines(countries, ("id",)))
    worst = max(
        shapely.hausdorff_distance(gpd.GeoSeries([a], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0],
                                   gpd.GeoSeries([b], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0])
        for a, b in zip(decoded, countries.geometry)
    )
    assert worst < 10.0  # metres: half a 1e-4 degree step is at most 5.6 m; dropped specks are smaller


def test_the_real_catalogues_map_is_within_the_payload_budget(layer_data, settings):
    frames = dict(layer_data.display)
    frames["events"] = layer_data.full["events"]
    html = build_map(frames, list(DEFAULT_VISIBLE), basemap="offline", settings=settings).get_root().render()
    size = len(html.encode("utf-8"))
    assert size <= PAYLOAD_BUDGET_BYTES, size
    # the outlines are on the page once, for both the basemap and the countries layer
    assert html.count('"alphabet":') == 1 and "window.BB.outlines" in html


def test_label_payload_orders_by_kind_and_falls_back_to_english():
    places = _frame(
        [Point(20.8, 43.1), Point(21.16, 42.66), Point(20.78, 42.97), Point(20.6, 43.0)],
        name=["Leposavić", "Pristina", "Banjska", "Nowhere"],
        name_sq=["Leposaviq", "Prishtinë", "Banjskë", None],
        name_sr=["Leposavić", "Priština", "", "Nigde"],
        kind=["municipality-seat", "capital", "village", "unlisted-kind"],
    )
    payload = place_label_payload(places, lang="sr")
    assert payload["names"]["en"] == ["Pristina", "Leposavić", "Banjska", "Nowhere"]
    assert payload["names"]["sq"] == ["Prishtinë", "Leposaviq", "Banjskë", "Nowhere"]
    assert payload["names"]["sr"] == ["Priština", "Leposavić", "Banjska", "Nigde"]
    assert payload["minZoom"] == [PLACE_LABEL_KINDS["capital"][0], PLACE_LABEL_KINDS["municipality-seat"][0],
                                  PLACE_LABEL_KINDS["village"][0], PLACE_LABEL_DEFAULT[0]]
    assert payload["minZoom"][0] < payload["minZoom"][1] < payload["minZoom"][2]
    assert payload["lang"] == "sr" and payload["lat"][0] == 42.66
    with pytest.raises(ValueError, match="lang"):
        place_label_payload(places, lang="de")


def test_every_kind_in_the_catalogue_has_a_label_rule(layer_data):
    assert set(layer_data.full["places"]["kind"]) <= set(PLACE_LABEL_KINDS)


def test_labels_come_with_the_places_layer_and_their_names_are_data(layer_data, settings):
    frames = dict(layer_data.display)
    with_places = build_map(frames, ["places"], basemap="offline", settings=settings).get_root().render()
    without = build_map(frames, ["border"], basemap="offline", settings=settings).get_root().render()
    assert "bbLabels" in with_places and "bbLabels" not in without
    # names are JSON data (escaped like all data), shown with textContent, never as markup
    assert json.dumps("Zveçan", ensure_ascii=False) in with_places and "innerHTML" not in with_places.split("bbLabels")[1][:4000]
