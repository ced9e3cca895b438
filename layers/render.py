"""Turn validated layers into one folium map, by one generic path per kind.

:func:`build_map` draws each visible layer from its :class:`~layers.catalog.LayerSpec`:
lines and polygons through :class:`FeatureLayer`, events through
:class:`EventLayer` (compact columns, supercluster, one canvas), the offline
basemap from the country outlines. The map's assets point at the local copies
(or CDNs) chosen in :mod:`layers.config`. Nothing here imports Streamlit.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import weakref
from pathlib import Path
from typing import Mapping

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from layers.assets import MAP_CSS, MAP_JS, SUPERCLUSTER_JS, asset_links
from layers.catalog import (
    DRAW_ORDER,
    EVENT_TYPE_COLORS,
    EVENT_TYPE_SYMBOLS,
    LAYERS_BY_ID,
    PLACE_LABEL_DEFAULT,
    PLACE_LABEL_KINDS,
    UNKNOWN_EVENT_COLOR,
    UNKNOWN_EVENT_SYMBOL,
    LayerSpec,
)
from layers.config import DEFAULT_CENTER, DEFAULT_ZOOM, PRECISION_RADIUS_M, Settings
from layers.js import js_literal

_HERE = Path(__file__).resolve().parent
_RUNTIME_JS = (_HERE / "runtime.js").read_text(encoding="utf-8")
_EVENTS_JS = (_HERE / "events_layer.js").read_text(encoding="utf-8")
_MEASURE_JS = (_HERE / "measure.js").read_text(encoding="utf-8")
_LABELS_JS = (_HERE / "labels.js").read_text(encoding="utf-8")
_PLAYBACK_JS = (_HERE / "playback.js").read_text(encoding="utf-8")

SEA_COLOR = "#dce8f1"
HIGHLIGHT_COLOR = "#facc15"
# Above this many events, uncertainty circles and hover titles are left out of
# the payload (markers still show imprecision by their dashed, hollow style), and
# the numeric columns are sent as packed binary (see event_payload).
DETAIL_LIMIT = 5_000
COUNTRY_FILL = {"XKX": "#fdf6e3", "SRB": "#f3f0ea"}
NEIGHBOUR_FILL = "#ebebe6"


def _script(template_text: str) -> Template:
    return Template("{% macro script(this, kwargs) %}\n" + template_text + "\n{% endmacro %}")


class _RenderedScript(Element):
    """JavaScript that is already rendered, added to the page as it is."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class ScriptElement(MacroElement):
    """A map element whose template has only a ``script`` macro, rendered once.

    branca's ``MacroElement.render`` wraps each rendered script in a new Jinja
    template, so every payload (the country outlines are ~1 MB, 100,000 events
    ~4 MB) would be lexed as a template again on every render (about 0.5 s per
    map at 100,000 events), and text such as ``{{`` in a title would be read as
    template syntax. This class adds the rendered script as it is. (Asset links
    come from folium's ``JSCSSMixin``, which streamlit-folium also looks for.)
    """

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        script = self._template.module.__dict__["script"]
        figure.script.add_child(_RenderedScript(script(self, kwargs)), name=self.get_name())


class MapRuntime(ScriptElement):
    """The browser-side helpers every other layer uses (selection, hover, URL view).

    Its options are the same for every map: nothing of a session or a view is in the map's
    script (see :class:`OpeningView`)."""

    _template = _script(_RUNTIME_JS)

    def __init__(self):
        super().__init__()
        self._name = "BorderBriefRuntime"
        self.options_js = js_literal({"background": SEA_COLOR, "highlight": HIGHLIGHT_COLOR})


#: The ``<meta>`` name under which :class:`OpeningView` gives the map its opening view.
OPENING_VIEW_META = "bb-opening-view"


class OpeningView(Element):
    """The view a map opens at (a shared link's view, a deep link's event), as a ``<meta>`` in the
    map document's header, which runtime.js reads when the map starts.

    The view is kept out of the map's script on purpose: the Streamlit component's identity is
    the script's hash (ui.mapview), so a script without it is the same for every session that
    shows the same map, and a browser that reconnected to a new session (another replica after
    a failover) still clicks the component that session draws."""

    def __init__(self, view: tuple[float, float, int]):
        super().__init__()
        self._name = "OpeningView"
        lat, lon, zoom = view
        self.content = f"{float(lat):.5f},{float(lon):.5f},{int(zoom)}"

    def render(self, **kwargs) -> str:
        return f'<meta name="{OPENING_VIEW_META}" content="{html.escape(self.content)}">'


class FeatureLayer(ScriptElement):
    """A GeoJSON layer drawn with one style; the runtime finds its features under a click.

    Features are drawn non-interactive: ``BB.identify`` (runtime.js) tests every
    drawn feature at once, so no canvas can swallow another layer's clicks.
    """

    _template = _script(
        """
(function (map, data, style, pointStyle, layerId, layerTitle, interactive, pane) {
  var layer = L.geoJSON(data, {
    pane: pane,
    interactive: false,
    style: function () { return style; },
    pointToLayer: function (f, ll) { return L.circleMarker(ll, pointStyle); },
    onEachFeature: function (f, lyr) {
      if (interactive) window.BB.addFeature(layerId, layerTitle, f.properties.id, f.properties.name, lyr);
    },
  });
  layer.addTo(map);
})({{ this._parent.get_name() }}, {{ this.data_js }}, {{ this.style_js }}, {{ this.point_style_js }},
   {{ this.layer_id_js }}, {{ this.layer_title_js }}, {{ this.interactive_js }}, {{ this.pane_js }});
"""
    )

    def __init__(self, spec: LayerSpec, frame: gpd.GeoDataFrame, *, pane: str = "overlayPane", data_js: str | None = None):
        super().__init__()
        self._name = f"Layer_{spec.id}"
        self.layer_id = spec.id
        # data_js: a JavaScript expression holding the collection, when it is already on the
        # page (the country outlines, sent once by CountryOutlines for basemap and layer)
        self.data_js = data_js or collection_js(frame, ("id", "name"))
        style = spec.style.leaflet()
        self.style_js = js_literal(style)
        self.point_style_js = js_literal(
            {**style, "fill": True, "fillOpacity": max(style["fillOpacity"], 0.9), "interactive": False}
        )
        self.layer_id_js = js_literal(spec.id)
        self.layer_title_js = js_literal(spec.title)
        self.interactive_js = js_literal(spec.interactive)
        self.pane_js = js_literal(pane)


class CountryOutlines(ScriptElement):
    """The country outlines, sent once in a compact form and decoded into ``BB.outlines``.

    The offline basemap and the countries layer both draw from it. See
    :func:`encode_outlines`: coordinates on a 1e-4 degree grid (at most 5.6 m off,
    against the display copy's 60 m simplification), delta-coded and written as
    varints in 64 characters that need no escaping: ~145 KB instead of ~675 KB of
    GeoJSON, sent once instead of twice.
    """

    _template = _script(
        """
(function (d) {
  var BB = (window.BB = window.BB || {}), lookup = {};
  for (var a = 0; a < d.alphabet.length; a++) lookup[d.alphabet.charCodeAt(a)] = a;
  function decode(text) {
    var values = [], i = 0, n = text.length;
    while (i < n) {
      var result = 0, shift = 0, c;
      do { c = lookup[text.charCodeAt(i++)]; result |= (c & 31) << shift; shift += 5; } while (c & 32);
      values.push(result & 1 ? ~(result >>> 1) : result >>> 1);
    }
    return values;
  }
  var features = d.features.map(function (f) {
    var v = decode(f.c), k = 0, x = 0, y = 0;
    var polygons = f.n.map(function (counts) {
      return counts.map(function (count) {
        var ring = [];
        for (var j = 0; j < count; j++) { x += v[k++]; y += v[k++]; ring.push([x / d.scale, y / d.scale]); }
        return ring;
      });
    });
    var properties = {};
    Object.keys(f).forEach(function (key) { if (key !== "c" && key !== "n") properties[key] = f[key]; });
    return { type: "Feature", properties: properties, geometry: { type: "MultiPolygon", coordinates: polygons } };
  });
  BB.outlines = { type: "FeatureCollection", features: features };
})({{ this.payload_js }});
"""
    )

    def __init__(self, countries: gpd.GeoDataFrame):
        super().__init__()
        self._name = "CountryOutlines"
        self.payload_js = outlines_js(countries, ("id", "name", "iso_a3"))


# 64 characters that js_literal never escapes ("_" would become six): the digits of the varints.
OUTLINE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-."
OUTLINE_DECIMALS = 4  # a 1e-4 degree grid: 11 m north-south, 8 m east-west at 43 deg N
_OUTLINE_CODES = np.frombuffer(OUTLINE_ALPHABET.encode("ascii"), dtype=np.uint8)


def _varints(values: np.ndarray) -> str:
    """Signed integers as zigzag varints: 5 bits per character, the 6th says "more follows"."""
    z = np.where(values < 0, ~(values << 1), values << 1).astype(np.int64)
    groups = np.ones(len(z), dtype=np.int64)
    for k in range(1, 13):
        groups += z >= (1 << (5 * k))
    slots = np.arange(13)
    digits = (z[:, None] >> (5 * slots)) & 31
    digits |= (slots[None, :] < groups[:, None] - 1) * 32
    return _OUTLINE_CODES[digits[slots[None, :] < groups[:, None]]].tobytes().decode("ascii")


def encode_outlines(frame: gpd.GeoDataFrame, properties: tuple[str, ...], decimals: int = OUTLINE_DECIMALS) -> dict:
    """Polygons as compact text: per feature its ``properties``, ``n`` (vertices per ring, per
    polygon) and ``c`` (the vertices: lon/lat on a 10**-decimals grid, each the difference
    from the one before, as :func:`_varints`). Repeated grid points are dropped; a ring left
    with fewer than 4 vertices (a speck under the grid) is dropped, a polygon with its shell.
    """
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError(f"outlines are drawn from EPSG:4326 frames, got {frame.crs}")
    scale = 10**decimals
    features = []
    keep_props = [p for p in properties if p in frame.columns]
    for record, geom in zip(frame[keep_props].to_dict("records"), frame.geometry.values):
        counts: list[list[int]] = []
        chunks = []
        for polygon in shapely.get_parts(geom) if geom is not None else []:
            if polygon.geom_type != "Polygon":
                continue
            rings = []
            for ring in shapely.get_rings(polygon):
                q = np.round(shapely.get_coordinates(ring) * scale).astype(np.int64)
                q = q[np.r_[True, np.any(q[1:] != q[:-1], axis=1)]]
                if len(q) >= 4:
                    rings.append(q)
                elif not rings:
                    break  # the shell collapsed: the whole polygon is a speck
            if rings:
                counts.append([len(r) for r in rings])
                chunks.extend(rings)
        if chunks:
            points = np.concatenate(chunks)
            deltas = np.diff(points, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
            text = _varints(deltas.ravel())
        else:
            text = ""
        features.append({**{k: v for k, v in record.items()}, "n": counts, "c": text})
    return {"scale": scale, "alphabet": OUTLINE_ALPHABET, "features": features}


_OUTLINES_JS: dict[tuple[int, tuple[str, ...]], tuple[weakref.ref, str]] = {}


def outlines_js(frame: gpd.GeoDataFrame, properties: tuple[str, ...]) -> str:
    """:func:`encode_outlines` as a safe JS literal, memoised per frame object."""
    key = (id(frame), properties)
    cached = _OUTLINES_JS.get(key)
    if cached is not None and cached[0]() is frame:
        return cached[1]
    text = js_literal(encode_outlines(frame, properties))
    _OUTLINES_JS[key] = (weakref.ref(frame, lambda _ref, key=key: _OUTLINES_JS.pop(key, None)), text)
    return text


class PlaceLabels(ScriptElement):
    """Place names beside the places' dots (layers/labels.js): by zoom, in en/sq/sr, decluttered.

    The labels take the page URL's ``lang`` when it has one (the app writes it after the
    sidebar's choice, so the map is not rebuilt), else ``lang``. They never take a click.
    """

    _template = _script(_LABELS_JS)

    def __init__(self, places: gpd.GeoDataFrame, *, lang: str = "en"):
        super().__init__()
        self._name = "PlaceLabels"
        self.payload_js = js_literal(place_label_payload(places, lang=lang))


LABEL_LANGS = ("en", "sq", "sr")


def place_label_payload(places: gpd.GeoDataFrame, *, lang: str = "en") -> dict:
    """Columns for :class:`PlaceLabels`: position, zoom and rank by kind, names per language.

    A missing Albanian or Serbian name falls back to the English one.
    """
    if lang not in LABEL_LANGS:
        raise ValueError(f"lang must be one of {', '.join(LABEL_LANGS)}, got {lang!r}")
    rows = []
    for record, point in zip(places.drop(columns=places.geometry.name).to_dict("records"), places.geometry.values):
        if point is None or point.is_empty:
            continue
        min_zoom, rank, cls = PLACE_LABEL_KINDS.get(record.get("kind"), PLACE_LABEL_DEFAULT)
        english = str(record.get("name") or record.get("id"))
        names = {"en": english}
        for code in ("sq", "sr"):
            value = record.get(f"name_{code}")
            names[code] = value if isinstance(value, str) and value.strip() else english
        rows.append((rank, english, record.get("id"), point, min_zoom, cls, names))
    rows.sort(key=lambda r: (r[0], r[1]))
    return {
        "ids": [str(r[2]) for r in rows],
        "lat": [round(r[3].y, 6) for r in rows],
        "lon": [round(r[3].x, 6) for r in rows],
        "minZoom": [r[4] for r in rows],
        "rank": [r[0] for r in rows],
        "cls": [r[5] for r in rows],
        "names": {code: [r[6][code] for r in rows] for code in LABEL_LANGS},
        "lang": lang,
    }


class OfflineBasemap(ScriptElement):
    """Land drawn from the country outlines, with country names: no tile server needed."""

    _template = _script(
        """
(function (map, data, labels, fills) {
  map.createPane("bbBasemap");
  map.getPane("bbBasemap").style.zIndex = 150;
  L.geoJSON(data, {
    pane: "bbBasemap", interactive: false,
    style: function (f) {
      return { color: "#9ca3af", weight: 0.8, fill: true, fillColor: fills[f.properties.iso_a3] || fills.other, fillOpacity: 1 };
    },
  }).addTo(map);
  // Country names as plain text fixed to their point (no box that follows the pointer).
  labels.forEach(function (l) {
    var el = document.createElement("span");
    el.textContent = l.name;
    L.marker([l.lat, l.lon], {
      icon: L.divIcon({ className: "bb-country-label", html: el, iconSize: null }),
      interactive: false, keyboard: false, pane: "bbBasemap",
    }).addTo(map);
  });
})({{ this._parent.get_name() }}, {{ this.data_js }}, {{ this.labels_js }}, {{ this.fills_js }});
"""
    )

    def __init__(self, countries: gpd.GeoDataFrame):
        super().__init__()
        self._name = "OfflineBasemap"
        self.data_js = "window.BB.outlines"  # sent once by CountryOutlines
        frame = countries
        points = frame.geometry.representative_point()
        labels = [
            {"name": name, "lat": round(pt.y, 4), "lon": round(pt.x, 4)}
            for name, pt in zip(frame["name"], points)
        ]
        self.labels_js = js_literal(labels)
        self.fills_js = js_literal({**COUNTRY_FILL, "other": NEIGHBOUR_FILL})


class EventLayer(JSCSSMixin, ScriptElement):
    """All events as compact columns, clustered with supercluster and drawn on one canvas:
    a symbol per type (shape and colour), imprecise ones dashed with a radius."""

    _template = _script(_EVENTS_JS)

    def __init__(self, events: gpd.GeoDataFrame, *, settings: Settings, cluster_radius: int = 35):
        super().__init__()
        self._name = "EventLayer"
        self.default_js = asset_links(SUPERCLUSTER_JS, settings)
        payload = event_payload(events, cluster_radius=cluster_radius, packed=len(events) > DETAIL_LIMIT)
        self.payload_js = js_literal(payload)


class Legend(ScriptElement):
    """A legend (our own constant text) at the map's top right; open or folded as the user left it."""

    _template = _script(
        """
(function (map, html) {
  var legend = L.control({ position: "topright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "bb-legend-box");
    div.innerHTML = html;
    var details = div.querySelector("details");
    // The open/folded state outlives a rerun's new map (same tab, same origin).
    try {
      var kept = window.sessionStorage.getItem("bb.legend.open");
      if (kept !== null) details.open = kept === "1";
      details.addEventListener("toggle", function () {
        window.sessionStorage.setItem("bb.legend.open", details.open ? "1" : "0");
      });
    } catch (err) { /* storage unavailable: default state */ }
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
})({{ this._parent.get_name() }}, {{ this.html_js }});
"""
    )

    def __init__(self, visible: list[str], *, changes: bool = False):
        super().__init__()
        self._name = "Legend"
        self.html_js = js_literal(legend_html(visible, changes=changes))


# Cluster disc colours by size (the palette Leaflet.markercluster made familiar).
CLUSTER_COLORS = (("#b5e28c", "fewer than 10"), ("#f1d357", "10 to 99"), ("#fd9c73", "100 or more"))


def _swatch(style: str, text: str) -> str:
    return f'<div><span style="display:inline-block;vertical-align:middle;margin-right:5px;{style}"></span>{html.escape(text)}</div>'


# The event symbols as SVG (constant markup), the same shapes events_layer.js draws.
_SYMBOL_SVG = {
    "circle": '<circle cx="7" cy="7" r="5.5"/>',
    "square": '<rect x="2" y="2" width="10" height="10"/>',
    "triangle": '<polygon points="7,1 13,12 1,12"/>',
    "triangle-down": '<polygon points="7,13 13,2 1,2"/>',
    "diamond": '<polygon points="7,0.5 13,7 7,13.5 1,7"/>',
    "star": '<polygon points="7,0.5 8.8,5 13.5,5.3 9.8,8.3 11,13 7,10.4 3,13 4.2,8.3 0.5,5.3 5.2,5"/>',
    "hexagon": '<polygon points="13,7 10,12.2 4,12.2 1,7 4,1.8 10,1.8"/>',
}


def _symbol_row(symbol: str, color: str, text: str) -> str:
    shape = _SYMBOL_SVG[symbol]
    return (
        f'<div><svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" style="vertical-align:middle;margin-right:5px">'
        f'<g fill="{html.escape(color)}" fill-opacity=".9" stroke="#1f2937" stroke-width="1.2">{shape}</g></svg>{html.escape(text)}</div>'
    )


def legend_html(visible: list[str], *, changes: bool = False) -> str:
    """Legend markup built only from the catalogue's constants, each escaped."""
    box = (
        "background:rgba(255,255,255,.94);padding:6px 8px;font:12px/1.4 sans-serif;"
        "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:240px"
    )
    rows = []
    if "events" in visible:
        rows.append("<b>Events</b> (shape and colour by type)")
        for name, color in EVENT_TYPE_COLORS.items():
            symbol = EVENT_TYPE_SYMBOLS[name]
            rows.append(_symbol_row(symbol, color, f"{name} ({symbol.replace('-', ' ')})"))
        rows.append(_symbol_row(UNKNOWN_EVENT_SYMBOL, UNKNOWN_EVENT_COLOR, f"other type ({UNKNOWN_EVENT_SYMBOL})"))
        rows.append(_swatch("width:10px;height:10px;border-radius:50%;border:2px dashed #6b7280", "approximate place (with radius)"))
        cluster = "".join(
            f'<span title="{html.escape(label)}" style="display:inline-block;width:12px;height:12px;border-radius:50%;'
            f'background:{color};margin-right:2px;vertical-align:middle"></span>'
            for color, label in CLUSTER_COLORS
        )
        names = ", ".join(f"{colour}: {label}" for colour, (_, label) in zip(("green", "yellow", "orange"), CLUSTER_COLORS))
        rows.append(f"<div>{cluster}a group of events, the number inside ({html.escape(names)}); click it to zoom in</div>")
    shown = [LAYERS_BY_ID[i] for i in visible if i in LAYERS_BY_ID and i != "events"]
    if shown:
        rows.append("<b>Layers</b>")
    for spec in shown:
        s = spec.style
        fill = s.fill_color or "transparent"
        border = f"{max(s.weight, 1):.0f}px {'dashed' if s.dash else 'solid'} {s.color}"
        if spec.geometry == "point":
            rows.append(_swatch(f"width:9px;height:9px;border-radius:50%;background:{fill};border:{border}", spec.title))
        elif spec.geometry == "line":
            rows.append(_swatch(f"width:16px;height:0;border-top:{border}", spec.title))
        else:
            rows.append(_swatch(f"width:14px;height:10px;background:{fill};border:{border};opacity:.9", spec.title))
    if changes:
        rows.append("<b>Changed since the chosen moment</b>")
        for kind, color in CHANGE_COLORS.items():
            label = "new" if kind == "added" else "changed"
            rows.append(_swatch(f"width:12px;height:12px;border-radius:50%;border:3px solid {color}", f"{label} (ring or dotted outline)"))
    rows.append("<b>Tools</b>")
    rows.append("<div><b>km</b>: measure a distance (click points on the map; Esc or km again to stop)</div>")
    rows.append("<div><b>Copy link</b>: copy a link to this view for a colleague</div>")
    rows.append("<div>Scroll the page over the map; <b>Ctrl/⌘ + scroll</b> zooms the map</div>")
    return (
        f'<details class="bb-legend" style="{box}"><summary style="cursor:pointer;font-weight:600">Legend</summary>'
        + "".join(rows)
        + "</details>"
    )


# Layer frames come from the cached LayerData and are never modified, so their
# JavaScript is built once per frame object (the countries alone are ~1 MB of JSON).
_COLLECTION_JS: dict[tuple[int, tuple[str, ...]], tuple[weakref.ref, str]] = {}


def collection_js(frame: gpd.GeoDataFrame, properties: tuple[str, ...]) -> str:
    """:func:`feature_collection` as a safe JS literal, memoised per frame object."""
    key = (id(frame), properties)
    cached = _COLLECTION_JS.get(key)
    if cached is not None and cached[0]() is frame:
        return cached[1]
    text = js_literal(feature_collection(frame, properties))
    _COLLECTION_JS[key] = (weakref.ref(frame, lambda _ref, key=key: _COLLECTION_JS.pop(key, None)), text)
    return text


def feature_collection(frame: gpd.GeoDataFrame, properties: tuple[str, ...]) -> dict:
    """A minimal RFC 7946 FeatureCollection with only ``properties`` kept (6 decimals)."""
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError(f"layers are drawn from EPSG:4326 frames, got {frame.crs}")
    keep = [p for p in properties if p in frame.columns]
    slim = gpd.GeoDataFrame(frame[keep], geometry=frame.geometry.set_precision(1e-6), crs=frame.crs)
    return slim.__geo_interface__ if len(slim) else {"type": "FeatureCollection", "features": []}


# Typed-array constructors the browser may build packed columns with (events_layer.js).
_PACKED_TYPES = {"<i4": "Int32Array", "<u2": "Uint16Array", "<u1": "Uint8Array"}


def _packed(values: np.ndarray, dtype: str) -> dict:
    """A column as little-endian typed-array bytes in base64: 4/3 byte per byte, no separators."""
    array = np.ascontiguousarray(values, dtype=np.dtype(dtype))
    if not np.array_equal(array, values):
        raise ValueError(f"column values do not fit in {dtype}")
    return {"b64": base64.b64encode(array.tobytes()).decode("ascii"), "array": _PACKED_TYPES[dtype]}


def event_payload(events: gpd.GeoDataFrame, *, cluster_radius: int = 35, packed: bool = False) -> dict:
    """Column-oriented event data for :class:`EventLayer`, built with vectorised numpy.

    Coordinates become integers of 1e-5 degree, types an index into ``colors`` and ``symbols``, dates
    a day offset; titles and uncertainty circles are included up to DETAIL_LIMIT.

    With ``packed`` (used above DETAIL_LIMIT) the integer columns are base64 strings of
    little-endian typed arrays (``{"b64": ..., "array": "Int32Array"}``) and the ids one
    comma-separated string: about 30 bytes per event instead of 40, and almost nothing
    for the JSON encoder to do. The browser turns both forms into the same columns.
    """
    n = len(events)
    types = list(EVENT_TYPE_COLORS)
    colors = list(EVENT_TYPE_COLORS.values()) + [UNKNOWN_EVENT_COLOR]
    symbols = [EVENT_TYPE_SYMBOLS[t] for t in types] + [UNKNOWN_EVENT_SYMBOL]
    points = events.geometry.to_numpy()
    lon = np.round(shapely.get_x(points) * 1e5).astype(np.int64)
    lat = np.round(shapely.get_y(points) * 1e5).astype(np.int64)
    codes = pd.Categorical(events["event_type"], categories=types).codes.astype(np.int64)
    type_codes = np.where(codes < 0, len(types), codes)  # an unknown type gets the last colour
    precision = events["geo_precision"].astype(int).to_numpy() if n else np.zeros(0, dtype=int)
    dates = np.asarray(events["date"].to_numpy(), dtype="datetime64[D]") if n else np.zeros(0, "datetime64[D]")
    base = dates.min() if n else np.datetime64("2023-01-01")
    base_ms = int((base - np.datetime64("1970-01-01")).astype(np.int64)) * 86_400_000
    days = (dates - base).astype(np.int64)
    detailed = n <= DETAIL_LIMIT
    ids = events["id"].astype(str).tolist()
    if packed and not any("," in event_id for event_id in ids):
        columns = {
            "id": ",".join(ids),
            "lat": _packed(lat, "<i4"),
            "lon": _packed(lon, "<i4"),
            "type": _packed(type_codes, "<u1"),
            "prec": _packed(precision, "<u1"),
            "day": _packed(days, "<u2" if n == 0 or days.max() < 2**16 else "<i4"),
        }
    else:
        columns = {
            "id": ids,
            "lat": lat.tolist(),
            "lon": lon.tolist(),
            "type": type_codes.tolist(),
            "prec": precision.tolist(),
            "day": days.tolist(),
        }
    payload = {
        "n": n,
        **columns,
        "baseDay": base_ms,
        "colors": colors,
        "symbols": symbols,
        "radius": 7,
        "clusterRadius": cluster_radius,
        # supercluster clusters up to this zoom; from 17 on every event is drawn on its own
        "clusterMaxZoom": 16,
        "clusterColors": [color for color, _ in CLUSTER_COLORS],
        "title": events["title"].astype(str).tolist() if detailed else None,
        "uncertaintyRadius": {str(k): v for k, v in PRECISION_RADIUS_M.items()} if detailed else None,
    }
    return payload


def new_map(settings: Settings, view: tuple[float, float, int] | None = None) -> folium.Map:
    """An empty map (at ``view``: lat, lon, zoom) whose assets come from the configured place."""
    lat, lon, zoom = view or (*DEFAULT_CENTER, DEFAULT_ZOOM)
    m = folium.Map(
        location=[lat, lon],
        zoom_start=zoom,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        min_zoom=6,
        max_zoom=18,
    )
    # With no tile layer folium leaves the zoom limits out of the map options;
    # the event layer's cluster expansion needs maxZoom on the map itself.
    m.options["minZoom"] = 6
    m.options["maxZoom"] = 18
    # folium's defaults also pull jQuery, Bootstrap and Font Awesome from CDNs;
    # the app uses none of them.
    m.default_js = asset_links(MAP_JS, settings)
    m.default_css = asset_links(MAP_CSS, settings)
    return m


def add_basemap(m: folium.Map, basemap: str, countries: gpd.GeoDataFrame, settings: Settings) -> None:
    """The basemap; the offline one needs :class:`CountryOutlines` on the map before it."""
    if basemap == "offline":
        OfflineBasemap(countries).add_to(m)
        return
    servers = {t.key: t for t in settings.tile_servers}
    if basemap not in servers:
        raise ValueError(f"unknown basemap {basemap!r}; choose one of {', '.join(settings.basemap_keys)}")
    tiles = servers[basemap]
    folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, name=tiles.name, max_zoom=tiles.max_zoom).add_to(m)


def build_map(
    frames: Mapping[str, gpd.GeoDataFrame],
    visible: list[str],
    *,
    basemap: str,
    settings: Settings,
    view: tuple[float, float, int] | None = None,
    changes: Mapping[str, Mapping[str, str]] | None = None,
    lang: str = "en",
    window: tuple[dt.date, dt.date] | None = None,
) -> folium.Map:
    """Build the briefing map.

    Parameters
    ----------
    frames : mapping of layer id to GeoDataFrame (EPSG:4326, display geometry)
        Must include ``countries`` (the offline basemap) and every visible layer.
    visible : list of layer ids, drawn in :data:`layers.catalog.DRAW_ORDER`.
    basemap : "offline" or a tile server key from the settings.
    view : (lat, lon, zoom) the map opens at (a shared link's view); default: the crisis area.
        It goes into the map document's header (:class:`OpeningView`), not into the script,
        and a later map in the same page opens where the user left the last one (runtime.js).
    changes : layer id -> feature id -> "added" | "changed": drawn as coloured rings and outlines.
    lang : "en", "sq" or "sr": the place labels' language when the page URL names none
        (the labels follow the URL's ``lang``, so a change of language needs no new map).
    window : the time window (first, last day) the events were filtered to; the playback
        control walks it (default: the span of the events' dates).
    """
    unknown = [layer_id for layer_id in visible if layer_id not in LAYERS_BY_ID]
    if unknown:
        raise ValueError(f"unknown layer id(s): {', '.join(unknown)}")
    m = new_map(settings)  # the script's view is always the default one
    if view is not None:
        m.get_root().header.add_child(OpeningView(view), name="bb_opening_view")
    MapRuntime().add_to(m)
    if basemap == "offline" or "countries" in visible:
        CountryOutlines(frames["countries"]).add_to(m)
    add_basemap(m, basemap, frames["countries"], settings)
    for layer_id in DRAW_ORDER:
        if layer_id not in visible:
            continue
        if layer_id == "events":
            EventLayer(frames["events"], settings=settings).add_to(m)
        else:
            outlines = "window.BB.outlines" if layer_id == "countries" else None
            FeatureLayer(LAYERS_BY_ID[layer_id], frames[layer_id], data_js=outlines).add_to(m)
            if layer_id == "places":
                PlaceLabels(frames["places"], lang=lang).add_to(m)
    playback = Playback(frames, visible, window=window)
    if playback.active:
        playback.add_to(m)
    if changes:
        ChangeMarks(changes, frames, visible).add_to(m)
    Legend(visible, changes=bool(changes)).add_to(m)
    MeasureControl().add_to(m)
    _Ready().add_to(m)
    return m


class Playback(ScriptElement):
    """Play / pause / step through the time window in the browser (layers/playback.js).

    Events appear as their date passes; areas of the visible layers with a period
    (``period_start`` / ``period_end``) appear and disappear with it. ``active`` is false
    when there is nothing dated to play (no events and no dated areas shown).
    """

    _template = _script(_PLAYBACK_JS)
    DAILY_UP_TO = 120  # days: longer windows are played week by week
    FRAME_MS = 350

    def __init__(self, frames: Mapping[str, gpd.GeoDataFrame], visible: list[str], *, window: tuple[dt.date, dt.date] | None = None):
        super().__init__()
        self._name = "Playback"
        areas: dict[str, dict[str, list[str | None]]] = {}
        for layer_id in visible:
            frame = frames.get(layer_id)
            if layer_id == "events" or frame is None or "period_start" not in frame.columns:
                continue
            periods = {}
            for fid, first, last in zip(frame["id"], frame["period_start"], frame.get("period_end", [None] * len(frame))):
                first, last = _iso_day(first), _iso_day(last)
                if first or last:
                    periods[str(fid)] = [first, last]
            if periods:
                areas[layer_id] = periods
        events = frames.get("events") if "events" in visible else None
        days = sorted(set(events["date"].astype(str).str.slice(0, 10))) if events is not None and len(events) else []
        if window is None:
            window = (dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])) if days else None
        self.active = window is not None and (bool(days) or bool(areas))
        start, end = window or (dt.date(2023, 1, 1), dt.date(2023, 1, 1))
        self.payload_js = js_literal(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "eventDays": days,
                "areas": areas,
                "dailyUpTo": self.DAILY_UP_TO,
                "frameMs": self.FRAME_MS,
            }
        )


def _iso_day(value: object) -> str | None:
    """A period bound as YYYY-MM-DD, or None when empty or not a date."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    text = str(value)[:10]
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


CHANGE_COLORS = {"added": "#15803d", "changed": "#1d4ed8"}


class ChangeMarks(ScriptElement):
    """Rings around events and outlines around areas that changed since a moment (``since=``)."""

    _template = _script(
        """
(function (map, d) {
  var BB = window.BB, group = L.layerGroup();
  d.events.forEach(function (e) {
    group.addLayer(L.circleMarker([e[0], e[1]], {
      radius: 13, color: d.colors[e[2]], weight: 3, opacity: 0.95, fill: false, interactive: false,
    }));
  });
  Object.keys(d.areas).forEach(function (layerId) {
    var kinds = d.areas[layerId], features = BB.index[layerId] || {};
    Object.keys(kinds).forEach(function (id) {
      var f = features[id];
      if (!f || !f.getLatLngs) return;
      var Shape = f instanceof L.Polygon ? L.polygon : L.polyline;
      group.addLayer(Shape(f.getLatLngs(), {
        color: d.colors[kinds[id]], weight: 5, opacity: 0.85, dashArray: "1 8", lineCap: "round", fill: false, interactive: false,
      }));
    });
  });
  group.addTo(map);
  BB.changeMarks = group;
})({{ this._parent.get_name() }}, {{ this.payload_js }});
"""
    )

    def __init__(self, changes: Mapping[str, Mapping[str, str]], frames: Mapping[str, gpd.GeoDataFrame], visible: list[str]):
        super().__init__()
        self._name = "ChangeMarks"
        events = []
        marked = changes.get("events", {})
        if "events" in visible and marked:
            frame = frames["events"]
            hit = frame[frame["id"].isin(marked.keys())]
            events = [
                [round(g.y, 6), round(g.x, 6), marked[i]]
                for i, g in zip(hit["id"], hit.geometry)
                if marked[i] in CHANGE_COLORS
            ]
        areas = {
            layer_id: {i: k for i, k in kinds.items() if k in CHANGE_COLORS}
            for layer_id, kinds in changes.items()
            if layer_id != "events" and layer_id in visible
        }
        self.count = len(events) + sum(len(v) for v in areas.values())
        self.payload_js = js_literal({"events": events, "areas": areas, "colors": CHANGE_COLORS})


class MeasureControl(ScriptElement):
    """A distance-measuring tool (great-circle km) in the map's top-left corner."""

    _template = _script(_MEASURE_JS)

    def __init__(self):
        super().__init__()
        self._name = "MeasureControl"


class _Ready(ScriptElement):
    _template = _script("window.BB.ready();")

    def __init__(self):
        super().__init__()
        self._name = "Ready"


def filter_events(events: gpd.GeoDataFrame, start: dt.date | None, end: dt.date | None) -> gpd.GeoDataFrame:
    """Events whose date lies in ``[start, end]`` (either bound may be open)."""
    dates = events["date"].astype(str)
    keep = np.ones(len(events), dtype=bool)
    if start is not None:
        keep &= (dates >= start.isoformat()).to_numpy()
    if end is not None:
        keep &= (dates <= end.isoformat()).to_numpy()
    return events[keep]
