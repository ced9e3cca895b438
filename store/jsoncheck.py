"""Check the outline of an uploaded GeoJSON file in a separate, limited process.

Parsing JSON holds Python's global interpreter lock for the whole parse: a hostile 20 MB
file of ten million array items costs about a second of CPU during which no other session
of the same server runs a line (issue 18, finding 1). :mod:`store.importing` therefore runs
this script as a child process (``python -I jsoncheck.py`` with the file on stdin) before it
parses a file itself. The child parses the file under a memory limit and a time limit, and
prints one small JSON verdict: either ``{"ok": true, "features": N}`` or ``{"ok": false,
"kind": ..., ...}`` describing why the file cannot be a FeatureCollection within the import
limits. The server parses only files that passed, so a hostile file costs the server no
parsing at all and its memory stays in the child, which exits at once.

Only the standard library is used, so the child starts in a few tens of milliseconds.
"""

from __future__ import annotations

import json
import sys


def verdict(data: bytes, max_features: int) -> dict:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return {"ok": False, "kind": "encoding", "byte": exc.start}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return {"ok": False, "kind": "json", "line": exc.lineno, "column": exc.colno, "msg": exc.msg}
    except RecursionError:
        return {"ok": False, "kind": "nesting"}
    except ValueError:  # an integer with thousands of digits
        return {"ok": False, "kind": "number"}
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" or not isinstance(document.get("features"), list):
        return {"ok": False, "kind": "not_collection"}
    features = document["features"]
    if len(features) > max_features:
        return {"ok": False, "kind": "too_many", "count": len(features)}
    bad = [i for i, f in enumerate(features) if not isinstance(f, dict) or not isinstance(f.get("properties"), dict)
           or not isinstance(f.get("geometry"), dict)]
    if bad:
        return {"ok": False, "kind": "not_features", "first": bad[:10], "count": len(bad)}
    return {"ok": True, "features": len(features)}


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    except (ImportError, ValueError, OSError):  # not on this platform: the parent's timeout still holds
        pass


def main(argv: list[str]) -> int:
    max_features, memory_bytes, cpu_seconds = (int(a) for a in argv[:3])
    _limit(memory_bytes, cpu_seconds)
    data = sys.stdin.buffer.read()
    try:
        result = verdict(data, max_features)
    except MemoryError:
        result = {"ok": False, "kind": "memory"}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
