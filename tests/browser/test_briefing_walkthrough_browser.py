"""The briefing walk-through of issue 19, kept as an end-to-end test in a real browser.

A staff officer prepares a briefing with the app alone and answers seven questions:
what happened at Banjska; where Serbia massed forces and what the US said; what NATO
did; the crossings; distances and the 1999 zones; a link for a colleague; the CSV.

The test works as that user does: the app opens with its default layers, and every
selection is made with the mouse at a pixel (found from a feature's geometry, or from
where its marker is drawn now), the keyboard, or a visible button or link. It only
*reads* the app's state (where a marker is drawn, the URL, the panel's text); it never
calls the app's JavaScript to select anything. Each step saves a screenshot to
``test-artifacts/walkthrough-<n>.png``. The ``context`` fixture fails the test on any
page error, console error or Streamlit exception; the colleague's fresh context is
checked the same way here.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod

from tests.browser.conftest import (
    MAP_FRAME,
    REPO,
    click_at,
    click_event,
    drag_into_view,
    map_frame,
    open_page,
    page_point,
    pick_list,
    choose_in_pick_list,
    wait_for_app,
)
from tests.browser.conftest import PANEL, url_params, wait_for_panel_text
from tests.browser.test_interaction_browser import clear_spot, map_bounds
from tests.conftest import BANJSKA_ATTACK

pytestmark = pytest.mark.browser

SIDEBAR = '[data-testid="stSidebarUserContent"]'
EXCEPTION = '[data-testid="stException"]'
ARTIFACTS = REPO / "test-artifacts"
METRIC = 32634
SEPT_BUILDUP = "serbian-buildup-boundary-belt-2023-09"
OCT_FORCES = "serbian-forces-boundary-belt-2023-10"
KIRBY = "2023-09-29-kirby-serbian-military-buildup"
KFOR_NORTH = "kfor-reinforcement-north-2023"
CROSSINGS = ("jarinje-crossing", "merdare-crossing", "brnjak-crossing", "konculj-crossing")
GROUND_ZONE_TITLE = "Ground Safety Zone (5 km, 1999)"


# --- reading what the user sees ------------------------------------------------------------
def row(layer_data, layer_id: str, feature_id: str):
    frame = layer_data.full[layer_id]
    return frame[frame["id"] == feature_id].iloc[0]


def panel_text(page) -> str:
    return page.inner_text(PANEL)


def shot(page, step: int) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"walkthrough-{step}.png"))


def wait_for_map(page):
    frame = map_frame(page)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=30_000)
    return frame


def wait_for_layer_drawn(page, layer_id: str) -> None:
    """The map, rebuilt after a sidebar toggle, has drawn ``layer_id``'s features."""
    page.wait_for_function(
        """([sel, layer]) => { const f = document.querySelector(sel); const w = f && f.contentWindow;
                               return w && w.BB && w.BB.loaded && w.BB.loaded.events && w.BB.index
                                      && Object.keys(w.BB.index[layer] || {}).length > 0; }""",
        arg=[MAP_FRAME, layer_id],
        timeout=30_000,
    )


def sidebar_link(page, name: str):
    return page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True)


def layer_checkboxes(page) -> dict[str, bool]:
    """Each sidebar layer checkbox's label and whether it is ticked."""
    return dict(
        page.evaluate(
            """(sel) => [...document.querySelectorAll(sel + ' [data-testid="stCheckbox"]')]
                        .map(c => [c.innerText.trim(), c.querySelector('input').checked])""",
            SIDEBAR,
        )
    )


def time_window(page) -> list[str]:
    """The two dates the sidebar's time-window slider shows."""
    return page.evaluate(
        "(sel) => [...document.querySelectorAll(sel + ' [data-testid=\"stSliderThumbValue\"]')].map(e => e.innerText.trim())",
        SIDEBAR,
    )


def map_view(page) -> dict:
    return map_frame(page).evaluate("() => { const c = BB.map.getCenter(); return {lat: c.lat, lon: c.lng, zoom: BB.map.getZoom()}; }")


_UNDER_POINT = """([lat, lon]) => {
    const map = BB.map, p = map.latLngToContainerPoint([lat, lon]);
    const r = map.getContainer().getBoundingClientRect();
    const el = document.elementFromPoint(r.left + p.x, r.top + p.y);
    if (!el) return 'nothing';
    if (el.closest('.marker-cluster')) return 'cluster';
    if (el.closest('.leaflet-control-container, .leaflet-popup-pane, .leaflet-marker-pane')) return 'control';
    return 'map';
}"""


def under_point(page, lat: float, lon: float) -> str:
    """What kind of element is drawn at (lat, lon): the map itself, a cluster icon, a control."""
    return map_frame(page).evaluate(_UNDER_POINT, [lat, lon])


def hover_label(page, x: float, y: float, expected: str) -> str | None:
    """Move the mouse to (x, y) and read the map's hover label once it names ``expected``
    (or whatever it shows after a few seconds, if it never does)."""
    frame = map_frame(page)
    page.mouse.move(x - 6, y - 6)
    page.mouse.move(x, y, steps=3)
    try:
        frame.wait_for_function(
            "(name) => { const el = document.querySelector('.bb-hover'); return el && el.innerText.startsWith(name); }",
            arg=expected,
            timeout=5_000,
        )
    except Exception:  # noqa: BLE001 - something else (or nothing) under the pointer
        pass
    element = frame.query_selector(".bb-hover")
    return element.inner_text() if element else None


def zoom_in(page) -> None:
    """One step in with the map's + button."""
    before = map_view(page)["zoom"]
    page.frame_locator(MAP_FRAME).locator(".leaflet-control-zoom-in").click()
    map_frame(page).wait_for_function("(z) => BB.map.getZoom() > z", arg=before, timeout=5_000)
    page.wait_for_timeout(400)  # the zoom animation ends


def zoom_out(page) -> None:
    """One step out with the map's − button."""
    before = map_view(page)["zoom"]
    page.frame_locator(MAP_FRAME).locator(".leaflet-control-zoom-out").click()
    map_frame(page).wait_for_function("(z) => BB.map.getZoom() < z", arg=before, timeout=5_000)
    page.wait_for_timeout(400)  # the zoom animation ends


def spot_in_view(page, layer_data, geometry, *, keep_clear_m: float = 4_000) -> tuple[float, float]:
    """A clear point of ``geometry`` in the map's view, zooming out with the − button
    (as a user would after the map zoomed in on a cluster) until there is one."""
    for _ in range(5):
        try:
            return clear_spot(layer_data, geometry, map_bounds(page), keep_clear_m=keep_clear_m)
        except AssertionError:
            zoom_out(page)
    return clear_spot(layer_data, geometry, map_bounds(page), keep_clear_m=keep_clear_m)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = [(math.radians(p[0]), math.radians(p[1])) for p in (a, b)]
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def assert_clean(page, record) -> None:
    problems = [f"page error: {e}" for e in record.page_errors] + [f"console error: {e}" for e in record.console_errors]
    if not page.is_closed():
        problems += [f"Streamlit exception: {e.inner_text()[:300]}" for e in page.query_selector_all(EXCEPTION)]
    assert not problems, problems


# --- the seven questions ----------------------------------------------------------------------
def step_1_banjska(page, layer_data) -> None:
    """What happened at Banjska: the attack's marker, clicked where it is drawn."""
    event = layer_data.full["events"].set_index("id").loc[BANJSKA_ATTACK]
    click_event(page, BANJSKA_ATTACK)
    wait_for_panel_text(page, "Bunjaku")
    text = panel_text(page)
    assert event["title"] in text
    assert "2023-09-24" in text
    assert "Banjska" in text and "Banjskë" in text  # English and Albanian place names
    assert f"Fatalities: {int(event['fatalities'])}" in text
    assert "Sources" in text and all(source["publisher"] in text for source in event["sources"])
    assert "Claims by party" in text and "Vučić" in text
    assert url_params(page)["event"] == BANJSKA_ATTACK
    shot(page, 1)


def step_2_serbian_buildup(page, layer_data) -> None:
    """Where Serbia massed forces (the September belt, under the October one) and what the US said."""
    sept = row(layer_data, "serbian_deployments", SEPT_BUILDUP)
    lat, lon = spot_in_view(page, layer_data, sept.geometry)
    click_at(page, lat, lon)
    frame = map_frame(page)
    frame.wait_for_selector(f'.bb-pick button[data-bb-pick="serbian_deployments|{OCT_FORCES}"]', timeout=5_000)
    # the pick list offers both belts, by name: the officer chooses the September one
    choice = page.frame_locator(MAP_FRAME).locator(f'.bb-pick button[data-bb-pick="serbian_deployments|{SEPT_BUILDUP}"]')
    assert sept["name"] in choice.inner_text()
    choice.click()
    wait_for_panel_text(page, "Reported strength")
    text = panel_text(page)
    assert sept["name"] in text
    assert "8,350" in text and sept["strength"] in text
    assert "Units" in text and sept["units"][0] in text
    assert "Kirby" in text  # the equipment list cites the US statement
    assert url_params(page)["feature"] == f"serbian_deployments/{SEPT_BUILDUP}"

    kirby = layer_data.full["events"].set_index("id").loc[KIRBY]
    click_event(page, KIRBY)
    wait_for_panel_text(page, kirby["title"])
    text = panel_text(page)
    assert "Kirby" in text and "2023-09-29" in text
    assert url_params(page)["event"] == KIRBY
    shot(page, 2)


def step_3_nato(page, layer_data) -> None:
    """What NATO did: the KFOR reinforcement area, then the event of NATO's decision."""
    north = row(layer_data, "kfor_areas", KFOR_NORTH)
    lat, lon = spot_in_view(page, layer_data, north.geometry)
    click_at(page, lat, lon, "kfor_areas", KFOR_NORTH)
    wait_for_panel_text(page, north["name"])
    text = panel_text(page)
    assert "NATO KFOR" in text and "Reported strength" in text and "UK troops" in text
    assert "Princess of Wales" in text  # the unit sent
    assert url_params(page)["feature"] == f"kfor_areas/{KFOR_NORTH}"
    shot(page, 3)

    events = layer_data.full["events"]
    decision = events[events["title"].str.contains("NATO authorises", case=False)].iloc[0]
    click_event(page, decision["id"])
    wait_for_panel_text(page, decision["title"])
    assert decision["date"] in panel_text(page)
    assert url_params(page)["event"] == decision["id"]


def _reachable_crossing(page, layer_data):
    """A crossing drawn in view with no cluster icon over it and its own name on hover:
    (id, row, page x, page y, hover label). Crossings in view are tried first; then
    one is dragged to the middle and the map zoomed in with + until it stands clear."""
    places = layer_data.full["places"].set_index("id")
    seen = []

    def try_crossing(crossing_id):
        place = places.loc[crossing_id]
        lat, lon = place.geometry.y, place.geometry.x
        x, y, inside = page_point(page, lat, lon)
        if not inside:
            seen.append((crossing_id, "out of view"))
            return None
        under = under_point(page, lat, lon)
        if under != "map":
            seen.append((crossing_id, under))
            return None
        label = hover_label(page, x, y, place["name"])
        if not (label and label.startswith(place["name"])):
            seen.append((crossing_id, f"hover: {label!r}"))
            return None
        return crossing_id, place, x, y, label

    for crossing_id in CROSSINGS:
        if found := try_crossing(crossing_id):
            return found
    for crossing_id in CROSSINGS[:2]:
        place = places.loc[crossing_id]
        for _ in range(4):
            drag_into_view(page, place.geometry.y, place.geometry.x)
            if found := try_crossing(crossing_id):
                return found
            zoom_in(page)
    raise AssertionError(f"no crossing could be hovered without a cluster over it: {seen}")


def step_4_crossings(page, layer_data) -> None:
    """The crossings: a crossing names itself on hover and opens with its names and kind."""
    crossing_id, place, x, y, label = _reachable_crossing(page, layer_data)
    assert label.startswith(place["name"])
    page.mouse.click(x, y)
    map_frame(page).wait_for_timeout(300)
    if pick_list(page):  # another feature under the pointer too: the officer chooses the crossing
        choose_in_pick_list(page, "places", crossing_id)
    wait_for_panel_text(page, "Kind")
    text = panel_text(page)
    assert place["name"] in text
    assert f"Albanian: {place['name_sq']}" in text and f"Serbian: {place['name_sr']}" in text
    assert "Kind: border-crossing" in text
    assert url_params(page)["feature"] == f"places/{crossing_id}"
    shot(page, 4)


def _measure_points(page, layer_data) -> list[tuple[float, float, float, float]]:
    """Two map pixels far apart with nothing but the map under them and no event or
    place within 3 km: (page x, page y, lat, lon) of each."""
    frame = map_frame(page)
    box = page.query_selector(MAP_FRAME).bounding_box()
    size = frame.evaluate("() => { const s = BB.map.getSize(); return [s.x, s.y]; }")
    points = gpd.GeoSeries(list(layer_data.full["events"].geometry) + list(layer_data.full["places"].geometry), crs=4326)
    avoid = shapely.union_all(list(points.to_crs(METRIC).buffer(3_000)))
    found = []
    for fx, fy in [(0.2, 0.3), (0.25, 0.75), (0.3, 0.5), (0.15, 0.6), (0.8, 0.7), (0.75, 0.3), (0.7, 0.55), (0.85, 0.45)]:
        mx, my = round(size[0] * fx), round(size[1] * fy)
        latlng = frame.evaluate("([x, y]) => { const l = BB.map.containerPointToLatLng([x, y]); return [l.lat, l.lng]; }", [mx, my])
        metric = gpd.GeoSeries([shapely.Point(latlng[1], latlng[0])], crs=4326).to_crs(METRIC).iloc[0]
        if metric.intersects(avoid) or under_point(page, *latlng) != "map":
            continue
        if found and abs(found[0][0] - (box["x"] + mx)) < size[0] * 0.3:
            continue  # the second point on the other side of the map
        found.append((box["x"] + mx, box["y"] + my, latlng[0], latlng[1]))
        if len(found) == 2:
            return found
    raise AssertionError("no two clear points to measure between")


def step_5_distances_and_zones(page, layer_data) -> None:
    """Distances and the 1999 zones: the Analysis page's figure, the Ground Safety Zone
    switched on and opened, and a distance measured with the map's km tool."""
    sidebar_link(page, "Analysis").click()
    page.get_by_role("heading", name="Analysis").first.wait_for(timeout=20_000)
    wait_for_app(page)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Banjska to the boundary")
    value = metric.locator('[data-testid="stMetricValue"]').inner_text()
    match = re.fullmatch(r"(\d+(?:\.\d+)?) km", value.strip())
    assert match, value
    village = gpd.GeoSeries([row(layer_data, "places", "banjska-village").geometry], crs=4326).to_crs(METRIC).iloc[0]
    boundary = shapely.union_all(list(layer_data.full["border"].to_crs(METRIC).geometry))
    assert float(match.group(1)) == pytest.approx(village.distance(boundary) / 1000, abs=0.06)
    shot(page, 5)  # overwritten below with the measured line; kept if a later part fails

    sidebar_link(page, "Map").click()
    wait_for_app(page)
    wait_for_map(page)
    page.locator(SIDEBAR).get_by_text(GROUND_ZONE_TITLE, exact=True).click()
    page.wait_for_function("() => new URL(location.href).searchParams.get('layers').includes('ground_safety_zone')")
    wait_for_app(page)
    wait_for_layer_drawn(page, "ground_safety_zone")
    zone = layer_data.full["ground_safety_zone"].iloc[0]
    lat, lon = spot_in_view(page, layer_data, zone.geometry, keep_clear_m=1_500)
    click_at(page, lat, lon, "ground_safety_zone", zone["id"])
    wait_for_panel_text(page, "Width (km)")
    text = panel_text(page)
    assert zone["name"] in text and f"Width (km): {zone['width_km']}" in text
    assert url_params(page)["feature"] == f"ground_safety_zone/{zone['id']}"

    # the km tool: two clicks on the map, the readout against the great circle between them
    frame = map_frame(page)
    page.frame_locator(MAP_FRAME).get_by_role("button", name="km", exact=True).click()
    readout = page.frame_locator(MAP_FRAME).locator(".bb-measure-readout")
    readout.wait_for(state="visible", timeout=5_000)
    assert readout.inner_text() == "Click points on the map"
    (x1, y1, lat1, lon1), (x2, y2, lat2, lon2) = _measure_points(page, layer_data)
    page.mouse.click(x1, y1)
    page.mouse.click(x2, y2)
    frame.wait_for_function("() => /km \\(1 segment\\)/.test(document.querySelector('.bb-measure-readout').innerText)", timeout=5_000)
    shown = readout.inner_text()
    km = float(re.match(r"([\d.]+) km \(1 segment\)", shown).group(1))
    geodesic_km = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2] / 1000
    assert km > 5 and km == pytest.approx(geodesic_km, rel=0.02), (shown, geodesic_km)
    assert km == pytest.approx(haversine_km((lat1, lon1), (lat2, lon2)), rel=0.02)
    # measuring clicks select nothing: the zone stays in the panel
    assert url_params(page)["feature"] == f"ground_safety_zone/{zone['id']}"
    shot(page, 5)
    page.keyboard.press("Escape")  # focus is in the map after the clicks: Esc ends measuring
    readout.wait_for(state="hidden", timeout=5_000)


def step_6_link_for_a_colleague(page, browser, layer_data, app_url) -> None:
    """A link for a colleague: "Copy link" with the attack selected, opened in a fresh browser."""
    click_event(page, BANJSKA_ATTACK)
    wait_for_panel_text(page, "Bunjaku")
    page.wait_for_timeout(600)  # the view settles (a cluster may have spread out)
    mine = {"boxes": layer_checkboxes(page), "window": time_window(page)}
    assert mine["boxes"][GROUND_ZONE_TITLE] is True and mine["boxes"]["Events"] is True
    page.frame_locator(MAP_FRAME).get_by_role("button", name="Copy link").click()
    page.frame_locator(MAP_FRAME).get_by_text("Link copied").wait_for(timeout=5_000)
    copied = page.evaluate("() => navigator.clipboard.readText()")
    mine["view"] = map_view(page)
    assert urlparse(copied).netloc == urlparse(app_url).netloc
    params = {k: v[-1] for k, v in parse_qs(urlparse(copied).query).items()}
    assert params["event"] == BANJSKA_ATTACK and "ground_safety_zone" in params["layers"]
    assert {"lat", "lon", "zoom", "from", "to"} <= set(params)
    shown = url_params(page)  # the address bar says the same
    assert all(params[k] == shown[k] for k in ("event", "layers", "from", "to", "zoom"))
    assert int(params["zoom"]) == mine["view"]["zoom"]
    assert float(params["lat"]) == pytest.approx(mine["view"]["lat"], abs=1e-3)
    assert float(params["lon"]) == pytest.approx(mine["view"]["lon"], abs=1e-3)
    shot(page, 6)

    colleague = browser.new_context(viewport={"width": 1400, "height": 950})
    try:
        other, record = open_page(colleague, copied)
        wait_for_app(other)
        wait_for_panel_text(other, "Bunjaku")
        wait_for_layer_drawn(other, "ground_safety_zone")
        assert layer_checkboxes(other) == mine["boxes"]
        assert time_window(other) == mine["window"]
        theirs = map_view(other)
        assert theirs["zoom"] == int(params["zoom"])  # the view the link names
        assert theirs["lat"] == pytest.approx(float(params["lat"]), abs=1e-3)
        assert theirs["lon"] == pytest.approx(float(params["lon"]), abs=1e-3)
        other_params = url_params(other)
        assert other_params["event"] == BANJSKA_ATTACK
        assert (other_params["from"], other_params["to"]) == (params["from"], params["to"])
        assert panel_text(other).startswith(panel_text(page)[:200])
        other.screenshot(path=str(ARTIFACTS / "walkthrough-6-colleague.png"))
        assert_clean(other, record)
    finally:
        colleague.close()


def step_7_csv(page, layer_data) -> None:
    """The CSV: downloaded from "Layers & data" for the current time window, and read."""
    sidebar_link(page, "Layers & data").click()
    page.get_by_role("heading", name="Layers & data").first.wait_for(timeout=20_000)
    wait_for_app(page)
    button = page.get_by_role("button", name=re.compile(r"^CSV \(\d+ in window\)$"))
    button.scroll_into_view_if_needed()
    in_window = int(re.search(r"\((\d+) in window\)", button.inner_text()).group(1))
    with page.expect_download(timeout=30_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "events.csv"
    data = Path(download.path()).read_bytes()
    shot(page, 7)

    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == in_window == len(layer_data.full["events"])  # the default window is the whole catalogue
    fatalities = [r["fatalities"] for r in rows if r["fatalities"] != ""]
    assert fatalities and all(re.fullmatch(r"\d+", value) for value in fatalities), fatalities
    banjska = next(r for r in rows if r["id"] == BANJSKA_ATTACK)
    expected = layer_data.full["events"].set_index("id").loc[BANJSKA_ATTACK]
    assert banjska["date"] == "2023-09-24" and banjska["fatalities"] == str(int(expected["fatalities"]))
    assert banjska["claims"] == "; ".join(f"{c['party']}: {c['claim']}" for c in expected["claims"])
    assert "Vučić" in banjska["claims"] and banjska["location_sq"] == expected["location"]["sq"]


def test_a_briefing_prepared_with_the_app_alone(context, browser, app_url, layer_data):
    origin = "{0.scheme}://{0.netloc}".format(urlparse(app_url))
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    wait_for_map(page)
    # the app opens with its default layers: nothing chosen for the user beforehand (the map can
    # be ready before the browser has drawn the whole sidebar: wait for its last layer box)
    page.wait_for_function(
        """([sel, last]) => [...document.querySelectorAll(sel + ' [data-testid="stCheckbox"]')]
                            .some(c => c.innerText.trim() === last)""",
        arg=[SIDEBAR, "Air Safety Zone (25 km, 1999)"], timeout=60_000,
    )
    boxes = layer_checkboxes(page)
    assert boxes["Events"] and boxes["KFOR deployment areas"] and boxes["Serbian deployments (reported)"]
    assert not boxes[GROUND_ZONE_TITLE] and not boxes["Air Safety Zone (25 km, 1999)"]

    step_1_banjska(page, layer_data)
    step_2_serbian_buildup(page, layer_data)
    step_3_nato(page, layer_data)
    step_4_crossings(page, layer_data)
    step_5_distances_and_zones(page, layer_data)
    step_6_link_for_a_colleague(page, browser, layer_data, app_url)
    step_7_csv(page, layer_data)
