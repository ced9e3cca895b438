"""The Kosovo-Serbia boundary and the 1999 safety zones, derived from country polygons.

Everything is computed in :data:`geo.crs.METRIC_CRS`; results come back in the
CRS of the input frame. :func:`harmonise_countries` turns slightly overlapping
source polygons into a clean coverage, :func:`build_border_line` extracts the
edge two countries share and :func:`build_safety_zone` draws a band of a given
width beyond Kosovo into the named countries.
"""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo._checks import require_frame, require_iso
from geo.crs import METRIC_CRS

#: Two boundaries closer than this (metres) count as one shared edge. After
#: :func:`harmonise_countries` shared edges coincide exactly, so 1 m only absorbs
#: floating-point noise and coordinate rounding.
SNAP_TOLERANCE_M = 1.0

#: Buffer resolution (segments per quarter circle) for every metric buffer.
QUAD_SEGS = 16


def build_border_line(
    countries_gdf: gpd.GeoDataFrame, a: str = "XKX", b: str = "SRB", *, snap_tolerance_m: float = SNAP_TOLERANCE_M
) -> gpd.GeoDataFrame:
    """Return the boundary shared by countries ``a`` and ``b`` as one line feature.

    Parameters
    ----------
    countries_gdf : GeoDataFrame
        Country polygons with an ``iso_a3`` column and a CRS.
    a, b : str
        ISO 3166 alpha-3 codes of the two countries (Kosovo is ``XKX``).
    snap_tolerance_m : float
        Vertices of ``a``'s boundary within this distance of ``b``'s boundary
        are snapped onto it before the two boundaries are intersected.

    Returns
    -------
    GeoDataFrame
        One row (``a``, ``b``, ``length_km``, geometry) in the input CRS; an
        empty frame when the countries do not touch.
    """
    require_frame(countries_gdf, "countries_gdf")
    require_iso(countries_gdf, (a, b))
    if snap_tolerance_m <= 0:
        raise ValueError("snap_tolerance_m must be positive")
    metric = countries_gdf.to_crs(METRIC_CRS)
    line = _shared_edge(_country(metric, a), _country(metric, b), snap_tolerance_m)
    if line.is_empty:
        return gpd.GeoDataFrame({"a": [], "b": [], "length_km": []}, geometry=[], crs=countries_gdf.crs)
    frame = gpd.GeoDataFrame(
        {"a": [a], "b": [b], "length_km": [line.length / 1000.0]}, geometry=[line], crs=METRIC_CRS
    )
    return frame.to_crs(countries_gdf.crs)


def build_safety_zone(
    countries_gdf: gpd.GeoDataFrame, width_km: float, *, origin: str = "XKX", into: tuple[str, ...] = ("SRB", "MNE")
) -> gpd.GeoDataFrame:
    """Return the band reaching ``width_km`` beyond ``origin`` into the ``into`` countries.

    The band is ``origin`` (holes filled) buffered by ``width_km`` in
    :data:`geo.crs.METRIC_CRS`, minus ``origin`` itself, intersected with the
    union of the ``into`` countries. For the 1999 Military Technical Agreement
    zones ``into`` is Serbia and Montenegro (the then Federal Republic of
    Yugoslavia), so the band never enters Albania or North Macedonia.

    Parameters
    ----------
    countries_gdf : GeoDataFrame
        Country polygons with ``iso_a3`` and a CRS.
    width_km : float
        Width of the band in kilometres (5 for the ground, 25 for the air zone).
    origin : str
        ISO code of the country the band surrounds.
    into : tuple of str
        ISO codes of the countries the band may cover.

    Returns
    -------
    GeoDataFrame
        One row (``width_km``, geometry) in the input CRS.
    """
    require_frame(countries_gdf, "countries_gdf")
    require_iso(countries_gdf, (origin, *into))
    if not width_km > 0:
        raise ValueError(f"width_km must be positive, got {width_km!r}")
    metric = countries_gdf.to_crs(METRIC_CRS)
    core = _fill_holes(_country(metric, origin))
    host = shapely.union_all([_country(metric, code) for code in into])
    band = core.buffer(width_km * 1000.0, quad_segs=QUAD_SEGS).difference(core).intersection(host)
    band = _polygons_only(band)
    frame = gpd.GeoDataFrame({"width_km": [float(width_km)]}, geometry=[band], crs=METRIC_CRS)
    return frame.to_crs(countries_gdf.crs)


def harmonise_countries(
    countries_gdf: gpd.GeoDataFrame, *, priority: tuple[str, ...] = ("XKX", "SRB"), gap_width_m: float = 1000.0
) -> tuple[gpd.GeoDataFrame, dict[str, float]]:
    """Make country polygons a clean coverage: no overlaps, no slivers between the first two.

    Source polygons traced from different boundary versions overlap or leave
    thin gaps. Overlaps go to the country earlier in ``priority`` (then
    alphabetical order of ``iso_a3``). Gaps narrower than ``gap_width_m``
    between ``priority[0]`` and ``priority[1]`` are given to ``priority[1]``, so
    the two share one exact edge, which is the reference line.

    Parameters
    ----------
    countries_gdf : GeoDataFrame
        Country polygons with ``iso_a3`` and a CRS (may be invalid; repaired).
    priority : tuple of str
        Countries whose outline wins, in order.
    gap_width_m : float
        Widest gap (metres) between the first two countries that is closed.

    Returns
    -------
    (GeoDataFrame, dict)
        The harmonised polygons in the input CRS (same rows, sorted by
        ``iso_a3``) and a report: ``overlap_removed_km2``, ``gap_filled_km2``.
    """
    require_frame(countries_gdf, "countries_gdf")
    require_iso(countries_gdf, priority[:2])
    metric = countries_gdf.to_crs(METRIC_CRS).reset_index(drop=True)
    metric["geometry"] = shapely.make_valid(metric.geometry.values)
    metric["geometry"] = [_polygons_only(g) for g in metric.geometry]
    order = list(priority) + sorted(set(metric["iso_a3"]) - set(priority))
    geoms, removed = _remove_overlaps(metric, order)
    filled = _close_gaps(geoms, priority[0], priority[1], gap_width_m)
    out = metric.copy()
    out["geometry"] = [geoms[code] for code in out["iso_a3"]]
    out = out.sort_values("iso_a3").reset_index(drop=True)
    report = {"overlap_removed_km2": removed / 1e6, "gap_filled_km2": filled / 1e6}
    return gpd.GeoDataFrame(out, geometry="geometry", crs=METRIC_CRS).to_crs(countries_gdf.crs), report


# --- helpers ----------------------------------------------------------------

def _country(metric: gpd.GeoDataFrame, code: str) -> BaseGeometry:
    return shapely.union_all(metric.loc[metric["iso_a3"] == code].geometry.values)


def _shared_edge(geom_a: BaseGeometry, geom_b: BaseGeometry, tolerance: float) -> BaseGeometry:
    # Snap a's outline onto b's so vertices closer than the tolerance coincide,
    # then keep the exact overlap of the two outlines.
    outline_b = geom_b.boundary
    shared = shapely.snap(geom_a.boundary, outline_b, tolerance).intersection(outline_b)
    parts = [g for g in getattr(shared, "geoms", [shared]) if g.geom_type in ("LineString", "MultiLineString")]
    lines = shapely.line_merge(shapely.union_all(parts)) if parts else shapely.MultiLineString()
    # Specks shorter than the tolerance are corner touches, not shared edges.
    kept = [g for g in getattr(lines, "geoms", [lines]) if g.length > 2 * tolerance]
    if not kept:
        return shapely.MultiLineString()
    return kept[0] if len(kept) == 1 else shapely.MultiLineString(sorted(kept, key=lambda g: g.bounds))


def _fill_holes(geom: BaseGeometry) -> BaseGeometry:
    polys = [Polygon(p.exterior) for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
    return shapely.union_all(polys)


def _polygons_only(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    flat = [p for g in polys for p in getattr(g, "geoms", [g])]
    return MultiPolygon(flat) if len(flat) != 1 else flat[0]


def _remove_overlaps(metric: gpd.GeoDataFrame, order: list[str]) -> tuple[dict[str, BaseGeometry], float]:
    geoms: dict[str, BaseGeometry] = {}
    taken = Polygon()
    removed = 0.0
    for code in order:
        geom = _country(metric, code)
        clean = _polygons_only(geom.difference(taken))
        removed += geom.area - clean.area
        geoms[code] = clean
        taken = taken.union(clean)
    return geoms, removed


def _close_gaps(geoms: dict[str, BaseGeometry], first: str, second: str, gap_width_m: float) -> float:
    half = gap_width_m / 2.0
    a, b = geoms[first], geoms[second]
    window = _fill_holes(a).buffer(2 * gap_width_m)
    pair = shapely.union_all([a, b]).intersection(window)
    closed = pair.buffer(half, quad_segs=QUAD_SEGS).buffer(-half, quad_segs=QUAD_SEGS)
    others = shapely.union_all([g for code, g in geoms.items() if code not in (first, second)])
    gaps = closed.difference(_fill_holes(a)).difference(b).difference(others)
    pieces = [
        p for p in shapely.get_parts(_polygons_only(gaps))
        if p.geom_type == "Polygon" and p.distance(a) < 0.01 and p.distance(b) < 0.01
    ]
    if pieces:
        geoms[second] = _polygons_only(shapely.union_all([b, *pieces]))
    return float(sum(p.area for p in pieces))
