"""Deployment areas built by explicit, documented constructions in metres.

A force layer's polygon is never drawn by hand: it is a buffer around cited
points (camps, towns, bases) or a band along the border, computed in
:data:`geo.crs.METRIC_CRS` and clipped to the country the force stands in.
:func:`build_area` runs one construction and :func:`describe_construction`
writes the sentence stored in the feature's ``construction`` property, so the
text and the geometry come from the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely

from geo._checks import require_frame, require_iso
from geo.border import QUAD_SEGS
from geo.crs import METRIC_CRS

KINDS = ("points-buffer", "border-band")


@dataclass(frozen=True)
class Construction:
    """How one area is built.

    ``kind`` is ``"points-buffer"`` (union of ``radius_km`` circles around the
    places named in ``anchors``) or ``"border-band"`` (the part of the country
    within ``radius_km`` of the border line). ``country`` is the ISO code the
    result is clipped to.
    """

    kind: str
    radius_km: float
    country: str
    anchors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"construction kind must be one of {KINDS}, got {self.kind!r}")
        if not self.radius_km > 0:
            raise ValueError(f"radius_km must be positive, got {self.radius_km!r}")
        if self.kind == "points-buffer" and not self.anchors:
            raise ValueError("a points-buffer construction needs at least one anchor place id")


def build_area(
    construction: Construction,
    countries_gdf: gpd.GeoDataFrame,
    places_gdf: gpd.GeoDataFrame | None = None,
    border_gdf: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Build one deployment area.

    Parameters
    ----------
    construction : Construction
        What to build.
    countries_gdf : GeoDataFrame
        Country polygons with ``iso_a3`` and a CRS.
    places_gdf : GeoDataFrame, optional
        Points with an ``id`` column; required for ``points-buffer``.
    border_gdf : GeoDataFrame, optional
        The border line; required for ``border-band``.

    Returns
    -------
    GeoDataFrame
        One row (``construction``, ``area_km2``, geometry) in the CRS of
        ``countries_gdf``; empty if the construction lies outside the country.
    """
    require_frame(countries_gdf, "countries_gdf")
    require_iso(countries_gdf, (construction.country,))
    metric_countries = countries_gdf.to_crs(METRIC_CRS)
    country = shapely.union_all(
        metric_countries.loc[metric_countries["iso_a3"] == construction.country].geometry.values
    )
    if construction.kind == "points-buffer":
        shape = _points_buffer(construction, places_gdf)
    else:
        shape = _border_band(construction, border_gdf)
    area = shape.intersection(country)
    area = shapely.union_all([g for g in shapely.get_parts(area) if g.geom_type == "Polygon"])
    if area.is_empty:
        return gpd.GeoDataFrame({"construction": [], "area_km2": []}, geometry=[], crs=countries_gdf.crs)
    frame = gpd.GeoDataFrame(
        {"construction": [describe_construction(construction)], "area_km2": [area.area / 1e6]},
        geometry=[area],
        crs=METRIC_CRS,
    )
    return frame.to_crs(countries_gdf.crs)


def describe_construction(construction: Construction) -> str:
    """Return the sentence stored as a feature's ``construction`` property."""
    radius = f"{construction.radius_km:g} km"
    if construction.kind == "points-buffer":
        anchors = ", ".join(construction.anchors)
        return (
            f"Union of {radius} buffers around the cited point(s) {anchors} (places layer), "
            f"computed in {METRIC_CRS} and clipped to {construction.country}."
        )
    return (
        f"Band of {radius} along the derived Kosovo-Serbia border line (border layer), "
        f"computed in {METRIC_CRS} and clipped to {construction.country}."
    )


def _points_buffer(construction: Construction, places_gdf: gpd.GeoDataFrame | None):
    if places_gdf is None:
        raise ValueError("a points-buffer construction needs places_gdf")
    require_frame(places_gdf, "places_gdf")
    missing = [a for a in construction.anchors if a not in set(places_gdf["id"])]
    if missing:
        raise KeyError(f"anchor place(s) not in places layer: {', '.join(missing)}")
    points = places_gdf.loc[places_gdf["id"].isin(construction.anchors)].to_crs(METRIC_CRS)
    return shapely.union_all(points.geometry.buffer(construction.radius_km * 1000.0, quad_segs=QUAD_SEGS).values)


def _border_band(construction: Construction, border_gdf: gpd.GeoDataFrame | None):
    if border_gdf is None:
        raise ValueError("a border-band construction needs border_gdf")
    require_frame(border_gdf, "border_gdf")
    line = shapely.union_all(border_gdf.to_crs(METRIC_CRS).geometry.values)
    return line.buffer(construction.radius_km * 1000.0, quad_segs=QUAD_SEGS)
