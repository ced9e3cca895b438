"""Export every layer as an RFC 7946 GeoJSON FeatureCollection for QGIS and other tools.

``python -m layers export OUTDIR`` writes ``OUTDIR/<layer id>.geojson`` in EPSG:4326,
each feature with a stable ``id``, a ``name`` and its ``sources`` (and every other
property of the layer). Files are written whole or not at all.
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

from layers.catalog import LAYERS
from layers.data import LayerData


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


def to_feature_collection(frame: gpd.GeoDataFrame, layer_id: str) -> dict[str, Any]:
    """RFC 7946 FeatureCollection (EPSG:4326, coordinates at 6 decimals, ~0.1 m)."""
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    geometries = frame.geometry.set_precision(1e-6)
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


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_all(layers: LayerData, outdir: str | Path) -> list[Path]:
    """Write every layer to ``outdir``; returns the files written."""
    outdir = Path(outdir)
    written = []
    for spec in LAYERS:
        path = outdir / f"{spec.id}.geojson"
        _write_atomically(path, dumps(to_feature_collection(layers.full[spec.id], spec.id)))
        written.append(path)
    return written
