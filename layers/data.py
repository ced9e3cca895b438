"""Load every layer once: validated full geometry, display geometry, and event lookup.

This is the I/O boundary the app caches (see ``ui/data.py``); the export command
and the benchmarks use it directly.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from geo.events import event_index, load_events
from geo.io import load_layer
from geo.simplify import display_version, remove_slivers
from layers.catalog import LAYERS
from layers.config import DISPLAY_TOLERANCE_M, Settings

if TYPE_CHECKING:
    from store import Store

#: Drawn without holes and parts under the sliver thresholds (data/SOURCES.md): the deployment
#: areas and zones, and the country outlines' display copy (the basemap), whose small lakes
#: the display simplification turns into triangles; the countries file keeps them.
SLIVER_FREE_LAYERS = ("countries", "kfor_areas", "serbian_deployments", "ground_safety_zone", "air_safety_zone")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (a cache key, see ui.session.bounds)
class LayerData:
    full: dict[str, gpd.GeoDataFrame]  # as validated from data/, for analysis and export
    display: dict[str, gpd.GeoDataFrame]  # simplified lines/polygons for the map
    event_positions: dict[str, int]  # event id -> row position in full["events"]
    files: dict[str, Path]
    # where each layer was read from, for people: "data/countries.geojson", "the store (sqlite)"
    origin: dict[str, str] = field(default_factory=dict)
    store_version: int | None = None  # the store's version these layers were read at

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


# The derived files (countries, border, zones) and display versions, kept between loads:
# the app reloads its layers whenever the store's version moves, and re-reading and
# re-validating unchanged files cost more than the store's change itself.
_FILE_MEMO: dict[tuple, gpd.GeoDataFrame] = {}
_DERIVED_MEMO: dict[tuple, tuple] = {}  # (kind, layer, id(frame)) -> (frame, result)
_MEMO_LIMIT = 64


def _stamp(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), None, None)
    return (str(path), stat.st_mtime_ns, stat.st_size)


def _read_file_layer(path: Path, layer_id: str, disk=None, pending: list | None = None) -> gpd.GeoDataFrame:
    """A layer file, validated; read again only when its modification time or size changed.

    With ``disk`` (a :class:`store.snapshots.SnapshotCache`), a derived layer's validated
    frame and display copy are also kept on local disk, keyed by a hash of the file and of
    the code that validates and simplifies it, so a restarted server skips both (the
    countries' outlines alone take most of a second). New entries are appended to
    ``pending`` and written after the load (:func:`_write_later`).
    """
    key = (layer_id, *_stamp(path))
    if not _in_memory(path, layer_id, disk):
        frame = load_events(path) if layer_id == "events" else load_layer(path, layer_id)
        if disk is not None and pending is not None and layer_id not in _NOT_KEPT_ON_DISK:
            digest = _file_digest(path)
            if digest is not None:
                pending.append((f"file-{layer_id}", digest, layer_id, frame))
        _memo_file(key, frame)
    return _FILE_MEMO[key]


def _memo_file(key: tuple, frame: gpd.GeoDataFrame) -> None:
    for old in [k for k in _FILE_MEMO if k[:2] == key[:2]]:
        del _FILE_MEMO[old]
    _FILE_MEMO[key] = frame


def _in_memory(path: Path, layer_id: str, disk) -> bool:
    """True when the layer's frame is in memory, if need be read from ``disk`` (with its display copy)."""
    key = (layer_id, *_stamp(path))
    if key in _FILE_MEMO:
        return True
    if disk is None or layer_id in _NOT_KEPT_ON_DISK:
        return False
    digest = _file_digest(path)
    cached = disk.load_object(f"file-{layer_id}", digest) if digest else None
    if not (isinstance(cached, tuple) and len(cached) == 2 and isinstance(cached[0], gpd.GeoDataFrame)):
        return False
    frame, shown = cached
    if shown is not None:
        _remember(("display", layer_id, id(frame)), frame, shown)
    _memo_file(key, frame)
    return True


# The events file (the catalogue without a store) can hold 100,000 events: not pickled whole.
_NOT_KEPT_ON_DISK = ("events",)
# What a derived layer's validated frame and display copy depend on besides the file itself.
_CODE_FOR_DISK = ("geo/io.py", "geo/schema.py", "geo/events.py", "geo/simplify.py", "geo/crs.py", "layers/data.py")
_code_digest: str | None = None


def _file_digest(path: Path) -> str | None:
    """SHA-256 of the file, the validating code, the display tolerance and the libraries' versions."""
    global _code_digest
    if _code_digest is None:
        import pandas
        import shapely

        code = hashlib.sha256()
        root = Path(__file__).resolve().parent.parent
        for name in _CODE_FOR_DISK:
            code.update(name.encode() + b"\0" + (root / name).read_bytes())
        code.update(f"{DISPLAY_TOLERANCE_M!r} {gpd.__version__} {shapely.__version__} {pandas.__version__}".encode())
        _code_digest = code.hexdigest()
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return hashlib.sha256(_code_digest.encode() + data).hexdigest()


def _write_later(disk, pending: list, display: dict) -> None:
    """Keep the derived layers read in full (frame and display copy) on disk, in the background.

    The display copies come from this load's own ``display`` (the memo of derived results may
    have been emptied in between, when it was full)."""
    if disk is None or not pending:
        return
    entries = [(name, digest, frame, display.get(layer_id)) for name, digest, layer_id, frame in pending]

    def write() -> None:
        for name, digest, frame, shown in entries:
            disk.save_object(name, digest, (frame, shown))

    threading.Thread(target=write, name="snapshot-files", daemon=True).start()


def _remember(key: tuple, frame: gpd.GeoDataFrame, result) -> None:
    if len(_DERIVED_MEMO) >= _MEMO_LIMIT:
        _DERIVED_MEMO.clear()
    _DERIVED_MEMO[key] = (frame, result)


def _derived(kind: str, layer_id: str, frame: gpd.GeoDataFrame, build):
    """``build(frame)`` once per frame object (frames are shared and never modified in place)."""
    key = (kind, layer_id, id(frame))
    found = _DERIVED_MEMO.get(key)
    if found is not None and found[0] is frame:
        return found[1]
    result = build(frame)
    _remember(key, frame, result)
    return result


def load_layer_data(settings: Settings, store: "Store | None" = None) -> LayerData:
    """Read and validate every layer; raises geo.io.LayerValidationError on any problem.

    With a ``store``, the editable layers (events, places, deployment areas) are its
    current catalogue (validated when written); the derived layers always come from
    the files that ``scripts/build_geodata.py`` writes.
    """
    from store import EDITABLE_LAYERS

    files = layer_files(settings)
    full: dict[str, gpd.GeoDataFrame] = {}
    origin: dict[str, str] = {}
    version = store.version() if store is not None else None
    disk = _disk_cache(settings, store)
    pending: list = []
    from_store = [spec.id for spec in LAYERS if store is not None and spec.id in EDITABLE_LAYERS]
    # Disk snapshots of what is read in full are written after the load, not during it.
    with store.deferred_snapshots() if store is not None else _nothing():
        read = {layer_id: store.current(layer_id) for layer_id in from_store}
        for spec in LAYERS:
            if spec.id in read:
                full[spec.id] = read[spec.id]
                origin[spec.id] = f"the store ({store.backend}), seeded from data/{files[spec.id].name}"
                continue
            full[spec.id] = _read_file_layer(files[spec.id], spec.id, disk, pending)
            origin[spec.id] = f"data/{files[spec.id].name}"
        display = {
            layer_id: frame if layer_id in ("events", "places")
            else _derived("display", layer_id, frame, lambda f, layer_id=layer_id: _display(layer_id, f))
            for layer_id, frame in full.items()
        }
        positions = _derived("index", "events", full["events"], event_index)
    _write_later(disk, pending, display)
    return LayerData(full, display, positions, files, origin, version)


def _disk_cache(settings: Settings, store: "Store | None"):
    """The store's snapshot folder (or, without a store, the settings' cache folder); None when off."""
    if store is not None:
        return store.snapshot_cache
    directory = getattr(settings, "cache_dir", None)
    if not directory:
        return None
    from store.snapshots import SnapshotCache

    return SnapshotCache(directory)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _display(layer_id: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The simplified copy drawn on the map."""
    shown = display_version(frame, DISPLAY_TOLERANCE_M)
    # The sliver rule (data/SOURCES.md) also holds for areas imported into the store; for
    # the shipped area files it changes nothing (the build applied it already).
    if layer_id in SLIVER_FREE_LAYERS:
        shown = remove_slivers(shown)[0]
    return shown

