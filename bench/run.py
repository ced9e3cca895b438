"""The benchmark: our map against a naive folium baseline, from 10 to 100,000 events.

For each catalogue size a synthetic catalogue (:mod:`bench.synthetic`) is
written to a work directory; each build runs in its own process
(:mod:`bench.builds`) and, unless ``browser`` is off, the real app and the
baseline page are timed in headless Chromium (:mod:`bench.browser`). Every
measurement has a time limit; a measurement that does not finish in time is
``None`` (``null`` in JSON) with a note saying so.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.builds import proc_status_kb
from bench.synthetic import synthetic_features

#: "real" is the project's own catalogue (data/events.geojson) with the shipped layers.
REAL = "real"
DEFAULT_SIZES = (REAL, 10, 1_000, 10_000, 100_000)
REAL_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "events.geojson"
REAL_TARGET = "2023-09-24-banjska-attack"  # the event the real row clicks
DEFAULT_LIMIT_S = 120.0
# Loading 100,000 events into the app's cache (validation included) is not part of
# any measurement, but it must finish before the app can be timed.
WARMUP_LIMIT_S = 300.0
ROW_KEYS = ("events", "impl", "build_s", "payload_bytes", "interactive_s", "click_to_panel_s",
            "build_mem_mb", "server_rss_mb")

# Targets at 100,000 events (issue 6).
TARGET_EVENTS = 100_000
TARGET_PAYLOAD_BYTES = 5_000_000
TARGET_BUILD_S = 1.5
TARGET_CLICK_S = 1.0
TARGET_BASELINE_FACTOR = 5


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_catalogue(path: Path, n: int) -> tuple[str, str]:
    """Write ``n`` synthetic events to ``path``; return the id and title of the event to click."""
    features = synthetic_features(n)
    collection = {"type": "FeatureCollection", "name": "events", "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    target = features[n // 2]["properties"]
    return target["id"], target["title"]


def run_build(impl: str, events_file: Path, out: Path | None, *, repeat: int, limit_s: float) -> dict:
    """One ``python -m bench.builds`` process; its result, or a row of ``None`` on failure."""
    command = [sys.executable, "-m", "bench.builds", impl, str(events_file),
               "--repeat", str(repeat), "--limit", str(limit_s)]
    if out is not None:
        command += ["--out", str(out)]
    # The process also loads and validates the catalogue (untimed): allow for that.
    hard_limit = limit_s * (repeat + 1) + WARMUP_LIMIT_S
    try:
        done = subprocess.run(command, cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                              text=True, timeout=hard_limit, check=False)
    except subprocess.TimeoutExpired:
        return {"build_s": None, "payload_bytes": None, "note": f"build process exceeded {hard_limit:g} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"build_s": None, "payload_bytes": None, "note": f"build failed: {tail[0][:200]}"}
    return json.loads(lines[-1])


def real_catalogue(path: Path) -> tuple[int, str, str]:
    """Copy the real catalogue to ``path``; return its size and the id and title of the event to click."""
    text = REAL_CATALOGUE.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    features = json.loads(text)["features"]
    target = next(f["properties"] for f in features if f["properties"]["id"] == REAL_TARGET)
    return len(features), target["id"], target["title"]


def bench_size(n: int | str, workdir: Path, *, browser: bool, limit_s: float, impls: tuple[str, ...]) -> list[dict]:
    """One row per implementation for ``n`` synthetic events, or for the real catalogue (``n == "real"``)."""
    events_file = workdir / f"events-{n}.geojson"
    started = time.perf_counter()
    if n == REAL:
        n, target_id, target_title = real_catalogue(events_file)
        catalogue = "real"
    else:
        target_id, target_title = write_catalogue(events_file, n)
        catalogue = "synthetic"
    log(f"{n} events ({catalogue}): catalogue written in {time.perf_counter() - started:.1f} s "
        f"({events_file.stat().st_size / 1e6:.1f} MB)")
    rows = []
    for impl in impls:
        row = {key: None for key in ROW_KEYS} | {"events": n, "impl": impl, "catalogue": catalogue, "notes": []}
        repeat = 3 if impl == "ours" or n < 10_000 else 1
        out = workdir / f"{impl}-{n}.out"
        build = run_build(impl, events_file, out, repeat=repeat, limit_s=limit_s)
        row["build_s"], row["payload_bytes"] = build.get("build_s"), build.get("payload_bytes")
        row["build_mem_mb"] = build.get("build_mem_mb")
        if build.get("note"):
            row["notes"].append(build["note"])
        log(f"{n} {impl}: build {row['build_s']} s, payload {row['payload_bytes']} B"
            + (f" (catalogue load {build['load_s']:.1f} s, untimed)" if build.get("load_s") else ""))
        if browser:
            measured = _browser(impl, n, workdir, events_file, out, target_id, target_title, limit_s,
                                built=row["build_s"] is not None)
            row["interactive_s"], row["click_to_panel_s"] = measured.interactive_s, measured.click_to_panel_s
            row["server_rss_mb"] = measured.server_rss_mb
            row["notes"].extend(measured.notes)
            if measured.blocked:
                row["notes"].append("blocked (not available locally): " + ", ".join(sorted(measured.blocked)))
            log(f"{n} {impl}: interactive {row['interactive_s']} s, click {row['click_to_panel_s']} s")
        out.unlink(missing_ok=True)
        rows.append(row)
    events_file.unlink(missing_ok=True)
    return rows


def _browser(impl, n, workdir, events_file, out, target_id, target_title, limit_s, *, built):
    from bench import browser as chrome

    if impl == "ours":
        with chrome.streamlit_app(events_file, workdir / f"streamlit-{n}.log") as (url, pid):
            result = chrome.measure_ours(url, target_id, target_title, limit_s, max(WARMUP_LIMIT_S, limit_s))
            rss_kb = proc_status_kb("VmRSS", pid)
            result.server_rss_mb = rss_kb / 1024 if rss_kb else None
            return result
    if not built:
        return chrome.BrowserResult(notes=["no baseline page to open (its build did not finish)"])
    site = workdir / "baseline-site"
    _page, remote = chrome.prepare_baseline_site(out.read_text(encoding="utf-8"), site)
    with chrome.static_server(site, workdir / f"http-{n}.log") as url:
        result = chrome.measure_baseline(f"{url}/baseline.html", n, limit_s)
    (site / "baseline.html").unlink(missing_ok=True)
    if remote:
        result.notes.append(f"{len(remote)} CDN asset(s) left remote and blocked (bootstrap, awesome-markers, ...)")
    return result


#: The floor row's impl: Streamlit and the map component alone (bench/floor_app.py).
FLOOR = "floor"


def floor_row(workdir: Path, limit_s: float) -> dict:
    """The first paint of a Streamlit page holding only the map component with an empty map."""
    from bench import browser as chrome

    row = {key: None for key in ROW_KEYS} | {"events": 0, "impl": FLOOR, "catalogue": "none",
                                               "notes": ["Streamlit + the map component, no layers (bench/floor_app.py)"]}
    # Streamlit serves /app/static/ from the folder of the script it runs: the floor page runs
    # from a folder of its own whose static/ is the app's (the same local Leaflet files).
    folder = workdir / "floor"
    folder.mkdir(exist_ok=True)
    script = folder / "floor_app.py"
    script.write_text((Path(__file__).resolve().parent / "floor_app.py").read_text(encoding="utf-8"), encoding="utf-8")
    if not (folder / "static").exists():
        (folder / "static").symlink_to(REAL_CATALOGUE.parent.parent / "static", target_is_directory=True)
    with chrome.streamlit_app(REAL_CATALOGUE, workdir / "streamlit-floor.log", script=str(script)) as (url, pid):
        result = chrome.measure_floor(url, limit_s)
        rss_kb = proc_status_kb("VmRSS", pid)
    row["interactive_s"] = result.interactive_s
    row["server_rss_mb"] = rss_kb / 1024 if rss_kb else None
    row["notes"].extend(result.notes)
    log(f"floor: interactive {row['interactive_s']} s")
    return row


def run(sizes=DEFAULT_SIZES, *, browser: bool = True, limit_s: float = DEFAULT_LIMIT_S,
        impls: tuple[str, ...] = ("ours", "baseline"), workdir: Path | None = None) -> list[dict]:
    """Measure every size; returns the rows (see ROW_KEYS, plus ``notes``). With the browser and
    our implementation, the first row is the floor (:func:`floor_row`)."""
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
        base = Path(workdir or tmp)
        base.mkdir(parents=True, exist_ok=True)
        if browser and "ours" in impls:
            rows.append(floor_row(base, limit_s))
        for n in sizes:
            rows.extend(bench_size(n, base, browser=browser, limit_s=limit_s, impls=impls))
    return rows


# --- reporting ------------------------------------------------------------------------

def _fmt(value, digits=2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict]) -> str:
    """A Markdown table of the rows."""
    lines = [
        "| events | impl | build_s | payload (MB) | interactive_s | click_to_panel_s | build mem (MB) | server RSS (MB) | notes |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        payload = None if r["payload_bytes"] is None else r["payload_bytes"] / 1e6
        notes = "; ".join(r.get("notes") or []).replace("|", "/")
        events = f"{r['events']:,}" + (" (real catalogue)" if r.get("catalogue") == "real" else "")
        events = "—" if r["impl"] == FLOOR else events
        lines.append(
            f"| {events} | {r['impl']} | {_fmt(r['build_s'])} | {_fmt(payload)} | "
            f"{_fmt(r['interactive_s'])} | {_fmt(r['click_to_panel_s'])} | {_fmt(r.get('build_mem_mb'), 0)} | "
            f"{_fmt(r.get('server_rss_mb'), 0)} | {notes} |"
        )
    return "\n".join(lines)


def targets(rows: list[dict], limit_s: float) -> list[tuple[str, bool | None, str]]:
    """The issue's targets at 100,000 events: (target, met?, measured); met is None if unknown."""
    ours = next((r for r in rows if r["events"] == TARGET_EVENTS and r["impl"] == "ours"), None)
    base = next((r for r in rows if r["events"] == TARGET_EVENTS and r["impl"] == "baseline"), None)
    if ours is None:
        return []

    def at_most(value, bound):
        return None if value is None else value <= bound

    found = [
        ("payload ≤ 5 MB", at_most(ours["payload_bytes"], TARGET_PAYLOAD_BYTES),
         f"{_fmt(ours['payload_bytes'] and ours['payload_bytes'] / 1e6)} MB"),
        ("server build ≤ 1.5 s", at_most(ours["build_s"], TARGET_BUILD_S), f"{_fmt(ours['build_s'])} s"),
        ("click answered in the panel ≤ 1 s", at_most(ours["click_to_panel_s"], TARGET_CLICK_S),
         f"{_fmt(ours['click_to_panel_s'])} s"),
    ]
    for key, label, scale, unit in (("build_s", "build time", 1, "s"), ("payload_bytes", "payload", 1e6, "MB")):
        if base is None or ours[key] is None:
            found.append((f"{label} ≤ 1/5 of baseline", None, "baseline not run"))
        elif base[key] is None:
            # The baseline did not finish: its value is at least the time limit (for time).
            met = key == "build_s" and ours[key] <= limit_s / TARGET_BASELINE_FACTOR
            found.append((f"{label} ≤ 1/5 of baseline", met or None,
                          f"baseline did not finish within {limit_s:g} s (ours {ours[key] / scale:.2f} {unit})"))
        else:
            ratio = base[key] / ours[key] if ours[key] else float("inf")
            found.append((f"{label} ≤ 1/5 of baseline", ratio >= TARGET_BASELINE_FACTOR,
                          f"baseline/ours = {ratio:.1f}×"))
    return found


# Issue 13's first-paint targets.
TARGET_INTERACTIVE_SMALL_S = 1.5  # the real catalogue and the 10-event row
TARGET_INTERACTIVE_LARGE_S = 2.5  # 100,000 events
TARGET_REAL_PAYLOAD_BYTES = 600_000


def first_paint_targets(rows: list[dict]) -> list[tuple[str, bool | None, str]]:
    """Issue 13's targets (real catalogue, 10 and 100,000 events), with the floor beside them."""
    def row(events, impl="ours"):
        return next((r for r in rows if r["impl"] == impl and (r["events"] == events or r.get("catalogue") == events)), None)

    floor = row(0, FLOOR)
    floor_text = f"; the floor (Streamlit + the map component alone) {_fmt(floor['interactive_s'])} s" if floor else ""
    found = []
    for label, r, bound in (("real catalogue interactive ≤ 1.5 s", row("real"), TARGET_INTERACTIVE_SMALL_S),
                            ("10 events interactive ≤ 1.5 s", row(10), TARGET_INTERACTIVE_SMALL_S),
                            ("100,000 events interactive ≤ 2.5 s", row(TARGET_EVENTS), TARGET_INTERACTIVE_LARGE_S)):
        if r is not None:
            value = r["interactive_s"]
            found.append((label, None if value is None else value <= bound, f"{_fmt(value)} s{floor_text}"))
    real = row("real")
    if real is not None and real["payload_bytes"] is not None:
        found.append(("real catalogue payload ≤ 600 KB", real["payload_bytes"] <= TARGET_REAL_PAYLOAD_BYTES,
                      f"{real['payload_bytes'] / 1000:.0f} KB"))
    clicks = [r for r in rows if r["impl"] == "ours" and r["click_to_panel_s"] is not None]
    if clicks:
        worst = max(r["click_to_panel_s"] for r in clicks)
        found.append(("click → panel ≤ 1 s at every size", worst <= TARGET_CLICK_S, f"slowest {worst:.2f} s"))
    return found


def targets_table(found, heading: str = "target at 100,000 events") -> str:
    """(label, met, measured) rows as a Markdown table; met None is "unknown"."""
    lines = [f"| {heading} | met | measured |", "|---|---|---|"]
    for label, met, measured in found:
        lines.append(f"| {label} | {'unknown' if met is None else ('yes' if met else 'NO')} | {measured} |")
    return "\n".join(lines)


def report(rows: list[dict], text: str, *, elapsed: float, json_path, md_path, title: str, command: str, extra: str = "") -> None:
    """Print the results and write them as JSON and Markdown where asked."""
    print(text)
    print(f"\n(total {elapsed:.0f} s)", file=sys.stderr)
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    if md_path:
        md_path.parent.mkdir(parents=True, exist_ok=True)
        md_path.write_text(
            f"# {title}\n\nCommand: `{command.strip()}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"total {elapsed:.0f} s{extra}.\n\n{text}\n",
            encoding="utf-8",
        )
