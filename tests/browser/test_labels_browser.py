"""Place labels in the browser: in English, Albanian and Serbian (from the URL and from the
sidebar), beside their places, and never in the way of a click on what lies beneath.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    MAP_FRAME,
    PANEL,
    checked_context,
    click_at,
    map_frame,
    open_page,
    page_point,
    pick_list,
    url_params,
    wait_for_app,
    wait_for_panel_text,
)

# North Mitrovica, a municipal seat: a different name in each language (data/places.geojson).
NORTH_MITROVICA = {"en": "North Mitrovica", "sq": "Mitrovicë e Veriut", "sr": "Severna Mitrovica"}
AT_MITROVICA = "lat=42.89&lon=20.87&zoom=11"
# Leposavić and the one event at the same point (2023-06-14), alone in June 2023.
LEPOSAVIC = (43.1, 20.8)
DETAINED = "2023-06-14-serbia-detains-three-kosovo-police"

_LABEL = """(text) => {
    const span = [...document.querySelectorAll('.bb-place-label span')].find(s => s.textContent === text);
    if (!span || getComputedStyle(span).display === 'none') return null;
    const r = span.getBoundingClientRect(), map = document.querySelector('.leaflet-container').getBoundingClientRect();
    const inside = r.left >= map.left && r.right <= map.right && r.top >= map.top && r.bottom <= map.bottom;
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, inside: inside,
            events: getComputedStyle(span).pointerEvents, shadow: getComputedStyle(span).textShadow};
}"""


@pytest.fixture(scope="module", autouse=True)
def warm_app(browser, app_url):
    """A first map of the server (store, layers and map caches warm) before the timed waits."""
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, f"{app_url}/")
        wait_for_app(page, timeout=120_000)
        map_frame(page, timeout=120_000)


# Generous waits: the machine these tests share is often loaded (nothing here is a timing check).
WAIT_MS = 60_000


def label_box(page, text: str, timeout: float = WAIT_MS) -> dict:
    """Where the map shows the label ``text`` now (in the map frame's pixels); fails if it does not."""
    frame = map_frame(page, timeout=timeout)
    frame.wait_for_function(f"() => ({_LABEL})({text!r}) !== null", timeout=timeout)
    return frame.evaluate(_LABEL, text)


def shown_labels(page) -> list[str]:
    return map_frame(page).evaluate(
        "() => [...document.querySelectorAll('.bb-place-label span')].filter(s => getComputedStyle(s).display !== 'none').map(s => s.textContent)"
    )


@pytest.mark.parametrize("lang", ["en", "sq", "sr"])
def test_a_place_is_labelled_in_the_language_of_the_url(browser, app_url, lang):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, f"{app_url}/?lang={lang}&{AT_MITROVICA}")
        wait_for_app(page, timeout=WAIT_MS)
        box = label_box(page, NORTH_MITROVICA[lang])
        assert box["inside"] and box["events"] == "none" and "255, 255, 255" in box["shadow"]  # white halo
        shown = shown_labels(page)
        for other in set(NORTH_MITROVICA.values()) - {NORTH_MITROVICA[lang]}:
            assert other not in shown
        assert url_params(page).get("lang") == (None if lang == "en" else lang)


def _choose_language(page, option: str) -> None:
    """Open the sidebar's Place names box, type the option's first word and take it with Enter."""
    box = page.get_by_role("combobox", name="Place names")
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option.split()[0])
    page.get_by_role("option", name=option).first.wait_for(timeout=WAIT_MS)
    page.keyboard.press("Enter")
    wait_for_app(page, timeout=WAIT_MS)


def test_the_sidebar_switches_labels_url_and_panel_names(browser, app_url):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, f"{app_url}/?{AT_MITROVICA}")
        wait_for_app(page, timeout=WAIT_MS)
        label_box(page, NORTH_MITROVICA["en"])
        _choose_language(page, "Srpski (Serbian)")
        page.wait_for_function("() => new URL(location.href).searchParams.get('lang') === 'sr'", timeout=WAIT_MS)
        label_box(page, NORTH_MITROVICA["sr"])
        assert NORTH_MITROVICA["en"] not in shown_labels(page)
        _choose_language(page, "Shqip (Albanian)")
        label_box(page, NORTH_MITROVICA["sq"])
        assert url_params(page)["lang"] == "sq"
        # the panel leads with the chosen language and names the place in the other two
        click_at(page, *LEPOSAVIC, "places", "leposavic")
        wait_for_panel_text(page, "Leposaviq", timeout=WAIT_MS)
        panel = page.inner_text(PANEL)
        assert "English: Leposavić" in panel and "Serbian: Leposavić" in panel
        _choose_language(page, "English")
        page.wait_for_function("() => !new URL(location.href).searchParams.has('lang')", timeout=WAIT_MS)
        label_box(page, NORTH_MITROVICA["en"])


def test_a_label_does_not_block_a_marker_click_at_its_position(browser, app_url):
    """The Leposavić label sits beside its dot, over the edge of the one June event marked at
    the same point: a click on the label there reaches the map and selects the event."""
    with checked_context(browser) as ctx:
        lat, lon = LEPOSAVIC
        page, _ = open_page(ctx, f"{app_url}/?lat={lat}&lon={lon}&zoom=13&layers=places,events&from=2023-06-01&to=2023-06-30")
        wait_for_app(page, timeout=WAIT_MS)
        frame = map_frame(page, timeout=WAIT_MS)
        frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=WAIT_MS)
        box = label_box(page, "Leposavić")
        frame_box = page.query_selector(MAP_FRAME).bounding_box()
        x, y, inside = page_point(page, lat, lon)
        assert inside
        # the point of the label nearest to the marker's centre (the marker is 7 px in radius)
        lx = min(max(x, frame_box["x"] + box["left"] + 1), frame_box["x"] + box["right"] - 1)
        ly = min(max(y, frame_box["y"] + box["top"] + 1), frame_box["y"] + box["bottom"] - 1)
        assert ((lx - x) ** 2 + (ly - y) ** 2) ** 0.5 <= 9, "the label should touch the marker here"
        under = frame.evaluate(
            "([x, y]) => { const el = document.elementFromPoint(x, y); return el ? el.closest('.bb-place-label') === null : null; }",
            [lx - frame_box["x"], ly - frame_box["y"]],
        )
        assert under is True, "the label must not be what the pointer is over"
        page.mouse.click(lx, ly)
        frame.wait_for_timeout(300)
        offered = pick_list(page)
        if offered:  # the place's dot lies there too: both are offered, the event among them
            assert f"events|{DETAINED}" in offered
            page.frame_locator(MAP_FRAME).locator(f'.bb-pick button[data-bb-pick="events|{DETAINED}"]').click()
        page.wait_for_function(f"() => new URL(location.href).searchParams.get('event') === {DETAINED!r}", timeout=WAIT_MS)
        wait_for_panel_text(page, "detain", timeout=WAIT_MS)
