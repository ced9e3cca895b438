"""A map to draw or reshape a deployment area, and what the drawing tools give back.

:func:`draw_map` builds a small offline map (the country outlines, no tile server)
with folium's :class:`~folium.plugins.Draw` plugin. The area's current shape is
loaded into the plugin's editable group, one Leaflet polygon per part, so the
edit toolbar can move its corners and the bin can remove a part; the polygon tool
adds a part (or, for a new area, draws it). leaflet-draw's script and styles come
from the configured place (``static/vendor/leaflet-draw/`` by default), never from
folium's CDN.

The pure helpers below turn the plugin's features (what streamlit-folium returns as
``all_drawings``) into one geometry, measure it in the metric CRS and say what is
wrong with it. Nothing here imports Streamlit.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import folium
import geopandas as gpd
from folium.plugins import Draw
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from geo.crs import METRIC_CRS, REGION_BBOX, STORAGE_CRS
from layers.assets import DRAW_CSS, DRAW_JS, asset_links
from layers.catalog import LAYERS_BY_ID
from layers.config import DEFAULT_CENTER, Settings
from layers.render import CountryOutlines, add_basemap, new_map

DRAWABLE_LAYERS = ("kfor_areas", "serbian_deployments")
COORDINATE_DECIMALS = 6  # about 0.1 m, as the catalogue's files
NEW_AREA_ZOOM = 9

# Only polygons are drawn; leaflet-draw refuses edges that cross while drawing or
# reshaping (the store's validation catches anything else, e.g. overlapping parts).
# showArea stays off: leaflet-draw 1.0.4 throws while formatting the area.
_DRAW_OFF = ("polyline", "rectangle", "circle", "marker", "circlemarker")


class LocalDraw(Draw):
    """folium's Draw plugin with leaflet-draw served like Leaflet (local copies by default)."""

    def __init__(self, settings: Settings, **kwargs: Any):
        super().__init__(**kwargs)
        self.default_js = asset_links(DRAW_JS, settings)
        self.default_css = asset_links(DRAW_CSS, settings)


def polygon_parts(geometry: Mapping[str, Any] | None) -> list[Polygon]:
    """The polygons of a Polygon or MultiPolygon GeoJSON geometry (none for anything else)."""
    if not geometry:
        return []
    geom = shape(geometry)
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon):
        return [part for part in geom.geoms if not part.is_empty]
    return []


def _latlngs(part: Polygon) -> list[list[list[float]]]:
    """Leaflet's rings: the exterior, then the holes, each as [lat, lon] pairs."""
    rings = [part.exterior, *part.interiors]
    return [[[round(y, COORDINATE_DECIMALS), round(x, COORDINATE_DECIMALS)] for x, y in ring.coords[:-1]] for ring in rings]


def _path_options(layer_id: str) -> dict[str, Any]:
    style = LAYERS_BY_ID[layer_id].style.leaflet()
    options = {key: style[key] for key in ("color", "weight", "opacity", "fillColor")}
    options.update(fill=True, fillOpacity=max(style["fillOpacity"], 0.2))
    if "dashArray" in style:
        options["dashArray"] = style["dashArray"]
    return options


def draw_map(
    layer_id: str,
    geometry: Mapping[str, Any] | None,
    countries: gpd.GeoDataFrame,
    settings: Settings,
) -> folium.Map:
    """An offline map with ``geometry`` (the area's current shape, or None) ready to reshape.

    Parameters
    ----------
    layer_id : ``kfor_areas`` or ``serbian_deployments`` (the area's style).
    geometry : GeoJSON Polygon or MultiPolygon in EPSG:4326, or None for a new area.
    countries : the country outlines (display geometry) that draw the basemap.
    settings : where the map's assets come from.
    """
    if layer_id not in DRAWABLE_LAYERS:
        raise ValueError(f"areas of '{layer_id}' cannot be drawn; choose one of {', '.join(DRAWABLE_LAYERS)}")
    parts = polygon_parts(geometry)
    m = new_map(settings, (*DEFAULT_CENTER, NEW_AREA_ZOOM))
    CountryOutlines(countries).add_to(m)  # the offline basemap draws from it
    add_basemap(m, "offline", countries, settings)
    options = _path_options(layer_id)
    editable = folium.FeatureGroup(name="Editable area", control=False).add_to(m)
    for part in parts:
        folium.Polygon(
            _latlngs(part),
            color=options["color"],
            weight=options["weight"],
            opacity=options["opacity"],
            fill=True,
            fill_color=options["fillColor"],
            fill_opacity=options["fillOpacity"],
            dash_array=options.get("dashArray"),
        ).add_to(editable)
    LocalDraw(
        settings,
        feature_group=editable,
        show_geometry_on_click=False,
        draw_options={
            **{tool: False for tool in _DRAW_OFF},
            "polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": options},
        },
        edit_options={"poly": {"allowIntersection": False}},
    ).add_to(m)
    if parts:
        lon_min, lat_min, lon_max, lat_max = MultiPolygon(parts).bounds
        m.fit_bounds([[lat_min, lon_min], [lat_max, lon_max]], padding=(30, 30))
    return m


# --- what the drawing tools give back ---------------------------------------------------


def drawn_geometry(features: Iterable[Mapping[str, Any]] | None) -> dict | None:
    """The editable group's features as one GeoJSON geometry, or None when it is empty.

    One polygon stays a Polygon, several become a MultiPolygon (they are not merged:
    overlapping parts are reported, not silently joined). Rings follow RFC 7946's
    right-hand rule; coordinates keep 6 decimals. Anything but polygons is ignored.
    """
    parts: list[Polygon] = []
    for feature in features or []:
        geometry = (feature or {}).get("geometry") if isinstance(feature, Mapping) else None
        if isinstance(geometry, Mapping) and geometry.get("type") in ("Polygon", "MultiPolygon"):
            try:
                parts.extend(polygon_parts(geometry))
            except (ValueError, TypeError, AttributeError, IndexError, GEOSException) as exc:
                raise ValueError(f"a drawn shape cannot be read ({exc}); remove it with the bin and draw it again") from None
    if not parts:
        return None
    rounded = [_rounded(orient(part, sign=1.0)) for part in parts]
    return mapping(rounded[0] if len(rounded) == 1 else MultiPolygon(rounded))


def _rounded(part: Polygon) -> Polygon:
    def ring(coords) -> list[tuple[float, float]]:
        return [(round(x, COORDINATE_DECIMALS), round(y, COORDINATE_DECIMALS)) for x, y in coords]

    return Polygon(ring(part.exterior.coords), [ring(hole.coords) for hole in part.interiors])


def area_km2(geometry: Mapping[str, Any]) -> float:
    """The geometry's area in km², measured in the metric CRS (never in degrees)."""
    series = gpd.GeoSeries([shape(geometry)], crs=STORAGE_CRS).to_crs(METRIC_CRS)
    return float(series.area.iloc[0]) / 1e6


def same_shape(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """True when both geometries cover the same ground (ring order and direction aside)."""
    if not a or not b:
        return not a and not b
    return bool(shape(a).equals(shape(b)))


def shape_problems(geometry: Mapping[str, Any] | None) -> list[str]:
    """What keeps ``geometry`` from being saved as a deployment area, in words; [] when fine."""
    if not geometry:
        return ["there is no shape: draw the area with the polygon tool (click each corner, then the first one again)"]
    geom = shape(geometry)
    problems = []
    if not geom.is_valid:
        problems.append(_invalidity(explain_validity(geom)))
    lon_min, lat_min, lon_max, lat_max = REGION_BBOX
    x0, y0, x1, y1 = geom.bounds
    if x0 < lon_min or y0 < lat_min or x1 > lon_max or y1 > lat_max:
        problems.append(
            f"it reaches outside the region ({lat_min}–{lat_max} N, {lon_min}–{lon_max} E; "
            f"the shape spans {y0:.3f}–{y1:.3f} N, {x0:.3f}–{x1:.3f} E): reshape it"
        )
    return problems


def _invalidity(reason: str) -> str:
    """GEOS's ``Self-intersection[21.1 42.9]`` in words, with the place as latitude and longitude."""
    kind, _, place = reason.partition("[")
    where = ""
    numbers = place.rstrip("]").split()
    if len(numbers) >= 2:
        try:
            where = f" near {float(numbers[1]):.4f} N, {float(numbers[0]):.4f} E"
        except ValueError:
            where = ""
    if "self-intersection" in kind.lower():
        return (f"its outline crosses itself, or two of its parts overlap{where}: move a corner with the "
                "edit tool, or remove a part with the bin")
    return f"it is not a valid polygon ({kind.strip() or reason}{where}): redraw it"
