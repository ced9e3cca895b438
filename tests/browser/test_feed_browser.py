"""The panel's event feed and a deep link to an event (issue 13), as a user works: the
mouse and the keyboard on the feed's buttons, a shared link opened in a new session; the
panel, the address bar and what the map shows are read back."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    MAP_FRAME,
    PANEL,
    click_event,
    map_frame,
    open_page,
    page_point,
    url_params,
    wait_for_app,
    wait_for_panel_text,
)
from tests.conftest import BANJSKA_ATTACK

pytestmark = pytest.mark.browser

FEED_BUTTONS = f"{PANEL} [class*='st-key-bb_feed_t'] button"
BELGRADE_RELEASE = "2023-10-04-radoicic-released"  # at Belgrade, outside the map's opening view
OHRID = "2023-03-18-ohrid-implementation-annex"  # exact location (precision 1), far south
KIRBY = "2023-09-29-kirby-serbian-military-buildup"  # region only (precision 3)


def highlighted(page) -> str | None:
    return map_frame(page).evaluate("() => BB.shown")


def wait_for_url(page, name: str, value: str | None, timeout: float = 10_000) -> None:
    page.wait_for_function(
        "([n, v]) => new URL(location.href).searchParams.get(n) === v", arg=[name, value], timeout=timeout
    )


def feed_titles(page) -> list[str]:
    return [b.inner_text() for b in page.query_selector_all(FEED_BUTTONS)]


def open_map(context, url: str):
    """The Map page at ``url``; the first page of a fresh server also loads and caches the
    layers, so it gets more time."""
    page, _ = open_page(context, url)
    wait_for_app(page)
    page.wait_for_selector(MAP_FRAME, timeout=90_000)
    return page


def test_choosing_an_event_in_the_feed_selects_it_and_brings_the_map_to_it(context, app_url, layer_data):
    page = open_map(context, app_url + "/")
    frame = map_frame(page)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=30_000)
    row = layer_data.full["events"].set_index("id").loc[BELGRADE_RELEASE]
    lat, lon = row.geometry.y, row.geometry.x
    assert not page_point(page, lat, lon)[2], "the test needs an event outside the opening view"

    titles = feed_titles(page)
    dates = [t.split("·")[0].strip() for t in titles]
    assert dates == sorted(dates, reverse=True), "newest first"
    button = page.locator(FEED_BUTTONS, has_text=row["title"])
    button.scroll_into_view_if_needed()
    button.click()
    wait_for_url(page, "event", BELGRADE_RELEASE)
    wait_for_panel_text(page, "Belgrade")
    assert row["title"] in page.inner_text(PANEL) and "When:" in page.inner_text(PANEL)
    frame.wait_for_function("(id) => BB.shown === 'events|' + id", arg=BELGRADE_RELEASE, timeout=5_000)
    page.wait_for_timeout(500)  # the map pans
    assert page_point(page, lat, lon)[2], "the map brought the chosen event into view"


def test_the_feed_is_searched_and_used_with_the_keyboard(context, app_url, layer_data):
    from ui.feed import feed_events

    page = open_map(context, app_url + "/?from=2023-09-01&to=2023-10-31")
    page.wait_for_selector(FEED_BUTTONS)
    everything = len(feed_titles(page))
    search = page.get_by_role("textbox", name="Search events")
    search.click()
    search.fill("Banjska")
    search.press("Enter")
    expected = feed_events(layer_data.full["events"].query("'2023-09-01' <= date <= '2023-10-31'"), "Banjska")
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n", arg=[FEED_BUTTONS, len(expected)])
    assert 0 < len(expected) < everything
    assert [t.split("\n")[-1] for t in feed_titles(page)][0].startswith(expected.iloc[0]["title"][:20])

    # Tab from the search box to the first event, Enter chooses it
    search.focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement && document.activeElement.matches(sel)", FEED_BUTTONS):
            break
    else:
        raise AssertionError("Tab never reached the feed's first event")
    page.keyboard.press("Enter")
    wait_for_url(page, "event", expected.iloc[0]["id"])
    wait_for_panel_text(page, expected.iloc[0]["title"])


@pytest.mark.parametrize(("event_id", "most"), [(OHRID, 13), (KIRBY, 10)], ids=["exact", "region-only"])
def test_a_link_to_an_event_opens_on_it_with_its_surroundings(context, app_url, layer_data, event_id, most):
    page = open_map(context, f"{app_url}/?event={event_id}")
    frame = map_frame(page)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=30_000)
    page.wait_for_function("() => new URL(location.href).searchParams.has('zoom')", timeout=10_000)
    zoom = int(url_params(page)["zoom"])
    assert 9 <= zoom <= most, zoom
    row = layer_data.full["events"].set_index("id").loc[event_id]
    assert page_point(page, row.geometry.y, row.geometry.x)[2], "the event is in view"
    assert highlighted(page) == f"events|{event_id}"
    ring = frame.evaluate("() => BB.map.hasLayer(BB.ring) && [BB.ring.getLatLng().lat, BB.ring.getLatLng().lng]")
    assert ring == pytest.approx([row.geometry.y, row.geometry.x], abs=1e-4), "the event is ringed on the map"
    wait_for_panel_text(page, row["title"][:30])


def test_events_at_one_point_stay_reachable_from_a_deep_link(context, app_url):
    # the monastery siege and the weapons found there the next day share one point
    page = open_map(context, f"{app_url}/?event=2023-09-24-banjska-monastery-siege")
    wait_for_panel_text(page, "Monastery")
    assert int(url_params(page).get("zoom", "13")) <= 13
    click_event(page, "2023-09-25-banjska-weapons-seized")
    wait_for_url(page, "event", "2023-09-25-banjska-weapons-seized")
    click_event(page, BANJSKA_ATTACK)
    wait_for_panel_text(page, "Bunjaku")
