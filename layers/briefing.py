"""A standalone offline briefing: one HTML file with the map, its data and its story.

:func:`build_briefing` turns the layers and a shared state (the app's URL state:
visible layers, time window, selection, view, language, ``since``) into one
self-contained HTML text: Leaflet, Leaflet.markercluster, the briefing's own map
script and CSS (``layers/briefing_static/``) and every piece of data are inlined,
so the file opens from ``file://`` with no network. The basemap is drawn from the
country outlines, as the app's default. All data enters the page through
:func:`layers.js.js_literal` inside ``<script>`` and the page's script sets every
text with ``textContent``; only source URLs that pass the catalogue's URL check
(:func:`geo.schema.is_url`) become links.

Used by ``python -m layers briefing OUT.html`` (:mod:`layers.__main__`) and the
Map page's "Download briefing" button (``ui/briefing.py``). Nothing here imports
Streamlit, and the state comes in as a plain object (``ui.state.AppState`` or
anything with the same attributes), so ``layers`` does not depend on ``ui``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.events import GEO_PRECISION, STATUS, TIME_PRECISION
from geo.schema import is_url
from layers.assets import ASSETS, CLUSTER_CSS, CLUSTER_JS, MAP_CSS, MAP_JS, local_relpath, package_dir
from layers.catalog import DRAW_ORDER, EVENT_TYPE_COLORS, LAYERS_BY_ID, UNKNOWN_EVENT_COLOR
from layers.config import DEFAULT_CENTER, DEFAULT_ZOOM, PRECISION_RADIUS_M, VENDOR_DIR
from layers.data import LayerData
from layers.export import _write_atomically, to_feature_collection
from layers.js import js_literal
from layers.render import (
    CHANGE_COLORS,
    CLUSTER_COLORS,
    COUNTRY_FILL,
    HIGHLIGHT_COLOR,
    NEIGHBOUR_FILL,
    SEA_COLOR,
    filter_events,
)

if TYPE_CHECKING:
    from store import Store

STATIC_DIR = Path(__file__).resolve().parent / "briefing_static"
TITLE = "Kosovo–Serbia crisis, autumn 2023"
LANGUAGES = ("en", "sq", "sr")
# Above this many events the uncertainty circles are left out (as on the app's map).
CIRCLE_LIMIT = 5_000
# The only URLs inside the vendored libraries: the SVG namespace Leaflet creates
# elements in and Leaflet's home page in its licence comment and default attribution
# prefix (the briefing switches the prefix off). Neither is ever requested.
VENDOR_URLS = frozenset({"http://www.w3.org/2000/svg", "https://leafletjs.com"})

_PLACEHOLDER = re.compile(r"/\*BB:([A-Z_]+)\*/")
_HASHES_MARK = "/*BB:SCRIPT_HASHES*/"
# Every inline script (none may contain "</script": see _inline_script and js_literal).
_SCRIPT_BODY = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
# leaflet.css points at the default marker icon and the layers control's images; the
# briefing uses neither, and a file:// page must not ask for files beside it.
_CSS_IMAGE = re.compile(r"url\(images/[^)]*\)")


class BriefingError(ValueError):
    """The briefing cannot be built (a missing library file, an unknown layer...)."""


# --- the vendored libraries ------------------------------------------------------------


def _asset_text(name: str) -> str:
    """An asset's text from ``static/vendor`` (``python -m layers.assets sync``) or its package."""
    asset = ASSETS[name]
    for path in (VENDOR_DIR / local_relpath(asset), package_dir(asset) / asset.path):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise BriefingError(f"{asset.package} has no {asset.path}; install it with scripts/setup.sh")


def _inline_script(text: str, origin: str) -> str:
    """Text for an inline ``<script>``; refuses code that would end the element early."""
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise BriefingError(f"{origin} contains '</script' or '<!--' and cannot be inlined as it is")
    return text


def _inline_style(text: str, origin: str) -> str:
    text = _CSS_IMAGE.sub("none", _CSS_COMMENT.sub("", text))
    if "</style" in text.lower():
        raise BriefingError(f"{origin} contains '</style' and cannot be inlined")
    return text


def vendor_scripts() -> str:
    return "\n".join(_inline_script(_asset_text(name), name) for name in MAP_JS + CLUSTER_JS)


def vendor_styles() -> str:
    return "\n".join(_inline_style(_asset_text(name), name) for name in MAP_CSS + CLUSTER_CSS)


# --- the data ----------------------------------------------------------------------------


def _sources(sources: Any) -> list[list[Any]]:
    """``[publisher, title, date, url]`` per source; url None unless it passes the URL check."""
    out = []
    for source in sources if isinstance(sources, (list, tuple)) else []:
        if not isinstance(source, dict):
            continue
        url = source.get("url")
        out.append([source.get("publisher"), source.get("title"), source.get("date"),
                    url if isinstance(url, str) and is_url(url) is None else None])
    return out


def _layer_payload(layer_id: str, frame: gpd.GeoDataFrame) -> dict:
    """A non-event layer: its style and the properties the panel shows, per feature."""
    spec = LAYERS_BY_ID[layer_id]
    keep = ["id", "name", *(("name_sq", "name_sr") if layer_id == "places" else ()),
            *(name for name, _ in spec.panel_fields)]
    collection = to_feature_collection(frame, layer_id)
    features = []
    for feature in collection["features"]:
        properties = feature["properties"]
        slim = {key: properties.get(key) for key in keep if properties.get(key) is not None}
        slim["sources"] = _sources(properties.get("sources"))
        features.append({"type": "Feature", "properties": slim, "geometry": feature["geometry"]})
    style = spec.style.leaflet()
    return {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description,
        "geometry": spec.geometry,
        "interactive": spec.interactive,
        "style": style,
        "pointStyle": {**style, "fill": True, "fillOpacity": max(style["fillOpacity"], 0.9)},
        "panel": [list(pair) for pair in spec.panel_fields],
        "data": {"type": "FeatureCollection", "features": features},
    }


def _column(frame: gpd.GeoDataFrame, name: str) -> list:
    """A property column as plain Python values, a missing value (NaN) as None."""
    if name not in frame.columns:
        return [None] * len(frame)
    values = frame[name].astype(object)
    return values.where(values.notna(), None).tolist()


def _event_columns(events: gpd.GeoDataFrame) -> dict:
    """The events as columns (short keys, no repeated property names): what the panel and list show.

    Read column by column from the frame (10,000 events in a fraction of a second).
    """
    types = list(EVENT_TYPE_COLORS)
    type_index = {name: k for k, name in enumerate(types)}
    points = events.geometry.to_numpy()
    locations = [loc if isinstance(loc, dict) else {} for loc in _column(events, "location")]
    return {
        "id": events["id"].astype(str).tolist(),
        "lat": np.round(shapely.get_y(points), 5).tolist(),
        "lon": np.round(shapely.get_x(points), 5).tolist(),
        "date": events["date"].astype(str).tolist(),
        "tp": [int(v) if v is not None else None for v in _column(events, "time_precision")],
        "tod": _column(events, "time_of_day"),
        "title": _column(events, "title"),
        "summary": _column(events, "summary"),
        "type": [type_index.get(v, len(types)) for v in _column(events, "event_type")],
        "sub": _column(events, "sub_event_type"),
        "actors": [list(v) if isinstance(v, (list, tuple)) else [] for v in _column(events, "actors")],
        "fat": [int(v) if v is not None else None for v in _column(events, "fatalities")],
        "fatNote": _column(events, "fatalities_note"),
        "loc": [[loc.get(lang) for lang in LANGUAGES] for loc in locations],
        "gp": [int(v) if v is not None else None for v in _column(events, "geo_precision")],
        "remote": [bool(v) for v in _column(events, "remote")],
        "remoteLoc": _column(events, "remote_location"),
        "status": _column(events, "status"),
        "claims": [
            [[c.get("party"), c.get("claim")] for c in v if isinstance(c, dict)] if isinstance(v, (list, tuple)) else []
            for v in _column(events, "claims")
        ],
        "sources": [_sources(v) for v in _column(events, "sources")],
    }


def data_cutoff(layers: LayerData, store: "Store | None" = None) -> str:
    """The data's cut-off: the store's latest change (UTC), else the catalogue's latest event date."""
    if store is not None:
        batches = store.batch_list(1)
        if batches:
            when = dt.datetime.fromisoformat(batches[0]["created_at"]).astimezone(dt.timezone.utc)
            return f"latest change in the catalogue store {when:%Y-%m-%d %H:%M} UTC"
    events = layers.full["events"]
    if len(events):
        return f"catalogue of events up to {events['date'].astype(str).max()}"
    return "empty catalogue"


def _changes(store: "Store | None", since: dt.datetime | None) -> dict[str, dict[str, str]]:
    if store is None or since is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    for change in store.changes_since(since):
        if change.kind in CHANGE_COLORS:
            out.setdefault(change.layer, {})[change.feature_id] = change.kind
    return out


def _legend() -> dict:
    return {
        "eventTypes": [[name, color] for name, color in EVENT_TYPE_COLORS.items()],
        "clusters": [list(pair) for pair in CLUSTER_COLORS],
        "changes": [[kind, color] for kind, color in CHANGE_COLORS.items()],
    }


def briefing_payload(
    layers: LayerData,
    state: Any,
    *,
    author: str | None = None,
    public_url: str | None = None,
    query: Mapping[str, str] | None = None,
    store: "Store | None" = None,
    now: dt.datetime | None = None,
) -> dict:
    """Everything the briefing's script needs, as plain JSON-ready data (see :func:`build_briefing`)."""
    visible = [layer_id for layer_id in state.layers if layer_id in LAYERS_BY_ID]
    unknown = [layer_id for layer_id in state.layers if layer_id not in LAYERS_BY_ID]
    if unknown:
        raise BriefingError(f"unknown layer id(s): {', '.join(unknown)}")
    lang = getattr(state, "lang", None) or "en"
    if lang not in LANGUAGES:
        lang = "en"
    full = layers.full
    in_window = filter_events(full["events"], state.start, state.end)
    selected = state.selection
    outside = []
    if selected and selected[0] == "events" and selected[1] not in set(in_window["id"]):
        position = layers.event_positions.get(selected[1])
        if position is None:
            selected = None
        else:  # shown in the panel (with a note), not drawn or listed
            in_window = pd.concat([in_window, full["events"].iloc[[position]]])
            outside = [len(in_window) - 1]
    elif selected and layers.feature(*selected) is None:
        selected = None
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    deep_link = None
    if public_url:
        deep_link = public_url + ("&" if "?" in public_url else "?") + urlencode(dict(query or {}))
    view = getattr(state, "view", None)
    since = getattr(state, "since", None)
    layer_payloads = [
        _layer_payload(layer_id, layers.display[layer_id])
        for layer_id in DRAW_ORDER
        if layer_id not in ("events", "countries")
    ]
    countries = _layer_payload("countries", layers.display["countries"])
    for feature, iso in zip(countries["data"]["features"], layers.display["countries"]["iso_a3"]):
        feature["properties"]["iso_a3"] = iso  # the basemap's fill colour
    labels = [
        {"name": name, "lat": round(point.y, 4), "lon": round(point.x, 4)}
        for name, point in zip(layers.display["countries"]["name"],
                               layers.display["countries"].geometry.representative_point())
    ]
    return {
        "meta": {
            "title": TITLE,
            "from": state.start.isoformat(),
            "to": state.end.isoformat(),
            "generated": f"{now:%Y-%m-%d %H:%M} UTC",
            "author": (author or "").strip() or None,
            "cutoff": data_cutoff(layers, store),
            "publicUrl": public_url,
            "deepLink": deep_link,
            "lang": lang,
            "since": f"{since.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC" if since else None,
            "totalEvents": len(full["events"]),
        },
        "view": {"lat": view.lat, "lon": view.lon, "zoom": view.zoom} if view else None,
        "defaultView": {"lat": DEFAULT_CENTER[0], "lon": DEFAULT_CENTER[1], "zoom": DEFAULT_ZOOM},
        "visible": visible,
        "selected": list(selected) if selected else None,
        "style": {"sea": SEA_COLOR, "highlight": HIGHLIGHT_COLOR,
                  "countryFill": {**COUNTRY_FILL, "other": NEIGHBOUR_FILL}},
        "countries": countries,
        "labels": labels,
        "layers": layer_payloads,
        "eventsLayer": {"id": "events", "title": LAYERS_BY_ID["events"].title,
                        "description": LAYERS_BY_ID["events"].description},
        "events": _event_columns(in_window),
        "outside": outside,
        "colors": list(EVENT_TYPE_COLORS.values()) + [UNKNOWN_EVENT_COLOR],
        "types": list(EVENT_TYPE_COLORS) + ["Other"],
        "circles": {str(k): v for k, v in PRECISION_RADIUS_M.items()} if len(in_window) <= CIRCLE_LIMIT else None,
        "codes": {
            "tp": {str(k): v for k, v in TIME_PRECISION.items()},
            "gp": {str(k): v for k, v in GEO_PRECISION.items()},
            "status": STATUS,
        },
        "changes": _changes(store, since),
        "changeColors": CHANGE_COLORS,
        "legend": _legend(),
    }


def build_briefing(
    layers: LayerData,
    state: Any,
    *,
    author: str | None = None,
    public_url: str | None = None,
    query: Mapping[str, str] | None = None,
    store: "Store | None" = None,
    now: dt.datetime | None = None,
) -> str:
    """The briefing as one self-contained HTML text.

    Parameters
    ----------
    layers : the validated layers (:func:`layers.data.load_layer_data`).
    state : the shared state: ``layers``, ``start``, ``end``, ``selection`` (layer id,
        feature id) or None, ``view`` (``lat``, ``lon``, ``zoom``) or None, ``since`` and,
        if present, ``lang`` (``en``, ``sq`` or ``sr``: which names of places come first).
    author : who generated it (shown in the header).
    public_url : the live app's address (``BORDER_BRIEF_PUBLIC_URL``); with ``query`` (the
        state's URL parameters, ``ui.state.to_query``) it becomes a deep link to the same view.
    store : the catalogue store: its latest change is the data's cut-off, and ``since``
        marks what changed after that moment.
    """
    payload = briefing_payload(layers, state, author=author, public_url=public_url, query=query,
                               store=store, now=now)
    values = {
        "VENDOR_CSS": vendor_styles(),
        "BRIEFING_CSS": _inline_style((STATIC_DIR / "briefing.css").read_text(encoding="utf-8"), "briefing.css"),
        "VENDOR_JS": vendor_scripts(),
        "DATA": js_literal(payload),
        "BRIEFING_JS": _inline_script((STATIC_DIR / "briefing.js").read_text(encoding="utf-8"), "briefing.js"),
    }
    values["SCRIPT_HASHES"] = _HASHES_MARK
    template = (STATIC_DIR / "briefing.html").read_text(encoding="utf-8")
    # One pass over the template: inserted text is never searched for placeholders again.
    page = _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
    # The page's Content-Security-Policy allows exactly its own inline scripts (by hash), so
    # no inline event handler or injected script could run, and no request can leave it.
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") + "'"
        for body in _SCRIPT_BODY.findall(page)
    )
    return page.replace(_HASHES_MARK, hashes, 1)  # the first one is the policy in <head>


def write_briefing(path: str | Path, html_text: str) -> Path:
    """Write the briefing whole or not at all (a reader never sees half a file)."""
    path = Path(path)
    _write_atomically(path, html_text)
    return path
