"""The Timeline and the events CSV as a user gets them: a download clicked, a chart and table read."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.browser.conftest import open_page, wait_for_app
from tests.conftest import BANJSKA_ATTACK

pytestmark = pytest.mark.browser

CHART = '[data-testid="stVegaLiteChart"]'
TABLE = '[data-testid="stDataFrame"]'
# Vega draws one SVG path per datum in the mark's group (legend symbols are in other groups).
DOTS = f"{CHART} g.mark-symbol.role-mark path"


def assert_no_app_errors(page, record) -> None:
    assert record.page_errors == [], record.page_errors
    assert page.locator('[data-testid="stException"]').count() == 0


def download(page, locator) -> bytes:
    """Click ``locator`` as a user would and return the downloaded file's bytes."""
    locator.wait_for(state="visible", timeout=30_000)
    with page.expect_download(timeout=30_000) as info:
        locator.click()
    return Path(info.value.path()).read_bytes()


def dot_positions(page) -> list[dict]:
    """Each dot's centre (from its SVG transform) and its accessible label."""
    page.wait_for_selector(DOTS, timeout=30_000)
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map((path) => {
            const m = /translate\\(([-\\d.e]+),([-\\d.e]+)\\)/.exec(path.getAttribute('transform') || '');
            const radius = path.getBBox().width / 2;
            return {x: m && +m[1], y: m && +m[2], r: radius, label: path.getAttribute('aria-label') || ''};
        })""",
        DOTS,
    )


def test_csv_download_has_bom_integer_fatalities_and_claims(context, app_url, layer_data):
    page, record = open_page(context, app_url + "/layers")
    wait_for_app(page)
    button = page.get_by_role("button", name=re.compile(r"^CSV \(\d+ in window\)$"))
    data = download(page, button)
    in_window = int(re.search(r"\((\d+) in window\)", button.inner_text()).group(1))

    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == in_window > 0
    assert {"claims", "time_precision_meaning", "geo_precision_meaning", "fatalities_note"} <= set(rows[0])
    fatalities = [row["fatalities"] for row in rows if row["fatalities"] != ""]
    assert fatalities and all(re.fullmatch(r"\d+", value) for value in fatalities), fatalities
    banjska = next(row for row in rows if row["id"] == BANJSKA_ATTACK)
    expected = layer_data.full["events"].set_index("id").loc[BANJSKA_ATTACK]
    assert banjska["fatalities"] == str(int(expected["fatalities"]))
    assert banjska["claims"] == "; ".join(f"{c['party']}: {c['claim']}" for c in expected["claims"]) != ""
    assert banjska["location_sq"] == expected["location"]["sq"]  # ë survives the round trip
    assert_no_app_errors(page, record)


def test_timeline_shows_every_event_as_a_dot_and_every_row_without_scrolling(context, app_url, layer_data):
    page, record = open_page(context, app_url + "/timeline")
    wait_for_app(page)
    # the Timeline opens on the 2023 crisis; the whole record is one click away
    caption = page.get_by_text(re.compile(r"^[\d,]+ events from ")).inner_text()
    dates = layer_data.full["events"]["date"].astype(str)
    assert int(caption.split(" ", 1)[0].replace(",", "")) == int(((dates >= "2023-05-01") & (dates <= "2023-11-30")).sum())
    page.get_by_text("Whole record (with the background)", exact=True).click()
    wait_for_app(page)
    page.get_by_text(re.compile(rf"^{len(dates)} events from ")).wait_for(timeout=30_000)
    caption = page.get_by_text(re.compile(r"^[\d,]+ events from ")).inner_text()
    events = int(caption.split(" ", 1)[0].replace(",", ""))
    assert events == len(layer_data.full["events"])

    dots = dot_positions(page)
    assert len(dots) == events
    assert len({(d["x"], d["y"]) for d in dots}) == events, "two events share one dot"
    # the two Banjska battles of 24 September 2023 sit in separate lanes, not on top of each other
    banjska = [d for d in dots if "Sep 24, 2023" in d["label"] and "event_type: Battles" in d["label"]]
    assert len(banjska) == 2, [d["label"] for d in banjska]
    first, second = banjska
    assert first["x"] == pytest.approx(second["x"])
    assert abs(first["y"] - second["y"]) >= first["r"] + second["r"] - 1

    table = page.locator(TABLE)
    table.wait_for(state="visible", timeout=30_000)
    assert table.bounding_box()["height"] >= (events + 1) * 30
    scroll = page.evaluate(
        """(selector) => {
            const scroller = document.querySelector(selector + ' .dvn-scroller');
            return scroller && {scroll: scroller.scrollHeight, client: scroller.clientHeight};
        }""",
        TABLE,
    )
    assert scroll is not None, "the table's scroll area was not found"
    assert scroll["scroll"] <= scroll["client"] + 1, scroll
    assert_no_app_errors(page, record)
