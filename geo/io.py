"""Read and validate the project's GeoJSON layer files.

:func:`load_layer` is the single entry point: it reads one FeatureCollection,
checks it against the layer's schema (see :mod:`geo.schema`) and returns a
GeoDataFrame in :data:`geo.crs.STORAGE_CRS`. Any problem raises
:class:`LayerValidationError`, which names the file, the feature and the field
and says what to fix; a layer is either loaded whole or not at all.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from geo.crs import STORAGE_CRS
from geo.schema import SCHEMAS, LayerSchema

# CRS names that mean "WGS 84 longitude/latitude" in a GeoJSON `crs` member
# (RFC 7946 dropped the member; older files still carry it).
_WGS84_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:epsg::4326",
    "epsg:4326",
    "crs84",
    "ogc:crs84",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer file."""

    file: str
    feature: str  # feature id, or "#<index>" when it has none; "" for the file itself
    field: str  # property name, "geometry", or "" for the file itself
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.feature:
            where += f", feature {self.feature}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


class LayerValidationError(ValueError):
    """A layer file that cannot be loaded as it is. ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) found:\n{problem_list(problems)}")


def problem_list(problems: list[Problem], shown: int = 20) -> str:
    """The first ``shown`` problems as a bullet list, and how many more there are."""
    lines = "\n".join(f"- {p}" for p in problems[:shown])
    more = f"\n- ... and {len(problems) - shown} more" if len(problems) > shown else ""
    return lines + more


def load_layer(path: str | Path, layer_id: str, schema: LayerSchema | None = None) -> gpd.GeoDataFrame:
    """Load one layer file and validate it completely.

    Parameters
    ----------
    path : str or Path
        A GeoJSON FeatureCollection in EPSG:4326 (RFC 7946).
    layer_id : str
        The layer's id; selects the schema from :data:`geo.schema.SCHEMAS`.
    schema : LayerSchema, optional
        Overrides the registered schema (used for imported reports).

    Returns
    -------
    GeoDataFrame
        One row per feature, properties as columns, CRS EPSG:4326.

    Raises
    ------
    LayerValidationError
        When the file is not valid JSON, not a FeatureCollection, declares another
        CRS, or any feature has an invalid geometry or property.
    """
    path = Path(path)
    return parse_layer(read_layer_text(path), layer_id, source_name=path.name, schema=schema)


def read_layer_text(path: str | Path) -> str:
    """A layer file's text; a missing or non-UTF-8 file raises LayerValidationError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LayerValidationError([Problem(path.name, "", "", f"file not found at {path}")]) from None
    except UnicodeDecodeError as exc:
        raise LayerValidationError(
            [Problem(path.name, "", "", f"is not UTF-8 text ({exc.reason}); save it as UTF-8 GeoJSON")]
        ) from None
    return text


def parse_layer(
    text: str | bytes, layer_id: str, *, source_name: str = "<upload>", schema: LayerSchema | None = None
) -> gpd.GeoDataFrame:
    """Validate GeoJSON text against a layer's schema; see :func:`load_layer`."""
    if schema is None:
        if layer_id not in SCHEMAS:
            raise KeyError(f"no schema for layer {layer_id!r}; known: {', '.join(sorted(SCHEMAS))}")
        schema = SCHEMAS[layer_id]
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LayerValidationError(
            [Problem(source_name, "", "", f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")]
        ) from None
    except UnicodeDecodeError as exc:
        raise LayerValidationError([Problem(source_name, "", "", f"is not UTF-8 text ({exc.reason})")]) from None
    except RecursionError:
        raise LayerValidationError(
            [Problem(source_name, "", "", "is nested too deeply to be a GeoJSON file (arrays or objects inside each other)")]
        ) from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise LayerValidationError(
            [Problem(source_name, "", "", "holds a number with thousands of digits; no coordinate or count needs that many")]
        ) from None

    problems = _check_document(document, source_name)
    if problems:
        raise LayerValidationError(problems)

    features = document["features"]
    seen_ids: dict[str, int] = {}
    shapes: list = []  # each valid feature's geometry, read once
    for index, feature in enumerate(features):
        problems.extend(_check_feature(feature, index, schema, source_name, seen_ids, shapes))
    if problems:
        raise LayerValidationError(problems)

    return features_to_frame(features, shapes if len(shapes) == len(features) else None)


def features_to_frame(features: Iterable[dict[str, Any]], geometries: list | None = None) -> gpd.GeoDataFrame:
    """Build a GeoDataFrame (EPSG:4326) from validated GeoJSON feature dicts (and, when already
    read, their shapely geometries in the same order)."""
    features = list(features)
    if geometries is None:
        geometries = [shape(f["geometry"]) for f in features]
    records = [dict(f.get("properties") or {}) for f in features]
    frame = gpd.GeoDataFrame(records, geometry=geometries, crs=STORAGE_CRS)
    return frame


def _check_document(document: Any, source_name: str) -> list[Problem]:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        kind = document.get("type") if isinstance(document, dict) else type(document).__name__
        return [Problem(source_name, "", "", f"must be a GeoJSON FeatureCollection, found {kind!r}")]
    if not isinstance(document.get("features"), list):
        return [Problem(source_name, "", "", "has no 'features' list")]
    crs = document.get("crs")
    if crs is not None:
        name = ""
        if isinstance(crs, dict):
            name = str((crs.get("properties") or {}).get("name", ""))
        if name.lower() not in _WGS84_NAMES:
            return [
                Problem(
                    source_name,
                    "",
                    "crs",
                    f"declares CRS {name or crs!r}; coordinates must be WGS 84 longitude/latitude "
                    "(EPSG:4326, RFC 7946). Reproject the file, e.g. "
                    "`ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`",
                )
            ]
    return []


def _feature_label(feature: Any, index: int) -> str:
    if isinstance(feature, dict):
        fid = (feature.get("properties") or {}).get("id") if isinstance(feature.get("properties"), dict) else None
        if isinstance(fid, str) and fid:
            return repr(fid)
    return f"#{index}"


def _check_feature(
    feature: Any, index: int, schema: LayerSchema, source_name: str, seen_ids: dict[str, int],
    shapes: list | None = None,
) -> list[Problem]:
    label = _feature_label(feature, index)
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return [Problem(source_name, label, "", "is not a GeoJSON Feature")]
    problems: list[Problem] = []
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        problems.append(Problem(source_name, label, "properties", "must be an object"))
        properties = {}
    for field_name, message in schema.check_properties(properties):
        problems.append(Problem(source_name, label, field_name, message))
    fid = properties.get("id")
    if isinstance(fid, str):
        if fid in seen_ids:
            problems.append(
                Problem(source_name, label, "id", f"duplicates the id of feature #{seen_ids[fid]}; ids must be unique")
            )
        else:
            seen_ids[fid] = index
    problems.extend(_check_geometry(feature.get("geometry"), schema, source_name, label, shapes))
    return problems


def _check_geometry(geometry: Any, schema: LayerSchema, source_name: str, label: str,
                    shapes: list | None = None) -> list[Problem]:
    """The geometry's problems; a valid geometry is appended to ``shapes`` when given."""
    def problem(message: str) -> list[Problem]:
        return [Problem(source_name, label, "geometry", message)]

    if not isinstance(geometry, dict) or "type" not in geometry:
        return problem("is missing or not a GeoJSON geometry object")
    if geometry["type"] not in schema.geometry_types:
        return problem(f"must be {' or '.join(schema.geometry_types)}, found {geometry['type']}")
    coordinates = geometry.get("coordinates")
    bad = None if _positions_ok(coordinates) else _first_bad_position(coordinates)
    if bad is not None:
        return problem(bad)
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
        return problem(f"cannot be read ({exc})")
    if geom.is_empty:
        return problem("is empty")
    if not geom.is_valid:
        return problem(
            f"is invalid: {explain_validity(geom)}. Repair it (e.g. shapely.make_valid or QGIS 'Fix geometries')"
        )
    if shapes is not None:
        shapes.append(geom)
    return []


_NUMBERS = (int, float)  # exact types: a bool is not a coordinate


def _positions_ok(coordinates: Any, depth: int = 0) -> bool:
    """True only when :func:`_first_bad_position` would find nothing, checked quickly.

    A country outline has tens of thousands of positions; walking them with one call per
    position was most of reading the derived layers. Anything unusual (a bool, NaN, a
    position out of range, ragged nesting) returns False, and the full walk then finds it
    and words the message."""
    if depth > 4 or type(coordinates) is not list or not coordinates:
        return False
    first = coordinates[0]
    if type(first) in _NUMBERS:  # a single position (a Point)
        return _first_bad_position(coordinates, depth) is None
    if type(first) is list and first and type(first[0]) in _NUMBERS:  # a list of positions
        if depth + 1 > 4:
            return False
        for position in coordinates:
            if type(position) is not list or len(position) < 2:
                return False
            x, y = position[0], position[1]
            if type(x) not in _NUMBERS or type(y) not in _NUMBERS or not (-180 <= x <= 180 and -90 <= y <= 90):
                return False
            if len(position) > 2 and not all(type(c) in _NUMBERS for c in position[2:]):
                return False
        return True
    return all(_positions_ok(child, depth + 1) for child in coordinates)


def _first_bad_position(coordinates: Any, depth: int = 0) -> str | None:
    """Check nesting and ranges; projected metres show up as out-of-range degrees."""
    if depth > 4:
        return "has coordinates nested too deeply"
    if not isinstance(coordinates, list) or not coordinates:
        return "has empty or missing coordinates"
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coordinates):
        if len(coordinates) < 2:
            return "has a position with fewer than two numbers"
        lon, lat = coordinates[0], coordinates[1]
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return "has a non-finite coordinate"
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return (
                f"has position ({lon}, {lat}) outside longitude/latitude range; the file is probably "
                "in a projected CRS (metres). Reproject it to EPSG:4326"
            )
        return None
    for child in coordinates:
        message = _first_bad_position(child, depth + 1)
        if message:
            return message
    return None
