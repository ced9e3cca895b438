"""ACLED CSV exports mapped onto the event catalogue's features (pure functions, no database).

:func:`read_acled_csv` turns the bytes of an ACLED export (from ACLED's API or
its web export tool) into GeoJSON Feature dicts with the properties of
``data/EVENTS.md``, and lists every problem by row and column. The features are
then validated with the catalogue's own rules (:func:`geo.events.parse_events`),
so an ACLED row is accepted exactly when the same feature in a catalogue file
would be.

Row numbers are those a spreadsheet shows: the header is row 1, the first event
row 2 (a record whose quoted ``notes`` span several lines still counts as one row).

Mapping (ACLED column -> catalogue field):

* ``event_id_cnty`` -> ``id`` = ``acled-<id lower-cased, other characters as '-'>``,
  stable across re-imports, and ``acled_id`` (ACLED's id as written);
* ``event_date`` (``2023-09-24``, ``24 September 2023`` or ``24-Sep-23``) -> ``date``;
* ``time_precision``/``geo_precision`` -> the same codes (see :func:`_precision`);
* ``event_type``/``sub_event_type`` -> the same, which must be ACLED's
  (:data:`geo.events.EVENT_TYPES`);
* ``actor1``, ``assoc_actor_1``, ``actor2``, ``assoc_actor_2`` (each may hold
  several names separated by ';') -> ``actors``, de-duplicated in order;
* ``location`` -> ``location`` (the one name ACLED gives, in all three languages);
* ``latitude``/``longitude`` -> the Point, rounded to 6 decimals;
* ``notes`` -> ``summary``; ``fatalities`` -> ``fatalities``;
* ``source`` (names separated by ';', no links) -> ``sources`` without ``url``,
  allowed because every feature carries ``provenance`` = ``{file, row, acled_id,
  acled_timestamp}`` (``timestamp`` column, Unix seconds, or null).
"""

from __future__ import annotations

import collections
import csv
import datetime as _dt
import gc
import hashlib
import io
import json
import math
import pickle
import re
from dataclasses import dataclass
from typing import Any

from geo.crs import REGION_BBOX
from geo.events import (
    BACKGROUND_START,
    CRISIS_WINDOW,
    EVENT_TYPES,
    GEO_PRECISION,
    SUMMARY_MAX_CHARS,
    TIME_PRECISION,
    is_in_region,
    parse_events,
)
from geo.io import LayerValidationError, Problem
from geo.schema import is_id

REQUIRED_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "notes",
    "fatalities",
)
OPTIONAL_COLUMNS = ("assoc_actor_1", "actor2", "assoc_actor_2", "admin1", "admin2", "admin3", "timestamp")
ACTOR_COLUMNS = ("actor1", "assoc_actor_1", "actor2", "assoc_actor_2")

ID_PREFIX = "acled-"
DEFAULT_MAX_ROWS = 200_000
ZERO_FATALITIES_NOTE = "ACLED records 0 when no fatalities are reported."
COORDINATE_DECIMALS = 6

# The catalogue field a problem found by geo.events.parse_events concerns -> the ACLED column to fix.
_COLUMN_OF_FIELD = {
    "id": "event_id_cnty",
    "acled_id": "event_id_cnty",
    "provenance": "event_id_cnty",
    "date": "event_date",
    "background": "event_date",
    "time_of_day": "event_date",
    "time_precision": "time_precision",
    "geo_precision": "geo_precision",
    "event_type": "event_type",
    "sub_event_type": "sub_event_type",
    "title": "sub_event_type",
    "name": "sub_event_type",
    "actors": "actor1",
    "fatalities": "fatalities",
    "fatalities_note": "fatalities",
    "location": "location",
    "summary": "notes",
    "sources": "source",
    "geometry": "latitude, longitude",
}

_MONTHS = {
    name: number
    for number, full in enumerate(
        (
            "january", "february", "march", "april", "may", "june",
            "july", "august", "september", "october", "november", "december",
        ),
        start=1,
    )
    for name in (full, full[:3])
}
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEB_DATE = re.compile(r"^(\d{1,2}) ([A-Za-z]+) (\d{4})$")  # 24 September 2023 (web export tool)
_OLD_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{2})$")  # 24-Sep-23 (older exports)
_WHOLE_NUMBER = re.compile(r"^\d+$")

# Digests of the last feature lists that passed geo.events.parse_events whole in _validate.
# parse_events depends on nothing but the features (their JSON text), so Store.import_features
# need not validate the very same features a second time: see passed_validation. The digest
# is of the features' pickle, which records every value with its exact type (1, 1.0 and True
# differ), so any change made to them in between means a new, full validation.
_VALIDATED: collections.deque[bytes] = collections.deque(maxlen=4)


def _digest(features: list[dict[str, Any]]) -> bytes:
    return hashlib.blake2b(pickle.dumps(features, protocol=5), digest_size=32).digest()


def passed_validation(features: list[dict[str, Any]]) -> bool:
    """True when exactly these features (same values, same types) recently passed ``parse_events`` whole here."""
    try:
        return _digest(features) in _VALIDATED
    except Exception:  # anything pickle cannot take was never validated here
        return False


@dataclass(frozen=True)
class RowProblem(Problem):
    """A :class:`geo.io.Problem` that also carries the row number (``None`` for the file itself).

    ``feature`` is ``"row N"`` and ``field`` the ACLED column to fix, so a list of
    these can be raised as a :class:`geo.io.LayerValidationError` like any other.
    """

    row: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", column '{self.field}'"
        return f"{where}: {self.message}"


def read_acled_csv(
    data: bytes, file_name: str, *, max_rows: int = DEFAULT_MAX_ROWS
) -> tuple[list[dict[str, Any]], list[RowProblem]]:
    """Map an ACLED CSV export onto the event catalogue's features.

    Parameters
    ----------
    data : bytes
        The file as read (UTF-8, with or without a byte-order mark).
    file_name : str
        Its name, recorded in each feature's ``provenance`` and in every problem.
    max_rows : int
        Most event rows accepted; a longer file is refused before any feature is built.

    Returns
    -------
    (features, problems)
        ``features``: GeoJSON Feature dicts (``{"type": "Feature", "geometry":
        {"type": "Point", ...}, "properties": {...}}``) for the rows that pass
        every check, in file order. ``problems``: :class:`RowProblem` items
        ``(file, "row N", column, message)`` with ``row`` set (``None`` for a
        problem of the whole file). A file with any problem must be refused as a
        whole: import nothing from it; the features are only there to preview.
    """
    # Hundreds of thousands of small dicts and lists are built here, none of them garbage:
    # the cyclic collector's repeated full passes over them are skipped (as in store.api).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_acled_csv(data, file_name, max_rows)
    finally:
        if enabled:
            gc.enable()


def _read_acled_csv(data: bytes, file_name: str, max_rows: int) -> tuple[list[dict[str, Any]], list[RowProblem]]:
    text, problem = _decode(data, file_name)
    if problem:
        return [], [problem]
    header, records, problems = _read_records(text, file_name, max_rows)
    if header is None or any(p.row is None for p in problems):
        return [], problems  # the file as a whole is unusable (encoding, header, size)
    columns = {name: position for position, name in enumerate(header or [])}

    built: list[tuple[int, dict[str, Any]]] = []
    seen_ids: dict[str, int] = {}
    for row, values in records:
        found: list[RowProblem] = []
        if len(values) != len(header):
            problems.append(
                _problem(
                    file_name,
                    row,
                    "",
                    f"has {len(values)} fields but the header has {len(header)}; the file may be truncated or a "
                    "field holds an unquoted comma. Re-export the file from ACLED",
                )
            )
            continue
        fields = {name: values[position].strip() for name, position in columns.items()}
        feature = _build_feature(fields, row, file_name, found)
        if feature is not None:
            event_id = feature["properties"]["id"]
            if event_id in seen_ids:
                found.append(
                    _problem(
                        file_name,
                        row,
                        "event_id_cnty",
                        f"{fields['event_id_cnty']!r} is the same event as row {seen_ids[event_id]} "
                        f"(id {event_id!r}); an export lists each event once",
                    )
                )
            else:
                seen_ids[event_id] = row
        problems.extend(found)
        if feature is not None and not found:
            built.append((row, feature))

    valid_rows, catalogue_problems = _validate(built, file_name)
    problems.extend(catalogue_problems)
    problems.sort(key=lambda p: (-1 if p.row is None else p.row))
    return [feature for row, feature in built if row in valid_rows], problems


# --- reading ------------------------------------------------------------------------

def _problem(file_name: str, row: int | None, column: str, message: str) -> RowProblem:
    return RowProblem(file_name, f"row {row}" if row is not None else "", column, message, row)


def _decode(data: bytes, file_name: str) -> tuple[str, RowProblem | None]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "", _problem(
            file_name, None, "", "the file is not UTF-8 text (it is UTF-16); save or export it as UTF-8 CSV"
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return "", _problem(
            file_name,
            None,
            "",
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line} is not UTF-8; "
            "it was probably saved as Windows-1250/1252 or Latin-1). ACLED exports are UTF-8: "
            "import the file as downloaded, or save it as 'CSV UTF-8'",
        )


def _read_records(
    text: str, file_name: str, max_rows: int
) -> tuple[list[str] | None, list[tuple[int, list[str]]], list[RowProblem]]:
    """The header (normalised names) and ``(row, values)`` of each non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    row = 0
    header: list[str] | None = None
    try:
        for values in reader:
            row += 1
            if header is None:
                if not any(v.strip() for v in values):
                    continue  # blank lines before the header
                header = [v.strip().lower() for v in values]
                header_row = row
                continue
            if not any(v.strip() for v in values):
                continue  # a blank line (e.g. at the end of the file)
            if len(records) >= max_rows:
                return header, [], [
                    _problem(
                        file_name,
                        None,
                        "",
                        f"has more than {max_rows:,} event rows (the import limit); "
                        "split the export (e.g. by date range) and import the parts one by one",
                    )
                ]
            records.append((row, values))
    except csv.Error as exc:
        return header, records, [
            _problem(
                file_name,
                row + 1,
                "",
                f"cannot be read as CSV ({exc}); the file may be truncated (cut inside a quoted field). "
                "Re-export it from ACLED",
            )
        ]
    if header is None:
        return None, [], [
            _problem(file_name, None, "", "the file is empty: expected a header row with ACLED's column names")
        ]
    problems = _header_problems(header, header_row, file_name)
    if problems:
        return None, [], problems
    return header, records, []


def _header_problems(header: list[str], row: int, file_name: str) -> list[RowProblem]:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in (";", "\t")):
            hint = " The columns seem to be separated by ';' or tabs; ACLED's CSV uses commas."
        elif not any(name in header for name in REQUIRED_COLUMNS):
            hint = " Row 1 must be the header with ACLED's column names (is the header missing?)."
        return [
            _problem(
                file_name,
                row,
                name,
                f"the required ACLED column {name!r} is missing from the header.{hint}",
            )
            for name in missing
        ]
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    return [
        _problem(file_name, row, name, f"the column {name!r} appears more than once in the header")
        for name in duplicated
    ]


# --- one row -> one feature ---------------------------------------------------------

def _build_feature(
    fields: dict[str, str], row: int, file_name: str, found: list[RowProblem]
) -> dict[str, Any] | None:
    def report(column: str, message: str) -> None:
        found.append(_problem(file_name, row, column, message))

    acled_id = fields["event_id_cnty"]
    event_id = _event_id(acled_id)
    if is_id(event_id):
        report(
            "event_id_cnty",
            f"{acled_id!r} does not give a usable id (letters and digits, at most "
            f"{80 - len(ID_PREFIX)} characters); every ACLED row needs its event_id_cnty",
        )

    day = _parse_date(fields["event_date"])
    if day is None:
        report(
            "event_date",
            f"{fields['event_date']!r} is not a date; use 2023-09-24 (ACLED API), "
            "24 September 2023 (ACLED web export) or 24-Sep-23",
        )

    time_precision = _precision(fields["time_precision"], TIME_PRECISION)
    if time_precision is None:
        report("time_precision", f"must be ACLED's time precision code 1, 2 or 3, got {fields['time_precision']!r}")
    geo_precision = _precision(fields["geo_precision"], GEO_PRECISION)
    if geo_precision is None:
        report("geo_precision", f"must be ACLED's geo precision code 1, 2 or 3, got {fields['geo_precision']!r}")

    if day is not None:
        if time_precision == 3:
            # ACLED records mid-month (or the first/last day) when only the month is
            # known; the catalogue dates such events to the first of the month.
            day = day.replace(day=1)
        if not BACKGROUND_START <= day <= CRISIS_WINDOW[1]:
            report(
                "event_date",
                f"{day.isoformat()} is outside the catalogue's window (background {BACKGROUND_START}.."
                f"{CRISIS_WINDOW[0] - _dt.timedelta(days=1)}, crisis {CRISIS_WINDOW[0]}..{CRISIS_WINDOW[1]}); "
                "leave this row out or filter the export to these dates",
            )

    event_type, sub_event_type = fields["event_type"], fields["sub_event_type"]
    if event_type not in EVENT_TYPES:
        report("event_type", f"{event_type!r} is not an ACLED event type; use one of: {', '.join(EVENT_TYPES)}")
    elif sub_event_type not in EVENT_TYPES[event_type]:
        report(
            "sub_event_type",
            f"{sub_event_type!r} is not an ACLED sub-event type of {event_type!r}; "
            f"use one of: {', '.join(EVENT_TYPES[event_type])}",
        )

    actors = _actors(fields)
    if not actors:
        report("actor1", "names no actor; an ACLED row needs at least actor1")

    location = fields["location"]
    if not location:
        report("location", "is empty; ACLED names the place of every event")

    position = _position(fields, report)

    fatalities: int | None = None
    if _WHOLE_NUMBER.match(fields["fatalities"]):
        fatalities = int(fields["fatalities"])
    else:
        report(
            "fatalities",
            f"must be a whole number, 0 or more (ACLED writes 0 when none are reported), got {fields['fatalities']!r}",
        )

    timestamp: int | None = None
    raw_timestamp = fields.get("timestamp", "")
    if raw_timestamp:
        if _WHOLE_NUMBER.match(raw_timestamp):
            timestamp = int(raw_timestamp)
        else:
            report("timestamp", f"must be Unix seconds (a whole number) or empty, got {raw_timestamp!r}")

    if found:
        return None
    assert day is not None and position is not None and fatalities is not None

    title = f"{event_type if sub_event_type == 'Other' else sub_event_type} in {location}"
    date = day.isoformat()
    source_names = _split_names(fields["source"]) or ["ACLED"]
    properties = {
        "id": event_id,
        "name": title,
        "title": title,
        "date": date,
        "time_precision": time_precision,
        "time_of_day": None,
        # The catalogue's window rule: context before the crisis window is background.
        "background": day < CRISIS_WINDOW[0],
        "summary": _summary(fields["notes"], title, date),
        "event_type": event_type,
        "sub_event_type": sub_event_type,
        "actors": actors,
        "fatalities": fatalities,
        "fatalities_note": ZERO_FATALITIES_NOTE if fatalities == 0 else None,
        # ACLED gives one name; the catalogue's validator (geo.events._is_location)
        # requires en, sq and sr, so the same name is used for all three.
        "location": {"en": location, "sq": location, "sr": location},
        "geo_precision": geo_precision,
        "related_ids": [],
        "remote": False,
        "remote_location": None,
        "status": "reported",
        "claims": [],
        "sources": [
            {"publisher": name, "title": f"Reported to ACLED ({acled_id})", "date": date}
            for name in source_names
        ],
        "acled_id": acled_id,
        "provenance": {"file": file_name, "row": row, "acled_id": acled_id, "acled_timestamp": timestamp},
    }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(position)},
        "properties": properties,
    }


def _event_id(acled_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", acled_id.lower()).strip("-")
    return ID_PREFIX + slug if slug else ""


def _parse_date(value: str) -> _dt.date | None:
    try:
        if match := _ISO_DATE.match(value):
            return _dt.date(int(match[1]), int(match[2]), int(match[3]))
        if match := _WEB_DATE.match(value):
            month = _MONTHS.get(match[2].lower())
            return _dt.date(int(match[3]), month, int(match[1])) if month else None
        if match := _OLD_DATE.match(value):
            month = _MONTHS.get(match[2].lower())
            year = int(match[3])
            year += 2000 if year < 70 else 1900
            return _dt.date(year, month, int(match[1])) if month else None
    except ValueError:
        return None  # e.g. 31 June
    return None


def _precision(value: str, codes: dict[int, str]) -> int | None:
    """ACLED's precision code as the catalogue's: the codes 1-3 mean the same.

    ACLED Codebook, "Time precision codes": 1 = the source gives the actual date;
    2 = "sometime during the week" or a similar span (the middle of the period is
    recorded); 3 = only the month is known. The catalogue (data/EVENTS.md): 1 = day
    known, 2 = within about a week, 3 = only the month (dated to the first).
    "Spatial precision codes": 1 = a particular town with known coordinates;
    2 = a small part of a region or general area, or "near" a town; 3 = only a
    larger region is mentioned. The catalogue: 1 = at the named place, 2 = near
    it / small area (few km), 3 = only a region. So each code maps onto itself
    (see /work/shared/research/wave2-anchors.md, section 1).
    """
    if value in ("1", "2", "3"):
        code = int(value)
        return code if code in codes else None
    return None


def _split_names(value: str) -> list[str]:
    return [name.strip() for name in value.split(";") if name.strip()]


def _actors(fields: dict[str, str]) -> list[str]:
    actors: list[str] = []
    for column in ACTOR_COLUMNS:
        for name in _split_names(fields.get(column, "")):
            if name not in actors:
                actors.append(name)
    return actors


def _position(fields: dict[str, str], report: Any) -> tuple[float, float] | None:
    values = {}
    for column in ("longitude", "latitude"):
        try:
            number = float(fields[column])
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            report(column, f"must be a number in decimal degrees (WGS 84), got {fields[column]!r}")
        values[column] = round(number, COORDINATE_DECIMALS)
    lon, lat = values["longitude"], values["latitude"]
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    if not is_in_region(lon, lat):
        lon_min, lat_min, lon_max, lat_max = REGION_BBOX
        lon_out, lat_out = not lon_min <= lon <= lon_max, not lat_min <= lat <= lat_max
        column = "latitude, longitude" if lon_out and lat_out else "longitude" if lon_out else "latitude"
        report(
            column,
            f"({lat}, {lon}) (latitude, longitude) lies outside the region the catalogue covers "
            f"({lat_min}-{lat_max} N, {lon_min}-{lon_max} E); check that latitude and longitude "
            "are not swapped, or leave the row out",
        )
        return None
    return lon, lat


def _summary(notes: str, title: str, date: str) -> str:
    """ACLED's notes, cut at a word to the catalogue's limit; a stand-in when the row has none."""
    notes = " ".join(notes.split())
    if not notes:
        return f"{title} on {date}, as coded by ACLED (the row has no notes)."
    if len(notes) <= SUMMARY_MAX_CHARS:
        return notes
    cut = notes[: SUMMARY_MAX_CHARS - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


# --- the catalogue's own validation --------------------------------------------------

def _validate(built: list[tuple[int, dict[str, Any]]], file_name: str) -> tuple[set[int], list[RowProblem]]:
    """Run :func:`geo.events.parse_events` on the built features; map its problems to rows."""
    rows = {row for row, _ in built}
    if not built:
        return rows, []
    features = [feature for _, feature in built]
    try:
        parse_events(json.dumps({"type": "FeatureCollection", "features": features}), source_name=file_name)
    except LayerValidationError as exc:
        row_of_label = {}
        for index, (row, feature) in enumerate(built):
            row_of_label[repr(feature["properties"]["id"])] = row
            row_of_label[f"#{index}"] = row
        problems = []
        for problem in exc.problems:
            row = row_of_label.get(problem.feature)
            column = _COLUMN_OF_FIELD.get(problem.field, problem.field)
            message = problem.message
            if problem.field and column != problem.field:
                message = f"{message} (catalogue field '{problem.field}')"
            problems.append(_problem(file_name, row, column, message))
            rows.discard(row)
        return rows, problems
    _VALIDATED.append(_digest(features))
    return rows, []


__all__ = ["REQUIRED_COLUMNS", "RowProblem", "passed_validation", "read_acled_csv"]
