"""Drawing deployment areas in a browser: on the Edit page an analyst draws a new part of an
area with the mouse, or drags a corner of another, saves, and the store holds the new shape as
a new revision."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from shapely.geometry import shape

from bench.browser import MAP_FRAME
from layers.draw import area_km2
from layers.config import load_settings
from store import Store, open_store
from tests.browser.conftest import REPO, add_account, checked_context, open_page, sign_in, start_app, stop_app, wait_for_app

pytestmark = pytest.mark.browser

AREA = "kfor-hq-film-city"
AREA_NAME = "KFOR headquarters area (Film City, Pristina)"
ANALYST = "Browser Draw Analyst"
# Where the new part's corners go, as fractions of the map's width and height: right of
# the area, which the map fits into its middle (the map is wider than it is tall).
CORNERS = [(0.84, 0.30), (0.94, 0.34), (0.92, 0.66), (0.82, 0.60)]


@pytest.fixture(scope="module")
def draw_app(tmp_path_factory):
    """The app with a store of its own, so the drawn shape never reaches other tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('draw-store') / 'store.sqlite'}"
    open_store(load_settings({"BORDER_BRIEF_DATABASE_URL": url})).close()  # created and seeded from data/
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    add_account(ANALYST, "analyst", url)
    add_account("Draw Colleague", "analyst", url)
    process, app_url = start_app({"BORDER_BRIEF_DATABASE_URL": url})
    yield app_url, url
    stop_app(process)


def _type_into(page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    field.blur()
    wait_for_app(page)


def _sign_in(page, name: str) -> None:
    """Sign in once the form is there (a fresh server's first run takes a while on a busy machine)."""
    page.get_by_role("button", name="Sign in", exact=True).wait_for(timeout=90_000)
    sign_in(page, name)


def _choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.keyboard.type(option[:30])
    page.get_by_role("option", name=option).first.click()
    wait_for_app(page)


def _draw_frame(page):
    """The draw map's frame once Leaflet and the drawing toolbar are there."""
    page.wait_for_selector(MAP_FRAME, timeout=30_000)
    frame = page.query_selector(MAP_FRAME).content_frame()
    frame.wait_for_selector(".leaflet-draw-draw-polygon", timeout=30_000)
    frame.wait_for_function("() => window.map && window.drawnItems && window.drawnItems.getLayers().length > 0")
    return frame


def _page_pixels(page, frame, fractions):
    """Page pixels of points given as fractions of the map, and the map's lat/lon there."""
    box = page.query_selector(MAP_FRAME).bounding_box()
    found = frame.evaluate(
        """(fractions) => {
            const r = map.getContainer().getBoundingClientRect(), size = map.getSize();
            return fractions.map(([fx, fy]) => {
                const p = L.point(fx * size.x, fy * size.y), at = map.containerPointToLatLng(p);
                return {x: r.left + p.x, y: r.top + p.y, lat: at.lat, lon: at.lng};
            });
        }""",
        [list(f) for f in fractions],
    )
    return [(box["x"] + f["x"], box["y"] + f["y"], f["lat"], f["lon"]) for f in found]


def _settle(frame) -> None:
    """Let the map's short timers run: leaflet-draw takes a new corner only 50 ms after the last
    one, which a busy machine can delay past a user's next click."""
    frame.evaluate("() => new Promise(resolve => setTimeout(resolve, 120))")


def _metres_per_pixel(frame) -> float:
    return frame.evaluate(
        """() => { const c = map.getSize().divideBy(2);
                   return map.containerPointToLatLng(c).distanceTo(map.containerPointToLatLng(c.add([1, 0]))); }"""
    )


def test_an_analyst_draws_a_new_part_of_an_area_with_the_mouse_and_saves_it(browser, draw_app):
    app_url, store_url = draw_app
    store = Store(store_url)
    try:
        before, base_revision = store.head("kfor_areas", AREA)
    finally:
        store.close()

    with checked_context(browser) as analyst:
        page, record = open_page(analyst, app_url + "/edit")
        _sign_in(page, ANALYST)
        page.get_by_text("0 complete sources").wait_for(timeout=60_000)  # the first run is over
        wait_for_app(page)
        _choose(page, "Layer", "KFOR deployment areas")
        _choose(page, "Feature", AREA_NAME)
        page.get_by_text(f"Editing revision {base_revision} of").wait_for(timeout=20_000)
        page.get_by_text(f"{area_km2(before['geometry']):,.1f} km² as stored").wait_for(timeout=20_000)

        frame = _draw_frame(page)
        page.query_selector(MAP_FRAME).scroll_into_view_if_needed()
        corners = _page_pixels(page, frame, CORNERS)
        tolerance_m = 3 * _metres_per_pixel(frame)

        # the polygon tool, a click at each corner, and a click on the first corner to close it
        page.frame_locator(MAP_FRAME).locator(".leaflet-draw-draw-polygon").click()
        for count, (x, y, _, _) in enumerate(corners, start=1):
            for attempt in range(3):  # as a user clicks again when no corner appeared
                _settle(frame)
                page.mouse.move(x, y, steps=3)
                page.mouse.click(x, y)
                try:
                    frame.wait_for_function(
                        f"() => document.querySelectorAll('.leaflet-editing-icon').length >= {count}", timeout=5_000)
                    break
                except PlaywrightTimeout:
                    assert attempt < 2, f"corner {count} did not appear after three clicks"
        _settle(frame)
        page.mouse.move(corners[0][0], corners[0][1], steps=3)
        page.mouse.click(corners[0][0], corners[0][1])

        page.get_by_text("Area of the new shape").wait_for(timeout=30_000)
        wait_for_app(page)
        assert not page.query_selector_all('[data-testid="stAlertContentError"]'), "a valid shape shows no error"
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text(f"Saved revision {base_revision + 1} of").wait_for(timeout=30_000)
        assert not record.external_requests, record.external_requests

    # the store holds the area and the drawn part, as one new revision by the analyst
    store = Store(store_url)
    try:
        after, revision = store.head("kfor_areas", AREA)
        history = store.history(AREA, "kfor_areas")
    finally:
        store.close()
    assert revision == base_revision + 1
    assert history[-1].author == ANALYST and "geometry" in history[-1].changed_fields
    saved = shape(after["geometry"])
    assert saved.geom_type == "MultiPolygon" and len(saved.geoms) == 2
    old = shape(before["geometry"])
    kept = [part for part in saved.geoms if part.equals(old)]
    drawn = [part for part in saved.geoms if not part.equals(old)]
    assert len(kept) == 1 and len(drawn) == 1, "the stored shape is kept, the drawn part added"
    corners_drawn = list(drawn[0].exterior.coords)[:-1]
    assert len(corners_drawn) == len(CORNERS)
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.crs import METRIC_CRS, STORAGE_CRS

    def metric(lon: float, lat: float):
        return gpd.GeoSeries([Point(lon, lat)], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0]

    for _, _, lat, lon in corners:
        nearest = min(metric(lon, lat).distance(metric(*c)) for c in corners_drawn)
        assert nearest < tolerance_m, f"a drawn corner is {nearest:.0f} m from where the mouse clicked"
    assert after["properties"]["area_km2"] == round(area_km2(after["geometry"]), 1)

    # a colleague opening the area sees the new shape's area as stored
    with checked_context(browser) as colleague:
        page, _ = open_page(colleague, app_url + "/edit")
        _sign_in(page, "Draw Colleague")
        page.get_by_text("0 complete sources").wait_for(timeout=60_000)
        wait_for_app(page)
        _choose(page, "Layer", "KFOR deployment areas")
        _choose(page, "Feature", AREA_NAME)
        page.get_by_text(f"Editing revision {revision} of").wait_for(timeout=20_000)
        page.get_by_text(f"{area_km2(after['geometry']):,.1f} km² as stored").wait_for(timeout=20_000)
        frame = _draw_frame(page)
        assert frame.evaluate("() => window.drawnItems.getLayers().length") == 2


RESHAPED = "kfor-rc-east-bondsteel"
DRAG_PX = 60

_EAST_VERTEX = """(dx) => {
    // leaflet-draw's corner handles (its mid-edge handles are drawn at 0.6 opacity)
    const handles = [...document.querySelectorAll('.leaflet-marker-icon.leaflet-editing-icon')]
        .filter(el => getComputedStyle(el).opacity === '1');
    if (!handles.length) return null;
    const east = handles.map(el => el.getBoundingClientRect()).reduce((a, b) => (b.left > a.left ? b : a));
    const x = east.left + east.width / 2, y = east.top + east.height / 2;
    const at = (cx) => map.containerPointToLatLng(map.mouseEventToContainerPoint({clientX: cx, clientY: y}));
    const from = at(x), to = at(x + dx);
    return {x: x, y: y, count: handles.length, lat: to.lat, lon: to.lng, lonPerPx: Math.abs(to.lng - from.lng) / dx};
}"""


def test_an_analyst_reshapes_an_area_by_dragging_a_corner_and_saves_it(browser, draw_app):
    app_url, store_url = draw_app
    store = Store(store_url)
    try:
        before, base_revision = store.head("kfor_areas", RESHAPED)
    finally:
        store.close()
    old = shape(before["geometry"])

    with checked_context(browser) as analyst:
        page, record = open_page(analyst, app_url + "/edit")
        _sign_in(page, ANALYST)
        page.get_by_text("0 complete sources").wait_for(timeout=60_000)
        wait_for_app(page)
        _choose(page, "Layer", "KFOR deployment areas")
        _choose(page, "Feature", before["properties"]["name"])
        page.get_by_text(f"Editing revision {base_revision} of").wait_for(timeout=20_000)
        frame = _draw_frame(page)
        page.query_selector(MAP_FRAME).scroll_into_view_if_needed()

        # zoom in once (at the fitted zoom a corner's handle lies under its neighbours' mid-edge
        # handles), then the edit tool puts a handle on every corner: drag the easternmost east
        page.frame_locator(MAP_FRAME).locator(".leaflet-control-zoom-in").click()
        frame.wait_for_timeout(600)
        page.frame_locator(MAP_FRAME).locator(".leaflet-draw-edit-edit").click()
        frame.wait_for_function("() => document.querySelectorAll('.leaflet-editing-icon').length > 0")
        vertex = frame.evaluate(_EAST_VERTEX, DRAG_PX)
        assert vertex and vertex["count"] == len(old.exterior.coords) - 1, vertex
        box = page.query_selector(MAP_FRAME).bounding_box()
        x, y = box["x"] + vertex["x"], box["y"] + vertex["y"]
        page.mouse.move(x, y, steps=3)
        page.mouse.down()
        page.mouse.move(x + DRAG_PX / 3, y, steps=4)
        page.mouse.move(x + DRAG_PX, y, steps=6)
        page.mouse.up()
        page.frame_locator(MAP_FRAME).locator('.leaflet-draw-actions a[title="Save changes"]').click()

        page.get_by_text("Area of the new shape").wait_for(timeout=30_000)
        wait_for_app(page)
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text(f"Saved revision {base_revision + 1} of").wait_for(timeout=30_000)
        assert not record.external_requests, record.external_requests

    store = Store(store_url)
    try:
        after, revision = store.head("kfor_areas", RESHAPED)
    finally:
        store.close()
    assert revision == base_revision + 1
    new = shape(after["geometry"])
    assert new.geom_type == "Polygon" and new.is_valid
    assert len(new.exterior.coords) == len(old.exterior.coords), "a corner moved, none added or removed"
    assert new.area > old.area and new.contains(old.representative_point())
    moved = [c for c in new.exterior.coords[:-1] if c not in set(old.exterior.coords)]
    assert len(moved) == 1, moved
    tolerance = 3 * vertex["lonPerPx"]
    assert abs(moved[0][0] - vertex["lon"]) < tolerance and abs(moved[0][1] - vertex["lat"]) < tolerance
    assert after["properties"]["area_km2"] == round(area_km2(after["geometry"]), 1)
    assert after["properties"]["area_km2"] > before["properties"]["area_km2"]
