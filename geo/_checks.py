"""Input checks shared by the geodata modules (private to :mod:`geo`)."""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS


def require_frame(gdf: object, name: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` if it is a GeoDataFrame/GeoSeries with a CRS, else raise."""
    if not isinstance(gdf, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise TypeError(f"{name} must be a GeoDataFrame or GeoSeries, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise ValueError(f"{name} has no CRS; set one (e.g. gdf.set_crs('EPSG:4326')) before measuring")
    return gdf


def require_metric(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Raise unless ``gdf`` is in a projected CRS measured in metres."""
    crs = CRS.from_user_input(gdf.crs)
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise ValueError(f"{name} must be in a projected metric CRS, got {crs.to_string()}")


def require_iso(gdf: gpd.GeoDataFrame, codes: tuple[str, ...], name: str = "countries") -> None:
    """Raise unless ``gdf`` has an ``iso_a3`` column containing every code."""
    if "iso_a3" not in gdf.columns:
        raise KeyError(f"{name} needs an 'iso_a3' column (ISO 3166 alpha-3, Kosovo = XKX)")
    missing = [c for c in codes if c not in set(gdf["iso_a3"])]
    if missing:
        raise KeyError(f"{name} has no row for {', '.join(missing)}")
