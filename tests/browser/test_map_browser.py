"""The real app in Chromium: offline map, clicks, toggles, shared URLs, hostile input."""

from __future__ import annotations

from playwright.sync_api import TimeoutError as PlaywrightTimeout

import pytest

from tests.browser.conftest import (
    MAP_FRAME,
    PANEL,
    checked_context,
    click_feature,
    map_frame,
    open_page,
    url_params,
    wait_for_app,
    wait_for_panel_text,
)
from tests.conftest import BANJSKA_ATTACK

pytestmark = pytest.mark.browser




def test_home_page_draws_the_map_offline(context, app_url, layer_data):
    page, record = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = map_frame(page)
    box = page.query_selector(MAP_FRAME).bounding_box()
    assert box["height"] > 400 and box["width"] > 400
    state = frame.evaluate(
        """() => ({
            leaflet: typeof L !== 'undefined' && L.version,
            cluster: typeof Supercluster === 'function' && typeof L.markerClusterGroup === 'undefined',
            events: Object.keys(BB.index.events || {}).length,
            borders: Object.keys(BB.index.border || {}).length,
            canvases: document.querySelectorAll('.leaflet-container canvas').length,
            labels: [...document.querySelectorAll('.bb-country-label')].map(e => e.textContent),
            circles: BB.groups.eventUncertainty.getLayers().length,
        })"""
    )
    # one uncertainty circle per imprecise point and event type (stacked copies would darken it)
    events = layer_data.full["events"]
    imprecise = events[events["geo_precision"] > 1]
    expected = {(round(g.x, 5), round(g.y, 5), p, t) for g, p, t in zip(imprecise.geometry, imprecise["geo_precision"], imprecise["event_type"])}
    assert len(imprecise) > len(expected) > 0 and state["circles"] == len(expected)
    assert state["leaflet"] == "1.9.3" and state["cluster"]
    assert state["events"] >= 30 and state["borders"] >= 1 and state["canvases"] >= 1
    assert "Kosovo" in state["labels"] and "Serbia" in state["labels"]
    page.wait_for_timeout(500)
    assert record.external_requests == [], record.external_requests
    assert record.page_errors == [], record.page_errors
    assert [u for u in record.failed_requests if "/app/static/" in u or "/component/" in u] == []
    page.screenshot(path="test-artifacts/home.png")


def test_clicking_the_banjska_marker_opens_the_panel(context, app_url):
    page, record = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = map_frame(page)
    frame.evaluate("() => { window.__bb_sentinel = 'kept'; }")
    click_feature(page, "events", BANJSKA_ATTACK)
    wait_for_panel_text(page, "Sources")
    panel = page.inner_text(PANEL)
    assert "2023-09-24" in panel and "Banjska" in panel and "Banjskë" in panel
    assert "Sources" in panel and "Fatalities" in panel
    page.wait_for_function(f"() => location.search.includes('event={BANJSKA_ATTACK}')")
    # The click re-ran the app without rebuilding the map in the browser.
    assert map_frame(page).evaluate("() => window.__bb_sentinel") == "kept"
    assert record.page_errors == []


def test_another_marker_replaces_and_a_closed_panel_reopens(context, app_url):
    page, _ = open_page(context, app_url + "/?layers=events,border&from=2023-09-20&to=2023-10-10")
    wait_for_app(page)
    click_feature(page, "events", "2023-09-29-kirby-serbian-military-buildup")
    wait_for_panel_text(page, "Kirby")
    click_feature(page, "events", BANJSKA_ATTACK)
    wait_for_panel_text(page, "Bunjaku")
    assert "Kirby" not in page.inner_text(PANEL).split("Sources")[0][:80]
    page.get_by_role("button", name="Close ✕").click()
    wait_for_panel_text(page, "newest first")  # the event feed
    assert "event" not in url_params(page)
    click_feature(page, "events", BANJSKA_ATTACK)
    wait_for_panel_text(page, "Bunjaku")


def test_clicking_a_deployment_area_shows_its_details(context, app_url, layer_data):
    areas = layer_data.display["serbian_deployments"]
    # Areas are drawn in file order, the last on top: click the top one at a point inside it.
    area = areas.iloc[-1]
    point = area.geometry.representative_point()
    page, _ = open_page(context, app_url + "/?layers=serbian_deployments")
    wait_for_app(page)
    # The first click can land while the page's first run is still replacing the map's frame;
    # as a user would, click again once if nothing opened.
    for attempt in range(2):
        click_feature(page, "serbian_deployments", area["id"], at=(point.y, point.x))
        try:
            wait_for_panel_text(page, "How the area is drawn", timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt:
                raise
    assert area["name"] in page.inner_text(PANEL)
    assert url_params(page)["feature"] == f"serbian_deployments/{area['id']}"


def test_toggling_a_layer_changes_the_map_and_the_url(context, app_url):
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = map_frame(page)
    assert frame.evaluate("() => Object.keys(BB.index.ground_safety_zone || {}).length") == 0
    page.get_by_text("Ground Safety Zone (5 km, 1999)").click()
    page.wait_for_function("() => location.search.includes('ground_safety_zone')")
    wait_for_app(page)
    page.wait_for_function(
        """(sel) => { const f = document.querySelector(sel); const w = f && f.contentWindow;
                      return w && w.BB && Object.keys(w.BB.index.ground_safety_zone || {}).length > 0; }""",
        arg=MAP_FRAME,
        timeout=20_000,
    )
    assert "ground_safety_zone" in url_params(page)["layers"].split(",")


def test_panning_writes_the_view_into_the_url_without_a_rerun(context, app_url):
    page, _ = open_page(context, app_url + "/")
    wait_for_app(page)
    frame = map_frame(page)
    frame.evaluate("() => { window.__bb_sentinel = 'kept'; BB.map.setView([42.6629, 21.1655], 11); }")
    page.wait_for_function("() => new URL(location.href).searchParams.get('zoom') === '11'")
    params = url_params(page)
    assert abs(float(params["lat"]) - 42.6629) < 0.01 and abs(float(params["lon"]) - 21.1655) < 0.01
    assert frame.evaluate("() => window.__bb_sentinel") == "kept"


def test_a_copied_url_opens_the_same_state_in_a_fresh_browser(browser, app_url):
    with checked_context(browser) as first:
        page, _ = open_page(first, app_url + "/?layers=border,events,kfor_areas&from=2023-09-01&to=2023-10-31")
        wait_for_app(page)
        click_feature(page, "events", BANJSKA_ATTACK)
        wait_for_panel_text(page, "Bunjaku")
        # the user zooms in twice with the map's + button
        page.frame_locator(MAP_FRAME).locator(".leaflet-control-zoom-in").click()
        page.wait_for_timeout(400)
        page.frame_locator(MAP_FRAME).locator(".leaflet-control-zoom-in").click()
        frame = map_frame(page)
        zoom = frame.evaluate("() => BB.map.getZoom()")
        page.wait_for_function(f"() => new URL(location.href).searchParams.get('zoom') === '{zoom}'")
        center = frame.evaluate("() => { const c = BB.map.getCenter(); return [c.lat, c.lng]; }")
        shared = page.url

    with checked_context(browser) as second:
        page, record = open_page(second, shared)
        wait_for_app(page)
        wait_for_panel_text(page, "Bunjaku")
        frame = map_frame(page)
        view = frame.evaluate("() => { const c = BB.map.getCenter(); return [c.lat, c.lng, BB.map.getZoom()]; }")
        assert view[2] == zoom and abs(view[0] - center[0]) < 0.001 and abs(view[1] - center[1]) < 0.001
        layers = frame.evaluate("() => Object.keys(BB.index).filter(k => Object.keys(BB.index[k]).length)")
        assert sorted(layers) == ["border", "events", "kfor_areas"]
        assert page.get_by_role("checkbox", name="Kosovo–Serbia boundary").is_checked()
        assert not page.get_by_role("checkbox", name="Places").is_checked()
        params = url_params(page)
        assert (params["from"], params["to"], params["event"]) == ("2023-09-01", "2023-10-31", BANJSKA_ATTACK)
        frame.wait_for_function("() => BB.highlighted && BB.highlighted.layer.options.color === '#facc15'", timeout=5_000)


HOSTILE = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=1</script>"


def test_hostile_url_parameters_execute_nothing(context, app_url):
    from urllib.parse import quote

    url = (
        app_url
        + "/?event="
        + quote(HOSTILE)
        + "&layers="
        + quote("<svg onload=window.__pwned=1>,events")
        + "&lat=javascript:alert(1)&zoom=%3Cb%3E"
    )
    page, record = open_page(context, url)
    wait_for_app(page)
    map_frame(page)
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__pwned") is None
    assert map_frame(page).evaluate("() => window.__pwned") is None
    assert record.dialogs == []
    body = page.inner_text("body")
    assert "Ignored unknown layer" in body and "No event" in body
    assert page.query_selector("img[src='x']") is None


def test_every_page_loads_without_errors(context, app_url):
    for path, heading in [
        ("/timeline", "Timeline"),
        ("/layers", "Layers & data"),
        ("/analysis", "Analysis"),
        ("/about", "About Border Brief"),
    ]:
        page, record = open_page(context, app_url + path)
        wait_for_app(page)
        page.get_by_role("heading", name=heading).first.wait_for(timeout=20_000)
        assert record.page_errors == [] and record.external_requests == [], (path, record.external_requests)
        page.screenshot(path=f"test-artifacts/page-{path.strip('/')}.png", full_page=True)
        page.close()
