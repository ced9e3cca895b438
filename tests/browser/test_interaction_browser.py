"""The interaction faults a newcomer hit (issue 19), each reproduced as a user works:
default layers on, the mouse at a pixel found from the feature's geometry, the
panel and the address bar read back. The `context` fixture fails a test on any
page error, console error or Streamlit exception."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import pytest
import shapely

from tests.browser.conftest import (
    MAP_FRAME,
    PANEL,
    checked_context,
    choose_in_pick_list,
    drag_into_view,
    click_at,
    click_event,
    map_frame,
    open_page,
    page_point,
    pick_list,
    url_params,
    wait_for_app,
    wait_for_panel_text,
)
from layers.config import DEFAULT_ZOOM
from layers.render import filter_events
from tests.conftest import BANJSKA_ATTACK
from ui.tables import event_table

pytestmark = pytest.mark.browser
METRIC = 32634
SEPT_BUILDUP = "serbian-buildup-boundary-belt-2023-09"
OCT_FORCES = "serbian-forces-boundary-belt-2023-10"
KFOR_NORTH = "kfor-reinforcement-north-2023"




def wait_for_map(page):
    frame = map_frame(page)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=30_000)
    return frame


def map_bounds(page) -> shapely.Polygon:
    """What the map shows now, as a lon/lat box (read from the map, as a user sees it)."""
    b = map_frame(page).evaluate("() => { const b = BB.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }")
    return shapely.box(*b)


def clear_spot(layer_data, geometry, view: shapely.Polygon, *, keep_clear_m: float = 4_000) -> tuple[float, float]:
    """A point of ``geometry`` inside ``view`` at least ``keep_clear_m`` from every event,
    place and the boundary line (measured in the metric CRS), so that only areas lie under it."""
    points = gpd.GeoSeries(
        list(layer_data.full["events"].geometry) + list(layer_data.full["places"].geometry), crs=4326
    ).to_crs(METRIC)
    border = layer_data.full["border"].to_crs(METRIC).geometry
    avoid = shapely.union_all(list(points.buffer(keep_clear_m)) + list(border.buffer(keep_clear_m)))
    target = gpd.GeoSeries([geometry.intersection(view.buffer(-0.05))], crs=4326).to_crs(METRIC).iloc[0]
    free = target.difference(avoid)
    assert not free.is_empty, "no clear spot in view"
    spot = gpd.GeoSeries([free.representative_point()], crs=METRIC).to_crs(4326).iloc[0]
    return spot.y, spot.x


def feature(layer_data, layer_id: str, feature_id: str):
    frame = layer_data.full[layer_id]
    return frame[frame["id"] == feature_id].iloc[0]


def highlighted(page) -> str | None:
    """Which feature the map draws highlighted (its yellow outline), as layer|id."""
    return map_frame(page).evaluate(
        """() => { const h = BB.highlighted; if (!h) return null;
                   for (const [lid, feats] of Object.entries(BB.index))
                     for (const [fid, l] of Object.entries(feats)) if (l === h.layer && l.options.color === '#facc15') return lid + '|' + fid;
                   return null; }"""
    )


# 1 ---------------------------------------------------------------------------------------
def test_a_timeline_row_opens_the_event_on_the_map_and_the_session_survives(context, app_url, layer_data):
    page, _ = open_page(context, app_url + "/timeline?from=2023-09-20&to=2023-10-10")
    wait_for_app(page)
    grid = page.locator('[data-testid="stDataFrame"]')
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # The table lists the window's events by date, then id: Banjska's row, found as a reader would.
    window = filter_events(layer_data.full["events"], dt.date(2023, 9, 20), dt.date(2023, 10, 10))
    index = list(event_table(window)["id"]).index(BANJSKA_ATTACK)
    # Rows are 35 px high under a 35 px header; the row-selection box sits at the left edge.
    page.mouse.click(box["x"] + 12, box["y"] + 35 + index * 35 + 17)
    page.wait_for_url(lambda url: urlparse(url).path.rstrip("/") == urlparse(app_url).path.rstrip("/"), timeout=20_000)
    wait_for_app(page)
    wait_for_panel_text(page, "Bunjaku")
    params = url_params(page)
    assert params["event"] == BANJSKA_ATTACK and (params["from"], params["to"]) == ("2023-09-20", "2023-10-10")
    # every page of the session still works, and a reload keeps the settings
    page.get_by_role("link", name="Timeline").click()
    page.get_by_role("heading", name="Timeline").first.wait_for(timeout=20_000)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.reload()
    wait_for_app(page)
    params = url_params(page)
    assert (params["from"], params["to"]) == ("2023-09-20", "2023-10-10")
    assert page.locator('[data-testid="stException"]').count() == 0


# 2, 3 ----------------------------------------------------------------------------------
def test_a_deployment_area_under_the_events_canvas_and_another_area_is_reachable(context, app_url, layer_data):
    """Default layers (events, countries and places on): a click inside the September
    build-up belt, which lies under the October belt, offers both; choosing it opens it."""
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    wait_for_map(page)
    sept = feature(layer_data, "serbian_deployments", SEPT_BUILDUP)
    lat, lon = clear_spot(layer_data, sept.geometry, map_bounds(page))
    click_at(page, lat, lon)
    offered = pick_list(page)
    assert f"serbian_deployments|{SEPT_BUILDUP}" in offered and f"serbian_deployments|{OCT_FORCES}" in offered
    assert not any(item.startswith("countries|") for item in offered)  # Serbia is the backdrop, not a choice here
    page.frame_locator(MAP_FRAME).get_by_role("button", name=sept["name"]).click()
    wait_for_panel_text(page, "How the area is drawn")
    assert sept["name"] in page.inner_text(PANEL)
    assert url_params(page)["feature"] == f"serbian_deployments/{SEPT_BUILDUP}"
    assert highlighted(page) == f"serbian_deployments|{SEPT_BUILDUP}"


def test_a_kfor_area_and_a_safety_zone_open_with_the_events_shown(context, app_url, layer_data):
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    wait_for_map(page)
    north = feature(layer_data, "kfor_areas", KFOR_NORTH)
    lat, lon = clear_spot(layer_data, north.geometry, map_bounds(page))
    click_at(page, lat, lon, "kfor_areas", KFOR_NORTH)
    wait_for_panel_text(page, north["name"])
    assert url_params(page)["feature"] == f"kfor_areas/{KFOR_NORTH}"

    page.get_by_text("Ground Safety Zone (5 km, 1999)").click()
    page.wait_for_function("() => location.search.includes('ground_safety_zone')")
    wait_for_app(page)
    page.wait_for_function(
        """(sel) => { const f = document.querySelector(sel); const w = f && f.contentWindow;
                      return w && w.BB && w.BB.loaded && w.BB.loaded.events && Object.keys(w.BB.index.ground_safety_zone || {}).length > 0; }""",
        arg=MAP_FRAME,
        timeout=20_000,
    )
    zone = layer_data.full["ground_safety_zone"].iloc[0]
    lat, lon = clear_spot(layer_data, zone.geometry, map_bounds(page), keep_clear_m=1_500)
    click_at(page, lat, lon, "ground_safety_zone", zone["id"])
    wait_for_panel_text(page, "Width (km)")
    assert url_params(page)["feature"] == f"ground_safety_zone/{zone['id']}"


# 4 -------------------------------------------------------------------------------------
def test_view_legend_and_selection_survive_reruns_and_match_the_map(context, app_url, layer_data):
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = wait_for_map(page)
    # zoom in with the map's + button, open the legend
    page.frame_locator(MAP_FRAME).locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(f"() => new URL(location.href).searchParams.get('zoom') === '{DEFAULT_ZOOM + 1}'")
    page.frame_locator(MAP_FRAME).get_by_text("Legend", exact=True).click()
    assert frame.evaluate("() => document.querySelector('details.bb-legend').open") is True
    before = url_params(page)

    # a toggle rebuilds the map: the view and the legend stay as they were
    page.get_by_text("Air Safety Zone (25 km, 1999)").click()
    page.wait_for_function("() => location.search.includes('air_safety_zone')")
    wait_for_app(page)
    page.wait_for_function(
        """(sel) => { const w = document.querySelector(sel).contentWindow;
                      return w.BB && w.BB.loaded && w.BB.loaded.events && Object.keys(w.BB.index.air_safety_zone || {}).length > 0; }""",
        arg=MAP_FRAME,
        timeout=20_000,
    )
    frame = map_frame(page)
    view = frame.evaluate("() => { const c = BB.map.getCenter(); return [c.lat, c.lng, BB.map.getZoom()]; }")
    assert view[2] == DEFAULT_ZOOM + 1 and abs(view[0] - float(before["lat"])) < 0.01 and abs(view[1] - float(before["lon"])) < 0.01
    assert frame.evaluate("() => document.querySelector('details.bb-legend').open") is True

    # hiding the layer of the selected feature closes its panel
    north = feature(layer_data, "kfor_areas", KFOR_NORTH)
    lat, lon = clear_spot(layer_data, north.geometry, map_bounds(page), keep_clear_m=2_500)
    click_at(page, lat, lon, "kfor_areas", KFOR_NORTH)
    wait_for_panel_text(page, north["name"])
    assert highlighted(page) == f"kfor_areas|{KFOR_NORTH}"
    page.get_by_test_id("stSidebarUserContent").get_by_text("KFOR deployment areas").click()
    wait_for_panel_text(page, "newest first")  # the event feed
    assert "feature" not in url_params(page)
    wait_for_app(page)  # the run that hid the layer rebuilds the map

    # selecting an event keeps the view in the URL
    click_event(page, BANJSKA_ATTACK)
    wait_for_panel_text(page, "Bunjaku")
    # the panel is drawn first; the same run writes event= into the address bar when it ends
    page.wait_for_function("() => ['event', 'lat', 'lon', 'zoom'].every(k => new URL(location.href).searchParams.has(k))",
                           timeout=30_000)
    params = url_params(page)
    assert params["event"] == BANJSKA_ATTACK
    assert highlighted(page) == f"events|{BANJSKA_ATTACK}"

    # closing the panel clears the highlight
    page.get_by_role("button", name="Close ✕").click()
    wait_for_panel_text(page, "newest first")  # the event feed
    page.wait_for_function(
        "(sel) => { const w = document.querySelector(sel).contentWindow; return !w.BB.highlighted; }", arg=MAP_FRAME, timeout=5_000
    )
    assert "event" not in url_params(page)


# 5 -------------------------------------------------------------------------------------
def test_events_at_one_point_are_listed_and_chosen_one_click_each(context, app_url, layer_data):
    """Events that share one point never split into separate symbols: a click on their
    cluster (once zoomed in to it) lists them, and each is chosen from the list; the next
    one is again one click and one choice away after the app's rerun."""
    events = layer_data.full["events"]
    pristina = feature(layer_data, "places", "pristina").geometry
    here = events[events.geometry.apply(lambda g: g.distance(pristina) < 1e-6)]
    assert len(here) >= 10  # many events share Pristina's point
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = wait_for_map(page)
    first, second = here["id"].iloc[0], here["id"].iloc[1]
    click_event(page, first)  # clicks the cluster (it zooms in), then the point: a list, first chosen
    wait_for_panel_text(page, here["title"].iloc[0][:30])
    assert highlighted(page) == f"events|{first}"
    page.wait_for_timeout(800)
    state = frame.evaluate("(id) => BB.groups.events.drawnAt(id)", second)
    assert state["shown"], "the events at Pristina's point are not reachable where they are drawn"
    x, y, inside = page_point(page, state["lat"], state["lon"])
    assert inside
    page.mouse.click(x, y)
    page.wait_for_timeout(300)
    offered = pick_list(page)
    assert {f"events|{event_id}" for event_id in here["id"]} <= set(offered), offered
    choose_in_pick_list(page, "events", second)
    wait_for_panel_text(page, here["title"].iloc[1][:30])
    assert url_params(page)["event"] == second
    assert highlighted(page) == f"events|{second}"


# 6 -------------------------------------------------------------------------------------
def test_places_name_themselves_on_hover_and_open_on_click(context, app_url, layer_data):
    # Kuršumlija: 38 km from the nearest event, so no event symbol or cluster is drawn on it
    # (events now draw where supercluster puts them; Raška has an event at its own point)
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = wait_for_map(page)
    town = feature(layer_data, "places", "kursumlija")
    x, y, inside = page_point(page, town.geometry.y, town.geometry.x)
    if not inside:
        drag_into_view(page, town.geometry.y, town.geometry.x)
        x, y, inside = page_point(page, town.geometry.y, town.geometry.x)
    assert inside
    page.mouse.move(x, y)
    frame.wait_for_function("() => document.querySelector('.bb-hover')", timeout=5_000)
    assert frame.inner_text(".bb-hover").startswith(town["name"])
    page.mouse.click(x, y)
    wait_for_panel_text(page, "Kind")
    panel = page.inner_text(PANEL)
    assert town["name"] in panel and town["name_sq"] in panel and "Sources" in panel
    assert url_params(page)["feature"] == "places/kursumlija"


# 7 -------------------------------------------------------------------------------------
def test_the_wheel_scrolls_the_page_and_ctrl_wheel_zooms_the_map(context, app_url):
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = wait_for_map(page)
    box = page.query_selector(MAP_FRAME).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 300)
    frame.wait_for_function("() => document.querySelector('.bb-hint.bb-on')", timeout=3_000)
    page.wait_for_timeout(500)
    assert frame.evaluate("() => BB.map.getZoom()") == DEFAULT_ZOOM  # the wheel alone did not zoom
    assert page.query_selector(MAP_FRAME).bounding_box()["y"] < box["y"]  # the page scrolled
    box = page.query_selector(MAP_FRAME).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)
    page.keyboard.up("Control")
    frame.wait_for_function("() => BB.map.getZoom() > 9", timeout=5_000)


# 8 -------------------------------------------------------------------------------------
def test_copy_link_copies_the_current_state_and_view(browser, app_url):
    origin = "{0.scheme}://{0.netloc}".format(urlparse(app_url))
    with checked_context(browser) as first:
        first.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
        page, _ = open_page(first, app_url + "/?from=2023-09-01&to=2023-10-31")
        wait_for_app(page)
        wait_for_map(page)
        click_event(page, BANJSKA_ATTACK)
        wait_for_panel_text(page, "Bunjaku")
        # the run that opened the panel writes event= into the address bar when it ends
        page.wait_for_function(f"() => new URL(location.href).searchParams.get('event') === '{BANJSKA_ATTACK}'")
        wait_for_app(page)
        page.frame_locator(MAP_FRAME).get_by_role("button", name="Copy link").click()
        page.frame_locator(MAP_FRAME).get_by_text("Link copied").wait_for(timeout=5_000)
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == page.url
        params = {k: v[-1] for k, v in parse_qs(urlparse(copied).query).items()}
        assert params["event"] == BANJSKA_ATTACK and {"lat", "lon", "zoom", "layers", "from", "to"} <= set(params)
    with checked_context(browser) as second:
        page, _ = open_page(second, copied)
        wait_for_app(page)
        wait_for_panel_text(page, "Bunjaku")
        assert map_frame(page).evaluate("() => BB.map.getZoom()") == int(params["zoom"])


# 10 ------------------------------------------------------------------------------------
def test_country_names_stay_put_and_the_legend_explains_every_symbol(context, app_url, layer_data):
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = wait_for_map(page)
    label_at = """() => { const el = [...document.querySelectorAll('.bb-country-label span')].find(e => e.textContent === 'Kosovo');
                          const r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2,
                          getComputedStyle(el.parentElement).backgroundColor, el.closest('.leaflet-tooltip') === null]; }"""
    kosovo = layer_data.full["countries"].query("iso_a3 == 'XKX'").geometry.representative_point().iloc[0]
    box = page.query_selector(MAP_FRAME).bounding_box()
    x, y, _ = page_point(page, kosovo.y, kosovo.x)
    lx, ly, background, not_tooltip = frame.evaluate(label_at)
    assert abs(box["x"] + lx - x) < 3 and abs(box["y"] + ly - y) < 3 and not_tooltip
    assert background in ("rgba(0, 0, 0, 0)", "transparent")
    page.mouse.move(box["x"] + 60, box["y"] + box["height"] - 60)  # the pointer elsewhere: the label does not follow
    page.wait_for_timeout(300)
    assert frame.evaluate(label_at)[:2] == [lx, ly]

    page.frame_locator(MAP_FRAME).get_by_text("Legend", exact=True).click()
    legend = frame.inner_text("details.bb-legend")
    assert "group of events" in legend and "km" in legend and "measure a distance" in legend and "Copy link" in legend
    places_swatch = frame.evaluate(
        """() => { const row = [...document.querySelectorAll('details.bb-legend div')].find(d => d.textContent === 'Places');
                   return getComputedStyle(row.querySelector('span')).borderRadius; }"""
    )
    assert places_swatch == "50%"
