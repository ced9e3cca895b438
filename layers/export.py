"""Export every layer as an RFC 7946 GeoJSON FeatureCollection for QGIS and other tools.

``python -m layers export OUTDIR`` writes ``OUTDIR/<layer id>.geojson`` in EPSG:4326,
each feature with a stable ``id``, a ``name`` and its ``sources`` (and every other
property of the layer), plus ``OUTDIR/events.csv`` (the shared CSV writer,
:func:`layers.tabular.events_csv`). The editable layers are the store's current
catalogue. Polygons follow RFC 7946's right-hand rule (exterior rings counterclockwise,
holes clockwise). Every file is rendered before the first is written, and each file
is written whole or not at all.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.catalog import LAYERS
from layers.data import LayerData
from layers.tabular import events_csv

EVENTS_CSV = "events.csv"


def _plain(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers into JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float) and value.is_integer():
        # pandas turns an integer column with nulls (e.g. fatalities) into floats
        return int(value)
    if value is pd.NaT or (not isinstance(value, (str, bytes)) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return value


def _right_hand_rule(geometries: np.ndarray) -> np.ndarray:
    """Polygons with counterclockwise exteriors and clockwise holes; other geometries unchanged."""
    if hasattr(shapely, "orient_polygons"):  # shapely >= 2.1
        return shapely.orient_polygons(geometries, exterior_cw=False)
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    def one(geometry):
        if isinstance(geometry, Polygon):
            return orient(geometry, sign=1.0)
        if isinstance(geometry, MultiPolygon):
            return MultiPolygon([orient(part, sign=1.0) for part in geometry.geoms])
        return geometry

    return np.array([one(g) for g in geometries], dtype=object)


def to_feature_collection(frame: gpd.GeoDataFrame, layer_id: str) -> dict[str, Any]:
    """RFC 7946 FeatureCollection (EPSG:4326, coordinates at 6 decimals, ~0.1 m).

    Polygons follow the right-hand rule (RFC 7946 section 3.1.6): every exterior ring
    counterclockwise, every hole clockwise. Rounding can flip a ring's orientation,
    so the rings are oriented after it.
    """
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    geometries = _right_hand_rule(np.asarray(frame.geometry.set_precision(1e-6).array, dtype=object))
    columns = [c for c in frame.columns if c != frame.geometry.name]
    features = []
    for row, geometry in zip(frame[columns].itertuples(index=False, name=None), geometries):
        properties = {name: _plain(value) for name, value in zip(columns, row)}
        features.append(
            {
                "type": "Feature",
                "id": properties["id"],
                "properties": properties,
                "geometry": geometry.__geo_interface__,
            }
        )
    return {"type": "FeatureCollection", "name": layer_id, "features": features}


def dumps(collection: dict[str, Any]) -> str:
    return json.dumps(collection, ensure_ascii=False, indent=None, separators=(",", ":"))


def _write_atomically(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        # mkstemp creates the file private (0600); an export is for other tools and people
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_all(layers: LayerData) -> dict[str, bytes]:
    """Every export file's name and content: ``<layer id>.geojson`` for each layer and ``events.csv``."""
    files = {
        f"{spec.id}.geojson": dumps(to_feature_collection(layers.full[spec.id], spec.id)).encode("utf-8")
        for spec in LAYERS
    }
    files[EVENTS_CSV] = events_csv(layers.full["events"])
    return files


def export_all(layers: LayerData, outdir: str | Path) -> list[Path]:
    """Write every layer (and ``events.csv``) to ``outdir``; returns the files written.

    Everything is rendered first, so a failure leaves ``outdir`` untouched; each file is
    then replaced atomically (a reader sees the old file or the new one, never a part).
    """
    rendered = render_all(layers)
    outdir = Path(outdir)
    written = []
    for name, content in rendered.items():
        path = outdir / name
        _write_atomically(path, content)
        written.append(path)
    return written
