"""Load every layer once: validated full geometry, display geometry, and event lookup.

This is the I/O boundary the app caches (see ``ui/data.py``); the export command
and the benchmarks use it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.events import event_index, load_events
from geo.io import load_layer
from geo.simplify import display_version
from layers.catalog import LAYERS
from layers.config import DISPLAY_TOLERANCE_M, Settings


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (a cache key, see ui.session.bounds)
class LayerData:
    full: dict[str, gpd.GeoDataFrame]  # as validated from data/, for analysis and export
    display: dict[str, gpd.GeoDataFrame]  # simplified lines/polygons for the map
    event_positions: dict[str, int]  # event id -> row position in full["events"]
    files: dict[str, Path]

    def feature(self, layer_id: str, feature_id: str) -> dict | None:
        """One feature's properties (a plain dict) or None; O(1) for events."""
        frame = self.full.get(layer_id)
        if frame is None:
            return None
        if layer_id == "events":
            position = self.event_positions.get(feature_id)
            return None if position is None else frame.iloc[position].to_dict()
        matches = frame.index[frame["id"] == feature_id]
        return frame.loc[matches[0]].to_dict() if len(matches) else None


def layer_files(settings: Settings) -> dict[str, Path]:
    files = {spec.id: settings.data_dir / spec.file for spec in LAYERS}
    files["events"] = settings.events_file
    return files


def load_layer_data(settings: Settings) -> LayerData:
    """Read and validate every layer file; raises geo.io.LayerValidationError on any problem."""
    files = layer_files(settings)
    full: dict[str, gpd.GeoDataFrame] = {}
    for spec in LAYERS:
        if spec.id == "events":
            full["events"] = load_events(files["events"])
        else:
            full[spec.id] = load_layer(files[spec.id], spec.id)
    display = {
        layer_id: frame if layer_id in ("events", "places") else display_version(frame, DISPLAY_TOLERANCE_M)
        for layer_id, frame in full.items()
    }
    return LayerData(full, display, event_index(full["events"]), files)


class ImportConflictError(ValueError):
    """Imported reports that would overwrite catalogue events (same id)."""


def with_imported_events(base: LayerData, imported: gpd.GeoDataFrame) -> LayerData:
    """The layers with validated, imported event reports added to the catalogue.

    The catalogue itself is never changed: the result is a new :class:`LayerData`
    whose events carry ``imported=True`` on the added rows. Ids must not clash.
    """
    clashes = sorted(set(imported["id"]) & set(base.event_positions))
    if clashes:
        raise ImportConflictError(
            f"{len(clashes)} imported id(s) already exist in the catalogue ({', '.join(clashes[:5])}); "
            "give each new report its own id."
        )
    catalogue = base.full["events"]
    added = imported.to_crs(catalogue.crs).assign(imported=True)
    merged = gpd.GeoDataFrame(
        pd.concat([catalogue.assign(imported=False), added], ignore_index=True), crs=catalogue.crs
    )
    merged = merged.sort_values(["date", "id"], kind="stable").reset_index(drop=True)
    full = {**base.full, "events": merged}
    display = {**base.display, "events": merged}
    return replace(base, full=full, display=display, event_positions=event_index(merged))
