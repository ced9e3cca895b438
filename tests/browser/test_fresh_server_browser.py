"""Browser tests that need their own app server: hostile catalogue text, a fresh server's first URL."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import REPO, checked_context, click_feature, map_frame, open_page, start_app, stop_app, wait_for_app

pytestmark = pytest.mark.browser

HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script> & "quotes"'


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """The app with an event catalogue whose first event carries HTML and script in its text."""
    folder = tmp_path_factory.mktemp("hostile")
    catalogue = json.loads((REPO / "data" / "events.geojson").read_text(encoding="utf-8"))
    # an event alone at its place (Ohrid), so the click cannot land on a neighbour
    (target,) = [f["properties"] for f in catalogue["features"] if f["properties"]["id"] == "2023-03-18-ohrid-implementation-annex"]
    target["title"] = HOSTILE_TITLE
    target["name"] = HOSTILE_TITLE
    target["summary"] = "Summary with <b>markup</b> and [a link](javascript:alert(1)) and ![img](https://evil.example/x.png)"
    path = folder / "events.geojson"
    path.write_text(json.dumps(catalogue), encoding="utf-8")
    # its own store, seeded from this catalogue on the first page load
    process, url = start_app({"BORDER_BRIEF_EVENTS_FILE": str(path), "BORDER_BRIEF_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite'}"})
    yield url, target["id"]
    stop_app(process)


def test_hostile_event_text_is_shown_literally_and_runs_nothing(context, hostile_app):
    url, event_id = hostile_app
    page, record = open_page(context, url + "/")
    wait_for_app(page)
    frame = map_frame(page)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events")
    # hover label is built with textContent
    click_feature(page, "events", event_id)
    page.wait_for_function(
        "(t) => document.querySelector('.st-key-bb_panel') && document.querySelector('.st-key-bb_panel').innerText.includes(t)",
        arg="markup",
        timeout=20_000,
    )
    panel = page.inner_text(".st-key-bb_panel")
    assert '<img src=x onerror="window.__pwned=1">' in panel  # shown as text
    assert "<b>markup</b>" in panel and "nan" not in panel
    assert page.query_selector(".st-key-bb_panel img") is None
    assert page.query_selector(".st-key-bb_panel a[href^='javascript']") is None
    assert page.evaluate("() => window.__pwned") is None
    assert frame.evaluate("() => window.__pwned") is None
    assert record.dialogs == [] and record.external_requests == []
    # the Timeline table shows it as text too
    page.goto(url + "/timeline")
    wait_for_app(page)
    page.get_by_role("heading", name="Timeline").wait_for()
    assert page.evaluate("() => window.__pwned") is None


def test_a_fresh_servers_first_request_for_a_page_gets_the_full_app(browser):
    """The first URL a new server sees is a shared link to /timeline with a window."""
    process, url = start_app()
    try:
        with checked_context(browser) as context:
            page, record = open_page(context, url + "/timeline?from=2023-09-24&to=2023-09-30")
            wait_for_app(page)
            page.get_by_role("heading", name="Timeline").wait_for(timeout=30_000)
            page.get_by_role("checkbox", name="Events").wait_for(timeout=30_000)  # the shared sidebar is there
            page.wait_for_function("() => new URL(location.href).searchParams.get('from') === '2023-09-24'")
            assert "/timeline" in page.url
    finally:
        stop_app(process)


@pytest.fixture(scope="module")
def large_app(tmp_path_factory):
    """The app with a synthetic catalogue large enough to be clustered in several chunks."""
    from bench.synthetic import write_catalogue

    folder = tmp_path_factory.mktemp("large")
    path = write_catalogue(folder / "events.geojson", LARGE_N)
    # its own store, seeded from the large catalogue on the first page load
    process, url = start_app({"BORDER_BRIEF_EVENTS_FILE": str(path), "BORDER_BRIEF_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite'}"})
    yield url
    stop_app(process)


LARGE_N = 20_000


def test_a_large_catalogue_is_fully_clustered_when_reported_loaded(context, large_app):
    page, record = open_page(context, large_app + "/")
    wait_for_app(page, timeout=90_000)
    frame = map_frame(page, timeout=90_000)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=90_000)
    counts = frame.evaluate(
        """() => ({ clustered_when_loaded: BB.loaded.clustered,
                    clustered: BB.groups.events.count(),
                    registered: Object.keys(BB.index.events).length })"""
    )
    assert counts == {"clustered_when_loaded": LARGE_N, "clustered": LARGE_N, "registered": LARGE_N}
    assert record.page_errors == [] and record.external_requests == []
