"""``python -m bench --store`` (or ``python -m bench.store``): the store at 10,000 and 100,000 events.

For SQLite and for PostgreSQL + PostGIS in the same run (a throwaway cluster from
:mod:`tests.pgcluster`), each size gets a new store seeded from ``data/`` (as
``store.open_store`` does) and is measured through the app's real paths:

* **import**: a synthetic ACLED CSV export (:func:`acled_csv`) read by
  ``store.importing.parse_import(data, name, fmt="acled")`` and written by
  ``Store.import_features(...)``, timed end to end (both steps are also reported);
* **re-import** of the same bytes, which must change nothing;
* **first load** (largest size only): ``layers.data.load_layer_data(settings, store)``
  in a new Python process (cold: nothing cached in it), after ``open_store``;
* **version check**: ``Store.version()``, the median of 200 calls, in ms.

Nothing here asserts a timing: the targets of issue 11 are reported as met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.run import report
from bench.run import targets_table as run_targets_table
from bench.synthetic import ACTORS, PLACES, PUBLISHERS
from geo.events import CRISIS_WINDOW, EVENT_TYPES, VIOLENT_EVENT_TYPES

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_BACKENDS = ("sqlite", "postgis")
VERSION_CALLS = 200
LOAD_LIMIT_S = 300.0

# Targets of issue 11 ("Scale") on the 2-core benchmark machine.
TARGET_EVENTS = 100_000
TARGET_IMPORT_S = 60.0
TARGET_LOAD_S = 3.0
TARGET_VERSION_MS = 5.0

# The columns the import reads, in ACLED's export order: an API export restricted with
# ``fields=`` (a full 31-column export with real notes is ~3x larger, and 100,000 such rows
# would exceed the import's 20 MB file limit, store.importing.MAX_IMPORT_BYTES).
ACLED_COLUMNS = (
    "event_id_cnty", "event_date", "time_precision", "event_type", "sub_event_type", "actor1",
    "assoc_actor_1", "actor2", "assoc_actor_2", "admin1", "location", "latitude", "longitude",
    "geo_precision", "source", "notes", "fatalities", "timestamp",
)  # fmt: skip
# Jitter (degrees, one standard deviation) by geo_precision, as bench.synthetic.
JITTER_DEG = {1: 0.004, 2: 0.025, 3: 0.12}


def log(message: str) -> None:
    print(f"[bench.store {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the synthetic ACLED export -------------------------------------------------------

def acled_rows(n: int, seed: int = 2023, id_prefix: str = "XKX") -> list[dict[str, str]]:
    """``n`` valid ACLED export rows (every one maps onto a valid event), as column -> text.

    Around the places of :mod:`bench.synthetic` (inside the region box), dated inside the
    crisis window (2023-05-01..2023-11-30), ACLED's event and sub-event types, the three
    precisions, one to three actors, one or two sources, fatalities for violent events.
    Ids are ``<id_prefix><7 digits>`` (``acled-xkx0000001`` in the catalogue). The same
    seed gives the same rows.
    """
    if n < 0:
        raise ValueError(f"the number of rows must be 0 or more, got {n}")
    rng = np.random.default_rng(seed)
    types = list(EVENT_TYPES)
    type_weights = np.array([0.08, 0.07, 0.08, 0.35, 0.12, 0.30])
    type_idx = rng.choice(len(types), size=n, p=type_weights / type_weights.sum())
    sub_pick = rng.random(n)
    place_idx = rng.integers(0, len(PLACES), size=n)
    geo_precision = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
    time_precision = rng.choice([1, 2, 3], size=n, p=[0.75, 0.18, 0.07])
    crisis_days = (CRISIS_WINDOW[1] - CRISIS_WINDOW[0]).days + 1
    day_offsets = rng.integers(0, crisis_days, size=n)
    jitter = rng.standard_normal((n, 2))
    actor_pick = rng.integers(0, len(ACTORS), size=(n, 3))
    actor_count = rng.choice([1, 2, 3], size=n, p=[0.3, 0.5, 0.2])
    publisher_pick = rng.integers(0, len(PUBLISHERS), size=(n, 2))
    two_sources = rng.random(n) < 0.3
    fatalities = rng.poisson(0.4, size=n)
    web_dates = rng.random(n) < 0.2  # some rows dated as ACLED's web export writes them
    timestamps = 1_690_000_000 + rng.integers(0, 20_000_000, size=n)

    rows = []
    for i in range(n):
        event_type = types[type_idx[i]]
        subs = EVENT_TYPES[event_type]
        sub_event_type = subs[int(sub_pick[i] * len(subs))]
        en, _sq, _sr, lon0, lat0 = PLACES[place_idx[i]]
        gp = int(geo_precision[i])
        lon = lon0 + JITTER_DEG[gp] * jitter[i, 0]
        lat = lat0 + JITTER_DEG[gp] * jitter[i, 1]
        day = CRISIS_WINDOW[0] + dt.timedelta(days=int(day_offsets[i]))
        actors = list(dict.fromkeys(ACTORS[a] for a in actor_pick[i][: actor_count[i]]))
        sources = list(dict.fromkeys(PUBLISHERS[p] for p in (publisher_pick[i] if two_sources[i] else publisher_pick[i][:1])))
        violent = event_type in VIOLENT_EVENT_TYPES
        rows.append({
            "event_id_cnty": f"{id_prefix}{i + 1:07d}",
            "event_date": f"{day.day} {day.strftime('%B')} {day.year}" if web_dates[i] else day.isoformat(),
            "time_precision": str(int(time_precision[i])),
            "event_type": event_type,
            "sub_event_type": sub_event_type,
            "actor1": actors[0],
            "assoc_actor_1": "",
            "actor2": "; ".join(actors[1:]),
            "assoc_actor_2": "",
            "admin1": en,
            "location": en,
            "latitude": f"{lat:.4f}",
            "longitude": f"{lon:.4f}",
            "geo_precision": str(gp),
            "source": "; ".join(sources),
            "notes": f"Synthetic benchmark row {i + 1}.",
            "fatalities": str(int(fatalities[i]) if violent else 0),
            "timestamp": str(int(timestamps[i])),
        })
    return rows


def acled_csv(n: int, seed: int = 2023, id_prefix: str = "XKX", *, rows: list[dict[str, str]] | None = None) -> bytes:
    """The bytes of an ACLED CSV export (UTF-8, header row) of ``n`` synthetic rows."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=ACLED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(acled_rows(n, seed, id_prefix) if rows is None else rows)
    return out.getvalue().encode("utf-8")


# --- the measurements -----------------------------------------------------------------

def _settings(url: str):
    from layers.config import load_settings

    return load_settings({**os.environ, "BORDER_BRIEF_DATABASE_URL": url})


def open_seeded_store(url: str):
    """``open_store`` for ``url``: migrated and seeded from ``data/``."""
    from store import open_store

    return open_store(_settings(url))


def time_import(store, data: bytes, name: str) -> dict:
    """parse_import + import_features of ``data``, timed: seconds and what the batch did."""
    from store import Identity
    from store.importing import parse_import

    gc.collect()
    cpu = time.process_time()
    started = time.perf_counter()
    layer, features = parse_import(data, name, fmt="acled")
    parsed = time.perf_counter()
    result = store.import_features(layer, features, identity=Identity("bench", "analyst"), comment="benchmark import", source=name)
    done = time.perf_counter()
    return {"parse_s": parsed - started, "write_s": done - parsed, "total_s": done - started,
            "cpu_s": time.process_time() - cpu, **result.summary()}


def time_version(store, calls: int = VERSION_CALLS) -> float:
    """Median of ``calls`` calls of ``Store.version()``, in ms (after one warm-up call)."""
    store.version()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        store.version()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def time_first_load(url: str, cache_dir: Path, limit_s: float = LOAD_LIMIT_S) -> dict:
    """The app's first load in a new process: open_store, then load_layer_data(settings, store).

    ``cache_dir`` is the store's snapshot folder (BORDER_BRIEF_CACHE_DIR): empty on the first
    call (a server's very first start), holding the frames that call wrote on the second (a
    restart, or another replica on the same machine). The new process then saves one event
    and loads again: what a running server pays after an analyst's save.
    """
    command = [sys.executable, "-m", "bench.store", "--load-only", url]
    env = {**os.environ, "BORDER_BRIEF_CACHE_DIR": str(cache_dir)}
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=limit_s, check=False, env=env)
    except subprocess.TimeoutExpired:
        return {"load_s": None, "note": f"first load exceeded {limit_s:g} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"load_s": None, "note": f"first load failed: {tail[0][:200]}"}
    return json.loads(lines[-1])


def _drop_copies(url: str) -> None:
    """Delete the store's column-wise layer copies (store/copies.py)."""
    import sqlalchemy as sa

    from store.schema import layer_copies

    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.delete(layer_copies))
    finally:
        engine.dispose()


def _load_only(url: str) -> dict:
    """Run in the new process of :func:`time_first_load`; imports are done before timing."""
    import copy
    import threading

    import layers.data  # noqa: F401  (imported before the clock starts, as in the running app)
    from layers.data import load_layer_data
    from store import Identity, open_store

    settings = _settings(url)
    snapshot_there = any(Path(settings.cache_dir).glob("store-*/events.pickle")) if settings.cache_dir else False
    started = time.perf_counter()
    store = open_store(settings)
    opened = time.perf_counter()
    cpu = time.process_time()
    data = load_layer_data(settings, store)
    loaded = time.perf_counter()
    cpu = time.process_time() - cpu
    events = len(data.full["events"])
    for thread in threading.enumerate():  # the snapshot written in the background, for the next start
        if thread.name.startswith("snapshot-"):
            thread.join(timeout=120)
    event_id = str(data.full["events"]["id"].iloc[events // 2])
    feature, revision = store.head("events", event_id)
    feature = copy.deepcopy(feature)
    feature["properties"]["summary"] = (feature["properties"].get("summary") or "") + " (checked)"
    store.save("events", feature, base_revision=revision, identity=Identity("bench", "analyst"), comment="benchmark save")
    again = time.perf_counter()
    reloaded = load_layer_data(settings, store)
    after_save = time.perf_counter() - again
    assert len(reloaded.full["events"]) == events
    store.close()
    return {"open_s": opened - started, "load_s": loaded - opened, "load_cpu_s": cpu, "events_loaded": events,
            "from_snapshot": snapshot_there, "after_save_s": after_save}


@contextlib.contextmanager
def _database(backend: str, workdir: Path, name: str, cluster_url: str | None):
    if backend == "sqlite":
        path = workdir / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from tests.pgcluster import fresh_database

    assert cluster_url is not None
    with fresh_database(cluster_url, name) as url:
        yield url


def bench_backend(backend: str, sizes, workdir: Path, files: dict[int, tuple[str, bytes]], cluster_url: str | None) -> list[dict]:
    rows = []
    largest = max(sizes)
    for n in sizes:
        name, data = files[n]
        row = {"backend": backend, "events": n, "file_mb": len(data) / 1e6, "import_s": None, "import_cpu_s": None,
               "parse_s": None, "write_s": None, "added": None, "reimport_s": None, "reimport_changed": None,
               "load_s": None, "load_cpu_s": None, "open_s": None, "events_loaded": None, "version_ms": None,
               "after_save_s": None, "restart_s": None, "restart_cpu_s": None, "nocopy_s": None, "nocopy_cpu_s": None,
               "notes": []}
        with _database(backend, workdir, f"bench_store_{n}", cluster_url) as url:
            store = open_seeded_store(url)
            try:
                first = time_import(store, data, name)
                row.update(import_s=first["total_s"], import_cpu_s=first["cpu_s"], parse_s=first["parse_s"],
                           write_s=first["write_s"], added=first["added"])
                log(f"{backend} {n:,}: import {first['total_s']:.1f} s (parse {first['parse_s']:.1f} s, "
                    f"write {first['write_s']:.1f} s; CPU {first['cpu_s']:.1f} s), {first['added']:,} added")
                again = time_import(store, data, name)
                row.update(reimport_s=again["total_s"], reimport_changed=again["added"] + again["changed"])
                if again["batch"] is not None or again["added"] or again["changed"]:
                    row["notes"].append(f"re-import wrote batch {again['batch']} ({again['added']} added, {again['changed']} changed)")
                log(f"{backend} {n:,}: re-import {again['total_s']:.1f} s, {again['unchanged']:,} unchanged, "
                    f"{again['added'] + again['changed']} written")
                row["version_ms"] = time_version(store)
                log(f"{backend} {n:,}: version() median {row['version_ms']:.3f} ms")
            finally:
                store.close()
            if n == largest:
                cache_dir = workdir / f"cache-{backend}-{n}"
                loaded = time_first_load(url, cache_dir)
                row.update(load_s=loaded.get("load_s"), load_cpu_s=loaded.get("load_cpu_s"), open_s=loaded.get("open_s"),
                           events_loaded=loaded.get("events_loaded"), after_save_s=loaded.get("after_save_s"))
                if loaded.get("note"):
                    row["notes"].append(loaded["note"])
                log(f"{backend} {n:,}: first load {_fmt(loaded.get('load_s'))} s (CPU {_fmt(loaded.get('load_cpu_s'))} s; "
                    f"open_store {_fmt(loaded.get('open_s'))} s; {loaded.get('events_loaded')} events); "
                    f"reload after a save {_fmt(loaded.get('after_save_s'))} s")
                restart = time_first_load(url, cache_dir)
                row.update(restart_s=restart.get("load_s"), restart_cpu_s=restart.get("load_cpu_s"))
                if restart.get("note"):
                    row["notes"].append("restart: " + restart["note"])
                elif not restart.get("from_snapshot"):
                    row["notes"].append("restart found no snapshot")
                log(f"{backend} {n:,}: restart load {_fmt(restart.get('load_s'))} s (CPU {_fmt(restart.get('load_cpu_s'))} s)")
                # A store without the layers' copies (written by an older version, or a copy
                # that could not be read): the first start reads every feature, once.
                _drop_copies(url)
                bare = time_first_load(url, workdir / f"cache-{backend}-{n}-nocopy")
                row.update(nocopy_s=bare.get("load_s"), nocopy_cpu_s=bare.get("load_cpu_s"))
                if bare.get("note"):
                    row["notes"].append("no copy: " + bare["note"])
                log(f"{backend} {n:,}: first load with no copy in the store {_fmt(bare.get('load_s'))} s "
                    f"(CPU {_fmt(bare.get('load_cpu_s'))} s)")
        rows.append(row)
    return rows


def run(sizes=DEFAULT_SIZES, backends=DEFAULT_BACKENDS, workdir: Path | None = None, seed: int = 2023) -> list[dict]:
    """Measure every backend at every size; returns the rows (one per backend and size)."""
    files = {}
    for n in sizes:
        started = time.perf_counter()
        data = acled_csv(n, seed)
        files[n] = (f"acled-bench-{n}.csv", data)
        log(f"{n:,} ACLED rows generated in {time.perf_counter() - started:.1f} s ({len(data) / 1e6:.1f} MB)")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bb-bench-store-") as tmp, contextlib.ExitStack() as stack:
        base = Path(workdir or tmp)
        base.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            cluster_url = None
            if backend == "postgis":
                from tests.pgcluster import PostgisUnavailable, throwaway_postgis

                try:
                    cluster_url = stack.enter_context(throwaway_postgis())
                except PostgisUnavailable as exc:
                    log(f"PostGIS skipped: {exc}")
                    rows.extend({"backend": backend, "events": n, "notes": [f"not run: {exc}"]} for n in sizes)
                    continue
                log(f"PostGIS cluster on port {cluster_url.port}")
            rows.extend(bench_backend(backend, sizes, base, files, cluster_url))
    return rows


# --- reporting ------------------------------------------------------------------------

def _fmt(value, digits=2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict]) -> str:
    lines = [
        "| backend | events | file (MB) | import_s | (CPU s) | parse_s | write_s | re-import_s | re-import wrote | "
        "first load_s | (CPU s) | restart load_s | (CPU s) | no copy load_s | (CPU s) | reload after a save_s | open_store_s | "
        "version_ms | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        notes = "; ".join(r.get("notes") or []).replace("|", "/")
        wrote = r.get("reimport_changed")
        lines.append(
            f"| {r['backend']} | {r['events']:,} | {_fmt(r.get('file_mb'), 1)} | {_fmt(r.get('import_s'))} | "
            f"{_fmt(r.get('import_cpu_s'))} | {_fmt(r.get('parse_s'))} | {_fmt(r.get('write_s'))} | "
            f"{_fmt(r.get('reimport_s'))} | {'—' if wrote is None else wrote} | {_fmt(r.get('load_s'))} | "
            f"{_fmt(r.get('load_cpu_s'))} | {_fmt(r.get('restart_s'))} | {_fmt(r.get('restart_cpu_s'))} | "
            f"{_fmt(r.get('nocopy_s'))} | {_fmt(r.get('nocopy_cpu_s'))} | "
            f"{_fmt(r.get('after_save_s'))} | {_fmt(r.get('open_s'))} | "
            f"{_fmt(r.get('version_ms'), 3)} | {notes} |"
        )
    return "\n".join(lines)


def targets(rows: list[dict]) -> list[tuple[str, bool | None, str]]:
    """(target, met?, measured) for each backend; met is None when not measured."""
    found = []
    for backend in dict.fromkeys(r["backend"] for r in rows):
        row = next((r for r in rows if r["backend"] == backend and r["events"] == TARGET_EVENTS), None)
        if row is None:
            continue
        for label, key, bound, unit, digits in (
            (f"{backend}: 100,000 ACLED rows imported ≤ 60 s", "import_s", TARGET_IMPORT_S, "s", 1),
            (f"{backend}: first load of 100,000 events ≤ 3 s (a server's very first start: nothing on its disk)", "load_s", TARGET_LOAD_S, "s", 2),
            (f"{backend}: first load of 100,000 events ≤ 3 s (a restart or second replica: disk snapshot)", "restart_s", TARGET_LOAD_S, "s", 2),
            (f"{backend}: reload of 100,000 events after an analyst's save ≤ 3 s", "after_save_s", TARGET_LOAD_S, "s", 2),
        ):
            value = row.get(key)
            found.append((label, None if value is None else value <= bound, f"{_fmt(value, digits)} {unit}"))
        value = row.get("version_ms")
        found.append((f"{backend}: version check < 5 ms", None if value is None else value < TARGET_VERSION_MS,
                      f"{_fmt(value, 3)} ms (median of {VERSION_CALLS})"))
    return found


def targets_table(found) -> str:
    return run_targets_table(found, heading="target (issue 11)")


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--events takes comma-separated whole numbers, got {text!r}") from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"--events needs one or more sizes of at least 1, got {text!r}")
    return sizes


def main(argv: list[str] | None = None, prog: str = "python -m bench.store") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=_sizes, default=list(DEFAULT_SIZES),
                        help="ACLED rows per import, comma-separated (default: 10000,100000); the largest is also loaded")
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS),
                        help="sqlite, postgis or both, comma-separated (default: sqlite,postgis)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--md", type=Path, help="write the tables as Markdown here")
    parser.add_argument("--workdir", type=Path, help="keep the SQLite stores here (default: a temp dir)")
    parser.add_argument("--load-only", metavar="URL", help=argparse.SUPPRESS)  # the cold-load subprocess
    args = parser.parse_args(argv)
    if args.load_only:
        print(json.dumps(_load_only(args.load_only)))
        return 0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or any(b not in DEFAULT_BACKENDS for b in backends):
        parser.error(f"--backends takes sqlite and/or postgis, got {args.backends!r}")

    started = time.perf_counter()
    rows = run(args.events, backends, args.workdir)
    elapsed = time.perf_counter() - started
    text = table(rows)
    found = targets(rows)
    if found:
        text += "\n\n" + targets_table(found)
    command = f"{prog} " + " ".join(argv if argv is not None else sys.argv[1:])
    report(rows, text, elapsed=elapsed, json_path=args.json, md_path=args.md, title="Store benchmark results", command=command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
