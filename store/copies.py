"""A layer's current frame kept column-wise in the database itself (table ``layer_copies``).

A server that starts with nothing on its own disk (a new machine, a new replica, an
emptied cache folder) would otherwise decode every feature's properties from JSON and
build the frame from 100,000 dicts: seconds of CPU. The copy holds the same frame the
way it is read fastest:

* the plain columns (strings, numbers, booleans), the geometries as WKB and each row's
  head revision row, as one Arrow IPC stream with zstd-compressed buffers (read into
  pandas' own Arrow-backed columns with no Python object per value);
* the nested columns (actors, location, sources, claims, provenance, ...) as one JSON
  document, zstd-compressed, in that stream's schema metadata, decoded in one call;
* a small JSON header beside it (format, column order, geometry column, CRS).

Compressed, 100,000 events' copy is ~8 MB instead of ~70 MB: PostgreSQL sends its
``bytea`` as hex text, which made fetching the uncompressed copy cost ~0.9 s.

Both formats are data only: reading a copy cannot run code, unlike the local disk
snapshots (:mod:`store.snapshots`), which are pickles and are therefore only read from a
folder this user owns. A copy is never the truth: it names the head revision row of every
feature it holds, revisions are never changed once written, and the reader brings it up
to date from ``heads`` like any kept frame (:meth:`store.api.Store.current`). A copy that
does not decode back to exactly the frame it was made from is not written
(:func:`encode`); one that cannot be read is ignored (:func:`decode` raises, the caller
reads the features instead).
"""

from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import shapely

FORMAT = "border-brief-copy/2"
_NESTED = b"border-brief-nested"  # the nested values' JSON, zstd-compressed, in the Arrow schema's metadata
_NESTED_SIZE = b"border-brief-nested-size"
#: A copy whose nested values claim more than this is refused before anything is decompressed.
MAX_NESTED_BYTES = 1 << 30
_WKB = "__wkb"
_ROW = "__head_row"


class CopyError(ValueError):
    """A frame that cannot be kept as a copy, or bytes that are not a readable copy."""


def _nested_names(frame: gpd.GeoDataFrame) -> list[str]:
    geometry = frame.geometry.name
    return [name for name in frame.columns if name != geometry and frame[name].dtype == object]


def encode(frame: gpd.GeoDataFrame, head_rows: dict) -> tuple[bytes, str]:
    """(Arrow IPC bytes, JSON header) for ``frame`` and its features' head rows.

    Raises :class:`CopyError` when the frame would not come back exactly (a value JSON or
    Arrow cannot hold as it is, an index other than 0..n-1, a feature without a head row).
    """
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        raise CopyError("the frame's index is not 0..n-1")
    if "id" not in frame.columns:
        raise CopyError("the frame has no id column")
    geometry = frame.geometry.name
    nested = _nested_names(frame)
    plain = [name for name in frame.columns if name != geometry and name not in nested]
    ids = frame["id"].tolist()
    try:
        rows = np.fromiter((head_rows[fid] for fid in ids), dtype=np.int64, count=len(ids))
    except KeyError as exc:
        raise CopyError(f"feature {exc.args[0]!r} has no head row") from None
    if any(name in (_WKB, _ROW) for name in frame.columns):
        raise CopyError("a column name the copy uses itself")
    try:
        arrays = {name: pa.array(frame[name]) for name in plain}
        wkb = shapely.to_wkb(np.asarray(frame.geometry.values, dtype=object))
        arrays[_WKB] = pa.array(wkb, pa.large_binary())
        arrays[_ROW] = pa.array(rows)
        values = json.dumps({name: frame[name].tolist() for name in nested}, ensure_ascii=False).encode()
        table = pa.table(arrays).replace_schema_metadata({
            _NESTED: pa.compress(values, codec="zstd", asbytes=True),
            _NESTED_SIZE: str(len(values)).encode(),
        })
        sink = io.BytesIO()
        with ipc.new_stream(sink, table.schema, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
            writer.write_table(table)
        document = json.dumps({
            "format": FORMAT,
            "columns": list(frame.columns),
            "geometry": geometry,
            "crs": None if frame.crs is None else frame.crs.to_string(),
            "nested": nested,
        })
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise CopyError(f"the frame cannot be written column-wise: {exc}") from None
    columns = sink.getvalue()
    back, back_rows = decode(columns, document)
    problem = _difference(back, frame, wkb, nested, plain)
    if problem:
        raise CopyError(f"the copy would not read back as the same frame: {problem}")
    if back_rows != {fid: int(head_rows[fid]) for fid in ids}:
        raise CopyError("the copy would not read back with the same head rows")
    return columns, document


def _is_nan(value) -> bool:
    return type(value) is float and value != value


def _difference(back: gpd.GeoDataFrame, frame: gpd.GeoDataFrame, wkb: np.ndarray, nested: list[str],
                plain: list[str]) -> str | None:
    """What differs between the decoded frame and the original (None: nothing), checked strictly.

    Plain columns: same dtype and values (pandas' ``equals``). Geometries: the same WKB as
    ``wkb``, the original's, encoded once by :func:`encode`.
    Nested values: Python's own deep ``==`` (a tuple is not the list it holds, ``{1: x}`` is not
    ``{"1": x}``); a missing value (NaN) must come back missing at the same rows.
    """
    if list(back.columns) != list(frame.columns) or len(back) != len(frame):
        return "columns or length"
    if not back.index.equals(frame.index):
        return "index"
    if (back.crs is None) != (frame.crs is None) or (frame.crs is not None and not back.crs.equals(frame.crs)):
        return "CRS"
    for name in plain:
        if back[name].dtype != frame[name].dtype or not back[name].equals(frame[name]):
            return f"column {name!r}"
    if not np.array_equal(shapely.to_wkb(np.asarray(back.geometry.values, dtype=object)), wkb):
        return "geometry"
    for name in nested:
        if back[name].dtype != frame[name].dtype:
            return f"column {name!r}"
        mine, theirs = back[name].tolist(), frame[name].tolist()
        try:
            same = np.fromiter((bool(a == b) for a, b in zip(mine, theirs)), dtype=bool, count=len(theirs))
        except (TypeError, ValueError):  # e.g. pandas' NA, which has no truth value
            return f"column {name!r}: values that cannot be compared"
        for n in np.flatnonzero(~same):  # NaN is not equal to itself: a missing value must come back missing
            if not (_is_nan(mine[n]) and _is_nan(theirs[n])):
                return f"column {name!r}: a nested value changes (row {n})"
    return None


def decode(columns: bytes, header: str) -> tuple[gpd.GeoDataFrame, dict]:
    """(frame, head rows) from what :func:`encode` wrote. Raises :class:`CopyError` if unreadable."""
    try:
        meta = json.loads(header)
        if not (isinstance(meta, dict) and meta.get("format") == FORMAT):
            raise CopyError("not a copy in this format")
        table = ipc.open_stream(pa.py_buffer(columns)).read_all()
        table.validate(full=True)
        n = table.num_rows
        metadata = table.schema.metadata or {}
        size = int(metadata.get(_NESTED_SIZE, b"-1"))
        if not 0 <= size <= MAX_NESTED_BYTES:
            raise CopyError("the nested values' size is missing or too large")
        names, geometry, nested = meta["columns"], meta["geometry"], meta["nested"]
        values = json.loads(pa.decompress(metadata[_NESTED], decompressed_size=size, codec="zstd", asbytes=True))
        if not (isinstance(values, dict) and isinstance(nested, list) and sorted(values) == sorted(nested)):
            raise CopyError("the nested values do not match the header")
        plain = table.drop_columns([_WKB, _ROW]).replace_schema_metadata(None).to_pandas()
        data = {}
        for name in names:
            if name == geometry:
                data[name] = gpd.GeoSeries(shapely.from_wkb(table.column(_WKB).to_numpy(zero_copy_only=False)),
                                           crs=meta["crs"], name=name)
            elif name in values:
                column = values[name]
                if not isinstance(column, list) or len(column) != n:
                    raise CopyError(f"nested column {name!r} has the wrong length")
                data[name] = pd.Series(np.fromiter(column, dtype=object, count=n), name=name, dtype=object)
            else:
                data[name] = plain[name]
        frame = gpd.GeoDataFrame(data, geometry=geometry, crs=meta["crs"])
        head_rows = dict(zip(frame["id"].tolist(), table.column(_ROW).to_pylist()))
    except CopyError:
        raise
    except Exception as exc:  # truncated, foreign or damaged bytes: the caller reads the features
        raise CopyError(f"unreadable copy: {type(exc).__name__}: {str(exc)[:200]}") from None
    if len(head_rows) != n:
        raise CopyError("the copy repeats a feature id")
    return frame, head_rows
