"""The event catalogue (layer id ``events``): what happened, where, when, and who says so.

Each event is a GeoJSON Point feature whose properties are described in
``data/EVENTS.md``. This module registers the layer's schema with
:mod:`geo.schema` when imported, and adds the checks that need more than one
field at a time (an ACLED sub-event type must belong to its event type, a date
must fall in the catalogue's window, a remote event needs the place it happened,
and so on).

Use :func:`load_events` for the catalogue file and :func:`parse_events` for an
uploaded report; both either return the whole catalogue or raise
:class:`geo.io.LayerValidationError` listing every problem with the event id and
the field concerned. They never return part of a file.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.crs import REGION_BBOX
from geo.io import LayerValidationError, Problem, parse_layer, read_layer_text
from geo.schema import (
    LayerSchema,
    Validator,
    is_date,
    is_id,
    is_optional_text,
    is_source,
    is_text,
    list_of,
    one_of,
    register_schema,
)

LAYER_ID = "events"

# ACLED's six event types and their sub-event types (ACLED Codebook, 2023 edition).
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "Battles": (
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    ),
    "Explosions/Remote violence": (
        "Chemical weapon",
        "Air/drone strike",
        "Suicide bomb",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Grenade",
    ),
    "Violence against civilians": (
        "Sexual violence",
        "Attack",
        "Abduction/forced disappearance",
    ),
    "Protests": (
        "Peaceful protest",
        "Protest with intervention",
        "Excessive force against protesters",
    ),
    "Riots": (
        "Violent demonstration",
        "Mob violence",
    ),
    "Strategic developments": (
        "Agreement",
        "Arrests",
        "Change to group/activity",
        "Disrupted weapons use",
        "Headquarters or base established",
        "Looting/property destruction",
        "Non-violent transfer of territory",
        "Other",
    ),
}

# Event types in which people are killed or could be: a fatality count (0 or more)
# is required; for the others it may be null ("not applicable").
VIOLENT_EVENT_TYPES = ("Battles", "Explosions/Remote violence", "Violence against civilians")

EVENT_STATUSES = ("confirmed", "reported", "claimed")

# What each code means, in the words the panel, the About page and the CSV export use.
# time_precision: how well the date is known.
TIME_PRECISION = {1: "exact day", 2: "within about a week", 3: "month only"}
# geo_precision: how well the position is known.
GEO_PRECISION = {1: "at the named place", 2: "near the named place (small area)", 3: "region only"}
# status of a fact, for every layer (geo.schema.STATUSES); events use EVENT_STATUSES of them.
STATUS = {
    "confirmed": "Confirmed by several independent sources or officially acknowledged",
    "reported": "Reported by credible sources, not independently confirmed",
    "assessed": "Border Brief's assessment from reported facts",
    "claimed": "Claimed by a party, disputed or unverified",
}

# The window the catalogue accepts. Background events (flagged ``background``) start
# with Kosovo's declaration of independence; events of the crisis itself must fall
# in CRISIS_WINDOW.
BACKGROUND_START = _dt.date(2008, 2, 17)
CATALOGUE_END = _dt.date(2023, 12, 31)
CRISIS_WINDOW = (_dt.date(2023, 5, 1), _dt.date(2023, 11, 30))

LOCATION_LANGUAGES = ("en", "sq", "sr")
MAX_COORDINATE_DECIMALS = 6
SUMMARY_MAX_CHARS = 900

_TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):[0-5]\d")  # matched whole (fullmatch)


# --- field validators ---------------------------------------------------------

def _is_code(*codes: int) -> Validator:
    """One of the integer codes; ``True``/``False`` are refused although they equal 1/0."""

    def check(value: Any) -> str | None:
        if isinstance(value, bool) or value not in codes:
            return f"must be one of the codes {', '.join(map(str, codes))}, got {value!r}"
        return None

    return check


def _is_bool(value: Any) -> str | None:
    if not isinstance(value, bool):
        return f"must be true or false, got {value!r}"
    return None


def _is_time_of_day(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _TIME_OF_DAY.fullmatch(value):
        return f"must be a local time HH:MM (00:00-23:59) or null, got {value!r}"
    return None


def _is_fatalities(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"must be a whole number of deaths (0 or more) or null, got {value!r}"
    return None


def _is_summary(value: Any) -> str | None:
    problem = is_text(value)
    if problem:
        return problem
    if len(value) > SUMMARY_MAX_CHARS:
        return f"is {len(value)} characters long; keep it to 2-4 sentences (at most {SUMMARY_MAX_CHARS} characters)"
    return None


def _is_location(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"must be an object with names in {', '.join(LOCATION_LANGUAGES)}, got {value!r}"
    for language in LOCATION_LANGUAGES:
        if language not in value:
            return f"is missing the '{language}' name"
        problem = is_text(value[language])
        if problem:
            return f"'{language}' name {problem}"
    return None


def _is_claim(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"a claim must be an object with 'party' and 'claim', got {value!r}"
    for key in ("party", "claim"):
        if key not in value:
            return f"a claim is missing '{key}'"
        problem = is_text(value[key])
        if problem:
            return f"claim '{key}' {problem}"
    return None


def _is_event_source(value: Any) -> str | None:
    """A citation whose publication date is a full day (events are dated to the day).

    ``url`` may be left out here; the cross-field rules then require the event's
    ``provenance`` (only an imported row, e.g. from an ACLED export, cites sources
    by name without links).
    """
    problem = is_source(value, require_url=False)
    if problem:
        return problem
    problem = is_date(value["date"])
    if problem:
        return f"source 'date' (publication date) {problem}"
    return None


def _is_provenance(value: Any) -> str | None:
    """Where an imported event came from: the file, its row and ACLED's id and upload time."""
    if not isinstance(value, dict):
        return f"must be an object with 'file', 'row', 'acled_id' and 'acled_timestamp', got {value!r}"
    for key in ("file", "acled_id"):
        if key not in value:
            return f"is missing '{key}'"
        problem = is_text(value[key])
        if problem:
            return f"'{key}' {problem}"
    row = value.get("row")
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 1):
        return f"'row' must be a row number (1 or more) or null, got {row!r}"
    timestamp = value.get("acled_timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0):
        return f"'acled_timestamp' must be Unix seconds (a whole number) or null, got {timestamp!r}"
    return None


EVENT_FIELDS: dict[str, Validator] = {
    "id": is_id,
    "name": is_text,
    "title": is_text,
    "date": is_date,
    "time_precision": _is_code(*TIME_PRECISION),
    "time_of_day": _is_time_of_day,
    "background": _is_bool,
    "summary": _is_summary,
    "event_type": one_of(*EVENT_TYPES),
    "sub_event_type": is_text,  # membership of its event type is checked across fields
    "actors": list_of(is_text, min_items=1),
    "fatalities": _is_fatalities,
    "fatalities_note": is_optional_text,
    "location": _is_location,
    "geo_precision": _is_code(*GEO_PRECISION),
    "related_ids": list_of(is_id),
    "remote": _is_bool,
    "remote_location": is_optional_text,
    "status": one_of(*EVENT_STATUSES),
    "claims": list_of(_is_claim),
    "sources": list_of(_is_event_source, min_items=1),
}

# Only imported events carry these (see store.acled): ACLED's own event id, and the
# file and row the event came from. A feature with a valid provenance may cite
# sources without a url (the cross-field rules check that).
EVENT_OPTIONAL_FIELDS: dict[str, Validator] = {
    "acled_id": is_text,
    "provenance": _is_provenance,
}

EVENTS_SCHEMA = LayerSchema(LAYER_ID, ("Point",), EVENT_FIELDS, EVENT_OPTIONAL_FIELDS)
register_schema(EVENTS_SCHEMA)


# --- public API -----------------------------------------------------------------

def load_events(path: str | Path) -> gpd.GeoDataFrame:
    """Load the event catalogue and validate it completely.

    Parameters
    ----------
    path : str or Path
        A GeoJSON FeatureCollection of event Points (EPSG:4326).

    Returns
    -------
    GeoDataFrame
        One row per event, sorted by date then id, CRS EPSG:4326.

    Raises
    ------
    LayerValidationError
        When the file cannot be read or any event breaks the schema or a
        cross-field rule; every problem names the event id and the field.
    """
    path = Path(path)
    return parse_events(read_layer_text(path), source_name=path.name)


def parse_events(text: str | bytes, source_name: str = "<upload>") -> gpd.GeoDataFrame:
    """Validate an event report (GeoJSON text) with the same checks as :func:`load_events`.

    Schema problems (from :func:`geo.io.parse_layer`) and cross-field problems are
    collected together, so one upload shows everything that needs fixing.
    """
    problems: list[Problem] = []
    frame: gpd.GeoDataFrame | None = None
    try:
        frame = parse_layer(text, LAYER_ID, source_name=source_name, schema=EVENTS_SCHEMA)
    except LayerValidationError as exc:
        problems.extend(exc.problems)
        if any(not p.feature for p in exc.problems):
            # The document itself is unusable (not JSON, not a FeatureCollection, ...).
            raise
    features = json.loads(text)["features"]
    for index, feature in enumerate(features):
        problems.extend(_cross_field_problems(feature, index, source_name))
    if problems:
        raise LayerValidationError(_in_feature_order(problems, features))
    assert frame is not None
    return _sorted(frame)


def event_index(events: gpd.GeoDataFrame) -> dict[str, int]:
    """Map each event id to its row position (for ``events.iloc[...]``)."""
    if "id" not in events.columns:
        return {}
    # tolist() converts the column in one call; iterating an Arrow-backed string column
    # element by element costs ten times as much at 100,000 events.
    return dict(zip(events["id"].tolist(), range(len(events))))


def place_links(
    events: gpd.GeoDataFrame, places: gpd.GeoDataFrame, radius_m: dict[int, float]
) -> tuple[list[tuple[str, str]], list[tuple[str, str, float, float]]]:
    """Check events against the places layer (the cited gazetteer).

    Returns ``(unknown, too_far)``: ``unknown`` lists ``(event id, slug)`` for each
    ``related_ids`` entry that is not a place id; ``too_far`` lists
    ``(event id, place id, distance m, allowed m)`` for each event whose first
    related id is a place but whose point lies farther from that place than the
    place's own ``precision_m`` plus the event's ``geo_precision`` radius
    (``radius_m``, e.g. :data:`layers.config.PRECISION_RADIUS_M`). Distances are
    measured in :data:`geo.crs.METRIC_CRS`.
    """
    from geo.crs import METRIC_CRS

    metric_places = places.to_crs(METRIC_CRS).set_index("id")
    metric_events = events.to_crs(METRIC_CRS)
    unknown: list[tuple[str, str]] = []
    too_far: list[tuple[str, str, float, float]] = []
    for row in metric_events.itertuples(index=False):
        related = list(row.related_ids) if isinstance(row.related_ids, (list, tuple)) else []
        unknown.extend((row.id, slug) for slug in related if slug not in metric_places.index)
        if not related or related[0] not in metric_places.index:
            continue
        place = metric_places.loc[related[0]]
        distance = float(row.geometry.distance(place.geometry))
        allowed = float(place["precision_m"]) + float(radius_m.get(int(row.geo_precision), 0))
        if distance > allowed:
            too_far.append((row.id, related[0], round(distance), allowed))
    return unknown, too_far


def is_in_region(lon: float, lat: float) -> bool:
    """True when the position lies in :data:`geo.crs.REGION_BBOX`."""
    lon_min, lat_min, lon_max, lat_max = REGION_BBOX
    return lon_min <= lon <= lon_max and lat_min <= lat <= lat_max


# --- cross-field rules ------------------------------------------------------------

def _cross_field_problems(feature: Any, index: int, source_name: str) -> list[Problem]:
    """Rules linking several fields; fields already invalid in themselves are skipped."""
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        return []
    props = feature["properties"]
    label = _label(props, index)
    found: list[tuple[str, str]] = []

    event_type, sub_event_type = props.get("event_type"), props.get("sub_event_type")
    if event_type in EVENT_TYPES and isinstance(sub_event_type, str):
        if sub_event_type not in EVENT_TYPES[event_type]:
            found.append(
                (
                    "sub_event_type",
                    f"{sub_event_type!r} is not an ACLED sub-event type of {event_type!r}; "
                    f"use one of: {', '.join(EVENT_TYPES[event_type])}",
                )
            )
        if event_type in VIOLENT_EVENT_TYPES and props.get("fatalities", 0) is None:
            found.append(("fatalities", f"must be a number (0 if nobody died) for a {event_type!r} event"))

    found.extend(_date_problems(props))
    found.extend(_remote_problems(props, feature.get("geometry")))
    found.extend(_provenance_problems(props))
    if props.get("name") != props.get("title") and isinstance(props.get("title"), str):
        found.append(("name", "must equal 'title' (the side panel shows either)"))
    return [Problem(source_name, label, field, message) for field, message in found]


def _date_problems(props: dict[str, Any]) -> list[tuple[str, str]]:
    value = props.get("date")
    if is_date(value):
        return []  # already reported by the schema
    day = _dt.date.fromisoformat(value)
    found = []
    if not BACKGROUND_START <= day <= CATALOGUE_END:
        found.append(("date", f"{value} is outside the catalogue window {BACKGROUND_START}..{CATALOGUE_END}"))
    elif props.get("background") is False and not CRISIS_WINDOW[0] <= day <= CRISIS_WINDOW[1]:
        found.append(
            (
                "date",
                f"{value} is outside the crisis window {CRISIS_WINDOW[0]}..{CRISIS_WINDOW[1]}; "
                "set 'background' to true for earlier context",
            )
        )
    elif props.get("background") is True and day >= CRISIS_WINDOW[0]:
        found.append(("background", f"a background event must be dated before {CRISIS_WINDOW[0]}, got {value}"))
    precision = props.get("time_precision")
    if precision == 3 and day.day != 1:
        found.append(("date", "with time_precision 3 (month only) the date must be the first of the month"))
    if props.get("time_of_day") is not None and precision != 1:
        found.append(("time_of_day", "a time of day needs time_precision 1 (day known)"))
    return found


def _provenance_problems(props: dict[str, Any]) -> list[tuple[str, str]]:
    """A source without a url is accepted only from an imported row with a valid provenance."""
    found = []
    sources = props.get("sources")
    provenance = props.get("provenance")
    has_provenance = provenance is not None and _is_provenance(provenance) is None
    if isinstance(sources, list) and not has_provenance:
        for i, source in enumerate(sources):
            if isinstance(source, dict) and "url" not in source:
                found.append(
                    (
                        "sources",
                        f"item {i}: a source is missing 'url'; only an imported event whose 'provenance' "
                        "names its file and ACLED id may cite a source without a link",
                    )
                )
    acled_id = props.get("acled_id")
    if has_provenance and isinstance(acled_id, str) and acled_id != provenance["acled_id"]:
        found.append(("acled_id", f"{acled_id!r} differs from provenance 'acled_id' {provenance['acled_id']!r}"))
    return found


def _remote_problems(props: dict[str, Any], geometry: Any) -> list[tuple[str, str]]:
    remote, remote_location = props.get("remote"), props.get("remote_location")
    found = []
    if remote is True:
        if not isinstance(remote_location, str) or not remote_location.strip():
            found.append(("remote_location", "must name where a remote event happened (e.g. 'Washington, D.C.')"))
        precision = props.get("geo_precision")
        if precision in (1, 2) and not isinstance(precision, bool):
            found.append(("geo_precision", "must be 3 for a remote event (it is shown at the place it concerns)"))
    elif remote is False and remote_location is not None:
        found.append(("remote_location", "must be null unless 'remote' is true"))

    position = _point_position(geometry)
    if position is None:
        return found  # geometry problems are reported by geo.io
    lon, lat = position
    if any(_decimals(c) > MAX_COORDINATE_DECIMALS for c in (lon, lat)):
        found.append(("geometry", f"use at most {MAX_COORDINATE_DECIMALS} decimals per coordinate, got ({lon}, {lat})"))
    if remote is not True and not is_in_region(lon, lat):
        found.append(
            (
                "geometry",
                f"({lon}, {lat}) lies outside the region {REGION_BBOX}; check lon/lat order, "
                "or set 'remote' and place the point where the event is about",
            )
        )
    return found


def _point_position(geometry: Any) -> tuple[float, float] | None:
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    coordinates = geometry.get("coordinates")
    if (
        isinstance(coordinates, list)
        and len(coordinates) >= 2
        and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coordinates[:2])
    ):
        return float(coordinates[0]), float(coordinates[1])
    return None


def _decimals(number: float) -> int:
    exponent = Decimal(repr(float(number))).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _label(props: dict[str, Any], index: int) -> str:
    fid = props.get("id")
    return repr(fid) if isinstance(fid, str) and fid else f"#{index}"


def _in_feature_order(problems: list[Problem], features: list[Any]) -> list[Problem]:
    """Group problems by feature (schema and cross-field ones together), file-level first."""
    order = {}
    for index, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        order.setdefault(_label(props if isinstance(props, dict) else {}, index), index)
    return sorted(problems, key=lambda p: order.get(p.feature, -1))


def _sorted(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.empty or "date" not in frame.columns:
        return frame
    return frame.sort_values(["date", "id"], kind="stable").reset_index(drop=True)


__all__ = [
    "BACKGROUND_START",
    "CATALOGUE_END",
    "CRISIS_WINDOW",
    "EVENTS_SCHEMA",
    "EVENT_OPTIONAL_FIELDS",
    "EVENT_STATUSES",
    "EVENT_TYPES",
    "GEO_PRECISION",
    "STATUS",
    "TIME_PRECISION",
    "event_index",
    "is_in_region",
    "load_events",
    "parse_events",
]
