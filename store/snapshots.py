"""A layer's current frame kept on local disk, so that a restarted server starts fast.

Decoding 100,000 events' properties from the database costs a few seconds of CPU; a
server that restarts, or a second replica on the same machine, instead reads the frame
written by an earlier process and brings it up to date the way a running server does
(:meth:`store.api.Store.current`: compare the heads, fetch only features that moved). A
snapshot is therefore never trusted to be current: it only saves the full read. The
app's derived layers (countries, border, zones: validated frames and display copies) are
kept the same way by :mod:`layers.data`, keyed by a hash of their file and of the code
that validates them (:meth:`SnapshotCache.load_object`).

The frame is stored column by column (:func:`encode_frame`), not as one pickled frame:
typed columns (numbers, strings) as pandas' own pickled arrays, the nested properties
(actors, location, sources, ...) with :mod:`marshal` (plain dicts, lists, strings and
numbers: several times faster to read than pickle or JSON), and geometries as one WKB
array read by one vectorised shapely call. A 100,000-event frame reads in a fraction of a
second instead of the seconds a pickled frame with shapely objects and nested Python
values takes.

Files live in ``BORDER_BRIEF_CACHE_DIR`` (default ``var/cache``), one folder per store
(the random ``instance`` number kept in the store's ``store_meta``), one file per layer.
They are Python pickles (and marshal data), which can run code or crash the interpreter
when read, so they are only read from a folder and file owned by this user and writable
by nobody else; they are written by this program only (mode 0600, in a 0700 folder).
Deleting the folder is always safe.
"""

from __future__ import annotations

import gc
import marshal
import os
import pickle
import stat
import tempfile
import threading
from pathlib import Path

import numpy as np

FORMAT = "border-brief-snapshot/2"
OBJECT_FORMAT = "border-brief-cached/1"


class SnapshotCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def _folder(self, instance: int) -> Path:
        return self.directory / f"store-{instance:016x}"

    def path(self, instance: int, layer: str) -> Path:
        return self._folder(instance) / f"{layer}.pickle"

    @staticmethod
    def _trusted(path: Path) -> bool:
        """Owned by this user and writable by nobody else (the file and its folders up to the cache)."""
        try:
            info = path.stat()
        except OSError:
            return False
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return False
        return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)

    def load(self, instance: int, layer: str) -> tuple[int, object, dict] | None:
        """(version, frame, head rows) as written, or None when there is no usable file."""
        path = self.path(instance, layer)
        if not (path.is_file() and self._trusted(path) and self._trusted(path.parent) and self._trusted(self.directory)):
            return None
        try:
            with path.open("rb") as handle:
                data = pickle.load(handle)
        except Exception:  # a truncated or foreign file: read the database instead
            return None
        if not (isinstance(data, tuple) and len(data) == 5 and data[0] == FORMAT and data[1] == layer
                and isinstance(data[2], int) and isinstance(data[3], dict) and isinstance(data[4], dict)):
            return None
        try:
            frame = decode_frame(data[3])
        except Exception:  # written by another version of this code: read the database instead
            return None
        return data[2], frame, data[4]

    def save(self, instance: int, layer: str, version: int, frame, head_rows: dict) -> Path | None:
        """Write atomically (a temporary file renamed over the old one); None if it could not."""
        try:
            parts = encode_frame(frame)
        except Exception:  # nothing kept: the next start reads the database
            return None
        return self._write(self._folder(instance), layer, (FORMAT, layer, version, parts, head_rows))

    def load_object(self, name: str, key: str):
        """What :meth:`save_object` kept under ``name`` for ``key``, or None (missing, other key, untrusted)."""
        path = self.directory / "derived" / f"{name}.pickle"
        if not (path.is_file() and self._trusted(path) and self._trusted(path.parent) and self._trusted(self.directory)):
            return None
        try:
            with path.open("rb") as handle:
                data = pickle.load(handle)
        except Exception:
            return None
        if not (isinstance(data, tuple) and len(data) == 4 and data[0] == OBJECT_FORMAT and data[1] == name and data[2] == key):
            return None
        return data[3]

    def save_object(self, name: str, key: str, value) -> Path | None:
        """Keep ``value`` (picklable) under ``name`` for ``key`` (e.g. a hash of what it was made from)."""
        return self._write(self.directory / "derived", name, (OBJECT_FORMAT, name, key, value))

    def _write(self, folder: Path, name: str, data: tuple) -> Path | None:
        with self._lock:
            try:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                folder.mkdir(mode=0o700, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as handle:
                        pickle.dump(data, handle, protocol=5)
                    os.replace(tmp, folder / f"{name}.pickle")
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
            except OSError:
                return None
        return folder / f"{name}.pickle"


def encode_frame(frame) -> dict:
    """``frame`` (a GeoDataFrame) as plain parts that pickle fast; :func:`decode_frame` inverts it."""
    import shapely

    geometry_name = frame.geometry.name
    typed, nested = [], {}
    for name in frame.columns:
        if name == geometry_name:
            continue
        column = frame[name]
        if column.dtype == object:
            values = column.tolist()
            try:
                nested[name] = ("marshal", marshal.dumps(values))
            except ValueError:  # a value marshal cannot write (not plain JSON-like data): pickle it
                nested[name] = ("pickle", pickle.dumps(column, protocol=5))
        else:
            typed.append(name)
    return {
        "columns": list(frame.columns),
        "index": frame.index,
        "typed": frame[typed].copy() if typed else None,
        "nested": nested,
        "geometry_name": geometry_name,
        "geometry": shapely.to_wkb(np.asarray(frame.geometry.values, dtype=object)),
        "crs": None if frame.crs is None else frame.crs.to_wkt(),
    }


def decode_frame(parts: dict):
    import geopandas as gpd
    import pandas as pd
    import shapely

    enabled = gc.isenabled()
    gc.disable()  # many small containers, none of them garbage: no collections while they are made
    try:
        return _decode(parts, gpd, pd, shapely)
    finally:
        if enabled:
            gc.enable()


def _decode(parts: dict, gpd, pd, shapely):
    index = parts["index"]
    n = len(index)
    typed, nested, crs = parts["typed"], parts["nested"], parts["crs"]
    data = {}
    for name in parts["columns"]:
        if name == parts["geometry_name"]:
            data[name] = gpd.GeoSeries(shapely.from_wkb(parts["geometry"]), index=index, crs=crs, name=name)
        elif name in nested:
            kind, blob = nested[name]
            if kind == "marshal":
                data[name] = pd.Series(np.fromiter(marshal.loads(blob), dtype=object, count=n), index=index, name=name, dtype=object)
            else:
                data[name] = pickle.loads(blob)
        else:
            data[name] = typed[name]
    return gpd.GeoDataFrame(data, index=index, geometry=parts["geometry_name"], crs=crs)
