"""Simplified display copies of layers, with a measurable error bound.

:func:`display_version` simplifies in :data:`geo.crs.METRIC_CRS` (Douglas-Peucker
with topology preserved, so every vertex removed lies within ``tolerance_m`` of
the result) and returns EPSG:4326. :func:`max_deviation_m` measures the actual
error as the Hausdorff distance in metres, so tests can prove the bound.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo._checks import require_frame
from geo.crs import METRIC_CRS, STORAGE_CRS

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
