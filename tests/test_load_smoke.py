"""The load tool (bench.load) against one real app server: 2 protocol-level sessions for a few
seconds, and its bounds (loopback only, capped sessions and duration)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from bench import load
from tests.browser.conftest import start_app, stop_app

REPO = Path(__file__).resolve().parent.parent
BANJSKA = "2023-09-24-banjska-attack"


def _run(coroutine):
    """asyncio.run in a thread of its own: in a full test run Playwright's sync API (the
    browser tests) may already hold an event loop in this thread."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def one_server():
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    process, url = start_app()
    # A fresh server's first render loads and caches the catalogue (tens of seconds on a busy
    # machine); warm it once so the timed run below measures sessions, not the start-up.
    _run(_one_render(url))
    yield process, url
    stop_app(process)


async def _one_render(url: str) -> None:
    session = load.Session(urllib.parse.urlsplit(url + "/"), f"event={BANJSKA}", timeout=180)
    await session.connect()
    try:
        await session.rerun()
    finally:
        await session.close()


def _titles() -> dict[str, str]:
    features = json.loads((REPO / "data" / "events.geojson").read_text())["features"]
    return {f["properties"]["id"]: f["properties"]["title"] for f in features}


def test_a_protocol_click_shows_the_clicked_event_in_the_panel(one_server):
    """What the load tool sends as a click is what the map sends: the app selects that event."""
    _, url = one_server
    titles = _titles()
    other = next(i for i in titles if i != BANJSKA and i.startswith("2023-09"))

    async def run():
        session = load.Session(urllib.parse.urlsplit(url + "/"), f"event={BANJSKA}")
        await session.connect()
        try:
            first = await session.rerun()
            clicked = await session.click(other)
            return first, clicked, session.query
        finally:
            await session.close()

    first, clicked, query = _run(run())
    assert first.status == "FINISHED_SUCCESSFULLY" and not first.exceptions
    assert first.component_id, "the map component was not found in the render"
    assert any(titles[BANJSKA] in t for t in first.texts)
    # a click reruns only the side panel's fragment (ui.panel.side_panel), not the whole page
    assert clicked.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY" and not clicked.exceptions
    assert any(titles[other] in t for t in clicked.texts), "the panel does not show the clicked event"
    assert not any(titles[BANJSKA] in t for t in clicked.texts if t.startswith("#"))
    assert f"event={other}" in query  # the app moved the link to the clicked event


def test_two_sessions_for_a_few_seconds(one_server, tmp_path):
    process, url = one_server
    out = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--url", url + "/", "--sessions", "2", "--duration", "15",
         "--think", "1", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    print(done.stdout)
    assert report["sessions"] == 2 and report["errors"] == 0 and report["reconnections"] == 0
    assert report["renders"] == 2 and report["first_render_p95_s"] > 0
    assert report["clicks"] >= 2 and 0 < report["click_p50_s"] <= report["click_p95_s"] <= report["click_max_s"]
    [replica] = report["replica_processes"]  # found by the port it listens on
    assert replica["pid"] == process.pid and replica["rss_mb"] > 50 and replica["cpu_s"] > 0
    assert "| click → panel |" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--url", "http://192.0.2.10:8501/"], "loopback"),
    (["--url", "http://127.0.0.1:9/", "--sessions", str(load.MAX_SESSIONS + 1)], "--sessions"),
    (["--url", "http://127.0.0.1:9/", "--duration", str(load.MAX_DURATION_S + 1)], "--duration"),
    (["--url", "file:///etc/passwd"], "http"),
])
def test_bounds_are_refused_before_any_load(args, message, capsys):
    assert load.main(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.browser
def test_compare_browser_times_a_real_click_and_the_protocol_click_on_one_server(one_server, tmp_path):
    """bench.load --compare-browser: headless Chromium clicks markers with the mouse and the
    protocol session clicks the same events on the same server; both times and their ratio are
    reported (their agreement is a benchmark's finding, not asserted here)."""
    _, url = one_server
    out = tmp_path / "compare.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--url", url + "/", "--compare-browser", "--compare-rounds", "2",
         "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    titles = _titles()
    assert [r["event"] for r in report["rounds"]] == [e for e, _ in load.comparison_events(BANJSKA, 2)]
    for r in report["rounds"]:
        assert r["event"] in titles and r["event"] != BANJSKA
        assert r["browser_s"] > load.BROWSER_DEBOUNCE_S  # the debounce alone comes first
        assert r["browser_less_debounce_s"] == pytest.approx(r["browser_s"] - load.BROWSER_DEBOUNCE_S, abs=0.002)
        # the page's own clock: the BackMsg leaves after the debounce, the panel follows it
        assert r["browser_click_to_backmsg_s"] >= load.BROWSER_DEBOUNCE_S - 0.01
        assert 0 < r["browser_backmsg_to_panel_s"] < r["browser_s"]
        assert 0 < r["protocol_panel_s"] <= r["protocol_click_s"]
    assert report["ratio_browser_to_protocol"] == pytest.approx(
        report["browser_less_debounce_p50_s"] / report["protocol_click_p50_s"], rel=0.01)
    assert isinstance(report["agree_within_20_percent"], bool)
    assert not [n for n in report["notes"] if n.startswith("blocked")], report["notes"]
    assert "| bench.load click (s) |" in done.stdout and "ratio" in done.stdout
