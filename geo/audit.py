"""Audit of the event catalogue: finds the errors a careful reader would catch.

``python -m geo.audit`` checks every event of the catalogue files (or, with
``--store``, the store's current catalogue) and prints errors and warnings
separately; it exits 1 when there is an error, 0 otherwise (2 when the input
cannot be read). ``--json`` prints the same findings as JSON.

For one feature (the Edit page, before a save) call :func:`audit_event` with the
feature's properties and geometry, the places layer and a :class:`Boundary`.

The checks (each finding names the event, the check and the field):

``distance``
    A distance the title or summary states from a place ("about 10 km from
    Banjska") is compared with the point's distance from that place's cited
    coordinate. Allowed difference: 25 % of the stated distance when hedged
    ("about", "around", "some", "nearly", ...), 10 % otherwise, at least
    :data:`MIN_DISTANCE_TOLERANCE_M`, plus the place's own ``precision_m``.
    More is an error. A named place that is not in ``related_ids`` is a warning.
``precision``
    The point must lie within the first related place's ``precision_m`` plus
    the event's ``geo_precision`` radius of it (as ``geo.events.place_links``).
    A text distance larger than that radius while ``geo_precision`` says the
    event is *at* the place is a warning.
``side``
    The side of the Kosovo–Serbia boundary an event belongs to is decided by
    :func:`event_side` (rule below). An event drawn with its point on the other
    side is an error; one whose uncertainty circle (the ``geo_precision``
    radius) lies on the other side by more than :data:`WRONG_SIDE_ERROR_SHARE`
    of its area is an error, by more than :data:`WRONG_SIDE_WARNING_SHARE` a
    warning. A point outside both Kosovo and Serbia while the event has a side
    is a warning.
``numbers``
    A number written in digits in the title or summary that appears in none of
    the event's claims (party or text) or source titles is a warning (the
    reader cannot find where it comes from). Years, days of a month, times of
    day and ordinals (``1st``) are not counted.
``sources``
    A source without a publication date, or with one that is not a day, is an
    error; a source published before the event's publication window (more than
    :data:`ANNOUNCEMENT_DAYS` before the event, widened by its time precision) is
    an error; after the window (:data:`PUBLICATION_WINDOW_DAYS` after the event)
    a warning. Two sources of one event with the same URL, or the same
    publisher, title and date, are an error.

Side rule (:func:`event_side`), first match wins:

1. *disputed*: the claims place the event inside Kosovo and inside Serbia
   ("inside Kosovo", "in central Serbia", ...); no side is checked.
2. the English location name says so ("Serbian side ...", "Kosovo side ...").
3. a deployment or base of one side's own forces (sub-event type *Change to
   group/activity* or *Headquarters or base established*) whose actors include
   that side's forces (Serbian Armed Forces, Serbian Army, Police of Serbia;
   Kosovo Police, Kosovo Security Force, KFOR) and not the other side's.
4. the side of the first related place of the gazetteer that lies in Kosovo or
   Serbia (its cited point inside the country polygon).
5. otherwise none (no side check).

Everything metric is computed in :data:`geo.crs.METRIC_CRS`. This module uses
geopandas/shapely only; the command-line entry imports ``layers.config`` and
``store`` lazily, and only in the paths that need them.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import geopandas as gpd
import shapely
from shapely.geometry import Point, shape

from geo.crs import METRIC_CRS, STORAGE_CRS

ERROR = "error"
WARNING = "warning"

#: Share of an event's uncertainty circle allowed on the other side of the boundary.
WRONG_SIDE_ERROR_SHARE = 0.25
WRONG_SIDE_WARNING_SHARE = 0.15
#: Distances stated in the text: allowed relative difference, hedged ("about") or not.
HEDGED_TOLERANCE = 0.25
PLAIN_TOLERANCE = 0.10
MIN_DISTANCE_TOLERANCE_M = 300.0
#: A source may announce an event this many days ahead (a declared day of mourning).
ANNOUNCEMENT_DAYS = 7
#: A source published later than this after the event is flagged for a check.
PUBLICATION_WINDOW_DAYS = 60
#: Slack for points that sit on the line itself (coordinates rounded, line simplified ~14 m).
ON_LINE_TOLERANCE_M = 100.0

KOSOVO, SERBIA = "kosovo", "serbia"
_COUNTRY_CODES = {KOSOVO: "XKX", SERBIA: "SRB"}
_OTHER = {KOSOVO: SERBIA, SERBIA: KOSOVO}

SERBIAN_FORCES = ("serbian armed forces", "serbian army", "police of serbia", "serbian police", "gendarmerie")
KOSOVO_FORCES = ("kosovo police", "kosovo security force", "kfor")
DEPLOYMENT_SUB_EVENTS = ("Change to group/activity", "Headquarters or base established")


@dataclass(frozen=True)
class Finding:
    """One problem the audit found; ``severity`` is ``"error"`` or ``"warning"``."""

    event_id: str
    severity: str
    check: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.event_id} [{self.check}] {self.field}: {self.message}"


@dataclass
class Boundary:
    """Kosovo and Serbia as metric polygons, and the boundary line (for distances)."""

    kosovo: Any
    serbia: Any
    line: Any = None

    @classmethod
    def from_layers(cls, countries: gpd.GeoDataFrame, border: gpd.GeoDataFrame | None = None) -> "Boundary":
        """From the ``countries`` layer (rows with ``iso_a3`` XKX and SRB) and, optionally, the ``border`` layer."""
        metric = countries.to_crs(METRIC_CRS)
        code = next((c for c in ("iso_a3", "A3") if c in metric.columns), None)
        if code is None:
            raise ValueError("the countries layer has no 'iso_a3' column")
        polygons = {}
        for side, a3 in _COUNTRY_CODES.items():
            rows = metric[metric[code].astype(str).str.upper() == a3]
            if rows.empty:
                raise ValueError(f"the countries layer has no row with {code} = {a3}")
            polygons[side] = shapely.union_all(list(rows.geometry))
        line = shapely.union_all(list(border.to_crs(METRIC_CRS).geometry)) if border is not None and len(border) else None
        return cls(polygons[KOSOVO], polygons[SERBIA], line)

    def polygon(self, side: str):
        return self.kosovo if side == KOSOVO else self.serbia

    def covers(self, side: str, point) -> bool:
        """True when ``point`` lies in ``side`` or within :data:`ON_LINE_TOLERANCE_M` of it."""
        polygon = self.polygon(side)
        shapely.prepare(polygon)
        return bool(shapely.dwithin(polygon, point, ON_LINE_TOLERANCE_M))

    def inside(self, side: str, point) -> bool:
        """True when ``point`` lies strictly in ``side`` (prepared polygon)."""
        shapely.prepare(self.polygon(side))
        return bool(self.polygon(side).contains(point))


@dataclass
class _Places:
    """The gazetteer in metric coordinates, with every name a text may use."""

    frame: gpd.GeoDataFrame  # metric, indexed by id
    names: list[tuple[str, str]] = field(default_factory=list)  # (lower-case name, place id), longest first

    @classmethod
    def build(cls, places: gpd.GeoDataFrame | "_Places") -> "_Places":
        if isinstance(places, _Places):
            return places
        metric = places.to_crs(METRIC_CRS).set_index("id", drop=False)
        names = []
        for row in metric.itertuples(index=False):
            for column in ("name", "name_sq", "name_sr"):
                value = getattr(row, column, None)
                if isinstance(value, str) and value.strip():
                    names.append((value.strip().lower(), row.id))
        names.sort(key=lambda item: -len(item[0]))
        return cls(metric, names)

    def __contains__(self, place_id: object) -> bool:
        return isinstance(place_id, str) and place_id in self.frame.index

    def point(self, place_id: str):
        return self.frame.loc[place_id].geometry

    def precision(self, place_id: str) -> float:
        value = self.frame.loc[place_id].get("precision_m", 0)
        return float(value) if value == value and value is not None else 0.0  # NaN-safe

    def name(self, place_id: str) -> str:
        return str(self.frame.loc[place_id].get("name", place_id))

    def match(self, text: str) -> str | None:
        """The id of the place whose name starts ``text`` (longest name first)."""
        lowered = text.lower()
        for name, place_id in self.names:
            if lowered.startswith(name) and (len(lowered) == len(name) or not lowered[len(name)].isalnum()):
                return place_id
        return None


def prepare_places(places: gpd.GeoDataFrame) -> _Places:
    """Project and index the places layer once, for many calls of :func:`audit_event`."""
    return _Places.build(places)


# --- the checks -----------------------------------------------------------------------

_HEDGES = r"about|around|some|roughly|approximately|approx\.|nearly|almost|up to|over|more than|less than|under|c\."
_DISTANCE = re.compile(
    rf"(?P<hedge>\b(?:{_HEDGES})\s+)?(?P<value>\d+(?:[.,]\d+)?)\s*(?P<unit>km|kilomet(?:re|er)s?|m|met(?:re|er)s)\b"
    r"(?:\s+(?:away\s+)?(?:(?:north|south|east|west|north-east|north-west|south-east|south-west)\s+)?"
    r"(?:from|of)\s+(?:the\s+)?(?P<place>[^\s,;.()][^,;()]{0,60}))?",
    re.IGNORECASE,
)


def _stated_distances(text: str) -> list[tuple[float, bool, str]]:
    """``(metres, hedged, text after 'from')`` for each distance stated from a named place."""
    found = []
    for match in _DISTANCE.finditer(text):
        if not match.group("place"):
            continue
        value = float(match.group("value").replace(",", "."))
        unit = match.group("unit").lower()
        metres = value * (1000.0 if unit.startswith("k") else 1.0)
        found.append((metres, bool(match.group("hedge")), match.group("place")))
    return found


def _check_distances(event_id: str, props: Mapping[str, Any], point, places: _Places, radius_m: Mapping[int, float]) -> list[Finding]:
    findings: list[Finding] = []
    related = [slug for slug in (props.get("related_ids") or []) if isinstance(slug, str)]
    precision = props.get("geo_precision")
    radius = float(radius_m.get(precision, 0)) if isinstance(precision, int) and not isinstance(precision, bool) else 0.0
    for field_name in ("title", "summary"):
        text = props.get(field_name)
        if not isinstance(text, str):
            continue
        for stated, hedged, after in _stated_distances(text):
            place_id = places.match(after)
            if place_id is None:
                continue  # not a gazetteer place: nothing to measure against
            if place_id not in related:
                findings.append(Finding(event_id, WARNING, "distance", field_name,
                                        f"the text gives a distance from {places.name(place_id)} ({place_id}), "
                                        "which is not in related_ids"))
            measured = float(point.distance(places.point(place_id)))
            allowed = max(stated * (HEDGED_TOLERANCE if hedged else PLAIN_TOLERANCE), MIN_DISTANCE_TOLERANCE_M)
            allowed += places.precision(place_id)
            if abs(measured - stated) > allowed:
                findings.append(Finding(event_id, ERROR, "distance", field_name,
                                        f"the text says {_km(stated)} from {places.name(place_id)}, but the point is "
                                        f"{_km(measured)} from its cited coordinate (allowed difference {_km(allowed)})"))
            if related and place_id == related[0] and precision == 1 and stated > places.precision(place_id) + radius:
                findings.append(Finding(event_id, WARNING, "precision", "geo_precision",
                                        f"geo_precision 1 says the event is at {places.name(place_id)}, but the text "
                                        f"places it {_km(stated)} away"))
    return findings


def _check_main_place(event_id: str, props: Mapping[str, Any], point, places: _Places, radius_m: Mapping[int, float]) -> list[Finding]:
    related = props.get("related_ids") or []
    if not related or related[0] not in places:
        return []
    precision = props.get("geo_precision")
    radius = float(radius_m.get(precision, 0)) if isinstance(precision, int) and not isinstance(precision, bool) else 0.0
    main = related[0]
    distance = float(point.distance(places.point(main)))
    allowed = places.precision(main) + radius
    if distance > allowed:
        return [Finding(event_id, ERROR, "precision", "geometry",
                        f"the point is {_km(distance)} from its main place {places.name(main)} ({main}); its "
                        f"geo_precision {precision} and the place's precision allow {_km(allowed)}")]
    return []


_INSIDE = re.compile(r"\b(?:inside|within|deep inside|deep in|in central|on the territory of)\s+(?:central\s+)?(Kosovo|Serbia)\b",
                     re.IGNORECASE)


def event_side(props: Mapping[str, Any], places: _Places | None = None, boundary: Boundary | None = None) -> tuple[str | None, str]:
    """The side of the boundary an event belongs to, and why (see the module docstring)."""
    claimed = set()
    for claim in props.get("claims") or []:
        if isinstance(claim, Mapping) and isinstance(claim.get("claim"), str):
            claimed.update(side.lower() for side in _INSIDE.findall(claim["claim"]))
    if {KOSOVO, SERBIA} <= claimed:
        return None, "disputed: the claims place it inside Kosovo and inside Serbia"

    location = props.get("location")
    english = location.get("en", "") if isinstance(location, Mapping) else ""
    if isinstance(english, str):
        lowered = english.lower()
        if "serbian side" in lowered or "serbia's side" in lowered:
            return SERBIA, f"location {english!r}"
        if "kosovo side" in lowered or "kosovan side" in lowered or "kosovo's side" in lowered:
            return KOSOVO, f"location {english!r}"

    if props.get("sub_event_type") in DEPLOYMENT_SUB_EVENTS:
        actors = [a.lower() for a in props.get("actors") or [] if isinstance(a, str)]
        serbian = any(any(force in actor for force in SERBIAN_FORCES) for actor in actors)
        kosovar = any(any(force in actor for force in KOSOVO_FORCES) for actor in actors)
        if serbian != kosovar:
            side = SERBIA if serbian else KOSOVO
            return side, f"deployment of {'Serbian' if serbian else 'Kosovo or KFOR'} forces (actors)"

    if places is not None and boundary is not None:
        for slug in props.get("related_ids") or []:
            if slug not in places:
                continue
            where = places.point(slug)
            for side in (KOSOVO, SERBIA):
                if boundary.covers(side, where):
                    return side, f"first related place in Kosovo or Serbia: {places.name(slug)} ({slug})"
    return None, "no side (no rule applies)"


def _check_side(event_id: str, props: Mapping[str, Any], point, places: _Places, boundary: Boundary,
                radius_m: Mapping[int, float]) -> list[Finding]:
    side, why = event_side(props, places, boundary)
    if side is None:
        return []
    other = boundary.polygon(_OTHER[side])
    to_line = f"; {_km(float(point.distance(boundary.line)))} from the boundary line" if boundary.line is not None else ""
    label = {KOSOVO: "Kosovo", SERBIA: "Serbia"}
    if boundary.inside(_OTHER[side], point) and not boundary.covers(side, point):
        return [Finding(event_id, ERROR, "side", "geometry",
                        f"a {label[side]}-side event ({why}) has its point in {label[_OTHER[side]]}{to_line}")]
    findings = []
    if not boundary.covers(side, point):
        findings.append(Finding(event_id, WARNING, "side", "geometry",
                                f"a {label[side]}-side event ({why}) has its point outside {label[side]}{to_line}"))
    precision = props.get("geo_precision")
    radius = float(radius_m.get(precision, 0)) if isinstance(precision, int) and not isinstance(precision, bool) else 0.0
    if radius > 0:
        circle = point.buffer(radius, quad_segs=32)
        share = circle.intersection(other).area / circle.area
        if share > WRONG_SIDE_WARNING_SHARE:
            severity = ERROR if share > WRONG_SIDE_ERROR_SHARE else WARNING
            findings.append(Finding(event_id, severity, "side", "geo_precision",
                                    f"{share:.0%} of the {_km(radius)} uncertainty circle of a {label[side]}-side event "
                                    f"({why}) lies in {label[_OTHER[side]]}{to_line}"))
    return findings


_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])\d+(?:\.\d+)?(?![\w])")
_DAY_BEFORE_MONTH = re.compile(rf"^(?:\s*[–-]\s*\d{{1,2}})?\s+(?:{_MONTHS})\b", re.IGNORECASE)
_MONTH_BEFORE_DAY = re.compile(rf"\b(?:{_MONTHS})\s+$", re.IGNORECASE)


def _numbers(text: str, *, skip_dates: bool) -> set[str]:
    """Numbers written in digits, normalised (``8,350`` -> ``8350``); dates and times left out if asked."""
    found = set()
    for match in _NUMBER.finditer(text):
        raw = match.group(0)
        before, after = text[: match.start()], text[match.end():]
        if skip_dates:
            if after.startswith(":") or before.endswith(":"):
                continue  # time of day
            if len(raw) == 4 and raw.isdigit() and 1900 <= int(raw) <= 2100:
                continue  # a year
            if raw.isdigit() and int(raw) <= 31 and (_DAY_BEFORE_MONTH.match(after) or _MONTH_BEFORE_DAY.search(before)):
                continue  # a day of the month
        found.add(_normalise_number(raw))
    return found


def _normalise_number(raw: str) -> str:
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


def _check_numbers(event_id: str, props: Mapping[str, Any]) -> list[Finding]:
    supported: set[str] = set()
    for claim in props.get("claims") or []:
        if isinstance(claim, Mapping):
            for key in ("party", "claim"):
                if isinstance(claim.get(key), str):
                    supported |= _numbers(claim[key], skip_dates=False)
    for source in props.get("sources") or []:
        if isinstance(source, Mapping) and isinstance(source.get("title"), str):
            supported |= _numbers(source["title"], skip_dates=False)
    findings = []
    for field_name in ("title", "summary"):
        text = props.get(field_name)
        if not isinstance(text, str):
            continue
        missing = sorted(_numbers(text, skip_dates=True) - supported, key=lambda n: float(n))
        if missing:
            findings.append(Finding(event_id, WARNING, "numbers", field_name,
                                    f"{', '.join(missing)} appear(s) in no claim and no source title; "
                                    "record who gives the figure as a claim"))
    return findings


def _normal_url(url: str) -> str:
    url = url.strip().lower()
    url = re.sub(r"^https?://(www\.)?", "", url)
    return url.split("#")[0].rstrip("/")


def _check_sources(event_id: str, props: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    sources = props.get("sources")
    if not isinstance(sources, list):
        return [Finding(event_id, ERROR, "sources", "sources", "the event has no list of sources")]
    try:
        day = _dt.date.fromisoformat(str(props.get("date")))
    except ValueError:
        day = None
    precision = props.get("time_precision")
    slack = {2: 7, 3: 31}.get(precision, 0) if isinstance(precision, int) else 0
    seen_urls: dict[str, int] = {}
    seen_titles: dict[tuple[str, str, str], int] = {}
    for index, source in enumerate(sources):
        if not isinstance(source, Mapping):
            findings.append(Finding(event_id, ERROR, "sources", f"sources[{index}]", "is not a source object"))
            continue
        label = f"sources[{index}]"
        name = f"{source.get('publisher', '?')}, {source.get('title', '?')!r}"
        raw_date = source.get("date")
        if not isinstance(raw_date, str) or not raw_date.strip():
            findings.append(Finding(event_id, ERROR, "sources", label, f"{name} has no publication date"))
        else:
            try:
                published = _dt.date.fromisoformat(raw_date)
            except ValueError:
                findings.append(Finding(event_id, ERROR, "sources", label,
                                        f"{name} has the date {raw_date!r}, not a day YYYY-MM-DD"))
                published = None
            if published is not None and day is not None:
                earliest = day - _dt.timedelta(days=ANNOUNCEMENT_DAYS + slack)
                latest = day + _dt.timedelta(days=PUBLICATION_WINDOW_DAYS + slack)
                if published < earliest:
                    findings.append(Finding(event_id, ERROR, "sources", label,
                                            f"{name} was published {published}, before the event of {day} could be "
                                            f"reported (window {earliest}..{latest})"))
                elif published > latest:
                    findings.append(Finding(event_id, WARNING, "sources", label,
                                            f"{name} was published {published}, {(published - day).days} days after "
                                            f"the event: check that it reports this event (window {earliest}..{latest})"))
        url = source.get("url")
        if isinstance(url, str) and url.strip():
            key = _normal_url(url)
            if key in seen_urls:
                findings.append(Finding(event_id, ERROR, "sources", label,
                                        f"duplicates sources[{seen_urls[key]}] (same URL {url})"))
            seen_urls.setdefault(key, index)
        title_key = tuple(str(source.get(k, "")).strip().lower() for k in ("publisher", "title", "date"))
        if all(title_key) and title_key in seen_titles and not (isinstance(url, str) and _normal_url(url) in seen_urls
                                                                 and seen_urls[_normal_url(url)] != index):
            findings.append(Finding(event_id, ERROR, "sources", label,
                                    f"duplicates sources[{seen_titles[title_key]}] (same publisher, title and date)"))
        seen_titles.setdefault(title_key, index)
    return findings


# --- public API -----------------------------------------------------------------------

def _metric_point(geometry: Any):
    """A GeoJSON Point (dict) or shapely Point in EPSG:4326, projected to the metric CRS; None if unusable."""
    try:
        geom = geometry if hasattr(geometry, "geom_type") else shape(geometry)
    except Exception:  # noqa: BLE001 - any malformed geometry is simply not measurable
        return None
    if geom is None or geom.is_empty or geom.geom_type != "Point":
        return None
    return gpd.GeoSeries([geom], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0]


def audit_event(
    feature_properties: Mapping[str, Any],
    geometry: Any,
    places: gpd.GeoDataFrame | _Places,
    boundary: Boundary,
    radius_m: Mapping[int, float] | None = None,
) -> list[Finding]:
    """All findings for one event.

    Parameters
    ----------
    feature_properties : mapping
        The event's properties (``data/EVENTS.md``).
    geometry : GeoJSON dict or shapely Point
        The event's point in EPSG:4326.
    places : GeoDataFrame or the result of :func:`prepare_places`
        The places layer (gazetteer), EPSG:4326.
    boundary : Boundary
        Kosovo and Serbia (:meth:`Boundary.from_layers`).
    radius_m : mapping, optional
        Uncertainty radius in metres per ``geo_precision`` code; pass
        ``layers.config.PRECISION_RADIUS_M`` (the app's circles). Without it,
        circles are not measured (radius 0).
    """
    props = dict(feature_properties)
    event_id = str(props.get("id") or "<no id>")
    radius_m = dict(radius_m or {})
    places = _Places.build(places)
    findings: list[Finding] = []
    point = _metric_point(geometry)
    if point is None:
        findings.append(Finding(event_id, ERROR, "precision", "geometry", "the event has no usable Point geometry"))
    else:
        findings += _check_main_place(event_id, props, point, places, radius_m)
        findings += _check_distances(event_id, props, point, places, radius_m)
        findings += _check_side(event_id, props, point, places, boundary, radius_m)
    findings += _check_numbers(event_id, props)
    findings += _check_sources(event_id, props)
    return findings


def audit_features(
    features: Iterable[Mapping[str, Any]],
    places: gpd.GeoDataFrame | _Places,
    boundary: Boundary,
    radius_m: Mapping[int, float] | None = None,
) -> list[Finding]:
    """Findings for every GeoJSON feature (``{"properties": ..., "geometry": ...}``), in order."""
    prepared = _Places.build(places)
    findings: list[Finding] = []
    for feature in features:
        findings += audit_event(feature.get("properties") or {}, feature.get("geometry"), prepared, boundary, radius_m)
    return findings


def split(findings: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
    """``(errors, warnings)``."""
    return [f for f in findings if f.severity == ERROR], [f for f in findings if f.severity == WARNING]


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


# --- command line -------------------------------------------------------------------------

def _read_features(path: Path) -> list[dict]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise ValueError(f"{path} is not a GeoJSON FeatureCollection")
    return document["features"]


def _reference(data_dir: Path) -> tuple[gpd.GeoDataFrame, Boundary]:
    places = gpd.read_file(data_dir / "places.geojson")
    countries = gpd.read_file(data_dir / "countries.geojson")
    border_path = data_dir / "border.geojson"
    border = gpd.read_file(border_path) if border_path.exists() else None
    return places, Boundary.from_layers(countries, border)


def _from_store(settings) -> tuple[list[dict], gpd.GeoDataFrame | None]:
    """The store's current events (and places), read through ``store.open_store`` (imported here only)."""
    import store

    opened = store.open_store(settings)
    try:
        events = opened.current_features("events")
        places = opened.current("places")
    finally:
        opened.close()
    return events, (places if len(places) else None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geo.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, help="event catalogue file (default: the configured events file)")
    parser.add_argument("--data-dir", type=Path, help="folder with places, countries and border layers "
                                                         "(default: BORDER_BRIEF_DATA_DIR or data/)")
    parser.add_argument("--store", action="store_true", help="audit the store's current catalogue (BORDER_BRIEF_DATABASE_URL)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    args = parser.parse_args(argv)

    from layers.config import PRECISION_RADIUS_M, load_settings  # stdlib-only module

    try:
        settings = load_settings()
        data_dir = args.data_dir or settings.data_dir
        places, boundary = _reference(data_dir)
        if args.store:
            features, store_places = _from_store(settings)
            places = store_places if store_places is not None else places
            source = f"store {settings.database_url.split('@')[-1]}"
        else:
            events_path = args.events or settings.events_file
            features = _read_features(events_path)
            source = str(events_path)
    except Exception as exc:  # noqa: BLE001 - any unreadable input: one clear line, exit 2
        print(f"geo.audit: cannot read the catalogue: {exc}", file=sys.stderr)
        return 2

    findings = audit_features(features, places, boundary, PRECISION_RADIUS_M)
    errors, warnings = split(findings)
    if args.json:
        print(json.dumps({"source": source, "events": len(features),
                          "errors": [asdict(f) for f in errors], "warnings": [asdict(f) for f in warnings]},
                         ensure_ascii=False, indent=2))
    else:
        print(f"Audit of {len(features)} events from {source}")
        for title, items in (("Errors", errors), ("Warnings", warnings)):
            print(f"\n{title} ({len(items)}):")
            for finding in items:
                print(f"  {finding}")
        print(f"\n{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
