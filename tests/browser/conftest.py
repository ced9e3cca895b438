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
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

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
    """Records what a page tried to fetch outside localhost, script and console errors."""

    def __init__(self):
        self.external_requests: list[str] = []
        self.failed_requests: list[str] = []
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []


# Streamlit's own start-up probes on a page path (it asks /<page>/_stcore/... before
# the server root): 404s in the console that say nothing about the app.
_STREAMLIT_PROBES = ("/_stcore/health", "/_stcore/host-config")


def _console_error(record: PageRecorder, message) -> None:
    if message.type != "error":
        return
    url = (message.location or {}).get("url", "")
    if "status of 404" in message.text and url.endswith(_STREAMLIT_PROBES):
        return
    if "ERR_FAILED" in message.text and urlparse(url).hostname not in LOCAL_HOSTS:
        return  # an external request this fixture blocked: already in external_requests
    record.console_errors.append(f"{message.text} ({url})")


@contextmanager
def checked_context(browser, **options):
    """A browser context whose pages must end with no page error, console error or
    Streamlit exception on screen (checked when the block ends)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 950}, **options)
    ctx.bb_records = []
    try:
        yield ctx
        problems = []
        for page, record in ctx.bb_records:
            if not page.is_closed():
                exceptions = page.query_selector_all('[data-testid="stException"]')
                problems += [f"Streamlit exception: {e.inner_text()[:300]}" for e in exceptions]
            problems += [f"page error: {e}" for e in record.page_errors]
            problems += [f"console error: {e}" for e in record.console_errors]
        assert not problems, problems
    finally:
        ctx.close()


@pytest.fixture
def context(browser):
    with checked_context(browser) as ctx:
        yield ctx


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
    page.on("console", lambda message: _console_error(record, message))
    page.on("requestfailed", lambda request: record.failed_requests.append(request.url))
    page.on("dialog", lambda dialog: (record.dialogs.append(dialog.message), dialog.dismiss()))
    if hasattr(ctx, "bb_records"):
        ctx.bb_records.append((page, record))
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
    """The map iframe's Frame, once Leaflet has drawn the map and its layers.

    A rerun that changes the map (a layer toggled) replaces the iframe: while the old
    one is detached and the new one not yet loaded, look again instead of failing.
    """
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout / 1000
    while True:
        page.wait_for_selector(MAP_FRAME, timeout=timeout)
        handle = page.query_selector(MAP_FRAME)
        frame = handle.content_frame() if handle else None
        try:
            if frame is not None:
                frame.wait_for_function(
                    "() => window.BB && window.BB.map && document.querySelector('.leaflet-container')",
                    timeout=max(1_000, (deadline - time.monotonic()) * 1000),
                )
                return frame
        except PlaywrightError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("the map iframe did not load")
        page.wait_for_timeout(200)


# --- reading what the user sees ---------------------------------------------------------

PANEL = ".st-key-bb_panel"


def url_params(page) -> dict[str, str]:
    """The page URL's query parameters (the last value of each)."""
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def wait_for_panel_text(page, text: str, timeout: float = 30_000) -> None:
    """Wait until the details panel shows ``text`` and the run that drew it has ended.

    The event feed's list (shown while nothing is selected) is left out: it holds every
    event's title, so a title there says nothing about the selection. The panel is drawn
    first in its run; the same run writes the selection into the address bar (``event=``,
    ``feature=``) only when it ends, after the map.
    """
    page.wait_for_function(
        """([selector, text]) => {
             const el = document.querySelector(selector);
             if (!el) return false;
             const feed = el.querySelector('.st-key-bb_feed_list');
             const shown = feed ? el.innerText.replace(feed.innerText, '') : el.innerText;
             return shown.includes(text);
           }""",
        arg=[PANEL, text],
        timeout=timeout,
    )
    wait_for_app(page, timeout=max(timeout, 30_000))


# --- acting as a user: the mouse at a pixel ------------------------------------------
#
# Tests find where to click from a feature's geometry (or from where its marker is
# drawn now, for an event folded into a cluster) and click there with the mouse; the app then
# decides what lies under the pointer, as it does for a user. Nothing here calls
# the app's own JavaScript to select anything.

_PIXEL = """([lat, lon]) => {
    const map = BB.map, p = map.latLngToContainerPoint([lat, lon]);
    const r = map.getContainer().getBoundingClientRect();
    return {x: r.left + p.x, y: r.top + p.y, w: r.width, h: r.height, mx: p.x, my: p.y};
}"""

# Where the event layer (events_layer.js, supercluster on a canvas) draws an event now:
# its own symbol, or the cluster it is folded into ("shown" when a click there reaches
# it: its symbol, or a cluster whose events share one point and are listed on a click).
_MARKER_STATE = """(id) => {
    const map = BB.map, group = BB.groups.events;
    const at = group && group.drawnAt(id);
    if (!at) return null;
    return {shown: at.shown, lat: at.lat, lon: at.lon, zoom: map.getZoom(), animating: !!map._animatingZoom};
}"""


def page_point(page, lat: float, lon: float) -> tuple[float, float, bool]:
    """The page pixel of (lat, lon) on the map now, and whether it lies inside the map."""
    frame = map_frame(page)
    p = frame.evaluate(_PIXEL, [lat, lon])
    box = page.query_selector(MAP_FRAME).bounding_box()
    inside = 40 < p["mx"] < p["w"] - 40 and 40 < p["my"] < p["h"] - 40
    return box["x"] + p["x"], box["y"] + p["y"], inside


def drag_into_view(page, lat: float, lon: float) -> None:
    """Drag the map with the mouse until (lat, lon) is near its centre; a point far
    away is brought nearer first with the map's − button, as a user would."""
    frame = map_frame(page)
    for _ in range(12):
        x, y, inside = page_point(page, lat, lon)
        box = page.query_selector(MAP_FRAME).bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        if inside and abs(x - cx) < box["width"] / 3 and abs(y - cy) < box["height"] / 3:
            return
        if abs(x - cx) > 2 * box["width"] or abs(y - cy) > 2 * box["height"]:
            page.frame_locator(MAP_FRAME).locator(".leaflet-control-zoom-out").click()
            frame.wait_for_timeout(450)
            continue
        dx = max(-box["width"] / 2.5, min(box["width"] / 2.5, x - cx))
        dy = max(-box["height"] / 2.5, min(box["height"] / 2.5, y - cy))
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx - dx / 2, cy - dy / 2, steps=4)
        page.mouse.move(cx - dx, cy - dy, steps=4)
        page.mouse.up()
        frame.wait_for_timeout(350)
    raise AssertionError(f"could not drag ({lat}, {lon}) into view")


def pick_list(page) -> list[str]:
    """The entries of the map's "features here" pick list, if one is open."""
    return map_frame(page).evaluate("() => [...document.querySelectorAll('.bb-pick button')].map(b => b.dataset.bbPick)")


def choose_in_pick_list(page, layer_id: str, feature_id: str) -> None:
    page.frame_locator(MAP_FRAME).locator(f'.bb-pick button[data-bb-pick="{layer_id}|{feature_id}"]').click()


def click_event(page, event_id: str) -> None:
    """Click an event's marker as a user would: clusters first (they zoom in), then the
    marker where it is drawn; a pick list, if several events lie under the pointer
    (or share the point of a cluster), is answered by choosing this one."""
    from playwright.sync_api import Error as PlaywrightError

    frame = map_frame(page)
    frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=30_000)
    for _ in range(10):
        try:
            state = frame.evaluate(_MARKER_STATE, event_id)
        except PlaywrightError as exc:  # a rerun replaced the map's iframe meanwhile: find the new one
            if "detached" not in str(exc):
                raise
            frame = map_frame(page)
            frame.wait_for_function("() => BB.loaded && BB.loaded.events", timeout=30_000)
            continue
        assert state is not None, f"no marker for event {event_id}"
        x, y, inside = page_point(page, state["lat"], state["lon"])
        if not inside:
            drag_into_view(page, state["lat"], state["lon"])
            continue
        page.mouse.click(x, y)
        if state["shown"]:
            frame.wait_for_timeout(300)
            if len(pick_list(page)) > 1:
                choose_in_pick_list(page, "events", event_id)
            return
        frame.wait_for_timeout(900)  # the cluster zooms in (animated)
    raise AssertionError(f"event {event_id} could not be reached by clicking")


def click_at(page, lat: float, lon: float, layer_id: str | None = None, feature_id: str | None = None) -> None:
    """Click the map at (lat, lon); if a pick list opens, choose ``layer_id/feature_id``."""
    x, y, inside = page_point(page, lat, lon)
    if not inside:
        drag_into_view(page, lat, lon)
        x, y, inside = page_point(page, lat, lon)
    page.mouse.click(x, y)
    map_frame(page).wait_for_timeout(300)
    if layer_id and len(pick_list(page)) > 1:
        choose_in_pick_list(page, layer_id, feature_id)


def click_feature(page, layer_id: str, feature_id: str, at: tuple[float, float] | None = None) -> None:
    """Click an event by its marker, or another feature at ``at`` (lat, lon) inside it."""
    if layer_id == "events":
        click_event(page, feature_id)
    else:
        assert at is not None, "give a point inside the feature to click"
        click_at(page, at[0], at[1], layer_id, feature_id)


# --- sign-in (issue 12) ---------------------------------------------------------------------------

# One definition, shared with the benchmarks that sign in (bench/hostile_upload.py).
from bench.browser import BROWSER_PASSWORD, add_account, sign_in  # noqa: E402,F401
