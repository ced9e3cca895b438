"""The offline briefing file in a real browser (issue 14), opened from file:// with the network off.

Each file is built by layers.briefing from the real layers (or the real layers plus the hostile
corpus), written to a temporary folder and opened from file:// in a context that is offline and
aborts every request that is not for a file: nothing may be fetched, no page error or console
error may happen (checked_context). The tests act as a user does: the mouse at a marker's or an
area's pixel, the layer checkboxes, the event list; the map's state is only read, to know where
to click, never changed from the test.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
import shapely

from geo.crs import METRIC_CRS
from tests.browser.conftest import PageRecorder, _console_error, checked_context
from tests.conftest import BANJSKA_ATTACK

pytestmark = pytest.mark.browser

VIEW = "lat=43.05&lon=20.75&zoom=9"
CRISIS = f"layers=countries,border,places,events,kfor_areas&from=2023-09-01&to=2023-10-31&event={BANJSKA_ATTACK}&{VIEW}"


def _write(tmp_path_factory, layers, query: str, name: str):
    from layers.__main__ import briefing_state
    from layers.briefing import build_briefing, write_briefing
    from layers.config import load_settings

    state, notices, deep = briefing_state(layers, load_settings({}), query)
    assert notices == []
    html = build_briefing(layers, state, author="Browser Test", public_url="https://brief.example.org/", query=deep)
    return write_briefing(tmp_path_factory.mktemp("briefing") / name, html)


@pytest.fixture(scope="module")
def crisis_file(tmp_path_factory, layer_data):
    return _write(tmp_path_factory, layer_data, CRISIS, "crisis.html")


def open_file(ctx, path):
    """A page in ``ctx`` at file://``path``; every request that is not for a file is aborted and recorded."""
    page = ctx.new_page()
    record = PageRecorder()

    def route(route_request):
        if route_request.request.url.startswith("file:"):
            route_request.continue_()
        else:
            record.external_requests.append(route_request.request.url)
            route_request.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: record.page_errors.append(str(error)))
    page.on("console", lambda message: _console_error(record, message))
    page.on("dialog", lambda dialog: (record.dialogs.append(dialog.message), dialog.dismiss()))
    ctx.bb_records.append((page, record))
    page.goto(path.as_uri())
    page.wait_for_function("() => window.BB && BB.ready && BB.loaded.events", timeout=30_000)
    return page, record


def panel_text(page) -> str:
    return page.inner_text("#bb-panel")


def wait_for_panel(page, text: str) -> None:
    page.wait_for_function("(t) => document.getElementById('bb-panel').innerText.includes(t)", arg=text, timeout=10_000)


# --- where to click (read from the map, as the app's browser helpers do) ---------------------

_PIXEL = """([lat, lon]) => {
    const p = BB.map.latLngToContainerPoint([lat, lon]), r = BB.map.getContainer().getBoundingClientRect();
    return {x: r.left + p.x, y: r.top + p.y, inside: p.x > 30 && p.y > 30 && p.x < r.width - 30 && p.y < r.height - 30};
}"""
_MARKER = """(id) => {
    const m = BB.index.events[id], group = BB.groups.events, shown = BB.map.hasLayer(m);
    let at = m.getLatLng();
    if (!shown) { const parent = group.getVisibleParent(m); if (parent) at = parent.getLatLng(); }
    return {shown: shown, lat: at.lat, lon: at.lng};
}"""


def picks(page) -> list[str]:
    return page.eval_on_selector_all(".bb-pick button", "bs => bs.map(b => b.dataset.bbPick)")


def click_at(page, lat: float, lon: float, layer_id: str, feature_id: str) -> None:
    """The mouse at (lat, lon); a pick list, if several features lie there, is answered."""
    p = page.evaluate(_PIXEL, [lat, lon])
    assert p["inside"], f"({lat}, {lon}) is not inside the map view"
    page.mouse.click(p["x"], p["y"])
    page.wait_for_timeout(300)
    if len(picks(page)) > 1:
        page.click(f'.bb-pick button[data-bb-pick="{layer_id}|{feature_id}"]')


def click_event(page, event_id: str) -> None:
    """Click clusters (they zoom in or spread out) until the marker is drawn, then the marker."""
    for _ in range(10):
        state = page.evaluate(_MARKER, event_id)
        p = page.evaluate(_PIXEL, [state["lat"], state["lon"]])
        assert p["inside"], f"event {event_id} is outside the map view"
        page.mouse.click(p["x"], p["y"])
        if state["shown"]:
            page.wait_for_timeout(300)
            if len(picks(page)) > 1:
                page.click(f'.bb-pick button[data-bb-pick="events|{event_id}"]')
            return
        page.wait_for_timeout(900)  # the cluster zooms in or spreads out (animated)
    raise AssertionError(f"event {event_id} could not be reached by clicking")


def _window(layer_data):
    events = layer_data.full["events"]
    dates = events["date"].astype(str)
    return events[(dates >= "2023-09-01") & (dates <= "2023-10-31")]


def another_event(layer_data) -> dict:
    """An event of the window away from Banjska, nearest the view's centre."""
    window = _window(layer_data)
    points = window.geometry.to_crs(METRIC_CRS)
    banjska = points[window["id"] == BANJSKA_ATTACK].iloc[0]
    centre = gpd.GeoSeries([shapely.Point(20.75, 43.05)], crs=4326).to_crs(METRIC_CRS).iloc[0]
    far = points[points.distance(banjska) > 5_000]
    return window.loc[far.distance(centre).idxmin()].to_dict()


def quiet_point_in(layer_data, layer_id: str, bounds: dict) -> tuple[float, float]:
    """A point inside ``layer_id``'s area, inside ``bounds``, 2 km from every place and event."""
    full = layer_data.full
    area = full[layer_id].to_crs(METRIC_CRS).geometry.buffer(-500).union_all()
    dx, dy = (bounds["east"] - bounds["west"]) * 0.15, (bounds["north"] - bounds["south"]) * 0.15  # a margin of the view
    box = shapely.box(bounds["west"] + dx, bounds["south"] + dy, bounds["east"] - dx, bounds["north"] - dy)
    area = area.intersection(gpd.GeoSeries([box], crs=4326).to_crs(METRIC_CRS).iloc[0])
    busy = gpd.GeoSeries(list(full["places"].geometry) + list(full["events"].geometry), crs=4326)
    area = area.difference(busy.to_crs(METRIC_CRS).buffer(2_000).union_all())
    assert not area.is_empty, f"no quiet point of {layer_id} in the view"
    point = gpd.GeoSeries([area.representative_point()], crs=METRIC_CRS).to_crs(4326).iloc[0]
    return point.y, point.x


# --- the tests ----------------------------------------------------------------------------


def test_briefing_file_works_offline_from_file_url(browser, crisis_file, layer_data):
    with checked_context(browser, offline=True) as ctx:
        page, record = open_file(ctx, crisis_file)
        # the map is drawn: the basemap and layer canvases, the scale, the legend
        assert page.eval_on_selector_all("#bb-map canvas", "cs => cs.filter(c => c.width > 100).length") >= 2
        assert page.is_visible(".leaflet-control-scale") and "Legend" in page.inner_text(".bb-legend")
        header = page.inner_text("#bb-header")
        assert "2023-09-01 to 2023-10-31" in header and "by Browser Test" in header
        live = page.get_attribute("#bb-live a", "href")
        assert live.startswith("https://brief.example.org/?") and f"event={BANJSKA_ATTACK}" in live
        # the sender's selection is open in the panel, its sources as links
        banjska = layer_data.feature("events", BANJSKA_ATTACK)
        assert banjska["title"] in panel_text(page)
        links = page.eval_on_selector_all("#bb-panel a", "as => as.map(a => a.href)")
        assert links == [s["url"] for s in banjska["sources"]]
        assert page.is_visible(f'#bb-rows .bb-row.bb-selected[data-event="{BANJSKA_ATTACK}"]')

        # another marker, clicked at its pixel
        other = another_event(layer_data)
        click_event(page, other["id"])
        wait_for_panel(page, other["title"])
        assert other["sources"][0]["publisher"] in panel_text(page)
        assert banjska["title"] not in panel_text(page)

        # a hidden layer switched on, an area clicked, then switched off again (zoomed out first)
        while page.evaluate("() => BB.map.getZoom()") > 9:
            page.click(".leaflet-control-zoom-out")
            page.wait_for_timeout(400)
        page.get_by_label("Ground Safety Zone (5 km, 1999)").check()
        assert "Ground Safety Zone" in page.inner_text(".bb-legend")
        bounds = page.evaluate("() => { const b = BB.map.getBounds(); return {west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth()}; }")
        lat, lon = quiet_point_in(layer_data, "ground_safety_zone", bounds)
        zone = layer_data.full["ground_safety_zone"].iloc[0]
        click_at(page, lat, lon, "ground_safety_zone", zone["id"])
        wait_for_panel(page, zone["name"])
        page.get_by_label("Ground Safety Zone (5 km, 1999)").uncheck()
        assert "Ground Safety Zone" not in page.inner_text(".bb-legend")
        assert zone["name"] not in panel_text(page)  # the hidden layer's selection is closed
        click_at(page, lat, lon, "ground_safety_zone", zone["id"])
        assert zone["name"] not in panel_text(page)

        # the event list: a click on an entry selects it; so does Enter on the next one
        ordered = _window(layer_data).sort_values(["date", "id"])
        third, fourth = ordered.iloc[2], ordered.iloc[3]
        page.click(f'#bb-rows .bb-row[data-event="{third["id"]}"] span:nth-child(2)')
        wait_for_panel(page, third["title"])
        assert page.is_visible(f'#bb-rows .bb-row.bb-selected[data-event="{third["id"]}"]')
        page.focus(f'#bb-rows .bb-row[data-event="{third["id"]}"]')
        for _ in range(8):  # past the row's source links to the next row
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.dataset.event") == fourth["id"]:
                break
        page.keyboard.press("Enter")
        wait_for_panel(page, fourth["title"])
        assert record.external_requests == [] and record.dialogs == []


def test_briefing_prints_map_then_event_list_on_a4_landscape(browser, crisis_file, layer_data):
    with checked_context(browser, offline=True) as ctx:
        page, record = open_file(ctx, crisis_file)
        page.emulate_media(media="print")
        page.wait_for_timeout(300)
        for hidden in ("#bb-controls", "#bb-panel", ".leaflet-control-zoom"):
            assert not page.is_visible(hidden), f"{hidden} is printed"
        for shown in ("#bb-header", "#bb-map", ".bb-legend", ".leaflet-control-scale", "#bb-list"):
            assert page.is_visible(shown), f"{shown} is not printed"
        map_box = page.query_selector("#bb-map").bounding_box()
        list_box = page.query_selector("#bb-list").bounding_box()
        assert map_box["width"] > 1.5 * map_box["height"] and map_box["y"] + map_box["height"] <= list_box["y"]
        assert map_box["y"] + map_box["height"] <= 190 / 25.4 * 96  # header and map within page 1 (A4 less margins)
        # Leaflet follows the printed size (the map redrawn for the page, not cut off)
        size = page.evaluate("() => { const s = BB.map.getSize(); return [s.x, s.y]; }")
        assert abs(size[0] - map_box["width"]) < 3 and abs(size[1] - map_box["height"]) < 3
        assert page.evaluate("() => getComputedStyle(document.getElementById('bb-main')).breakAfter") == "page"
        rows = page.eval_on_selector_all("#bb-rows .bb-row", "rs => rs.map(r => r.innerText)")
        window = _window(layer_data)
        assert len(rows) == len(window)
        first = window.sort_values(["date", "id"]).iloc[0]
        assert first["date"] in rows[0] and first["location"]["en"] in rows[0]
        printed = page.evaluate("""() => [...document.querySelectorAll('#bb-rows .bb-row')[0].querySelectorAll('a')]
            .map(a => getComputedStyle(a, '::after').content)""")
        assert first["sources"][0]["url"] in printed[0]  # printed links show their address
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        pages = re.findall(rb"/Type\s*/Page\b(?!s)", pdf)
        boxes = [tuple(float(v) for v in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)]
        assert len(pages) >= 2  # the map, then the list
        assert boxes and all(abs(b[2] - 842) < 2 and abs(b[3] - 595) < 2 for b in boxes)  # A4 landscape, in points
        assert record.external_requests == []


def test_hostile_catalogue_briefing_executes_nothing(browser, tmp_path_factory, layer_data):
    from tests.test_briefing import TAMPERED_EVENT, UNSAFE_URLS, hostile_layer_data

    layers = hostile_layer_data(layer_data)
    path = _write(tmp_path_factory, layers, f"from=2023-09-01&to=2023-10-31&event=2023-10-01-hostile-script&{VIEW}",
                  "hostile.html")
    with checked_context(browser, offline=True) as ctx:
        page, record = open_file(ctx, path)
        text = panel_text(page)
        assert '<script>window.__pwned=1;alert(1)</script><img src=x onerror="window.__pwned=2"> title' in text
        for row in page.query_selector_all("#bb-rows .bb-row"):
            if "hostile" in (row.get_attribute("data-event") or ""):
                row.query_selector("span:nth-child(2)").click()
                page.wait_for_timeout(50)
        page.click(f'#bb-rows .bb-row[data-event="{TAMPERED_EVENT}"] span:nth-child(2)')
        wait_for_panel(page, "Tampered links </script><script>window.__pwned=5</script>")
        assert page.eval_on_selector_all("#bb-panel a", "as => as.length") == 0  # javascript:, data:, user@host
        for url in UNSAFE_URLS:
            assert url not in page.content()
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.__pwned") is None
        live = page.evaluate("""() => [...document.querySelectorAll('#bb-panel *, #bb-list *, .bb-legend *')]
            .filter(e => ['SCRIPT', 'IMG', 'IFRAME', 'OBJECT', 'EMBED'].includes(e.tagName)).length""")
        assert live == 0
        # every link in the page but the map's own +/- buttons: the live app and the checked sources
        hrefs = page.eval_on_selector_all("a:not(.leaflet-control-zoom a)", "as => as.map(a => a.getAttribute('href'))")
        bad = [h for h in hrefs if not re.match(r"https?://[^/@\\\s]+(/|$)", h or "")]
        assert hrefs and bad == []
        assert record.dialogs == [] and record.external_requests == []


def test_download_briefing_button_gives_the_apps_view(browser, app_url, layer_data, tmp_path):
    from tests.browser.conftest import open_page, wait_for_app
    from tests.test_briefing import payload_of

    with checked_context(browser, accept_downloads=True) as ctx:
        page, record = open_page(ctx, f"{app_url}/?{CRISIS}")
        wait_for_app(page)
        button = page.get_by_role("button", name="Download briefing")
        button.wait_for(timeout=120_000)  # below the map, once the page has run
        with page.expect_download(timeout=60_000) as download:
            button.click()
        path = tmp_path / "downloaded.html"
        download.value.save_as(path)
        assert download.value.suggested_filename == "border-brief-2023-09-01-to-2023-10-31.html"
        payload = payload_of(path.read_text(encoding="utf-8"))
        assert payload["selected"] == ["events", BANJSKA_ATTACK]
        assert payload["visible"] == ["countries", "border", "places", "events", "kfor_areas"]
        assert (payload["meta"]["from"], payload["meta"]["to"]) == ("2023-09-01", "2023-10-31")
        assert payload["meta"]["cutoff"].startswith("latest change in the catalogue store")
        assert record.external_requests == []
        # and the downloaded file itself opens offline with the event's details
        offline = ctx.browser.new_context(offline=True)
        try:
            offline.bb_records = ctx.bb_records
            briefing, _ = open_file(offline, path)
            assert layer_data.feature("events", BANJSKA_ATTACK)["title"] in panel_text(briefing)
        finally:
            offline.close()


def test_place_names_in_the_senders_language(browser, tmp_path_factory, layer_data):
    path = _write(tmp_path_factory, layer_data, f"from=2023-09-01&to=2023-10-31&event={BANJSKA_ATTACK}&{VIEW}&lang=sr",
                  "serbian.html")
    location = layer_data.feature("events", BANJSKA_ATTACK)["location"]
    with checked_context(browser, offline=True) as ctx:
        page, _ = open_file(ctx, path)
        where = next(line for line in panel_text(page).splitlines() if line.startswith("Where:"))
        assert where.startswith(f"Where: {location['sr']} (English: {location['en']}; Albanian: {location['sq']})")
        row = page.inner_text(f'#bb-rows .bb-row[data-event="{BANJSKA_ATTACK}"]')
        assert location["sr"] in row
        assert "place names in Serbian first" in page.inner_text("#bb-header")
