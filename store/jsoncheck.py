"""Check the outline of an uploaded GeoJSON file in a separate, limited, low-priority process.

Parsing JSON holds Python's global interpreter lock for the whole parse: a hostile 20 MB
file of ten million array items costs about a second of CPU during which no other session
of the same server runs a line (issue 18, finding 1). :mod:`store.importing` therefore runs
this script as a child process (``python -I -S jsoncheck.py`` with the file on stdin) before
it parses a file itself. The child lowers its own CPU priority to the lowest (niceness 19)
before it reads anything, limits its memory and CPU time, and prints one small JSON verdict:
either ``{"ok": true, "features": N}`` or ``{"ok": false, "kind": ..., ...}`` describing why
the file cannot be a FeatureCollection within the import limits. The server parses only
files that passed, so a hostile file costs the server no parsing at all.

The check does not build the document. It walks the top-level object member by member and
the ``features`` array item by item (the standard library's C scanner decodes one item at a
time, and the item is dropped once looked at), and it stops as soon as the verdict is
certain: at the tenth item that is not a feature, at the item past the feature limit, or at
the member past :data:`MAX_MEMBERS` at the top level. A
file of ten million ``0`` items is refused after its first ten, in microseconds, instead of
after a second-long ``json.loads`` of the whole array; the child reads only the file's first
64 KB (:data:`HEAD_BYTES`) for that. A file that passes has been decoded completely (every
member and every feature), so it is valid JSON.

Only the standard library is used and ``site`` is not imported, so the child starts in a few
tens of milliseconds.
"""

from __future__ import annotations

import codecs
import json
import os
import sys
from json.decoder import WHITESPACE, JSONDecodeError, scanstring

LOWEST_PRIORITY = 19  # the highest niceness: runs only when nothing else wants the CPU
SHOWN = 10  # the check stops at this many items that are not features and names them
MAX_MEMBERS = 1_000  # a FeatureCollection has a few top-level members (type, features, bbox, crs, name...)
HEAD_BYTES = 65_536  # read and looked at first: most hostile files are certain to be refused by then

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


class Refused(Exception):
    """The verdict is certain before the end of the file."""

    def __init__(self, verdict: dict):
        super().__init__(verdict.get("kind"))
        self.verdict = verdict


def _skip(text: str, idx: int) -> int:
    if idx < len(text) and text[idx] in _SPACE:
        return WHITESPACE.match(text, idx).end()
    return idx


def _is_feature(item) -> bool:
    return isinstance(item, dict) and isinstance(item.get("properties"), dict) and isinstance(item.get("geometry"), dict)


def _walk_features(text: str, idx: int, max_features: int) -> tuple[int, int]:
    """Look at the array starting at ``text[idx] == "["`` one item at a time; (items, end)."""
    decode = _DECODER.raw_decode
    idx = _skip(text, idx + 1)
    if text.startswith("]", idx):
        return 0, idx + 1
    count, bad = 0, []
    while True:
        item, idx = decode(text, idx)  # JSONDecodeError, RecursionError, ValueError go to the caller
        if not _is_feature(item):
            bad.append(count)
            if len(bad) >= SHOWN:  # certain: name these and stop reading
                raise Refused({"kind": "not_features", "first": bad, "count": len(bad), "stopped": True})
        count += 1
        if count > max_features:
            raise Refused({"kind": "too_many", "count": count, "stopped": True})
        del item
        idx = _skip(text, idx)
        nxt = text[idx:idx + 1]
        if nxt == ",":
            idx = _skip(text, idx + 1)
        elif nxt == "]":
            if bad:
                raise Refused({"kind": "not_features", "first": bad, "count": len(bad)})
            return count, idx + 1
        else:
            raise JSONDecodeError("Expecting ',' delimiter", text, idx)


def _walk(text: str, max_features: int) -> dict:
    """The verdict for a document, reading only as far as needed."""
    idx = _skip(text, 0)
    first = text[idx:idx + 1]
    if first == "[":  # an array can never be a FeatureCollection: no need to read it
        return {"ok": False, "kind": "not_collection"}
    if first != "{":
        _DECODER.raw_decode(text, idx)  # an empty file or garbage: the JSON error says where
        return {"ok": False, "kind": "not_collection"}
    members: dict = {}  # what each top-level member is, the last one winning as in json.loads
    idx = _skip(text, idx + 1)
    if text.startswith("}", idx):
        return {"ok": False, "kind": "not_collection"}
    seen = 0
    while True:
        seen += 1
        if seen > MAX_MEMBERS:  # millions of tiny members would each cost this loop a turn
            raise Refused({"kind": "members", "count": MAX_MEMBERS, "stopped": True})
        if not text.startswith('"', idx):
            raise JSONDecodeError("Expecting property name enclosed in double quotes", text, idx)
        key, idx = scanstring(text, idx + 1)
        idx = _skip(text, idx)
        if not text.startswith(":", idx):
            raise JSONDecodeError("Expecting ':' delimiter", text, idx)
        idx = _skip(text, idx + 1)
        if key == "features" and text.startswith("[", idx):
            items, idx = _walk_features(text, idx, max_features)
            members[key] = ("list", items)
        else:
            value, idx = _DECODER.raw_decode(text, idx)
            members[key] = ("value", value if key == "type" else None)
            del value
        idx = _skip(text, idx)
        nxt = text[idx:idx + 1]
        if nxt == ",":
            idx = _skip(text, idx + 1)
        elif nxt == "}":
            idx = _skip(text, idx + 1)
            break
        else:
            raise JSONDecodeError("Expecting ',' delimiter", text, idx)
    if idx != len(text):
        raise JSONDecodeError("Extra data", text, idx)
    features = members.get("features")
    if members.get("type") != ("value", "FeatureCollection") or features is None or features[0] != "list":
        return {"ok": False, "kind": "not_collection"}
    return {"ok": True, "features": features[1]}


def verdict(data: bytes, max_features: int) -> dict:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return {"ok": False, "kind": "encoding", "byte": exc.start}
    try:
        return _walk(text, max_features)
    except Refused as refused:
        return {"ok": False, **refused.verdict}
    except JSONDecodeError as exc:
        return {"ok": False, "kind": "json", "line": exc.lineno, "column": exc.colno, "msg": exc.msg}
    except RecursionError:
        return {"ok": False, "kind": "nesting"}
    except ValueError:  # an integer with thousands of digits
        return {"ok": False, "kind": "number"}


def head_verdict(head: bytes, max_features: int) -> dict | None:
    """A refusal certain from the file's first bytes alone, or None (then the whole file is read).

    Only a refusal is taken from the head: items that are not features, or too many, are
    certain once they have been decoded whole, whatever follows, and so is a document that is
    not an object. Anything else (a head cut in the middle of an item reads as broken JSON)
    means "read on".
    """
    try:
        result = _walk(codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False), max_features)
    except Refused as refused:
        return {"ok": False, **refused.verdict}
    except (ValueError, RecursionError):  # JSON and encoding errors included: the whole file decides
        return None
    # A document the head refuses whole (an array, a bare value, an object without the right
    # members) is refused whatever follows; one that looks right goes on to the full check.
    return None if result.get("ok") else result


def lower_priority() -> int:
    """Run at the lowest CPU priority from now on; returns the niceness the process then has.

    (The child does no disk I/O: it reads a pipe and writes a line, so its I/O priority is left alone.)
    """
    try:
        os.setpriority(os.PRIO_PROCESS, 0, LOWEST_PRIORITY)
    except (AttributeError, OSError):  # not on this platform
        pass
    try:
        return os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError):
        return 0


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    except (ImportError, ValueError, OSError):  # not on this platform: the parent's timeout still holds
        pass


def main(argv: list[str]) -> int:
    niceness = lower_priority()
    max_features, memory_bytes, cpu_seconds = (int(a) for a in argv[:3])
    _limit(memory_bytes, cpu_seconds)
    stdin = sys.stdin.buffer
    try:
        head = stdin.read(HEAD_BYTES)
        result = head_verdict(head, max_features)
        if result is None:
            result = verdict(head + stdin.read(), max_features)
    except MemoryError:
        result = {"ok": False, "kind": "memory"}
    result["nice"] = niceness
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
