"""Drawing deployment areas: the draw map's assets and editable group, the shape helpers,
and the Edit page's shape section through app.py (AppTest) with a throwaway store."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import streamlit as st
from shapely.geometry import mapping, shape

from layers import assets
from layers.config import load_settings
from layers.draw import (
    DRAWABLE_LAYERS,
    area_km2,
    draw_map,
    drawn_geometry,
    polygon_parts,
    same_shape,
    shape_problems,
)
from tests.test_layers_render import CDN_HOSTS, linked_assets, rendered
from ui import draw as ui_draw
from tests.test_auth import signed_in_app

LOCAL = "../../app/static/vendor/"

# Small squares (lon, lat) inside Kosovo, away from every catalogue area's outline.
GJILAN_SQUARE = [[21.45, 42.45], [21.49, 42.45], [21.49, 42.48], [21.45, 42.48], [21.45, 42.45]]
BOWTIE = [[21.45, 42.45], [21.49, 42.48], [21.49, 42.45], [21.45, 42.48], [21.45, 42.45]]
OUTSIDE = [[24.0, 42.45], [24.1, 42.45], [24.1, 42.5], [24.0, 42.45]]  # east of the region (Bulgaria)


def _feature(ring: list[list[float]]) -> dict:
    return {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


@pytest.fixture(scope="module")
def countries(layer_data):
    return layer_data.display["countries"]


def _area(layer_data, layer_id: str, index: int) -> tuple[str, dict]:
    row = layer_data.full[layer_id].iloc[index]
    return row["id"], mapping(row.geometry)


# --- the map -----------------------------------------------------------------------------


def test_the_draw_map_links_only_local_assets_and_leaflet_draw(layer_data, countries, settings):
    assets.sync()
    _, geometry = _area(layer_data, "kfor_areas", 0)
    m = draw_map("kfor_areas", geometry, countries, settings)
    links = linked_assets(m)
    draw_js = LOCAL + assets.local_relpath(assets.ASSETS["leaflet_draw_js"])
    draw_css = LOCAL + assets.local_relpath(assets.ASSETS["leaflet_draw_css"])
    assert draw_js in links and draw_css in links
    assert all(link.startswith(LOCAL) for link in links), links
    for link in links:  # every linked file is served from static/vendor
        assert (assets.VENDOR_DIR / link[len(LOCAL):]).is_file(), link
    html = rendered(m)
    assert not [host for host in CDN_HOSTS if host in html]
    assert not re.findall(r"""(?:src|href)=["']https?://""", html), "no script or style from another host"
    assert "L.Control.Draw" in html
    # the offline basemap reads the country outlines that an earlier script of the map decodes
    assert html.index("window.BB = window.BB || {}") < html.index("window.BB.outlines")


def test_cdn_mode_points_leaflet_draw_at_its_public_address(layer_data, countries):
    settings = load_settings({"BORDER_BRIEF_ASSETS": "cdn"})
    links = linked_assets(draw_map("kfor_areas", None, countries, settings))
    assert "https://cdn.jsdelivr.net/npm/leaflet-draw@1.0.4/dist/leaflet.draw.js" in links


def _editable_group(html: str) -> str:
    """The name of the feature group the Draw control edits."""
    match = re.search(r"var drawnItems_\w+ =\s*(feature_group_\w+);", html)
    assert match, "the Draw control must edit a feature group of ours"
    return match.group(1)


def _polygons_in(html: str, group: str) -> list[list]:
    """The [lat, lon] rings of every L.polygon added to ``group``."""
    pattern = r"L\.polygon\(\s*(\[.*?\]),\s*\{[^{}]*\}\s*\)\.addTo\((feature_group_\w+)\)"
    return [json.loads(rings) for rings, target in re.findall(pattern, html, re.S) if target == group]


def test_the_areas_shape_is_in_the_editable_group_ring_by_ring(layer_data, countries, settings):
    # a stored area as it is, and a shape with a hole: every ring is loaded, as [lat, lon]
    area_id, stored = _area(layer_data, "kfor_areas", 0)
    hole = [[21.46, 42.46], [21.46, 42.47], [21.47, 42.47], [21.47, 42.46], [21.46, 42.46]]
    with_hole = {"type": "Polygon", "coordinates": [GJILAN_SQUARE, hole]}
    for geometry in (stored, with_hole):
        html = rendered(draw_map("kfor_areas", geometry, countries, settings))
        [rings] = _polygons_in(html, _editable_group(html))
        assert len(rings) == len(geometry["coordinates"])
        loaded = [[(lon, lat) for lat, lon in ring] for ring in rings]
        loaded = [ring + ring[:1] for ring in loaded]
        assert shape({"type": "Polygon", "coordinates": loaded}).equals(shape(geometry)), area_id


def test_a_multipolygon_becomes_one_editable_polygon_per_part_and_a_new_area_none(countries, settings):
    other = [[21.2, 42.2], [21.25, 42.2], [21.25, 42.25], [21.2, 42.2]]
    multi = {"type": "MultiPolygon", "coordinates": [[GJILAN_SQUARE], [other]]}
    html = rendered(draw_map("serbian_deployments", multi, countries, settings))
    assert len(_polygons_in(html, _editable_group(html))) == 2
    html = rendered(draw_map("serbian_deployments", None, countries, settings))
    assert _polygons_in(html, _editable_group(html)) == []


def test_only_the_polygon_tool_is_offered_and_edges_may_not_cross(countries, settings):
    html = rendered(draw_map("kfor_areas", None, countries, settings))
    options = re.search(r"draw: (\{.*?\}),\n", html).group(1)
    draw_options = json.loads(options)
    assert draw_options["polygon"]["allowIntersection"] is False
    assert all(draw_options[tool] is False for tool in ("polyline", "rectangle", "circle", "marker", "circlemarker"))
    assert '"allowIntersection": false' in html.split("edit: ", 1)[1].split("\n", 1)[0]


def test_only_area_layers_can_be_drawn(countries, settings):
    assert DRAWABLE_LAYERS == ("kfor_areas", "serbian_deployments")
    with pytest.raises(ValueError, match="cannot be drawn"):
        draw_map("events", None, countries, settings)


# --- what comes back from the map --------------------------------------------------------


def test_one_drawn_polygon_is_a_polygon_counterclockwise_with_six_decimals():
    clockwise = [[21.45, 42.45], [21.45, 42.480000004], [21.49, 42.48], [21.49, 42.45], [21.45, 42.45]]
    geometry = drawn_geometry([_feature(clockwise)])
    assert geometry["type"] == "Polygon"
    ring = geometry["coordinates"][0]
    assert shape(geometry).exterior.is_ccw
    assert (21.45, 42.48) in [tuple(p) for p in ring]


def test_several_drawings_become_a_multipolygon_and_points_are_ignored():
    other = [[21.2, 42.2], [21.25, 42.2], [21.25, 42.25], [21.2, 42.2]]
    point = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [21.0, 42.0]}}
    geometry = drawn_geometry([_feature(GJILAN_SQUARE), point, _feature(other)])
    assert geometry["type"] == "MultiPolygon" and len(geometry["coordinates"]) == 2
    assert drawn_geometry([]) is None and drawn_geometry(None) is None


def test_an_unreadable_drawing_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot be read"):
        drawn_geometry([_feature([[21.0, 42.0], [21.1, 42.0]])])


def test_the_area_is_measured_in_km2_in_the_metric_crs(layer_data):
    # a 0.04° x 0.03° square at 42.5° N: about 3.28 km x 3.33 km
    assert area_km2(drawn_geometry([_feature(GJILAN_SQUARE)])) == pytest.approx(10.9, abs=0.2)
    row = layer_data.full["kfor_areas"].iloc[0]
    assert area_km2(mapping(row.geometry)) == pytest.approx(row["area_km2"], abs=0.05)  # as scripts/build_geodata.py


def test_same_shape_ignores_ring_direction_but_not_a_moved_corner():
    square = {"type": "Polygon", "coordinates": [GJILAN_SQUARE]}
    reversed_square = {"type": "Polygon", "coordinates": [GJILAN_SQUARE[::-1]]}
    moved = {"type": "Polygon", "coordinates": [[[21.45, 42.45], [21.50, 42.45]] + GJILAN_SQUARE[2:]]}
    assert same_shape(square, reversed_square)
    assert not same_shape(square, moved)
    assert not same_shape(square, None) and same_shape(None, None)


def test_shape_problems_name_a_crossing_outline_overlapping_parts_and_the_region():
    assert shape_problems({"type": "Polygon", "coordinates": [GJILAN_SQUARE]}) == []
    [crossing] = shape_problems({"type": "Polygon", "coordinates": [BOWTIE]})
    assert "outline crosses itself" in crossing and "42.4650 N, 21.4700 E" in crossing
    shifted = [[x + 0.02, y] for x, y in GJILAN_SQUARE]
    [overlap] = shape_problems({"type": "MultiPolygon", "coordinates": [[GJILAN_SQUARE], [shifted]]})
    assert "parts overlap" in overlap
    [outside] = shape_problems({"type": "Polygon", "coordinates": [OUTSIDE]})
    assert "outside the region" in outside and "24.100 E" in outside
    assert "no shape" in shape_problems(None)[0]


def test_polygon_parts_of_a_stored_area(layer_data):
    _, geometry = _area(layer_data, "serbian_deployments", 0)
    assert len(polygon_parts(geometry)) >= 1
    assert polygon_parts(None) == [] and polygon_parts({"type": "Point", "coordinates": [21, 42]}) == []


# --- the Edit page (AppTest through app.py, a throwaway store per test) ------------------------


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    """A fresh SQLite store seeded from data/, and clean caches before and after."""
    monkeypatch.setenv("BORDER_BRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'draw.sqlite'}")
    st.cache_resource.clear()
    from store import open_store

    store = open_store(load_settings())
    yield store
    store.close()
    st.cache_resource.clear()


AREA = "kfor-hq-film-city"


def _open_area(area_id: str = AREA, layer: str = "kfor_areas"):
    at = signed_in_app("Shape Analyst", page="pages/edit.py")
    at.selectbox(key="bb_edit_layer").set_value(layer).run()
    at.selectbox(key="bb_edit_choice").set_value(area_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _draw(at, *features: dict):
    """What streamlit-folium hands back after a draw, an edit or a deletion on the map."""
    at.session_state[ui_draw.DRAWN] = (at.session_state["bb_edit_gen"], list(features))
    return at.run()


def _stored_feature(store, area_id: str = AREA) -> dict:
    feature, revision = store.head("kfor_areas", area_id)
    return {**feature, "revision": revision}


def test_an_area_opens_with_its_map_and_its_stored_area(own_store):
    at = _open_area()
    stored = _stored_feature(own_store)
    assert any(f"{area_km2(stored['geometry']):,.1f} km²** as stored" in c.value for c in at.caption)
    assert any("polygon tool" in c.value for c in at.caption)


def test_a_part_drawn_beside_the_area_is_saved_as_a_new_revision_with_its_area(own_store):
    at = _open_area()
    stored = _stored_feature(own_store)
    existing = {"type": "Feature", "properties": {}, "geometry": stored["geometry"]}
    _draw(at, existing, _feature(GJILAN_SQUARE))
    assert any("Area of the new shape" in c.value and "not saved yet" in c.value for c in at.caption)
    assert not at.error
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = _stored_feature(own_store)
    assert saved["revision"] == stored["revision"] + 1
    assert saved["geometry"]["type"] == "MultiPolygon"
    assert shape(saved["geometry"]).equals(shape(stored["geometry"]).union(shape(_feature(GJILAN_SQUARE)["geometry"])))
    assert saved["properties"]["area_km2"] == round(area_km2(saved["geometry"]), 1)
    history = own_store.history(AREA, "kfor_areas")
    assert history[-1].author == "Shape Analyst" and "geometry" in history[-1].changed_fields


def test_the_area_unchanged_on_the_map_keeps_its_stored_geometry(own_store):
    at = _open_area()
    stored = _stored_feature(own_store)
    reversed_rings = {"type": "Polygon", "coordinates": [list(reversed(r)) for r in stored["geometry"]["coordinates"]]}
    _draw(at, {"type": "Feature", "properties": {}, "geometry": reversed_rings})
    assert any("the stored shape" in c.value for c in at.caption)
    at.text_input(key="bb_edit_strength").input("a few hundred").run()
    at.button(key="bb_edit_save").click().run()
    saved = _stored_feature(own_store)
    assert saved["revision"] == stored["revision"] + 1
    assert saved["geometry"] == stored["geometry"] and saved["properties"]["area_km2"] == stored["properties"]["area_km2"]


@pytest.mark.parametrize(
    ("ring", "message"),
    [(BOWTIE, "outline crosses itself"), (OUTSIDE, "outside the region")],
)
def test_an_invalid_shape_is_explained_and_nothing_is_written(own_store, ring, message):
    at = _open_area()
    before = _stored_feature(own_store)
    _draw(at, _feature(ring))
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("nothing was written" in e.value for e in at.error)
    assert any(f"geometry: {message}" in e.value or message in e.value for e in at.error)
    assert _stored_feature(own_store)["revision"] == before["revision"]


def test_a_new_area_is_drawn_named_and_saved(own_store, layer_data):
    sources = [{"publisher": "NATO", "title": "KFOR test source", "date": "2023-09-30", "url": "https://example.org/kfor"}]
    at = signed_in_app("Shape Analyst", page="pages/edit.py")
    at.selectbox(key="bb_edit_layer").set_value("kfor_areas").run()
    at.selectbox(key="bb_edit_choice").set_value("__new__").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("No shape yet" in i.value for i in at.info)
    at.text_input(key="bb_edit_name").input("Test patrol area near Gjilan").run()
    assert any("`test-patrol-area-near-gjilan`" in m.value for m in at.markdown)
    # without a shape the save is refused at the shape
    at.button(key="bb_edit_save").click().run()
    assert any("there is no shape" in e.value for e in at.error)
    assert own_store.head("kfor_areas", "test-patrol-area-near-gjilan") is None
    _draw(at, _feature(GJILAN_SQUARE))
    at.text_input(key="bb_edit_force").input("NATO KFOR").run()
    at.date_input(key="bb_edit_period_start").set_value(dt.date(2023, 9, 30)).run()
    at.text_area(key="bb_edit_construction").input("Drawn by hand on the Edit page for a test.").run()
    at.text_area(key="bb_edit_uncertainty").input("A test shape: none of it is reported.").run()
    at.text_area(key="bb_edit_summary").input("A test area drawn on the map.").run()
    # the sources table is a data editor: its rows come in through the loaded rows
    at.session_state["bb_edit_rows"] = {"claims": [], "sources": sources}
    at.run()
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    head = own_store.head("kfor_areas", "test-patrol-area-near-gjilan")
    assert head is not None, "not saved: " + "; ".join(e.value for e in at.error)
    feature, revision = head
    assert revision == 1 and shape(feature["geometry"]).equals(shape(_feature(GJILAN_SQUARE)["geometry"]))
    assert feature["properties"]["area_km2"] == pytest.approx(10.9, abs=0.2)
