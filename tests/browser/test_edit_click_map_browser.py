"""The Edit page's "Click on the map" placement, in a browser: the offline map draws its
country outlines and a click on it moves the event's coordinates there."""

from __future__ import annotations

import pytest

from tests.browser.conftest import MAP_FRAME, add_account, checked_context, open_page, sign_in, wait_for_app

pytestmark = pytest.mark.browser


def _coordinates(page) -> tuple[float, float]:
    lat = float(page.get_by_label("Latitude (°N)", exact=True).input_value())
    lon = float(page.get_by_label("Longitude (°E)", exact=True).input_value())
    return lat, lon


def test_clicking_the_edit_pages_offline_map_places_the_new_event(browser, app_url):
    add_account("Map Clicker", "analyst")
    with checked_context(browser) as ctx:
        page, record = open_page(ctx, app_url + "/edit")
        sign_in(page, "Map Clicker")
        page.get_by_text("0 complete sources").wait_for(timeout=60_000)
        wait_for_app(page)
        page.get_by_text("Click on the map", exact=True).click()
        wait_for_app(page)
        before = _coordinates(page)
        iframe = page.locator(MAP_FRAME).last
        iframe.wait_for(timeout=60_000)
        frame = iframe.element_handle().content_frame()
        # the offline basemap drew (its country names follow the outlines, from BB.outlines)
        frame.wait_for_function("() => document.querySelectorAll('.bb-country-label').length > 0", timeout=60_000)
        box = iframe.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.30, box["y"] + box["height"] * 0.35)
        page.wait_for_function(
            "([lat]) => { const f = [...document.querySelectorAll('input')].find(i => i.getAttribute('aria-label') === 'Latitude (°N)');"
            " return f && Math.abs(parseFloat(f.value) - lat) > 1e-4; }",
            arg=[before[0]], timeout=60_000,
        )
        wait_for_app(page)
        after = _coordinates(page)
        assert after != before
        # up and left of the centre: north and west of where the point was
        assert after[0] > before[0] and after[1] < before[1], (before, after)
        assert not record.external_requests, record.external_requests
