"""Real-browser tier: the app runs as a subprocess; Playwright drives Debian's Chromium.

Every page is opened with all traffic outside localhost blocked and recorded, so a
test fails if the map tries to reach a CDN or tile server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
# One definition of the browser set-up, shared with the benchmark's browser runs.
from bench.browser import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, MAP_FRAME  # noqa: E402,F401

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(env_overrides: dict[str, str] | None = None, base_path: str = "") -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, **(env_overrides or {})}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    if base_path:
        command += ["--server.baseUrlPath", base_path]
    log = open(REPO / "test-artifacts" / f"streamlit-{port}.log", "w") if (REPO / "test-artifacts").is_dir() else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    prefix = f"/{base_path.strip('/')}" if base_path else ""
    url = f"http://127.0.0.1:{port}{prefix}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("streamlit did not become healthy within 60 s")


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def app_url():
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    process, url = start_app()
    yield url
    stop_app(process)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/run-tests.sh, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class PageRecorder:
    """Records what a page tried to fetch outside localhost, and script errors."""

    def __init__(self):
        self.external_requests: list[str] = []
        self.failed_requests: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 950})
    yield ctx
    ctx.close()


def open_page(ctx, url: str):
    """A new page in ``ctx`` with external traffic blocked and recorded, at ``url``."""
    page = ctx.new_page()
    record = PageRecorder()

    def route(route_request):
        host = urlparse(route_request.request.url).hostname or ""
        if route_request.request.url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route_request.continue_()
        else:
            record.external_requests.append(route_request.request.url)
            route_request.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: record.page_errors.append(str(error)))
    page.on("requestfailed", lambda request: record.failed_requests.append(request.url))
    page.on("dialog", lambda dialog: (record.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    return page, record


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
              && document.querySelector('[data-testid="stMainBlockContainer"], [data-testid="stAppViewBlockContainer"]')""",
        timeout=timeout,
    )


def map_frame(page, timeout: float = 30_000):
    """The map iframe's Frame, once Leaflet has drawn the map and its layers."""
    page.wait_for_selector(MAP_FRAME, timeout=timeout)
    handle = page.query_selector(MAP_FRAME)
    frame = handle.content_frame()
    frame.wait_for_function("() => window.BB && window.BB.map && document.querySelector('.leaflet-container')", timeout=timeout)
    return frame


def click_feature(page, layer_id: str, feature_id: str, at: tuple[float, float] | None = None) -> None:
    """Really click a feature: bring it into view, find its pixel, click there.

    ``at`` is a (lat, lon) inside an area to click (default: the marker, or the area's centre).
    """
    frame = map_frame(page)
    frame.wait_for_function("() => !BB.groups.events || (BB.loaded && BB.loaded.events)", timeout=30_000)
    point = frame.evaluate(
        """([layerId, featureId, at]) => new Promise((resolve) => {
            const BB = window.BB, map = BB.map;
            const layer = (BB.index[layerId] || {})[featureId];
            if (!layer) { resolve(null); return; }
            const pixel = () => {
              const ll = at ? L.latLng(at[0], at[1]) : (layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter());
              const p = map.latLngToContainerPoint(ll);
              const r = map.getContainer().getBoundingClientRect();
              return {x: r.left + p.x, y: r.top + p.y, inside: p.x > 5 && p.y > 5 && p.x < r.width - 5 && p.y < r.height - 5};
            };
            const shown = () => map.hasLayer(layer) && pixel().inside;
            if (shown()) { resolve(pixel()); return; }
            const group = BB.groups[layerId];
            if (group && group.hasLayer(layer)) {
              // zoomToShowLayer's callback is not reliable for canvas markers: poll instead.
              group.zoomToShowLayer(layer, () => {});
            } else if (at) {
              map.setView(at, Math.max(map.getZoom(), 11));
            } else if (layer.getBounds) {
              map.fitBounds(layer.getBounds());
            } else {
              map.setView(layer.getLatLng(), Math.max(map.getZoom(), 12));
            }
            const started = Date.now();
            const poll = () => {
              if (shown()) { setTimeout(() => resolve(pixel()), 300); }
              else if (Date.now() - started > 10000) { resolve(null); }
              else { setTimeout(poll, 100); }
            };
            poll();
        })""",
        [layer_id, feature_id, list(at) if at else None],
    )
    assert point is not None, f"no {layer_id}/{feature_id} on the map"
    box = page.query_selector(MAP_FRAME).bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
