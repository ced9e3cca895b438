"""Server-side map builds, timed: ours (build_map + streamlit-folium's rendering) and the naive baseline.

Each build runs in its own process (``python -m bench.builds``) so that its time
limit can be enforced and a slow baseline cannot hold the benchmark's memory.
The timed section excludes reading and validating the catalogue (the app caches
that once per process); it includes everything the server does on every run
that draws the map.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import geopandas as gpd

# What the naive baseline shows in each popup (as tutorials do: the text straight in).
BASELINE_CENTER = (42.85, 20.9)
BASELINE_ZOOM = 9


class BuildTimeout(Exception):
    """A build did not finish within its time limit."""


def _on_alarm(signum, frame):  # noqa: ARG001  (signal handler signature)
    raise BuildTimeout()


def ours_component_args(events: gpd.GeoDataFrame, settings=None) -> dict:
    """Build our map and render it exactly as ``st_folium`` does before sending it.

    Returns the component arguments that carry the map (script, header, html,
    asset links); the app sends them, JSON-encoded, to the browser on every run.
    """
    from streamlit_folium import _get_header, _get_html, _get_map_string, get_full_id

    from layers.catalog import DEFAULT_VISIBLE
    from layers.render import build_map

    frames, settings = _ours_frames(events, settings)
    m = build_map(frames, list(DEFAULT_VISIBLE), basemap="offline", settings=settings)
    # The same steps, in the same order, as streamlit_folium.st_folium.
    m.get_root().render()
    m.render()
    html = _get_html(m)
    header = _get_header(m)
    script = _get_map_string(m)
    css_links, js_links = _asset_links(m)
    return {"script": script, "header": header, "html": html, "id": get_full_id(m),
            "css_links": css_links, "js_links": js_links}


_FRAMES_CACHE: dict[int, tuple] = {}


def _ours_frames(events: gpd.GeoDataFrame, settings):
    """The app's display frames with ``events`` as the catalogue (other layers loaded once)."""
    from layers.config import load_settings
    from layers.data import load_layer_data

    key = id(settings)
    if key not in _FRAMES_CACHE:
        settings = settings or load_settings({})
        _FRAMES_CACHE[key] = (load_layer_data(settings), settings)
    layer_data, settings = _FRAMES_CACHE[key]
    frames = dict(layer_data.display)
    frames["events"] = events
    return frames, settings


def _asset_links(m) -> tuple[list[str], list[str]]:
    css, js = [], []

    def walk(element):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(m)
    return list(dict.fromkeys(css)), list(dict.fromkeys(js))


def ours_payload_bytes(args: dict) -> int:
    """Bytes of the map as Streamlit sends it: the component arguments as JSON."""
    return len(json.dumps(args).encode("utf-8"))


def baseline_html(events: gpd.GeoDataFrame) -> str:
    """The naive map: default folium map, one Marker with a Popup per event, rendered."""
    import folium

    m = folium.Map(location=list(BASELINE_CENTER), zoom_start=BASELINE_ZOOM)
    for title, date, event_type, summary, point in zip(
        events["title"], events["date"], events["event_type"], events["summary"], events.geometry
    ):
        popup = folium.Popup(f"<b>{title}</b><br>{date} · {event_type}<br>{summary}", max_width=300)
        folium.Marker([point.y, point.x], popup=popup).add_to(m)
    return m.get_root().render()


def timed(build: Callable[[], object], *, repeat: int, limit_s: float) -> tuple[list[float], object]:
    """Time ``repeat`` runs of ``build`` (after one untimed warm-up run when ``repeat`` > 1).

    Raises BuildTimeout when one run exceeds ``limit_s``.
    """
    times, result = [], None
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        for run in range(repeat + (1 if repeat > 1 else 0)):
            signal.setitimer(signal.ITIMER_REAL, limit_s)
            start = time.perf_counter()
            try:
                result = build()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if repeat == 1 or run > 0:  # with several runs, the first (cold caches) is a warm-up
                times.append(time.perf_counter() - start)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return times, result


def proc_status_kb(field: str, pid: int | str = "self") -> int | None:
    """A ``VmRSS``/``VmHWM``-style field of /proc/<pid>/status, in kB (None if unavailable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset this process's peak resident size (VmHWM) to its current size (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def measure(impl: str, events_file: Path, out_html: Path | None, *, repeat: int, limit_s: float) -> dict:
    """Load the catalogue (untimed), then time ``repeat`` builds; the median is reported."""
    from geo.events import load_events

    started = time.perf_counter()
    events = load_events(events_file)
    load_s = time.perf_counter() - started
    if impl == "ours":
        _ours_frames(events, None)  # other layers loaded once, outside the timing
        build = lambda: ours_component_args(events)  # noqa: E731
    elif impl == "baseline":
        build = lambda: baseline_html(events)  # noqa: E731
    else:
        raise ValueError(f"impl must be 'ours' or 'baseline', got {impl!r}")
    # Memory: the rise of the resident size over the builds, above what the loaded
    # catalogue (and, for ours, the other layers) already holds.
    peak_reset = _reset_peak_rss()
    rss_before = proc_status_kb("VmRSS")
    try:
        times, result = timed(build, repeat=repeat, limit_s=limit_s)
    except BuildTimeout:
        return {"impl": impl, "events": len(events), "load_s": load_s, "build_s": None,
                "payload_bytes": None, "build_mem_mb": None, "note": f"build did not finish within {limit_s:g} s"}
    peak = proc_status_kb("VmHWM")
    build_mem_mb = (peak - rss_before) / 1024 if peak_reset and peak and rss_before else None
    if impl == "ours":
        payload = ours_payload_bytes(result)
        if out_html is not None:
            out_html.write_text(json.dumps(result), encoding="utf-8")
    else:
        payload = len(result.encode("utf-8"))
        if out_html is not None:
            out_html.write_text(result, encoding="utf-8")
    return {"impl": impl, "events": len(events), "load_s": load_s, "build_s": statistics.median(times),
            "build_runs_s": times, "payload_bytes": payload, "build_mem_mb": build_mem_mb,
            "process_peak_mb": peak / 1024 if peak else None, "note": None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.builds", description=__doc__)
    parser.add_argument("impl", choices=("ours", "baseline"))
    parser.add_argument("events_file", type=Path)
    parser.add_argument("--out", type=Path, help="write the rendered map here")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=float, default=120.0, help="seconds allowed for one build")
    args = parser.parse_args(argv)
    result = measure(args.impl, args.events_file, args.out, repeat=args.repeat, limit_s=args.limit)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
