"""The Edit page in a browser: an analyst adds an event from a gazetteer place, a viewer reads it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import add_account, checked_context, open_page, sign_in, wait_for_app
from ui.edit import SOURCE_WIDTHS

pytestmark = pytest.mark.browser
PANEL = ".st-key-bb_panel"
TITLE = "Browser test: crossing closed by an analyst"
ROW_MARKER_PX = 33  # the data editor's row-marker column (tick boxes to delete rows)
NEW_ID = "2023-10-01-browser-test-crossing-closed-by-an-analyst"


def _type_into(page, label: str, text: str, *, area: bool = False) -> None:
    """Type into a visible text field as a user does, then leave it (Streamlit commits on blur)."""
    field = page.get_by_label(label, exact=True)
    field.click()
    page.keyboard.type(text)
    page.keyboard.press("Control+Enter" if area else "Enter")
    field.blur()  # the next keystrokes must not land here
    wait_for_app(page)


def _choose(page, label: str, option: str) -> None:
    """Open a select box, type to filter its options and pick one with the keyboard."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.click()
    wait_for_app(page)


_FOCUS_IN_TABLE = """() => {
    const focused = document.activeElement;
    return focused && (focused.classList.contains("gdg-input")
        || !!focused.closest(".st-key-bb_edit_sources"));
}"""


def _add_source(page, cells: dict[str, str]) -> None:
    """Click the sources table's empty last row, then each cell of the new row, and type it.

    The columns have fixed widths (ui.edit.SOURCE_WIDTHS) after the row-marker column.
    Each finished cell reruns the app; the next cell is typed once that run is over.
    """
    table = page.locator(".st-key-bb_edit_sources [data-testid='stDataFrameResizable']").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    row_y = box["y"] + box["height"] - 17  # the "add a row" row, then the new row
    left = box["x"] + ROW_MARKER_PX
    for column, text in cells.items():
        page.mouse.click(left + SOURCE_WIDTHS[column] / 2, row_y)
        page.wait_for_function(_FOCUS_IN_TABLE)
        page.wait_for_timeout(300)
        page.keyboard.type(text)
        page.wait_for_timeout(300)  # the cell editor takes the last keystrokes before Tab closes it
        page.keyboard.press("Tab")
        page.wait_for_timeout(500)
        wait_for_app(page)
        left += SOURCE_WIDTHS[column]
    page.get_by_text("1 complete source (publisher, title, date and link)").wait_for(timeout=15_000)


def test_an_analyst_adds_an_event_a_viewer_reads_it_then_it_is_retired(browser, app_url):
    add_account("Browser Editor", "analyst")
    with checked_context(browser) as analyst:
        page, record = open_page(analyst, app_url + "/edit")
        page.get_by_text("Sign in as an analyst").wait_for(timeout=60_000)  # anonymous: no form
        assert page.get_by_role("button", name="Save", exact=True).count() == 0
        sign_in(page, "Browser Editor")
        page.get_by_text("0 complete sources").wait_for(timeout=60_000)  # the form's first run is over
        wait_for_app(page)
        save = page.get_by_role("button", name="Save", exact=True)
        _choose(page, "Gazetteer place", "Jarinje crossing")
        # the place's names and id fill the fields (once the run the choice started is over)
        expect(page.get_by_label("English", exact=True)).to_have_value("Jarinje crossing", timeout=15_000)
        expect(page.get_by_label("Related ids (places it concerns, main place first; comma-separated)")).to_have_value(
            "jarinje-crossing", timeout=15_000)
        wait_for_app(page)
        _type_into(page, "Title (short headline)", TITLE)
        page.get_by_text(NEW_ID).first.wait_for(timeout=10_000)
        _type_into(page, "Actors (one per line)", "Kosovo Police", area=True)
        _type_into(page, "Summary (2–4 sentences in your own words, at most 900 characters)",
                   "A test event added in the browser by an analyst.", area=True)
        _add_source(page, {"publisher": "Browser Test Wire", "title": "Crossing closed", "date": "2023-10-01",
                           "url": "https://example.org/crossing"})

        save.click()
        page.get_by_text("Saved revision 1 of").wait_for(timeout=30_000)
        assert not record.external_requests, record.external_requests

        with checked_context(browser) as viewer:
            other, _ = open_page(viewer, app_url + f"/?event={NEW_ID}")
            wait_for_app(other)
            other.wait_for_function(
                "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.includes(text); }",
                arg=[PANEL, TITLE],
                timeout=30_000,
            )
            text = other.inner_text(PANEL)
            assert "Jarinje" in text and "Browser Test Wire" in text and "Kosovo Police" in text

        # retire it again, with a reason, so later tests see the original catalogue
        wait_for_app(page)
        page.get_by_text(f"Retire {NEW_ID}").click()
        retire = page.get_by_role("button", name="Retire", exact=True)
        assert retire.is_disabled()  # no reason yet
        _type_into(page, "Reason (required)", "browser test event")
        retire.click()
        page.get_by_text("Retired (revision 2)").wait_for(timeout=30_000)

    with checked_context(browser) as viewer:
        other, _ = open_page(viewer, app_url + f"/?event={NEW_ID}")
        wait_for_app(other)
        other.get_by_text(f"No event '{NEW_ID[:39]}").first.wait_for(timeout=30_000)
