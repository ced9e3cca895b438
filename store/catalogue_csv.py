"""Events from a CSV with the catalogue's own columns (one row per event).

Columns are the event fields of ``data/EVENTS.md``:

- plain values: ``id``, ``title`` (``name`` defaults to it), ``date``, ``time_precision``,
  ``time_of_day``, ``summary``, ``event_type``, ``sub_event_type``, ``fatalities``,
  ``fatalities_note``, ``geo_precision``, ``remote_location``, ``status``;
- ``background`` and ``remote``: ``true`` or ``false``;
- ``actors`` and ``related_ids``: several values separated by ``;``;
- the place: ``location_en``, ``location_sq``, ``location_sr``, ``latitude``, ``longitude``;
- ``claims`` and ``sources``: JSON arrays of objects (``[{"party": ..., "claim": ...}]``,
  ``[{"publisher": ..., "title": ..., "date": ..., "url": ...}]``).

Other columns (such as the ``*_meaning`` columns of the app's CSV download) are ignored.
Every row becomes a GeoJSON feature; the features are then validated whole by the
store with the catalogue's own checks, so a row is accepted exactly when the same
event in ``data/events.geojson`` would be.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from geo.io import LayerValidationError, Problem

REQUIRED = (
    "id", "title", "date", "time_precision", "summary", "event_type", "sub_event_type", "actors",
    "location_en", "location_sq", "location_sr", "latitude", "longitude", "geo_precision", "status", "sources",
)
_INTEGER_FIELDS = ("time_precision", "geo_precision")


def _problem(name: str, row: int | None, column: str, message: str) -> Problem:
    return Problem(name, f"row {row}" if row else "", column, message)


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _bool(value: str | None, name: str, row: int, column: str, problems: list[Problem]) -> bool:
    text = (value or "").strip().lower()
    if text in ("", "false", "no", "0"):
        return False
    if text in ("true", "yes", "1"):
        return True
    problems.append(_problem(name, row, column, f"write true or false, got {value!r}"))
    return False


def _json_list(value: str | None, name: str, row: int, column: str, problems: list[Problem]) -> list:
    text = (value or "").strip()
    if not text:
        return []
    try:
        parsed = json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError):
        problems.append(_problem(name, row, column, 'must be a JSON array of objects, e.g. [{"party": "...", "claim": "..."}]'))
        return []
    if not isinstance(parsed, list):
        problems.append(_problem(name, row, column, "must be a JSON array"))
        return []
    return parsed


def _number(value: str | None, name: str, row: int, column: str, problems: list[Problem], *, integer: bool) -> Any:
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        problems.append(_problem(name, row, column, f"must be a number, got {text[:40]!r}"))
        return None
    if integer:
        if not number.is_integer():
            problems.append(_problem(name, row, column, f"must be a whole number, got {text[:40]!r}"))
            return None
        return int(number)
    return number


def read_catalogue_csv(data: bytes, name: str, *, max_rows: int = 200_000) -> list[dict]:
    """GeoJSON features from a catalogue CSV; raises LayerValidationError listing every problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayerValidationError([_problem(name, None, "", f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise LayerValidationError([_problem(name, None, column, "column is missing") for column in missing])
    problems: list[Problem] = []
    features: list[dict] = []
    for number, row in enumerate(reader, start=2):
        if len(features) >= max_rows:
            raise LayerValidationError([_problem(name, None, "", f"has more than {max_rows:,} rows; split the file")])
        if None in row:  # more cells than columns
            problems.append(_problem(name, number, "", "has more cells than the header has columns"))
            continue
        if any(value is None for key, value in row.items() if key in REQUIRED):
            problems.append(_problem(name, number, "", "is cut short (fewer cells than columns): is the file complete?"))
            continue
        title = _text(row.get("title"))
        properties = {
            "id": _text(row.get("id")),
            "name": _text(row.get("name")) or title,
            "title": title,
            "date": _text(row.get("date")),
            "time_precision": _number(row.get("time_precision"), name, number, "time_precision", problems, integer=True),
            "time_of_day": _text(row.get("time_of_day")),
            "background": _bool(row.get("background"), name, number, "background", problems),
            "summary": _text(row.get("summary")),
            "event_type": _text(row.get("event_type")),
            "sub_event_type": _text(row.get("sub_event_type")),
            "actors": [a.strip() for a in (row.get("actors") or "").split(";") if a.strip()],
            "fatalities": _number(row.get("fatalities"), name, number, "fatalities", problems, integer=True),
            "fatalities_note": _text(row.get("fatalities_note")),
            "location": {"en": _text(row.get("location_en")), "sq": _text(row.get("location_sq")), "sr": _text(row.get("location_sr"))},
            "geo_precision": _number(row.get("geo_precision"), name, number, "geo_precision", problems, integer=True),
            "related_ids": [r.strip() for r in (row.get("related_ids") or "").split(";") if r.strip()],
            "remote": _bool(row.get("remote"), name, number, "remote", problems),
            "remote_location": _text(row.get("remote_location")),
            "status": _text(row.get("status")),
            "claims": _json_list(row.get("claims"), name, number, "claims", problems),
            "sources": _json_list(row.get("sources"), name, number, "sources", problems),
        }
        lat = _number(row.get("latitude"), name, number, "latitude", problems, integer=False)
        lon = _number(row.get("longitude"), name, number, "longitude", problems, integer=False)
        if lat is None or lon is None:
            problems.append(_problem(name, number, "latitude/longitude", "both coordinates are required (decimal degrees, WGS 84)"))
            continue
        features.append({"type": "Feature", "properties": properties, "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    if problems:
        raise LayerValidationError(problems)
    if not features:
        raise LayerValidationError([_problem(name, None, "", "has no rows")])
    return features
