"""Simplified display copies of layers, with a measurable error bound.

:func:`display_version` simplifies in :data:`geo.crs.METRIC_CRS` (Douglas-Peucker
with topology preserved, so every vertex removed lies within ``tolerance_m`` of
the result) and returns EPSG:4326. :func:`max_deviation_m` measures the actual
error as the Hausdorff distance in metres, so tests can prove the bound.
:func:`remove_slivers` drops the tiny holes and parts that land-only source
outlines leave inside deployment areas and zones (lakes, reservoirs, land
holes), by a stated area in km² measured in the metric CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo._checks import require_frame
from geo.crs import METRIC_CRS, STORAGE_CRS

#: Holes smaller than this (km2) are filled in deployment areas and safety zones.
#: The areas are defined on territory, water included; their holes come only from
#: water bodies and land holes that the source's land outlines leave out. The
#: largest such hole in the catalogue is the Kosovo part of Gazivode lake (6.3 km2);
#: a hole of 10 km2 or more would be a deliberate exclusion and is kept.
MIN_HOLE_KM2 = 10.0
#: Separate parts smaller than this (km2) are dropped: about 1 x 1 km, under 10 px
#: across at zoom 10; a clipped buffer's crumbs along a winding boundary, not an area.
MIN_PART_KM2 = 1.0


def remove_slivers(
    gdf: gpd.GeoDataFrame, min_hole_km2: float = MIN_HOLE_KM2, min_part_km2: float = MIN_PART_KM2
) -> tuple[gpd.GeoDataFrame, dict]:
    """Fill holes and drop parts smaller than the given areas, measured in METRIC_CRS.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygon layer with a CRS; other geometry types pass unchanged.
    min_hole_km2 : float
        Holes (interior rings) with a smaller area are removed (filled).
    min_part_km2 : float
        Polygons of a (multi)polygon with a smaller area (holes filled) are removed,
        except a feature's largest part, which is always kept.

    Returns
    -------
    (GeoDataFrame, dict)
        A copy in the input CRS with only the affected geometries rebuilt (the others
        keep their exact coordinates), and the measured change: ``holes_removed``,
        ``parts_removed``, ``area_added_km2`` (holes filled), ``area_removed_km2``
        (parts dropped).
    """
    require_frame(gdf, "gdf")
    if not (min_hole_km2 >= 0 and min_part_km2 >= 0):
        raise ValueError(f"area thresholds must be >= 0, got {min_hole_km2!r} and {min_part_km2!r}")
    metric = gdf.geometry.to_crs(METRIC_CRS).values
    out = list(gdf.geometry.values)
    report = {"holes_removed": 0, "parts_removed": 0, "area_added_km2": 0.0, "area_removed_km2": 0.0}
    for i, (original, geom) in enumerate(zip(gdf.geometry.values, metric)):
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        source_parts = shapely.get_parts(original)
        parts = shapely.get_parts(geom)
        shells = [shapely.Polygon(p.exterior).area / 1e6 for p in parts]
        largest = int(np.argmax(shells))
        kept = []
        changed = False
        for k, (src, part) in enumerate(zip(source_parts, parts)):
            if shells[k] < min_part_km2 and k != largest:
                report["parts_removed"] += 1
                report["area_removed_km2"] += part.area / 1e6
                changed = True
                continue
            holes = []
            for src_ring, ring in zip(src.interiors, part.interiors):
                area = shapely.Polygon(ring).area / 1e6
                if area < min_hole_km2:
                    report["holes_removed"] += 1
                    report["area_added_km2"] += area
                    changed = True
                else:
                    holes.append(src_ring)
            kept.append(shapely.Polygon(src.exterior, holes))
        if changed:
            out[i] = kept[0] if len(kept) == 1 and original.geom_type == "Polygon" else shapely.MultiPolygon(kept)
    result = gdf.copy()
    result = result.set_geometry(gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs))
    report["area_added_km2"] = round(report["area_added_km2"], 3)
    report["area_removed_km2"] = round(report["area_removed_km2"], 3)
    return result, report


def slivers(gdf: gpd.GeoDataFrame, min_hole_km2: float = MIN_HOLE_KM2, min_part_km2: float = MIN_PART_KM2) -> list[tuple]:
    """Every hole and part under the thresholds: ``(row id, "hole" | "part", km2)``; [] when clean.

    A feature's largest part is never reported (see :func:`remove_slivers`).
    """
    require_frame(gdf, "gdf")
    found = []
    ids = gdf["id"] if "id" in gdf.columns else gdf.index
    for fid, geom in zip(ids, gdf.geometry.to_crs(METRIC_CRS).values):
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        parts = shapely.get_parts(geom)
        shells = [shapely.Polygon(p.exterior).area / 1e6 for p in parts]
        largest = int(np.argmax(shells))
        for k, part in enumerate(parts):
            if shells[k] < min_part_km2 and k != largest:
                found.append((fid, "part", shells[k]))
            for ring in part.interiors:
                area = shapely.Polygon(ring).area / 1e6
                if area < min_hole_km2:
                    found.append((fid, "hole", area))
    return found


def display_version(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` simplified to ``tolerance_m`` metres, in EPSG:4326.

    Parameters
    ----------
    gdf : GeoDataFrame
        Any layer with a CRS.
    tolerance_m : float
        Douglas-Peucker tolerance in metres (0 returns an unsimplified copy).

    Returns
    -------
    GeoDataFrame
        Same rows and columns, geometries simplified, CRS EPSG:4326.
    """
    require_frame(gdf, "gdf")
    if tolerance_m < 0:
        raise ValueError(f"tolerance_m must be >= 0, got {tolerance_m!r}")
    metric = gdf.to_crs(METRIC_CRS)
    if tolerance_m > 0:
        metric = metric.set_geometry(metric.geometry.simplify(tolerance_m, preserve_topology=True))
    return metric.to_crs(STORAGE_CRS)


def max_deviation_m(full: gpd.GeoDataFrame, simplified: gpd.GeoDataFrame) -> float:
    """Largest Hausdorff distance (metres) between matching rows of two frames.

    Parameters
    ----------
    full, simplified : GeoDataFrame
        Frames with the same number of rows, in any CRS (both are projected to
        :data:`geo.crs.METRIC_CRS`).

    Returns
    -------
    float
        Maximum over rows of the Hausdorff distance between the geometries'
        boundaries (for polygons) or the geometries themselves; 0 for empty input.
    """
    require_frame(full, "full")
    require_frame(simplified, "simplified")
    if len(full) != len(simplified):
        raise ValueError(f"frames differ in length ({len(full)} vs {len(simplified)}); compare matching rows")
    if len(full) == 0:
        return 0.0
    a = _outline(full.to_crs(METRIC_CRS).geometry.values)
    b = _outline(simplified.to_crs(METRIC_CRS).geometry.values)
    # Both simplifiers keep a subset of the original vertices, so the discrete
    # Hausdorff distance (vertices to geometry, both ways) is exact here.
    return float(shapely.hausdorff_distance(a, b).max())


def _outline(geoms: np.ndarray) -> np.ndarray:
    """Boundaries of polygons (their interiors never move), other geometries unchanged."""
    out = np.array(geoms, dtype=object)
    polygonal = np.isin(shapely.get_type_id(out), (3, 6))  # Polygon, MultiPolygon
    out[polygonal] = shapely.boundary(out[polygonal])
    return out
