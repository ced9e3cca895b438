"""Reading a file to import: size limits, encoding, JSON structure, ACLED CSV.

Every failure becomes :class:`ImportFileError` with a message saying what to fix;
nothing here writes anything. The features it returns are then validated whole by
:meth:`store.api.Store.import_features` with the catalogue's own validators.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from geo.io import LayerValidationError
from store import jsoncheck

MAX_IMPORT_BYTES = 20_000_000  # the app's upload limit too
MAX_IMPORT_FEATURES = 200_000
# The child process that checks a GeoJSON file's outline before the server parses it
# (store/jsoncheck.py): its memory (address space) and CPU limits, and how long to wait.
CHECK_MEMORY_BYTES = 1_500_000_000
CHECK_CPU_SECONDS = 20
# The child runs at niceness 19: on a saturated machine it gets the CPU only when nothing else
# wants it (a 1.1 MB file took 7.9 s at a load average of 10 on 2 cores), so the wall-clock
# limit is generous; its work is bounded by CHECK_CPU_SECONDS, and the wait costs the server
# nothing (the script thread sleeps in select, holding no lock).
CHECK_TIMEOUT_S = 90.0


class ImportFileError(ValueError):
    """A file that cannot be imported as it is."""


def guess_format(name: str, data: bytes | None = None) -> str:
    """geojson, csv (the catalogue's columns) or acled (an ACLED export: it has event_id_cnty)."""
    if not name.lower().endswith(".csv"):
        return "geojson"
    head = (data or b"")[:4096].decode("utf-8-sig", errors="replace").splitlines()[:1]
    return "acled" if head and "event_id_cnty" in head[0] else "csv"


def parse_import(data: bytes, name: str, *, fmt: str | None = None, layer: str | None = None) -> tuple[str, list[dict]]:
    """(layer, features) from the bytes of an uploaded or named file."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_IMPORT_BYTES / 1e6:.0f} MB. Split the file.")
    fmt = fmt or guess_format(name, data)
    if fmt == "csv":
        from store.catalogue_csv import read_catalogue_csv

        if layer not in (None, "events"):
            raise ImportFileError("a catalogue CSV holds events: import it into the events layer")
        return "events", read_catalogue_csv(data, name, max_rows=MAX_IMPORT_FEATURES)
    if fmt == "acled":
        from store.acled import read_acled_csv

        if layer not in (None, "events"):
            raise ImportFileError("ACLED files hold events: import them into the events layer")
        features, problems = read_acled_csv(data, name, max_rows=MAX_IMPORT_FEATURES)
        if problems:
            raise LayerValidationError(list(problems))
        return "events", features
    if fmt != "geojson":
        raise ImportFileError(f"unknown format {fmt!r}; use geojson, csv or acled")
    check_outline(data, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and try again") from None
    try:
        document = _load_document(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ImportFileError(f"{name} is nested too deeply to be a GeoJSON file") from None
    except ValueError:  # an integer with thousands of digits
        raise ImportFileError(f"{name} holds a number too long to be a coordinate or a count; check the file") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" or not isinstance(document.get("features"), list):
        raise ImportFileError(f"{name} must be a GeoJSON FeatureCollection with a 'features' list")
    features = document["features"]
    if len(features) > MAX_IMPORT_FEATURES:
        raise ImportFileError(f"{name} has {len(features):,} features; the limit is {MAX_IMPORT_FEATURES:,}. Split the file.")
    bad = [i for i, f in enumerate(features) if not isinstance(f, dict) or not isinstance(f.get("properties"), dict)
           or not isinstance(f.get("geometry"), dict)]
    if bad:
        shown = ", ".join(f"#{i}" for i in bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise ImportFileError(f"{name}: features {shown} are not GeoJSON features with properties and a geometry")
    if "crs" in document and document["crs"] not in (None, {}):
        crs = json.dumps(document["crs"])
        if "4326" not in crs and "CRS84" not in crs:
            raise ImportFileError(f"{name} declares the CRS {crs[:80]}; reproject it to WGS 84 (EPSG:4326) first")
    return layer or "events", features


def _load_document(text: str):
    """The server's own parse, reached only by files whose outline the child accepted."""
    return json.loads(text)


def _refusal(verdict: dict, name: str) -> str:
    kind = verdict.get("kind")
    if kind == "encoding":
        return f"{name} is not UTF-8 text (byte {verdict.get('byte')}); save it as UTF-8 and try again"
    if kind == "json":
        return f"{name} is not valid JSON (line {verdict.get('line')}, column {verdict.get('column')}: {verdict.get('msg')})"
    if kind == "nesting":
        return f"{name} is nested too deeply to be a GeoJSON file"
    if kind == "number":
        return f"{name} holds a number too long to be a coordinate or a count; check the file"
    if kind == "too_many":
        if verdict.get("stopped"):  # the check stopped counting at the limit
            return f"{name} has more than {MAX_IMPORT_FEATURES:,} features, the limit. Split the file."
        return f"{name} has {verdict.get('count', 0):,} features; the limit is {MAX_IMPORT_FEATURES:,}. Split the file."
    if kind == "not_features":
        first = [int(i) for i in verdict.get("first", [])]
        count = int(verdict.get("count", len(first)))
        shown = ", ".join(f"#{i}" for i in first) + (f" and {count - len(first)} more" if count > len(first) else "")
        stopped = f" (the check stopped at the {len(first)}th; there may be more)" if verdict.get("stopped") else ""
        return f"{name}: features {shown} are not GeoJSON features with properties and a geometry{stopped}"
    if kind == "members":
        return (f"{name} has more than {verdict.get('count', 0):,} members at its top level; a FeatureCollection "
                "has a few (type, features, perhaps bbox or name)")
    if kind == "memory":
        return f"{name} needs too much memory to read as GeoJSON; split the file"
    return f"{name} must be a GeoJSON FeatureCollection with a 'features' list"


def run_check(data: bytes) -> dict | None:
    """The child's verdict on ``data`` (store/jsoncheck.py), or None if it died or gave none.

    The child runs at the lowest CPU priority (it sets its own niceness to 19 first thing), so
    on a busy server it takes only CPU time nobody else wants, and under memory and CPU limits.
    It is started with ``-I -S`` (no environment, no site-packages: only the standard library)
    so it starts in a few tens of milliseconds.
    """
    script = Path(__file__).with_name("jsoncheck.py")
    args = [sys.executable, "-I", "-S", str(script), str(MAX_IMPORT_FEATURES), str(CHECK_MEMORY_BYTES), str(CHECK_CPU_SECONDS)]
    with tempfile.TemporaryFile() as handoff:
        # Through a file, not a pipe: a pipe takes 20 MB in 64 KB turns, each one waiting for
        # the low-priority child to be scheduled; the file is written in one call and read in one.
        handoff.write(data)
        handoff.seek(0)
        done = subprocess.run(args, stdin=handoff, capture_output=True, timeout=CHECK_TIMEOUT_S, check=False)
    try:
        verdict = json.loads(done.stdout or b"null")
    except ValueError:
        return None
    return verdict if isinstance(verdict, dict) else None


def check_outline(data: bytes, name: str) -> None:
    """Refuse a file that cannot be a FeatureCollection within the limits, reading it elsewhere.

    A refusal certain from the file's first 64 KB (ten items that are not features) is made here
    at once. Otherwise the check runs in a low-priority child process (:func:`run_check`), so a
    hostile file never holds this server's interpreter lock or memory for long; only a file that
    passes is parsed here. The child stops reading at the first certain refusal (ten items that
    are not features, or one past the feature limit), so a hostile file is refused without
    being parsed whole anywhere.
    """
    # The first 64 KB, looked at here (a millisecond at most): a certain refusal there (the
    # [0,0,...] file's first ten items) needs no child process at all.
    verdict = jsoncheck.head_verdict(data[:jsoncheck.HEAD_BYTES], MAX_IMPORT_FEATURES)
    if verdict is not None:
        raise ImportFileError(_refusal(verdict, name))
    try:
        verdict = run_check(data)
    except subprocess.TimeoutExpired:
        raise ImportFileError(f"{name} took too long to read as GeoJSON; check the file or split it") from None
    if verdict is None:  # the child died: out of memory or CPU time
        raise ImportFileError(f"{name} is too large or too complex to read as GeoJSON; split the file")
    if not verdict.get("ok"):
        raise ImportFileError(_refusal(verdict, name))


def read_import_file(path: Path, *, fmt: str | None = None, layer: str | None = None) -> tuple[str, list[dict]]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_IMPORT_BYTES:  # refused before reading it
        raise ImportFileError(f"{path.name} is {size / 1e6:.1f} MB; the limit is {MAX_IMPORT_BYTES / 1e6:.0f} MB. Split the file.")
    return parse_import(path.read_bytes(), path.name, fmt=fmt, layer=layer)
