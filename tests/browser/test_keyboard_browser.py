"""A keyboard-only user (issue 16): Tab, Shift+Tab, Enter and Escape, nothing else.

The test presses keys only; it reads the page (which element has focus, what the panel says,
the URL) to decide the next key, as a sighted keyboard user reads the screen. Escape closes the
panel through the Close button's Streamlit shortcut ("Esc"), which Streamlit catches on the
page; inside the map's frame the keys stay with the map (README, Accessibility).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import MAP_FRAME, PANEL, checked_context, map_frame, open_page, url_params, wait_for_app, wait_for_panel_text
from tests.conftest import BANJSKA_ATTACK

pytestmark = pytest.mark.browser

FEED_BUTTON = ".st-key-bb_feed_list button"
_FOCUSED_TEXT = """(selector) => { const el = document.activeElement;
    return el && el.matches(selector) ? el.innerText : null; }"""


def tab_to(page, selector: str, contains: str | None = None, *, key: str = "Tab", limit: int = 400) -> str:
    """Press ``key`` (Tab or Shift+Tab) until the focused element matches ``selector`` (and shows
    ``contains``); its text."""
    for _ in range(limit):
        page.keyboard.press(key)
        text = page.evaluate(_FOCUSED_TEXT, selector)
        if text is not None and (contains is None or contains in text):
            return text
    raise AssertionError(f"{limit} presses of {key} never reached {selector} {contains or ''}")


def test_a_keyboard_user_selects_an_event_from_the_feed_reads_it_closes_it_and_selects_another(browser, app_url):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, app_url + "/")
        wait_for_app(page, timeout=60_000)
        page.locator(FEED_BUTTON).first.wait_for(timeout=60_000)
        map_frame(page)
        # Tab through the sidebar and the feed to the Banjska attack; Enter selects it.
        tab_to(page, FEED_BUTTON, "ambushed at Banjska")
        page.keyboard.press("Enter")
        wait_for_panel_text(page, "Kosovo police ambushed at Banjska", timeout=60_000)
        # the panel is drawn first; the same run writes event= into the address bar when it ends
        page.wait_for_function("() => new URLSearchParams(location.search).has('event')", timeout=60_000)
        assert url_params(page).get("event") == BANJSKA_ATTACK
        details = page.inner_text(PANEL)
        for expected in ("When:", "Where:", "Actors:", "Sources"):
            assert expected in details, expected
        # The live region says what was selected.
        live = page.locator(f'{PANEL} [role="status"][aria-live="polite"]')
        assert "Kosovo police ambushed at Banjska" in live.inner_text()
        # Escape closes the panel: the event list is back and event= leaves the URL.
        page.keyboard.press("Escape")
        page.locator(FEED_BUTTON).first.wait_for(timeout=60_000)
        page.wait_for_function("() => !new URLSearchParams(location.search).has('event')", timeout=30_000)
        assert "Event list shown" in page.locator(f'{PANEL} [role="status"]').inner_text()
        # Shift+Tab back up into the list and Enter on another event.
        other = tab_to(page, FEED_BUTTON, key="Shift+Tab")
        if "ambushed at Banjska" in other:
            other = tab_to(page, FEED_BUTTON, key="Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_function("() => new URLSearchParams(location.search).has('event')", timeout=60_000)
        chosen = url_params(page)["event"]
        assert chosen != BANJSKA_ATTACK
        page.locator(f"{PANEL} h2").first.wait_for(timeout=30_000)
        title = page.locator(f"{PANEL} h2").first.inner_text().strip()
        assert title and title in other, (title, other)


def test_the_map_controls_show_a_visible_focus_ring(browser, app_url):
    """Tab from the page into the map: the zoom buttons and the legend get a visible outline."""
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, app_url + "/")
        wait_for_app(page, timeout=60_000)
        frame = map_frame(page)
        seen = {}
        for _ in range(400):
            page.keyboard.press("Tab")
            state = frame.evaluate("""() => { const el = document.activeElement;
                if (!el || el === document.body || !el.closest('.leaflet-control')) return null;
                const s = getComputedStyle(el);
                return {cls: (el.className || '') + ' ' + el.tagName + ' ' + (el.closest('.leaflet-control').className || ''),
                        outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")
            if state:
                kind = ("zoom" if "leaflet-control-zoom" in state["cls"] else
                        "legend" if "bb-legend-box" in state["cls"] else state["cls"])
                seen.setdefault(kind, state)
            if "zoom" in seen and "legend" in seen:
                break
        assert "zoom" in seen and "legend" in seen, seen
        for kind, state in seen.items():
            assert state["outline"] != "none" and state["width"] >= 2, (kind, state)
        assert page.query_selector(MAP_FRAME) is not None
