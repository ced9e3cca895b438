"""``python -m bench.hostile_upload``: one hostile upload against the real app (issue 18, finding 1).

A benchmark, not a test: it measures and reports, it asserts nothing about timings.

1. **Baseline.** The real app (``streamlit run app.py``, its own temporary SQLite store, as
   :func:`bench.browser.streamlit_app` starts it) is warmed up by one visit, then a *viewer*
   (its own headless Chromium, a new browser context per visit) loads ``/`` five times; each
   load runs from navigation start until ``BB.loaded.events`` is true inside the map iframe
   (``interactive`` in :mod:`bench.browser`). The server's ``VmRSS`` is read afterwards.
2. **Hostile upload**, ``--rounds`` times (each round a new *user* session, so the file is
   parsed again): the user opens ``/layers`` and uploads (Playwright ``set_input_files`` on
   the uploader's input) a generated ~19.9 MB ``{"type":"FeatureCollection","features":
   [0,0,0,...]}``; timed from ``set_input_files`` until the page shows "nothing was written".
   The server's resident size is polled every 50 ms in a thread (and ``VmHWM`` read after
   resetting it through ``/proc/<pid>/clear_refs``), its CPU time read from
   ``/proc/<pid>/stat``. Meanwhile the viewer keeps loading ``/``; a load counts as "during"
   when it overlaps the window from ``set_input_files`` to the rejection. After the rejection,
   a rerun of the user's session (typing a name) checks the file is not parsed again
   (server CPU seconds over the rerun).
3. **150 MB file.** Uploaded the same way; Streamlit's upload limit (``server.maxUploadSize``)
   must refuse it before it is read: the uploader's size error shows, no upload request is
   sent, and the server's memory does not grow by anything like 150 MB.
4. An in-process breakdown of ``store.importing.parse_import`` on the 19.9 MB file (peak
   memory of this process, cProfile's top functions) and of its steps timed one by one: the
   child's check as the server runs it (``run_check``, its verdict), the part of the file the
   child needs to refuse it (``head_verdict`` on the first 64 KB), and, for comparison, the
   whole-file ``bytes.decode`` and ``json.loads`` the check no longer does.

Targets (issue 18): rejected within 5 s; at most 300 MB more server memory; the other
session's page loads within 1.5x the baseline median while it happens; the 150 MB file refused
before it is read.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.browser import REPO, BrowserResult, _open_ours, add_account, chromium, new_page, sign_in, streamlit_app
from bench.builds import proc_status_kb

ANALYST = "Bench Analyst"  # the analyst account the uploading sessions sign in with
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'
REJECTED = re.compile("nothing was written", re.IGNORECASE)
TOO_LARGE = re.compile(r"must be .* or smaller", re.IGNORECASE)
HOSTILE_BYTES = 19_900_000
HUGE_BYTES = 150_000_000
BASELINE_LOADS = 5
AFTER_LOADS = 3  # loads of / after the last round, no upload in flight
DEFAULT_ROUNDS = 5
LOAD_LIMIT_S = 120.0
WARMUP_LIMIT_S = 180.0
REJECT_LIMIT_S = 180.0
SAMPLE_S = 0.05
SETTLE_S = 130.0

TARGET_REJECT_S = 5.0
TARGET_EXTRA_MB = 300.0
TARGET_LOAD_FACTOR = 1.5
HUGE_MAX_GROWTH_MB = 75.0  # half the file: "refused before it is read"

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[hostile_upload {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- files -------------------------------------------------------------------------------

def write_zeros_collection(path: Path, size: int) -> Path:
    """``{"type":"FeatureCollection","features":[0,0,...,0]}`` of exactly ``size`` bytes (± 1)."""
    head, tail = b'{"type":"FeatureCollection","features":[', b"0]}"
    n = max(0, (size - len(head) - len(tail)) // 2)
    chunk = b"0," * 1_000_000
    with open(path, "wb") as handle:
        handle.write(head)
        for _ in range(n // 1_000_000):
            handle.write(chunk)
        handle.write(b"0," * (n % 1_000_000))
        handle.write(tail)
    return path


# --- the server process --------------------------------------------------------------------

def rss_mb(pid: int) -> float | None:
    kb = proc_status_kb("VmRSS", pid)
    return None if kb is None else kb / 1024


def hwm_mb(pid: int) -> float | None:
    kb = proc_status_kb("VmHWM", pid)
    return None if kb is None else kb / 1024


def reset_hwm(pid: int) -> bool:
    """Reset the server's VmHWM to its current size (we started it, so we may)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def cpu_s(pid: int) -> float | None:
    """The process's user + system CPU seconds so far."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, ValueError, IndexError):
        return None


class RssSampler(threading.Thread):
    """VmRSS of ``pid`` every 50 ms until stopped; keeps the peak and when it happened."""

    def __init__(self, pid: int, t0: float):
        super().__init__(daemon=True)
        self.pid, self.t0 = pid, t0
        self.peak_mb: float | None = None
        self.peak_at: float | None = None
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            value = rss_mb(self.pid)
            if value is not None:
                self.samples += 1
                if self.peak_mb is None or value > self.peak_mb:
                    self.peak_mb, self.peak_at = value, time.perf_counter() - self.t0
            self._halt.wait(SAMPLE_S)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


# --- the viewer: another session loading the map ----------------------------------------------

class Viewer(threading.Thread):
    """Another user's page loads of ``/`` in its own Chromium (Playwright is one per thread)."""

    def __init__(self, url: str, t0: float):
        super().__init__(daemon=True)
        self.url, self.t0 = url, t0
        self.loads: list[dict] = []
        self.notes: list[str] = []
        self.warmup_s: float | None = None
        self.baseline: list[float | None] = []
        self.ready = threading.Event()  # baseline done
        self.load_started = threading.Event()
        self._looping = threading.Event()
        self._idle = threading.Event()
        self._quit = threading.Event()
        self.error: BaseException | None = None
        self.phase = "hostile"  # the label of the loads the loop records

    def _load(self, browser, limit_s: float, phase: str) -> float | None:
        result = BrowserResult()
        started = time.perf_counter()
        self.load_started.set()
        seconds = None
        try:
            context, _page, _frame, seconds = _open_ours(browser, self.url + "/", limit_s, result)
            context.close()
        except Exception as exc:  # noqa: BLE001  (Playwright's timeout and crash errors share no base)
            self.notes.append(f"{phase} load not interactive within {limit_s:g} s ({type(exc).__name__})")
        self.loads.append({"phase": phase, "start": started - self.t0, "end": time.perf_counter() - self.t0,
                           "seconds": seconds, "page_errors": result.notes})
        return seconds

    def run(self) -> None:
        try:
            with chromium() as browser:
                self.warmup_s = self._load(browser, WARMUP_LIMIT_S, "warm-up")
                for _ in range(BASELINE_LOADS):
                    self.baseline.append(self._load(browser, LOAD_LIMIT_S, "baseline"))
                self.ready.set()
                while not self._quit.is_set():
                    self._idle.set()
                    if not self._looping.wait(0.1):
                        continue
                    self._idle.clear()
                    while self._looping.is_set() and not self._quit.is_set():
                        self._load(browser, LOAD_LIMIT_S, self.phase)
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            self.error = exc
        finally:
            self.ready.set()
            self._idle.set()

    def start_loop(self) -> None:
        self.load_started.clear()
        self._looping.set()

    def stop_loop(self, limit_s: float = LOAD_LIMIT_S + 10) -> None:
        """Stop after the load in flight (it is recorded)."""
        self._looping.clear()
        self._idle.clear()
        self._idle.wait(limit_s)

    def quit(self) -> None:
        self._looping.clear()
        self._quit.set()
        self.join(timeout=LOAD_LIMIT_S + 30)


# --- the user: uploads ---------------------------------------------------------------------

def _open_layers(browser, url: str, pid: int, notes: list[str]):
    result = BrowserResult()
    context, page = new_page(browser, result)
    page.goto(url + "/layers", wait_until="commit", timeout=LOAD_LIMIT_S * 1000)
    sign_in(page, ANALYST)  # imports need a signed-in analyst (issue 12)
    page.wait_for_selector(UPLOAD_INPUT, state="attached", timeout=LOAD_LIMIT_S * 1000)
    time.sleep(1.0)  # let the first run of the page finish
    uploads: list[dict] = []

    def on_request(request):
        if "/_stcore/upload_file" in request.url and request.method in ("PUT", "POST"):
            uploads.append({"method": request.method, "sent": time.perf_counter()})

    def on_finished(request):
        if "/_stcore/upload_file" in request.url and request.method in ("PUT", "POST") and uploads:
            uploads[-1]["finished"] = time.perf_counter()
            uploads[-1]["server_cpu"] = cpu_s(pid)

    page.on("request", on_request)
    page.on("requestfinished", on_finished)
    return context, page, uploads, result


def hostile_round(browser, url: str, pid: int, viewer: Viewer, path: Path, t0: float, index: int) -> dict:
    notes: list[str] = []
    context, page, uploads, result = _open_layers(browser, url, pid, notes)
    row: dict = {"round": index, "notes": notes}
    try:
        time.sleep(0.5)
        row["rss_before_mb"] = rss_mb(pid)
        row["hwm_reset"] = reset_hwm(pid)
        cpu_before = cpu_s(pid)
        sampler = RssSampler(pid, t0)
        sampler.start()
        viewer.start_loop()
        viewer.load_started.wait(30)
        time.sleep(0.5)  # the viewer's load is under way when the upload starts
        started = time.perf_counter()
        page.set_input_files(UPLOAD_INPUT, str(path))
        row["set_input_files_s"] = time.perf_counter() - started
        try:
            page.get_by_text(REJECTED).first.wait_for(state="visible", timeout=REJECT_LIMIT_S * 1000)
            rejected = time.perf_counter()
            row["reject_s"] = rejected - started
        except Exception as exc:  # noqa: BLE001
            rejected = time.perf_counter()
            row["reject_s"] = None
            notes.append(f"no rejection shown within {REJECT_LIMIT_S:g} s ({type(exc).__name__})")
        row["window"] = [started - t0, rejected - t0]
        cpu_after = cpu_s(pid)
        row["server_cpu_s"] = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
        if uploads and "finished" in uploads[0]:
            row["upload_request_s"] = uploads[0]["finished"] - started
            row["after_upload_s"] = (rejected - uploads[0]["finished"]) if row["reject_s"] is not None else None
            if cpu_before is not None and uploads[0].get("server_cpu") is not None:
                row["server_cpu_upload_s"] = uploads[0]["server_cpu"] - cpu_before
                if cpu_after is not None:
                    row["server_cpu_rerun_s"] = cpu_after - uploads[0]["server_cpu"]
        row["upload_requests"] = len(uploads)
        time.sleep(0.5)
        sampler.stop()
        row["rss_peak_mb"] = sampler.peak_mb
        row["rss_peak_at_s"] = None if sampler.peak_at is None else sampler.peak_at - (started - t0)
        row["rss_samples"] = sampler.samples
        row["hwm_mb"] = hwm_mb(pid) if row["hwm_reset"] else None
        peaks = [v for v in (row["rss_peak_mb"], row["hwm_mb"]) if v is not None]
        row["extra_mb"] = (max(peaks) - row["rss_before_mb"]) if peaks and row["rss_before_mb"] is not None else None
        row["rss_after_mb"] = rss_mb(pid)
        viewer.stop_loop()
        # A rerun of the same session (Streamlit's "r" shortcut) must not parse the file again.
        if row["reject_s"] is not None:
            time.sleep(1.0)
            cpu_before = cpu_s(pid)
            rerun_started = time.perf_counter()
            page.locator("h1").first.click()
            page.keyboard.press("r")
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000, polling=50,
            )
            time.sleep(1.5)
            cpu_after = cpu_s(pid)
            row["rerun_server_cpu_s"] = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
            row["rerun_wall_s"] = time.perf_counter() - rerun_started
            row["rerun_still_rejected"] = page.get_by_text(REJECTED).first.is_visible()
        row["page_errors"] = result.notes
    finally:
        viewer.stop_loop()
        context.close()
    return row


def huge_upload(browser, url: str, pid: int, path: Path, t0: float) -> dict:
    notes: list[str] = []
    context, page, uploads, result = _open_layers(browser, url, pid, notes)
    row: dict = {"bytes": path.stat().st_size, "notes": notes}
    try:
        time.sleep(0.5)
        row["rss_before_mb"] = rss_mb(pid)
        row["hwm_reset"] = reset_hwm(pid)
        sampler = RssSampler(pid, t0)
        sampler.start()
        started = time.perf_counter()
        page.set_input_files(UPLOAD_INPUT, str(path))
        try:
            message = page.get_by_text(TOO_LARGE).first
            message.wait_for(state="visible", timeout=60_000)
            row["size_error_s"] = time.perf_counter() - started
            row["size_error"] = message.inner_text().strip()[:200]
        except Exception as exc:  # noqa: BLE001
            row["size_error_s"] = None
            row["size_error"] = None
            notes.append(f"no size error shown within 60 s ({type(exc).__name__})")
        time.sleep(2.0)  # anything sent would reach the server by now
        sampler.stop()
        row["upload_requests"] = len(uploads)
        row["rss_peak_mb"] = sampler.peak_mb
        row["hwm_mb"] = hwm_mb(pid) if row["hwm_reset"] else None
        peaks = [v for v in (row["rss_peak_mb"], row["hwm_mb"]) if v is not None]
        row["extra_mb"] = (max(peaks) - row["rss_before_mb"]) if peaks and row["rss_before_mb"] is not None else None
        row["page_errors"] = result.notes
    finally:
        context.close()
    return row


# --- where the server's time and memory go -------------------------------------------------------

def _reset_self_hwm() -> bool:
    return reset_hwm(os.getpid()) if Path(f"/proc/{os.getpid()}/clear_refs").exists() else False


def parse_breakdown(path: Path) -> dict:
    """Time and memory of ``parse_import`` on the file, in this process, step by step."""
    from store import jsoncheck
    from store.importing import MAX_IMPORT_FEATURES, ImportFileError, parse_import, run_check

    raw = path.read_bytes()
    out: dict = {"bytes": len(raw)}
    base = proc_status_kb("VmRSS") or 0
    _reset_self_hwm()
    started = time.perf_counter()
    cpu = time.process_time()
    try:
        parse_import(raw, path.name, fmt="geojson", layer="events")
        out["outcome"] = "accepted"
    except ImportFileError as exc:
        out["outcome"] = f"ImportFileError: {str(exc)[:160]}"
    except Exception as exc:  # noqa: BLE001
        out["outcome"] = f"{type(exc).__name__}: {str(exc)[:160]}"
    out["parse_import_s"] = time.perf_counter() - started
    # This process's own CPU: the outline is checked in a child process (store/jsoncheck.py),
    # so a hostile file should cost the server next to nothing here.
    out["parse_import_cpu_s"] = time.process_time() - cpu
    hwm = proc_status_kb("VmHWM")
    out["parse_import_extra_mb"] = None if hwm is None else (hwm - base) / 1024
    # The steps, timed one by one: the child's check as the server runs it, the parts of that
    # check done here, and the whole-document parse the check avoids.
    steps: dict[str, float] = {}
    t = time.perf_counter()
    verdict = run_check(raw)
    steps["child check (run_check)"] = time.perf_counter() - t
    out["child_verdict"] = verdict
    t = time.perf_counter()
    jsoncheck.head_verdict(raw[:jsoncheck.HEAD_BYTES], MAX_IMPORT_FEATURES)
    steps["head_verdict (first 64 KB)"] = time.perf_counter() - t
    t = time.perf_counter()
    text = raw.decode("utf-8-sig")
    steps["bytes.decode (whole file)"] = time.perf_counter() - t
    t = time.perf_counter()
    document = json.loads(text)
    steps["json.loads (whole file, avoided)"] = time.perf_counter() - t
    features = document.get("features") if isinstance(document, dict) else None
    out["features"] = len(features) if isinstance(features, list) else None
    del text, document, features
    out["steps_s"] = steps
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        parse_import(raw, path.name, fmt="geojson", layer="events")
    except Exception:  # noqa: BLE001
        pass
    profiler.disable()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(8)
    out["profile_top"] = [" ".join(line.split()) for line in buffer.getvalue().splitlines()
                          if re.match(r"\s*\d+(/\d+)?\s+\d", line)][:8]
    return out


# --- report --------------------------------------------------------------------------------

def _f(value, digits=2, unit="") -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def summarize(data: dict) -> dict:
    base = [s for s in data["baseline_loads_s"] if s is not None]
    median = statistics.median(base) if base else None
    windows = [r["window"] for r in data["rounds"] if r.get("window")]
    during = [load for load in data["viewer_loads"] if load["phase"] == "hostile"
              and any(load["start"] < w1 and load["end"] > w0 for w0, w1 in windows)]
    during_s = [load["seconds"] for load in during]
    control = [load["seconds"] for load in data["viewer_loads"] if load["phase"] == "after" and load["seconds"] is not None]
    worst = None if not during_s or any(s is None for s in during_s) else max(during_s)
    rejects = [r.get("reject_s") for r in data["rounds"]]
    extras = [r.get("extra_mb") for r in data["rounds"]]
    huge = data.get("huge") or {}
    s = {
        "baseline_median_s": median,
        "baseline_rss_mb": data.get("baseline_rss_mb"),
        "reject_s_max": None if not rejects or None in rejects else max(rejects),
        "extra_mb_max": None if not extras or None in extras else max(extras),
        "loads_during": during_s,
        "loads_during_max_s": worst,
        "loads_during_median_s": statistics.median([x for x in during_s if x is not None]) if during_s and any(x is not None for x in during_s) else None,
        "loads_between_median_s": statistics.median(control) if control else None,
        "loads_between_count": len(control),
        "load_factor_max": None if worst is None or not median else worst / median,
    }
    s["targets"] = [
        ("hostile 19.9 MB file rejected within 5 s", None if s["reject_s_max"] is None else s["reject_s_max"] <= TARGET_REJECT_S,
         f"{_f(s['reject_s_max'])} s (slowest of {len(rejects)})"),
        ("at most 300 MB more server memory", None if s["extra_mb_max"] is None else s["extra_mb_max"] <= TARGET_EXTRA_MB,
         f"+{_f(s['extra_mb_max'], 0)} MB (largest of {len(extras)})"),
        ("other session's page loads within 1.5x baseline median",
         None if s["load_factor_max"] is None else s["load_factor_max"] <= TARGET_LOAD_FACTOR,
         f"slowest {_f(worst)} s of {len(during_s)} overlapping = {_f(s['load_factor_max'])}x of {_f(median)} s"
         if during_s else "no load overlapped an upload"),
        ("150 MB file refused before it is read",
         None if not huge else bool(huge.get("size_error_s") is not None and huge.get("upload_requests") == 0
                                    and (huge.get("extra_mb") or 0) < HUGE_MAX_GROWTH_MB),
         f"size error {'shown' if huge.get('size_error') else 'not shown'} after {_f(huge.get('size_error_s'))} s, "
         f"{huge.get('upload_requests')} upload request(s), server +{_f(huge.get('extra_mb'), 0)} MB" if huge else "not run"),
    ]
    return s


def markdown(data: dict) -> str:
    s = data["summary"]
    lines = [
        f"Server: the real app, catalogue `{data['events_file']}`; baseline: median of {BASELINE_LOADS} loads of `/` "
        f"(new context each) = **{_f(s['baseline_median_s'])} s** "
        f"({', '.join(_f(x) for x in data['baseline_loads_s'])}); warm-up {_f(data.get('warmup_s'), 1)} s; "
        f"server RSS {_f(s['baseline_rss_mb'], 0)} MB.",
        "",
        "| round | reject (s) | upload request (s) | upload → message (s) | server CPU: upload request / until message (s) | RSS before (MB) | peak RSS (MB) | VmHWM (MB) | extra (MB) | RSS after (MB) | later rerun CPU (s) | viewer loads overlapping (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in data["rounds"]:
        w0, w1 = r.get("window") or (0, 0)
        over = [load for load in data["viewer_loads"] if load["phase"] == "hostile" and load["start"] < w1 and load["end"] > w0]
        lines.append(
            f"| {r['round']} | {_f(r.get('reject_s'))} | {_f(r.get('upload_request_s'))} | {_f(r.get('after_upload_s'))} | "
            f"{_f(r.get('server_cpu_upload_s'))} / {_f(r.get('server_cpu_rerun_s'))} | {_f(r.get('rss_before_mb'), 0)} | {_f(r.get('rss_peak_mb'), 0)} | "
            f"{_f(r.get('hwm_mb'), 0)} | {_f(r.get('extra_mb'), 0)} | {_f(r.get('rss_after_mb'), 0)} | "
            f"{_f(r.get('rerun_server_cpu_s'))} | {', '.join(_f(load['seconds']) for load in over) or '—'} |"
        )
    huge = data.get("huge")
    if huge:
        lines += ["", "| 150 MB file | |", "|---|---|",
                  f"| size error | {huge.get('size_error') or '—'} (after {_f(huge.get('size_error_s'))} s) |",
                  f"| upload requests sent | {huge.get('upload_requests')} |",
                  f"| server RSS before / peak / VmHWM | {_f(huge.get('rss_before_mb'), 0)} / {_f(huge.get('rss_peak_mb'), 0)} / {_f(huge.get('hwm_mb'), 0)} MB (+{_f(huge.get('extra_mb'), 0)} MB) |"]
    lines += ["", f"Viewer loads of `/` overlapping an upload: median {_f(s['loads_during_median_s'])} s, slowest "
              f"{_f(s['loads_during_max_s'])} s ({len(s['loads_during'])} loads); the same viewer's loads after the "
              f"last round (no upload in flight, a check on the machine's load): median {_f(s['loads_between_median_s'])} s "
              f"({s['loads_between_count']} loads: {', '.join(_f(x) for x in data.get('after_loads_s', []))})."]
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    for name, met, measured in s["targets"]:
        lines.append(f"| {name} | {'—' if met is None else ('yes' if met else '**no**')} | {measured} |")
    b = data.get("breakdown")
    if b:
        steps = ", ".join(f"`{k}` {v:.2f} s" for k, v in b["steps_s"].items())
        lines += ["", f"In-process `parse_import` on the 19.9 MB file ({b.get('features') or 0:,} array items): "
                  f"{b['parse_import_s']:.2f} s wall, of it {_f(b.get('parse_import_cpu_s'))} s CPU in this process "
                  f"(the outline is checked in a child process, store/jsoncheck.py), "
                  f"+{_f(b.get('parse_import_extra_mb'), 0)} MB peak here; steps timed one by one: {steps}; "
                  f"the child's verdict: `{json.dumps(b.get('child_verdict'))}`; outcome: {b['outcome']}"]
        if b.get("profile_top"):
            lines += ["", "cProfile (cumulative, top): " + "; ".join(f"`{line}`" for line in b["profile_top"][:4])]
    lines += ["", f"Server RSS: {_f(s['baseline_rss_mb'], 0)} MB after the baseline, {_f(data.get('final_rss_mb'), 0)} MB after "
              f"the last upload (user sessions closed)"
              + (f", {_f(data.get('settled_rss_mb'), 0)} MB {data['settle_s']:g} s later." if data.get("settle_s") else ".")]
    lines += ["", f"Load average (1/5/15 min) before: {' / '.join(f'{x:.2f}' for x in data['loadavg_before'])}, "
              f"after: {' / '.join(f'{x:.2f}' for x in data['loadavg_after'])} ({os.cpu_count()} CPUs)."]
    notes = data.get("notes") or []
    if notes:
        lines += ["", "Notes: " + "; ".join(notes)]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------

def run(events_file: Path, rounds: int, workdir: Path, huge: bool = True, settle_s: float = 0.0) -> dict:
    data: dict = {"events_file": str(events_file), "loadavg_before": list(os.getloadavg()), "notes": [],
                  "started_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    hostile = write_zeros_collection(workdir / "hostile-zeros.geojson", HOSTILE_BYTES)
    data["hostile_bytes"] = hostile.stat().st_size
    t0 = time.perf_counter()
    with streamlit_app(events_file, workdir / "server.log") as (url, pid):
        add_account(ANALYST, "analyst", f"sqlite:///{(workdir / 'server.log').with_suffix('.sqlite')}")
        log(f"app at {url} (pid {pid}); warm-up and {BASELINE_LOADS} baseline loads")
        viewer = Viewer(url, t0)
        viewer.start()
        viewer.ready.wait(WARMUP_LIMIT_S + BASELINE_LOADS * LOAD_LIMIT_S + 60)
        if viewer.error:
            raise RuntimeError(f"viewer failed: {viewer.error!r}")
        data["warmup_s"] = viewer.warmup_s
        data["baseline_loads_s"] = viewer.baseline
        data["baseline_rss_mb"] = rss_mb(pid)
        log(f"baseline loads {viewer.baseline}, server RSS {data['baseline_rss_mb']:.0f} MB")
        data["rounds"] = []
        try:
            with chromium() as browser:
                for index in range(1, rounds + 1):
                    row = hostile_round(browser, url, pid, viewer, hostile, t0, index)
                    log(f"round {index}: rejected after {row.get('reject_s')} s, +{row.get('extra_mb')} MB, "
                        f"server CPU {row.get('server_cpu_s')} s, rerun CPU {row.get('rerun_server_cpu_s')} s")
                    data["rounds"].append(row)
                    time.sleep(2.0)
                viewer.phase = "after"
                viewer.start_loop()
                deadline = time.monotonic() + AFTER_LOADS * (LOAD_LIMIT_S + 10)
                while sum(load["phase"] == "after" for load in viewer.loads) < AFTER_LOADS and time.monotonic() < deadline:
                    time.sleep(0.2)
                viewer.stop_loop()
                data["after_loads_s"] = [load["seconds"] for load in viewer.loads if load["phase"] == "after"]
                if huge:
                    big = write_zeros_collection(workdir / "huge-zeros.geojson", HUGE_BYTES)
                    data["huge"] = huge_upload(browser, url, pid, big, t0)
                    big.unlink(missing_ok=True)
                    log(f"150 MB: {data['huge']}")
        finally:
            viewer.quit()
        data["viewer_loads"] = viewer.loads
        data["notes"] += viewer.notes
        data["final_rss_mb"] = rss_mb(pid)
        if settle_s > 0:  # closed sessions' uploads are kept for server.disconnectedSessionTTL (120 s)
            log(f"waiting {settle_s:g} s for closed sessions to be cleaned up")
            time.sleep(settle_s)
            data["settled_rss_mb"] = rss_mb(pid)
            data["settle_s"] = settle_s
    data["breakdown"] = parse_breakdown(hostile)
    data["loadavg_after"] = list(os.getloadavg())
    data["summary"] = summarize(data)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_upload", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events-file", type=Path, default=REPO / "data" / "events.geojson",
                        help="the app's catalogue (default: data/events.geojson)")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help=f"hostile uploads, each in a new session (default {DEFAULT_ROUNDS})")
    parser.add_argument("--no-huge", action="store_true", help="skip the 150 MB file")
    parser.add_argument("--settle", type=float, default=SETTLE_S,
                        help=f"seconds to wait at the end before reading the server's RSS once more (default {SETTLE_S:g}: "
                             "Streamlit keeps a closed session's uploads for server.disconnectedSessionTTL, 120 s)")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--md", type=Path, help="write the tables as Markdown here (default: next to --json, .md)")
    parser.add_argument("--workdir", type=Path, help="keep the files, store and server log here (default: a temp dir)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bb-hostile-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        data = run(args.events_file.resolve(), max(1, args.rounds), workdir, huge=not args.no_huge, settle_s=args.settle)
    data["total_s"] = time.perf_counter() - started
    command = "python -m bench.hostile_upload " + " ".join(argv if argv is not None else sys.argv[1:])
    data["command"] = command.strip()
    data["summary"]["targets"] = [list(t) for t in data["summary"]["targets"]]
    text = markdown(data)
    print(text)
    print(f"\n(total {data['total_s']:.0f} s)", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    md = args.md or (args.json.with_suffix(".md") if args.json else None)
    if md:
        md.parent.mkdir(parents=True, exist_ok=True)
        md.write_text(f"# Hostile upload benchmark (issue 18, finding 1)\n\nCommand: `{data['command']}` — "
                      f"{data['started_utc']}, total {data['total_s']:.0f} s.\n\n{text}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
