"""The shareable state of the app and its URL form (pure functions, no Streamlit).

The URL is the state: ``layers=<id>,<id>``, ``from=YYYY-MM-DD``, ``to=YYYY-MM-DD``,
``event=<id>``, ``feature=<layer>/<id>``, ``lat=``, ``lon=``, ``zoom=``, ``basemap=``,
``since=YYYY-MM-DDTHH:MM`` (UTC: mark what changed in the catalogue since then),
``lang=en|sq|sr`` (the language of place names; English when absent);
the page is the URL path. :func:`parse_query` never raises: a value it cannot
use is dropped with a short notice for the user.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

MAX_NOTICE_VALUE = 40
LAT_RANGE = (-85.0, 85.0)
LON_RANGE = (-180.0, 180.0)
ZOOM_RANGE = (3, 18)
# Place names come in these languages (the catalogue's name / name_sq / name_sr);
# the first is the default and is left out of the URL.
LANGUAGES: dict[str, str] = {"en": "English", "sq": "Shqip (Albanian)", "sr": "Srpski (Serbian)"}
DEFAULT_LANG = "en"


@dataclass(frozen=True)
class View:
    lat: float
    lon: float
    zoom: int


@dataclass(frozen=True)
class AppState:
    layers: tuple[str, ...]
    start: dt.date
    end: dt.date
    event: str | None = None  # selected event id
    feature: tuple[str, str] | None = None  # selected non-event feature (layer id, feature id)
    view: View | None = None
    basemap: str = "offline"
    since: dt.datetime | None = None  # UTC, minute precision: changes since then are marked
    lang: str = DEFAULT_LANG  # language of place names on the map and in the panel (LANGUAGES)

    def with_selection(self, layer_id: str | None, feature_id: str | None) -> "AppState":
        if layer_id is None or feature_id is None:
            return replace(self, event=None, feature=None)
        if layer_id == "events":
            return replace(self, event=feature_id, feature=None)
        return replace(self, event=None, feature=(layer_id, feature_id))

    @property
    def selection(self) -> tuple[str, str] | None:
        if self.event:
            return ("events", self.event)
        return self.feature


@dataclass(frozen=True)
class Bounds:
    """What the URL may name: known layers, events, features, basemaps and dates."""

    layer_ids: tuple[str, ...]
    default_layers: tuple[str, ...]
    event_ids: frozenset[str]
    feature_ids: Mapping[str, frozenset[str]]
    first_date: dt.date
    last_date: dt.date
    basemaps: tuple[str, ...]
    default_basemap: str = "offline"
    extra: dict = field(default_factory=dict)


def shorten(value: str) -> str:
    """A URL value cut to a readable length for a notice (shown as plain text)."""
    value = value.replace("\n", " ")
    return value if len(value) <= MAX_NOTICE_VALUE else value[: MAX_NOTICE_VALUE - 1] + "…"


def _one(params: Mapping[str, str | list[str]], name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    return value


def _parse_date(raw: str | None, name: str, bounds: Bounds, notices: list[str]) -> dt.date | None:
    if raw is None or raw == "":
        return None
    try:
        value = dt.date.fromisoformat(raw)
        if len(raw) != 10:
            raise ValueError
    except ValueError:
        notices.append(f"Ignored '{name}={shorten(raw)}': dates are written YYYY-MM-DD.")
        return None
    if value < bounds.first_date or value > bounds.last_date:
        clamped = min(max(value, bounds.first_date), bounds.last_date)
        notices.append(
            f"'{name}={raw}' is outside the catalogue ({bounds.first_date} to {bounds.last_date}); "
            f"using {clamped}."
        )
        value = clamped
    return value


def _parse_float(raw: str | None, name: str, lo: float, hi: float, notices: list[str]) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        notices.append(f"Ignored '{name}={shorten(raw)}': not a number.")
        return None
    if not math.isfinite(value) or not lo <= value <= hi:
        notices.append(f"Ignored '{name}={shorten(raw)}': must be between {lo:g} and {hi:g}.")
        return None
    return value


def parse_query(params: Mapping[str, str | list[str]], bounds: Bounds) -> tuple[AppState, list[str]]:
    """Read the app state from URL query parameters; unusable values become notices."""
    notices: list[str] = []

    layers = bounds.default_layers
    raw_layers = _one(params, "layers")
    if raw_layers is not None:
        wanted = [part.strip() for part in raw_layers.split(",") if part.strip()]
        known = [layer_id for layer_id in bounds.layer_ids if layer_id in wanted]
        unknown = [part for part in wanted if part not in bounds.layer_ids]
        if unknown:
            notices.append(
                "Ignored unknown layer(s) in the URL: " + ", ".join(shorten(u) for u in unknown[:5])
                + ("…" if len(unknown) > 5 else "")
            )
        layers = tuple(known)

    start = _parse_date(_one(params, "from"), "from", bounds, notices) or bounds.first_date
    end = _parse_date(_one(params, "to"), "to", bounds, notices) or bounds.last_date
    if start > end:
        notices.append(f"'from' ({start}) was after 'to' ({end}); the two were swapped.")
        start, end = end, start

    event = _one(params, "event")
    if event is not None and event not in bounds.event_ids:
        notices.append(f"No event '{shorten(event)}' in the catalogue; nothing is selected.")
        event = None

    feature = None
    raw_feature = _one(params, "feature")
    if raw_feature:
        layer_id, _, feature_id = raw_feature.partition("/")
        if feature_id and feature_id in bounds.feature_ids.get(layer_id, frozenset()):
            feature = (layer_id, feature_id)
        else:
            notices.append(f"No feature '{shorten(raw_feature)}' on the map; nothing is selected.")
    if event and feature:
        feature = None
    # A link's selection is always drawn: its layer is shown even if the link hid it.
    selected_layer = "events" if event else (feature[0] if feature else None)
    if selected_layer and selected_layer not in layers:
        layers = tuple(layer_id for layer_id in bounds.layer_ids if layer_id in layers or layer_id == selected_layer)

    view = None
    lat = _parse_float(_one(params, "lat"), "lat", *LAT_RANGE, notices)
    lon = _parse_float(_one(params, "lon"), "lon", *LON_RANGE, notices)
    zoom_value = _parse_float(_one(params, "zoom"), "zoom", *ZOOM_RANGE, notices)
    if lat is not None and lon is not None:
        zoom = int(round(zoom_value)) if zoom_value is not None else 9
        view = View(round(lat, 5), round(lon, 5), zoom)
    elif (lat is None) != (lon is None) and "lat" in params and "lon" in params:
        pass  # the bad half already produced a notice
    elif (lat is None) != (lon is None):
        notices.append("The map view needs both 'lat' and 'lon'; using the default view.")

    basemap = bounds.default_basemap
    raw_basemap = _one(params, "basemap")
    if raw_basemap:
        if raw_basemap in bounds.basemaps:
            basemap = raw_basemap
        else:
            notices.append(f"Ignored unknown basemap '{shorten(raw_basemap)}'.")

    since = None
    raw_since = _one(params, "since")
    if raw_since:
        since = parse_since(raw_since)
        if since is None:
            notices.append(f"Ignored 'since={shorten(raw_since)}': write it as YYYY-MM-DDTHH:MM (UTC).")

    lang = DEFAULT_LANG
    raw_lang = _one(params, "lang")
    if raw_lang:
        if raw_lang in LANGUAGES:
            lang = raw_lang
        else:
            notices.append(
                f"Ignored unknown language 'lang={shorten(raw_lang)}': choose one of {', '.join(LANGUAGES)}."
            )

    return AppState(layers, start, end, event, feature, view, basemap, since, lang), notices


_SINCE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")


def parse_since(raw: str) -> dt.datetime | None:
    """``YYYY-MM-DDTHH:MM`` (seconds optional) as an aware UTC datetime, or None."""
    if not _SINCE.fullmatch(raw):
        return None
    try:
        return dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S" if raw.count(":") == 2 else "%Y-%m-%dT%H:%M").replace(
            tzinfo=dt.timezone.utc
        )
    except ValueError:
        return None


def format_since(value: dt.datetime) -> str:
    value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")


def to_query(state: AppState) -> dict[str, str]:
    """The URL query parameters that reproduce ``state`` (order is stable)."""
    query = {
        "layers": ",".join(state.layers),
        "from": state.start.isoformat(),
        "to": state.end.isoformat(),
    }
    if state.event:
        query["event"] = state.event
    if state.feature:
        query["feature"] = f"{state.feature[0]}/{state.feature[1]}"
    if state.view:
        query["lat"] = f"{state.view.lat:.4f}"
        query["lon"] = f"{state.view.lon:.4f}"
        query["zoom"] = str(state.view.zoom)
    query["basemap"] = state.basemap
    if state.since is not None:
        query["since"] = format_since(state.since)
    if state.lang != DEFAULT_LANG:
        query["lang"] = state.lang
    return query


def parse_click(value: object, bounds: Bounds) -> tuple[str, str, str] | None:
    """Decode the map's click value ``"<layer>|<feature id>|<nonce>"``; None if unusable."""
    if not isinstance(value, str) or value.count("|") != 2:
        return None
    layer_id, feature_id, nonce = value.split("|")
    if layer_id == "events":
        return (layer_id, feature_id, nonce) if feature_id in bounds.event_ids else None
    if feature_id in bounds.feature_ids.get(layer_id, frozenset()):
        return layer_id, feature_id, nonce
    return None


def sorted_layers(layer_ids: Iterable[str], bounds: Bounds) -> tuple[str, ...]:
    wanted = set(layer_ids)
    return tuple(layer_id for layer_id in bounds.layer_ids if layer_id in wanted)
