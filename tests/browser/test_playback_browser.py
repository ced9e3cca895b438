"""Time playback (issue 13): the map's Play / Pause control, pressed with the mouse.

What is drawn is read from the page as a viewer sees it: the inked pixels of the
event layer's canvas (and, while markercluster drew clusters as HTML, the numbers
on its cluster icons). Nothing here calls the app's JavaScript.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import MAP_FRAME, map_frame, open_page, page_point, url_params, wait_for_app
from tests.browser.test_interaction_browser import KFOR_NORTH, clear_spot, feature, map_bounds

pytestmark = pytest.mark.browser

WINDOW = ("2023-09-20", "2023-10-10")
# Played through: long enough (over 70 frames) that Pause is pressed well before the end,
# even on a loaded machine.
LONG_WINDOW = ("2023-09-15", "2023-11-20")  # the catalogue ends on 20 November

# Pixels with any ink on the event layer's canvas, and the events counted on cluster icons drawn as HTML.
_DRAWN = """() => {
  let ink = 0;
  for (const c of document.querySelectorAll('.leaflet-bbEvents-pane canvas')) {
    if (!c.width || !c.height) continue;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let k = 3; k < data.length; k += 4) if (data[k] > 0) ink++;
  }
  let clustered = 0;
  for (const el of document.querySelectorAll('.marker-cluster')) clustered += parseInt(el.textContent, 10) || 0;
  return [clustered, ink];
}"""


def drawn(frame) -> tuple[int, int]:
    return tuple(frame.evaluate(_DRAWN))


def status(page) -> str:
    return page.frame_locator(MAP_FRAME).get_by_test_id("bb-play-status").inner_text()


def test_play_draws_events_as_their_dates_pass_pause_stops_and_the_window_can_be_kept(context, app_url):
    page, _ = open_page(context, f"{app_url}/?from={LONG_WINDOW[0]}&to={LONG_WINDOW[1]}")
    wait_for_app(page, 90_000)
    frame = map_frame(page, 90_000)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=60_000)
    frame.wait_for_timeout(500)
    controls = page.frame_locator(MAP_FRAME)
    assert status(page) == f"Window {LONG_WINDOW[0]} – {LONG_WINDOW[1]}"
    everything = drawn(frame)
    assert everything[1] > 0 or everything[0] > 0, "no events drawn in the window"

    controls.get_by_role("button", name="Play", exact=True).click()
    controls.get_by_role("button", name="Pause", exact=True).wait_for(timeout=5_000)
    seen, days = [], []
    for _ in range(12):
        seen.append(drawn(frame))
        days.append(status(page))
        frame.wait_for_timeout(250)
    assert len(set(days)) >= 4, days  # the day shown moves on
    assert len(set(seen)) >= 3, seen  # ... and what is drawn changes with it
    assert seen[0] != everything  # the first frames draw fewer events than the whole window
    assert seen[0][0] + seen[0][1] < everything[0] + everything[1]

    controls.get_by_role("button", name="Pause", exact=True).click()
    controls.get_by_role("button", name="Play", exact=True).wait_for(timeout=5_000)
    frame.wait_for_timeout(400)
    paused, paused_day = drawn(frame), status(page)
    frame.wait_for_timeout(1_500)
    assert drawn(frame) == paused and status(page) == paused_day  # nothing moves while paused
    assert paused_day.startswith("Up to ")
    day = paused_day.split()[2]
    assert LONG_WINDOW[0] <= day < LONG_WINDOW[1]

    controls.get_by_role("button", name="Keep this window", exact=True).click()
    page.wait_for_function(
        "(day) => new URL(location.href).searchParams.get('to') === day", arg=day, timeout=10_000
    )
    # the app reruns with the kept window: its new map's control shows it
    page.wait_for_function(
        """([sel, text]) => { const f = document.querySelector(sel);
                             const el = f && f.contentDocument && f.contentDocument.querySelector('[data-testid="bb-play-status"]');
                             return !!el && el.textContent === text; }""",
        arg=[MAP_FRAME, f"Window {LONG_WINDOW[0]} – {day}"],
        timeout=30_000,
    )
    wait_for_app(page)
    params = url_params(page)
    assert (params["from"], params["to"]) == (LONG_WINDOW[0], day)


def hover_text(page, lat: float, lon: float) -> str:
    """The map's hover label at (lat, lon), with the mouse there ("" when none)."""
    x, y, inside = page_point(page, lat, lon)
    assert inside
    page.mouse.move(x + 1, y + 1)
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    tip = page.frame_locator(MAP_FRAME).locator(".bb-hover")
    return tip.inner_text() if tip.count() else ""


def test_step_buttons_walk_the_window_and_dated_areas_follow(context, app_url, layer_data):
    """Stepping back from the window's end: the KFOR reinforcement in the north (from
    6 October) is under the pointer on 10 October, not on 1 October; the whole window
    again shows it."""
    page, _ = open_page(context, f"{app_url}/?from={WINDOW[0]}&to={WINDOW[1]}")
    wait_for_app(page, 90_000)
    frame = map_frame(page, 90_000)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=60_000)
    north = feature(layer_data, "kfor_areas", KFOR_NORTH)
    lat, lon = clear_spot(layer_data, north.geometry, map_bounds(page))
    assert north["name"] in hover_text(page, lat, lon)
    controls = page.frame_locator(MAP_FRAME)
    back = controls.get_by_role("button", name="Step back", exact=True)
    back.click()
    assert status(page) == f"Up to {WINDOW[1]} (window from {WINDOW[0]})"
    assert north["name"] in hover_text(page, lat, lon)
    for _ in range(9):
        back.click()
    assert status(page) == f"Up to 2023-10-01 (window from {WINDOW[0]})"
    assert north["name"] not in hover_text(page, lat, lon)
    controls.get_by_role("button", name="Step forward", exact=True).click()
    assert status(page) == f"Up to 2023-10-02 (window from {WINDOW[0]})"
    controls.get_by_role("button", name="Show the whole window", exact=True).click()
    assert status(page) == f"Window {WINDOW[0]} – {WINDOW[1]}"
    assert north["name"] in hover_text(page, lat, lon)
