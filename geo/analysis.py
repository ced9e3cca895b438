"""Lengths, areas and distances (km, km²) of the geodata layers, in METRIC_CRS.

Each function takes GeoDataFrames with a CRS, projects them to
:data:`geo.crs.METRIC_CRS` and returns a float or a pandas DataFrame.
:func:`compare_with_published` sets our boundary length and Kosovo's area
beside the CIA World Factbook figures (see ``data/SOURCES.md`` for why they differ).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo._checks import require_frame, require_iso
from geo.crs import METRIC_CRS

#: Published reference figures: (value, source title, URL).
PUBLISHED = {
    "kosovo_area_km2": (10_887.0, "CIA World Factbook via IndexMundi: Kosovo area", "https://indexmundi.com/factbook/compare/serbia.kosovo/geography"),
    "kosovo_serbia_boundary_km": (366.0, "CIA World Factbook via IndexMundi: Kosovo land boundaries", "https://indexmundi.com/factbook/compare/serbia.kosovo/geography"),
}


def boundary_length_km(border_gdf: gpd.GeoDataFrame) -> float:
    """Total length of the border line(s) in kilometres."""
    require_frame(border_gdf, "border_gdf")
    return float(border_gdf.to_crs(METRIC_CRS).length.sum() / 1000.0)


def country_area_km2(countries_gdf: gpd.GeoDataFrame, iso_a3: str = "XKX") -> float:
    """Area of one country's polygons in square kilometres."""
    require_frame(countries_gdf, "countries_gdf")
    require_iso(countries_gdf, (iso_a3,))
    rows = countries_gdf.loc[countries_gdf["iso_a3"] == iso_a3].to_crs(METRIC_CRS)
    return float(rows.area.sum() / 1e6)


def distances_to_border_km(features_gdf: gpd.GeoDataFrame, border_gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Shortest distance of each feature (point or area) to the border line.

    Returns
    -------
    DataFrame
        Columns ``id``, ``name``, ``distance_km`` (0 where a feature touches the
        line), sorted by distance then id.
    """
    require_frame(features_gdf, "features_gdf")
    require_frame(border_gdf, "border_gdf")
    line = shapely.union_all(border_gdf.to_crs(METRIC_CRS).geometry.values)
    metric = features_gdf.to_crs(METRIC_CRS)
    frame = pd.DataFrame(
        {"id": metric["id"].values, "name": metric["name"].values, "distance_km": shapely.distance(metric.geometry.values, line) / 1000.0}
    )
    return frame.sort_values(["distance_km", "id"]).reset_index(drop=True)


def zone_intersections(deployments_gdf: gpd.GeoDataFrame, zones: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Which deployment areas overlap which zones, and by how much.

    Parameters
    ----------
    deployments_gdf : GeoDataFrame
        Areas with ``id`` and ``name``.
    zones : dict of str to GeoDataFrame
        Zone name (e.g. ``"ground_safety_zone"``) to its polygons.

    Returns
    -------
    DataFrame
        One row per (deployment, zone): ``id``, ``name``, ``zone``,
        ``intersects``, ``overlap_km2``, ``share_of_area``.
    """
    require_frame(deployments_gdf, "deployments_gdf")
    metric = deployments_gdf.to_crs(METRIC_CRS)
    rows = []
    for zone_name, zone_gdf in sorted(zones.items()):
        require_frame(zone_gdf, zone_name)
        zone = shapely.union_all(zone_gdf.to_crs(METRIC_CRS).geometry.values)
        overlap = shapely.intersection(metric.geometry.values, zone)
        for fid, name, geom, part in zip(metric["id"], metric["name"], metric.geometry.values, overlap):
            rows.append(
                {"id": fid, "name": name, "zone": zone_name, "intersects": bool(part.area > 0),
                 "overlap_km2": part.area / 1e6, "share_of_area": part.area / geom.area if geom.area else 0.0}
            )
    return pd.DataFrame(rows, columns=["id", "name", "zone", "intersects", "overlap_km2", "share_of_area"])


def compare_with_published(countries_gdf: gpd.GeoDataFrame, border_gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Our Kosovo area and boundary length beside the published figures.

    Returns
    -------
    DataFrame
        Columns ``figure``, ``ours``, ``published``, ``difference_pct``, ``source_url``.
    """
    ours = {
        "kosovo_area_km2": country_area_km2(countries_gdf, "XKX"),
        "kosovo_serbia_boundary_km": boundary_length_km(border_gdf),
    }
    rows = []
    for figure, value in ours.items():
        published, _title, url = PUBLISHED[figure]
        rows.append({"figure": figure, "ours": value, "published": published,
                     "difference_pct": 100.0 * (value - published) / published, "source_url": url})
    return pd.DataFrame(rows)
