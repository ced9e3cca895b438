"""Browser-side timings in headless Chromium, with every request outside 127.0.0.1 blocked.

* ours: the real Streamlit app pointed at a synthetic catalogue
  (``BORDER_BRIEF_EVENTS_FILE``); a warm-up visit loads the catalogue into the
  app's cache first, so the timings are those of a running server.
* baseline: the naive folium HTML, its CDN links rewritten to local copies and
  served by ``http.server`` on 127.0.0.1.

``interactive_s`` runs from navigation start until every marker is on the map
(ours: ``BB.loaded.events``, set when supercluster has indexed every event
and the canvas is drawn; baseline: the page's ``load`` event, after which folium's inline script
has added every marker). ``click_to_panel_s`` runs from a real mouse click on a
marker until its details are visible (ours: the event's title in the
``st-key-bb_panel`` container; baseline: the marker's popup).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
VIEWPORT = {"width": 1400, "height": 950}


@dataclass
class BrowserResult:
    interactive_s: float | None = None
    click_to_panel_s: float | None = None
    server_rss_mb: float | None = None  # the app server's resident size after the timed visits
    notes: list[str] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {limit_s:g} s")


def stop(process: subprocess.Popen | None) -> None:
    """Stop a server this module started (terminate, then kill)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def streamlit_app(events_file: Path, log_path: Path, script: str = "app.py"):
    """The real app on 127.0.0.1 with ``events_file`` as its catalogue; yields ``(url, pid)``.

    The app gets a new SQLite store next to the log, seeded from ``events_file`` on its first
    page load (the warm-up visit), so the timed visits read the catalogue from the store.
    """
    port = free_port()
    store = log_path.with_suffix(".sqlite")
    for stale in (store, Path(f"{store}-wal"), Path(f"{store}-shm")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "BORDER_BRIEF_EVENTS_FILE": str(events_file), "BORDER_BRIEF_DATABASE_URL": f"sqlite:///{store}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    for name in ("BORDER_BRIEF_TILE_URL", "BORDER_BRIEF_ASSETS", "BORDER_BRIEF_ASSET_URL", "BORDER_BRIEF_BASEMAP"):
        env.pop(name, None)
    command = [
        sys.executable, "-m", "streamlit", "run", script,
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_http(f"{url}/_stcore/health", process, 60)
            yield url, process.pid
        finally:
            stop(process)


@contextlib.contextmanager
def static_server(directory: Path, log_path: Path):
    """``python -m http.server`` on 127.0.0.1 serving ``directory``; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(directory)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_http(url + "/", process, 30)
            yield url
        finally:
            stop(process)


@contextlib.contextmanager
def chromium():
    """A fresh headless Chromium (one per measurement, so a hung page cannot leak into the next)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, result: BrowserResult):
    """A page in a new context whose requests outside 127.0.0.1 are blocked and recorded."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()

    def route(route_request):
        url = route_request.request.url
        host = urlparse(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route_request.continue_()
        else:
            result.blocked.add(host)
            route_request.abort()

    context.route("**/*", route)
    page.on("pageerror", lambda error: result.notes.append(f"page error: {str(error)[:120]}"))
    return context, page


# --- baseline: standalone folium HTML ------------------------------------------------

def _package_dir(module: str) -> Path:
    import importlib

    return Path(importlib.import_module(module).BASE_DIR)


# folium's default CDN assets that exist as installed XStatic packages: (URL pattern, package, file/dir).
_LOCAL_COPIES = (
    (r"https://cdn\.jsdelivr\.net/npm/leaflet@[^\"']*/dist/leaflet\.js", "xstatic.pkg.leaflet", "leaflet.js"),
    (r"https://cdn\.jsdelivr\.net/npm/leaflet@[^\"']*/dist/leaflet\.css", "xstatic.pkg.leaflet", "leaflet.css"),
    (r"https://code\.jquery\.com/jquery-[0-9.]+\.min\.js", "xstatic.pkg.jquery", "jquery.min.js"),
)


def prepare_baseline_site(html: str, site: Path) -> tuple[Path, list[str]]:
    """Write the baseline page into ``site`` with its CDN links pointed at local copies.

    Returns the page path and the CDN URLs left as they are (blocked in the browser).
    """
    site.mkdir(parents=True, exist_ok=True)
    vendor = site / "vendor"
    leaflet_images = _package_dir("xstatic.pkg.leaflet") / "images"
    if not (vendor / "images").is_dir():
        shutil.copytree(leaflet_images, vendor / "images")  # next to leaflet.css, which refers to them
    for pattern, package, name in _LOCAL_COPIES:
        target = vendor / name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_package_dir(package) / name, target)
        html = re.sub(pattern, f"vendor/{name}", html)
    remaining = sorted(set(re.findall(r"""(?:src|href)=["'](https?://[^"']+)["']""", html)))
    page = site / "baseline.html"
    page.write_text(html, encoding="utf-8")
    return page, remaining


_BASELINE_PICK_MARKER = """
(wanted) => new Promise((resolve) => {
  const map = Object.values(window).find((v) => v instanceof L.Map);
  if (!map) { resolve(null); return; }
  const markers = [];
  map.eachLayer((l) => { if (l instanceof L.Marker && l.getPopup()) markers.push(l); });
  const target = markers[Math.min(wanted, markers.length - 1)];
  map.once("moveend", () => setTimeout(() => {
    // Take the marker that is really on top at the target's position.
    const r = target._icon.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    const marker = markers.find((m) => m._icon === hit) || target;
    const content = marker.getPopup().getContent();  // folium builds it as a DOM element (jQuery)
    const text = (content && content.textContent) || String(content);
    resolve({x: x, y: y, text: text.slice(0, 40), count: markers.length});
  }, 300));
  map.setView(target.getLatLng(), 18, {animate: false});
})
"""


def measure_baseline(url: str, n_events: int, limit_s: float) -> BrowserResult:
    """Open the standalone baseline page, then click a marker and wait for its popup."""
    result = BrowserResult()
    with chromium() as browser:
        context, page = new_page(browser, result)
        try:
            started = time.perf_counter()
            page.goto(url, wait_until="load", timeout=limit_s * 1000)
            remaining = max(1.0, limit_s - (time.perf_counter() - started))
            page.wait_for_function(
                "(n) => document.querySelectorAll('.leaflet-marker-icon').length >= n",
                arg=n_events, timeout=remaining * 1000, polling=100,
            )
            result.interactive_s = time.perf_counter() - started
        except Exception as exc:  # noqa: BLE001  (Playwright's timeout and crash errors share no base)
            result.notes.append(f"baseline not interactive within {limit_s:g} s ({type(exc).__name__})")
            context.close()
            return result
        try:
            target = page.evaluate(_BASELINE_PICK_MARKER, n_events // 2)
            if target is None:
                result.notes.append("baseline: no marker found to click")
                return result
            started = time.perf_counter()
            page.mouse.click(target["x"], target["y"])
            page.wait_for_function(
                "(text) => { const c = document.querySelector('.leaflet-popup-content');"
                " return c && c.offsetParent !== null && c.textContent.startsWith(text); }",
                arg=target["text"], timeout=limit_s * 1000, polling="raf",
            )
            result.click_to_panel_s = time.perf_counter() - started
        except Exception as exc:  # noqa: BLE001
            result.notes.append(f"baseline click not answered within {limit_s:g} s ({type(exc).__name__})")
        finally:
            context.close()
    return result


# --- ours: the Streamlit app -------------------------------------------------------

_OURS_LOADED = "() => window.BB && window.BB.loaded && window.BB.loaded.events === true"

# Bring a marker into view and return its pixel inside the iframe (as tests/browser/
# conftest.py click_feature does): the event layer (supercluster on a canvas) zooms
# until the event is drawn on its own or in a cluster whose events share its point
# (a click there lists them), then says where it is drawn.
_OURS_MARKER_PIXEL = """
([featureId, limitMs]) => new Promise((resolve) => {
  const BB = window.BB, map = BB.map, group = BB.groups.events;
  const layer = (BB.index.events || {})[featureId];
  if (!layer) { resolve(null); return; }
  const started = Date.now();
  let done = false;
  const where = () => group.drawnAt(featureId);
  const inView = () => { const at = where(); return at && at.shown && map.getBounds().contains([at.lat, at.lon]); };
  const finish = () => {
    if (done) return;
    done = true;
    const at = where();
    const p = map.latLngToContainerPoint([at.lat, at.lon]);
    const r = map.getContainer().getBoundingClientRect();
    resolve({x: r.left + p.x, y: r.top + p.y});
  };
  if (inView()) { finish(); return; }
  group.zoomToShowLayer(layer, () => setTimeout(finish, 400));
  (function poll() {
    if (done) return;
    if (inView()) setTimeout(finish, 400);
    else if (Date.now() - started > limitMs) { done = true; resolve(null); }
    else setTimeout(poll, 100);
  })();
})
"""

# The panel shows an event under its title as a heading; with nothing selected it lists the
# window's events (the feed, whose buttons carry every title), so only a heading counts.
_PANEL_HEADING_JS = ("Array.from(document.querySelectorAll('.st-key-bb_panel h2'))"
                     ".some((h) => h.innerText.includes(title))")
_PANEL_SHOWS = "(title) => " + _PANEL_HEADING_JS


def _loaded_map_frame(page, deadline: float, poll_s: float = 0.05):
    """The map iframe's Frame once ``BB.loaded.events`` is true; None at the deadline.

    Polled from here rather than with ``frame.wait_for_function``: Streamlit may
    mount the component iframe again, which detaches a Frame already waited on.
    """
    while time.perf_counter() < deadline:
        handle = page.query_selector(MAP_FRAME)
        frame = handle.content_frame() if handle else None
        if frame is not None:
            try:
                if frame.evaluate(_OURS_LOADED):
                    return frame
            except Exception:  # noqa: BLE001  (frame navigating or detached: look again)
                pass
        time.sleep(poll_s)
    return None


def _open_ours(browser, url: str, limit_s: float, result: BrowserResult):
    """Navigate to the app; return (context, page, frame, seconds until BB.loaded.events)."""
    context, page = new_page(browser, result)
    started = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=limit_s * 1000)
    frame = _loaded_map_frame(page, started + limit_s)
    if frame is None:
        context.close()
        raise TimeoutError(f"map not loaded within {limit_s:g} s")
    return context, page, frame, time.perf_counter() - started


def measure_floor(url: str, limit_s: float) -> BrowserResult:
    """bench/floor_app.py: a warm-up visit, then a fresh visit timed until its map exists."""
    result = BrowserResult()
    with chromium() as browser:
        for warmup in (True, False):
            try:
                context, _page, _frame, seconds = _open_ours(browser, url + "/", limit_s, result)
                context.close()
            except Exception as exc:  # noqa: BLE001
                result.notes.append(f"floor page not loaded within {limit_s:g} s ({type(exc).__name__})")
                return result
            if not warmup:
                result.interactive_s = seconds
    return result


def measure_ours(url: str, event_id: str, title: str, limit_s: float, warmup_limit_s: float) -> BrowserResult:
    """Warm the app's cache, then time a fresh visit until interactive and one click to the panel."""
    result = BrowserResult()
    with chromium() as browser:
        try:
            context, _page, _frame, warmup_s = _open_ours(browser, url + "/", warmup_limit_s, result)
            result.notes.append(f"warm-up visit (first catalogue load) {warmup_s:.1f} s")
            context.close()
        except Exception as exc:  # noqa: BLE001
            result.notes.append(f"app did not show the map within the warm-up limit {warmup_limit_s:g} s "
                                f"({type(exc).__name__})")
            return result
        try:
            context, page, frame, result.interactive_s = _open_ours(browser, url + "/", limit_s, result)
        except Exception as exc:  # noqa: BLE001
            result.notes.append(f"ours not interactive within {limit_s:g} s ({type(exc).__name__})")
            return result
        try:
            point = frame.evaluate(_OURS_MARKER_PIXEL, [event_id, 20_000])
            if point is None:
                result.notes.append(f"ours: event {event_id} could not be brought into view")
                return result
            box = page.query_selector(MAP_FRAME).bounding_box()
            started = time.perf_counter()
            page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
            # Several events drawn at one pixel (a dense synthetic catalogue at full zoom)
            # open the map's pick list; choosing the event there is part of the click.
            pick = frame.locator(f'.bb-pick button[data-bb-pick="events|{event_id}"]')
            shown = page.wait_for_function(
                "([title, frameSel]) => { if (" + _PANEL_HEADING_JS + ") return 'panel';"
                " const f = document.querySelector(frameSel); const d = f && f.contentDocument;"
                " return d && d.querySelector('.bb-pick') ? 'pick' : false; }",
                arg=[title, MAP_FRAME], timeout=limit_s * 1000, polling="raf",
            ).json_value()
            if shown == "pick":
                result.notes.append("ours: the click opened a pick list (overlapping markers); chose the event")
                pick.click()
                page.wait_for_function(_PANEL_SHOWS, arg=title, timeout=limit_s * 1000, polling="raf")
            result.click_to_panel_s = time.perf_counter() - started
        except Exception as exc:  # noqa: BLE001
            result.notes.append(f"ours: click not answered in the panel within {limit_s:g} s ({type(exc).__name__})")
        finally:
            context.close()
    return result


# --- accounts and signing in (shared by the browser tests and the benchmarks, issue 12) -----------

BROWSER_PASSWORD = "browser test password"


def add_account(name: str, role: str = "analyst", database_url: str | None = None,
                password: str = BROWSER_PASSWORD) -> None:
    """Create a local account with the command line (``python -m store users add``) in the store
    ``database_url`` names (default: the store ``BORDER_BRIEF_DATABASE_URL`` of this process names,
    which every app server it starts inherits). An account that exists already is kept as it is."""
    env = {**os.environ, **({"BORDER_BRIEF_DATABASE_URL": database_url} if database_url else {})}
    done = subprocess.run(
        [sys.executable, "-m", "store", "users", "add", name, "--role", role, "--password-stdin"],
        input=password + "\n", capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )
    if done.returncode != 0 and "exists already" not in done.stderr:
        raise RuntimeError(f"could not add the account {name}: {done.stderr.strip()}")


def _script_done(page, timeout: float) -> None:
    """Wait until Streamlit has drawn the app and finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
              && document.querySelector('[data-testid="stMainBlockContainer"], [data-testid="stAppViewBlockContainer"]')""",
        timeout=timeout,
    )


def sign_in(page, name: str, password: str = BROWSER_PASSWORD, *, expect_success: bool = True) -> None:
    """Type a name and password into the sidebar's sign-in form and press Sign in, as a user does."""
    _script_done(page, 30_000)
    # A loaded machine may take a minute before the first run draws the sidebar.
    page.locator('input[type="password"]').first.wait_for(timeout=120_000)
    form = page.locator('[data-testid="stForm"]').filter(has=page.locator('input[type="password"]'))
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Sign in", exact=True).click()
    # The server has taken the form when it clears it (clear_on_submit) or replaces it by the
    # signed-in line; only then may the next step type into it again.
    page.wait_for_function(
        "() => { const p = document.querySelector('input[type=password]'); return !p || p.value === ''; }",
        timeout=30_000,
    )
    page.wait_for_timeout(1_000)  # the rerun the submit started has begun
    if expect_success:
        page.get_by_text(f"Signed in as {name}").wait_for(timeout=30_000)
    _script_done(page, 30_000)
