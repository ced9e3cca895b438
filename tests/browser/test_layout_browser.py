"""The Map page's layout at three window sizes (issue 13): the map fills the window under a
one-line title, the panel beside it is as high as the map and scrolls on its own; on a phone
the map comes first at full width and the panel below it. Measured in a real browser."""

from __future__ import annotations

import pytest

from tests.browser.conftest import MAP_FRAME, checked_context, map_frame, open_page, wait_for_app

pytestmark = pytest.mark.browser

SIDE = ".st-key-bb_side"  # the panel column's scrolling box (ui/style.py)
DESKTOPS = [(1920, 1080), (1366, 768)]

_TITLE = """() => {
    const h = document.querySelector('[data-testid="stMainBlockContainer"] h1');
    const r = h.getBoundingClientRect(), line = parseFloat(getComputedStyle(h).lineHeight);
    return {height: r.height, line: line, clipped: h.scrollWidth > h.clientWidth + 1};
}"""


def open_map_at(ctx, app_url: str, width: int, height: int):
    """The Map page loaded in a window of ``width`` × ``height`` (set before the app loads)."""
    page, _ = open_page(ctx, "about:blank")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(app_url + "/")
    wait_for_app(page)
    # the first page of a fresh server also loads and caches the layers: give it time
    page.wait_for_selector(MAP_FRAME, timeout=90_000)
    frame = map_frame(page)
    page.wait_for_selector(f"{SIDE} [class*='st-key-bb_feed_t']", timeout=30_000)
    page.wait_for_timeout(300)  # the stylesheet has sized the iframe
    return page, frame


@pytest.mark.parametrize(("width", "height"), DESKTOPS, ids=[f"{w}x{h}" for w, h in DESKTOPS])
def test_the_map_fills_the_window_beside_a_panel_of_its_height(browser, app_url, width, height):
    with checked_context(browser) as ctx:
        page, frame = open_map_at(ctx, app_url, width, height)
        box = page.query_selector(MAP_FRAME).bounding_box()
        assert box["height"] >= 0.75 * height, (box, height)
        assert box["y"] + box["height"] <= height + 1, "the whole map is in the window without scrolling"
        # Leaflet's map takes the whole iframe, not the pixel height the component was given
        inner = frame.evaluate("() => BB.map.getContainer().getBoundingClientRect().height")
        assert abs(inner - box["height"]) <= 2, (inner, box["height"])

        title = page.evaluate(_TITLE)
        assert title["height"] < 1.5 * title["line"] and not title["clipped"], title

        side = page.query_selector(SIDE).bounding_box()
        assert side["x"] >= box["x"] + box["width"], "the panel is beside the map"
        assert abs(side["y"] - box["y"]) <= 2 and abs(side["height"] - box["height"]) <= 2, (side, box)


@pytest.mark.parametrize(("width", "height"), DESKTOPS, ids=[f"{w}x{h}" for w, h in DESKTOPS])
def test_the_panel_scrolls_on_its_own(browser, app_url, width, height):
    with checked_context(browser) as ctx:
        page, _ = open_map_at(ctx, app_url, width, height)
        sizes = page.eval_on_selector(SIDE, "e => [e.scrollHeight, e.clientHeight, e.scrollTop]")
        assert sizes[0] > sizes[1] and sizes[2] == 0, "the feed is longer than the panel: it must scroll"
        side = page.query_selector(SIDE).bounding_box()
        page.mouse.move(side["x"] + side["width"] / 2, side["y"] + side["height"] / 2)
        page.mouse.wheel(0, 600)
        page.wait_for_function("(sel) => document.querySelector(sel).scrollTop > 100", arg=SIDE, timeout=5_000)
        assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop + window.scrollY") < 5
        assert page.query_selector(MAP_FRAME).bounding_box()["y"] == pytest.approx(side["y"], abs=2), "the map stays put"


def test_on_a_phone_the_map_comes_first_at_full_width(browser, app_url):
    with checked_context(browser) as ctx:
        page, frame = open_map_at(ctx, app_url, 390, 844)
        box = page.query_selector(MAP_FRAME).bounding_box()
        side = page.query_selector(SIDE).bounding_box()
        assert box["width"] >= 0.9 * 390 and box["x"] < 30, box
        assert 0.5 * 844 <= box["height"] <= 844, box
        assert side["y"] >= box["y"] + box["height"], "the panel is below the map"
        assert side["width"] >= 0.9 * 390
        title = page.evaluate(_TITLE)
        assert title["height"] < 1.5 * title["line"] and not title["clipped"], title
        inner = frame.evaluate("() => BB.map.getContainer().getBoundingClientRect().height")
        assert abs(inner - box["height"]) <= 2
