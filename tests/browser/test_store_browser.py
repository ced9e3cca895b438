"""The living catalogue in the browser: an analyst imports a report, a colleague sees it."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from tests.browser.conftest import add_account, checked_context, map_frame, open_page, sign_in, wait_for_app
from tests.conftest import REPO

pytestmark = pytest.mark.browser
PANEL = ".st-key-bb_panel"
NEW_ID = "2023-10-02-browser-test-imported-report"


def _report(tmp_path):
    events = json.loads((REPO / "data" / "events.geojson").read_text(encoding="utf-8"))["features"]
    base = next(f for f in events if f["properties"]["geo_precision"] == 1 and f["properties"]["date"] >= "2023-09-01")
    feature = copy.deepcopy(base)
    feature["properties"]["id"] = NEW_ID
    feature["properties"]["title"] = feature["properties"]["name"] = "Browser test: report imported by an analyst"
    path = tmp_path / "report.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False), encoding="utf-8")
    broken = tmp_path / "broken.geojson"
    bad = copy.deepcopy(feature)
    bad["properties"]["date"] = "2 October 2023"
    broken.write_text(json.dumps({"type": "FeatureCollection", "features": [bad]}), encoding="utf-8")
    return path, broken


def test_an_import_is_seen_by_a_colleague_and_can_be_undone(browser, app_url, tmp_path):
    report, broken = _report(tmp_path)
    add_account("Browser Analyst", "analyst")
    with checked_context(browser) as analyst:
        page, _ = open_page(analyst, app_url + "/layers")
        sign_in(page, "Browser Analyst")
        # a broken file: every problem listed, nothing written
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(broken))
        page.get_by_text("nothing was written").first.wait_for(timeout=30_000)
        assert "field 'date'" in page.inner_text("body")
        # the good file: preview, then one batch
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(report))
        page.get_by_text("1 to add, 0 to change").wait_for(timeout=30_000)
        since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
        page.get_by_role("button", name="Import 1 feature(s) as one batch").click()
        page.get_by_text("Every viewer sees it now").wait_for(timeout=30_000)

        with checked_context(browser) as viewer:
            other, _ = open_page(viewer, app_url + f"/?event={NEW_ID}")
            wait_for_app(other)
            other.wait_for_function(
                "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.includes(text); }",
                arg=[PANEL, "Browser test: report imported by an analyst"],
                timeout=30_000,
            )
            other.get_by_text("History (1 revision)").click()
            assert "Browser Analyst" in other.inner_text(PANEL)

            # a briefing opened with "what changed since": the new report is listed, ringed and badged
            other, _ = open_page(viewer, app_url + f"/?since={since}")
            wait_for_app(other)
            listed = other.get_by_role("button", name="New: Browser test: report imported by an analyst (Events)")
            listed.wait_for(timeout=30_000)
            frame = map_frame(other)
            frame.wait_for_function("() => window.BB && BB.changeMarks && BB.changeMarks.getLayers().length === 1", timeout=20_000)
            listed.click()
            other.get_by_text("New since").first.wait_for(timeout=20_000)

        # undo the batch: the report is gone for everyone
        wait_for_app(page)
        page.get_by_text("Recent changes (batches)").click()
        page.get_by_role("button", name="Undo").first.click()
        page.get_by_text("undone").first.wait_for(timeout=30_000)

    with checked_context(browser) as viewer:
        other, _ = open_page(viewer, app_url + f"/?event={NEW_ID}")
        wait_for_app(other)
        other.get_by_text(f"No event '{NEW_ID[:39]}").first.wait_for(timeout=30_000)
