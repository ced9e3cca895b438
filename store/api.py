"""The store: the one door to the catalogue's database (SQLite by default, PostGIS for a team).

Every write is validated with the same validators as the data files (``geo.events``,
``geo.io``), then done in one transaction as one batch: whole or not at all. Every
write adds revisions; nothing is updated in place or deleted. A save names the
revision it was based on; if the feature moved on in between, the save is refused
(:class:`ConflictError`) with both versions, never merged silently.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
import math
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry import mapping, shape

from geo.events import LAYER_ID as EVENTS, parse_events
from geo.io import LayerValidationError, Problem, features_to_frame, parse_layer, problem_list
from store import copies, db
from store.access import Identity, may_undo, writer
from store.acled import passed_validation
from store.errors import StoreError
from store.schema import batches, heads, layer_copies, revisions, store_meta

_log = logging.getLogger(__name__)

EDITABLE_LAYERS = ("events", "places", "kfor_areas", "serbian_deployments")
CATALOGUE_AUTHOR = "catalogue"
_NO_PROPERTIES: dict[str, Any] = {}


class ConflictError(StoreError):
    """Someone else changed the feature (or batch) since it was read."""

    def __init__(self, message: str, *, current: dict | None = None, yours: dict | None = None):
        super().__init__(message)
        self.current = current
        self.yours = yours


class ValidationFailed(StoreError):
    """The features would be rejected in a data file; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); nothing was written:\n{problem_list(problems)}")


@dataclass(frozen=True)
class Change:
    layer: str
    feature_id: str
    kind: str  # added | changed | unchanged | retired | conflict
    fields: tuple[str, ...] = ()  # changed property names (and "geometry")
    message: str = ""


@dataclass
class WriteResult:
    """What a batch did (or, for a dry run, would do)."""

    batch: int | None
    changes: list[Change] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def changed(self) -> int:
        return self.count("changed")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "conflict"]

    def summary(self) -> dict:
        return {"batch": self.batch, "added": self.added, "changed": self.changed, "unchanged": self.unchanged}


@dataclass(frozen=True)
class Revision:
    layer: str
    feature_id: str
    revision: int
    retired: bool
    properties: dict
    geometry: dict | None  # GeoJSON geometry
    author: str
    created_at: dt.datetime
    comment: str
    batch: int
    changed_fields: tuple[str, ...] = ()  # against the previous revision

    def as_json(self) -> dict:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["changed_fields"] = list(self.changed_fields)
        return data


# --- geometry and property normal forms ---------------------------------------------

def _ewkt(geometry: dict) -> str:
    return "SRID=4326;" + shapely.to_wkt(shape(geometry), rounding_precision=-1)


def _shapes(values: Sequence[Any]) -> list:
    """Geometries as read back: EWKB elements from PostGIS, EWKT text from SQLite."""
    out: list = [None] * len(values)
    # Points, most of the catalogue, are written as "SRID=4326;POINT (x y)" (see _ewkts):
    # their two numbers are read by Arrow's regular expression and number parser for the
    # whole column at once (exact: shortest round-trip decimals parse back to the same
    # doubles), several times faster than GEOS's WKT reader or a loop in Python.
    texts = [(i, value) for i, value in enumerate(values) if isinstance(value, str)]
    if texts:
        matched = _point_numbers([value for _, value in texts])
        if matched is not None:
            found, x, y = matched
            rows = np.flatnonzero(found)
            for k, geometry in zip(rows, shapely.points(x[rows], y[rows])):
                out[texts[k][0]] = geometry
            texts = [texts[k] for k in np.flatnonzero(~found)]
        texts = [(i, value.split(";", 1)[-1]) for i, value in texts]
    # PostGIS: EWKB, as GeoAlchemy2's WKBElements (or plain bytes).
    binary = [(i, bytes(getattr(value, "data", value))) for i, value in enumerate(values)
              if value is not None and not isinstance(value, str)]
    # One vectorised shapely call per kind instead of one call per row.
    for pairs, read in ((texts, shapely.from_wkt), (binary, shapely.from_wkb)):
        if pairs:
            data = np.empty(len(pairs), dtype=object)
            data[:] = [value for _, value in pairs]
            for (i, _), geometry in zip(pairs, read(data)):
                out[i] = geometry
    return out


_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_POINT_TEXT = rf"^SRID=4326;POINT \((?P<x>{_NUMBER}) (?P<y>{_NUMBER})\)$"


def _point_numbers(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(is a point, x, y) for EWKT texts, or None if Arrow could not read them (then GEOS does)."""
    try:  # pyarrow comes with streamlit (and pandas' string columns)
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    try:
        parts = pc.extract_regex(pa.array(texts, type=pa.string()), _POINT_TEXT)
        found = pc.is_valid(parts).to_numpy(zero_copy_only=False)
        x = pc.cast(pc.struct_field(parts, "x"), pa.float64()).to_numpy(zero_copy_only=False)
        y = pc.cast(pc.struct_field(parts, "y"), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, ValueError):
        return None
    return found.astype(bool), x, y


def _json_array(texts: list[str]) -> str:
    """``"[" + ",".join(texts) + "]"`` with one copy of the (large) text instead of three."""
    if not texts:
        return "[]"
    texts[0] = "[" + texts[0]
    texts[-1] = texts[-1] + "]"
    return ",".join(texts)


def _plain_rows(connection: sa.Connection, query: sa.Select) -> list[tuple]:
    """A simple query's rows as plain tuples from the driver's own cursor.

    For the 100,000 two-column rows of a layer's head map, SQLAlchemy's Row objects cost
    more than the query itself. The statement is compiled by SQLAlchemy for the
    connection's dialect, its parameters bound by the driver as usual.
    """
    compiled = query.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    if compiled.positiontup is not None:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _ewkts(geometries: Sequence[dict]) -> list[str]:
    """:func:`_ewkt` of many GeoJSON geometries: Points in one vectorised shapely call."""
    out: list[str | None] = [None] * len(geometries)
    points, coordinates = [], []
    for i, geometry in enumerate(geometries):
        xy = geometry.get("coordinates") if isinstance(geometry, dict) and geometry.get("type") == "Point" else None
        if (isinstance(xy, (list, tuple)) and len(xy) == 2
                and all(type(c) in (int, float) for c in xy)):
            points.append(i)
            coordinates.append(xy)
        else:
            out[i] = _ewkt(geometry)
    if points:
        texts = shapely.to_wkt(shapely.points(np.array(coordinates, dtype=float)), rounding_precision=-1)
        for i, text in zip(points, texts):
            out[i] = "SRID=4326;" + text
    return out  # type: ignore[return-value]


@contextlib.contextmanager
def _bulk():
    """No cyclic garbage collection while many small objects are built (they are not garbage).

    Full collections walk every live object again and again while 100,000 features'
    dicts and lists are created; the collector runs as usual afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _plain(properties: dict) -> dict:
    """Properties as JSON gives them back (tuples become lists, and so on)."""
    return json.loads(json.dumps(properties, ensure_ascii=False, allow_nan=False))


def _is_plain(value: Any) -> bool:
    """True when :func:`_plain` would give back an equal value of the same types."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        return all(type(key) is str and _is_plain(item) for key, item in value.items())
    if kind is list:
        return all(_is_plain(item) for item in value)
    return False


def _changed_fields(before: dict | None, before_wkt: str | None, after: dict, after_wkt: str | None) -> tuple[str, ...]:
    if not before:  # a new feature: every field that is set (JSON values only equal None when None)
        names = sorted(k for k, v in after.items() if v is not None)
    else:
        names = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if before_wkt != after_wkt:
        names.append("geometry")
    return tuple(names)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def validate_features(layer: str, features: list[dict], source_name: str) -> gpd.GeoDataFrame:
    """The checks a data file of ``layer`` gets; raises :class:`ValidationFailed`."""
    if layer not in EDITABLE_LAYERS:
        raise StoreError(f"layer '{layer}' is not editable; choose one of {', '.join(EDITABLE_LAYERS)}")
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    try:
        if layer == EVENTS:
            return parse_events(text, source_name=source_name)
        return parse_layer(text, layer, source_name=source_name)
    except LayerValidationError as exc:
        raise ValidationFailed(exc.problems) from None


@dataclass(frozen=True)
class _Head:
    revision: int
    retired: bool
    properties: dict
    wkt: str | None
    author: str


@dataclass(frozen=True, eq=False)
class _Snapshot:
    """A layer's current frame as read at ``version``, with each feature's head row."""

    version: int
    frame: gpd.GeoDataFrame
    head_rows: dict  # feature id -> revisions.id of its head
    moved: int = 0  # features added, changed or retired since the frame it was brought up to date from


class Store:
    """The catalogue's database. ``Store(url)``; :meth:`init` creates or migrates it."""

    def __init__(self, url: str):
        self.url = url
        self._reader, self._writer = db.make_engines(url)
        # Each layer's kept frame (_Snapshot), one lock per layer so that concurrent
        # readers of a layer wait for one read instead of each doing it.
        self._snapshots: dict[str, _Snapshot] = {}
        self._snapshot_locks: dict[str, threading.Lock] = {}
        self._snapshot_locks_guard = threading.Lock()
        # The frames on local disk (store/snapshots.py): the cache, when each layer was
        # last written (version, monotonic time), and writes held back by deferred_snapshots().
        self._snapshot_cache = None
        self._disk_written: dict[str, tuple[int, float]] = {}
        self._disk_lock = threading.Lock()
        self._deferring = 0
        self._pending_disk: dict[str, _Snapshot] = {}
        # The layers' column-wise copies in the database (store/copies.py): writes held back
        # with the disk snapshots, and the version each layer's copy was last written at.
        self._pending_copy: dict[str, _Snapshot] = {}
        self._copy_written: dict[str, int] = {}
        self._copy_threads: list[threading.Thread] = []
        self._instance: int | None = None

    def close(self) -> None:
        self.wait_for_copies()
        self._reader.dispose()
        if self._writer is not self._reader:
            self._writer.dispose()

    @property
    def backend(self) -> str:
        return self._reader.dialect.name

    # --- reading -----------------------------------------------------------------

    def version(self) -> int:
        """A number raised by every committed batch: compare it to know whether to reload."""
        with self._reader.connect() as connection:
            return int(connection.execute(sa.select(store_meta.c.value).where(store_meta.c.key == "version")).scalar_one())

    def is_empty(self) -> bool:
        with self._reader.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(batches)).scalar_one() == 0

    def _current_rows(self, connection: sa.Connection, layer: str) -> list[sa.Row]:
        query = (
            sa.select(revisions.c.feature_id, revisions.c.revision, revisions.c.properties, revisions.c.geometry)
            .join(heads, heads.c.revision_row == revisions.c.id)
            .where(heads.c.layer == layer, heads.c.retired.is_(False))
            .order_by(revisions.c.feature_id)
        )
        return list(connection.execute(query))

    def current_features(self, layer: str) -> list[dict]:
        """The live features of ``layer`` as GeoJSON dicts (``revision`` beside ``properties``)."""
        with self._reader.connect() as connection:
            rows = self._current_rows(connection, layer)
        geometries = _shapes([row.geometry for row in rows])
        return [
            {"type": "Feature", "id": row.feature_id, "revision": row.revision, "properties": row.properties, "geometry": mapping(g)}
            for row, g in zip(rows, geometries)
        ]

    def current(self, layer: str) -> gpd.GeoDataFrame:
        """The live features of ``layer`` as a frame, like the file loaders give (validated on write).

        The frame is kept in memory with the store's version and each feature's head row.
        When the version moved, only the heads are read again (two integers a feature) and
        only the features whose head moved are fetched and replaced, so an analyst's save
        costs the next reader a fraction of a second instead of a full reload. Do not modify
        the returned frame in place: it is shared.
        """
        with self._snapshot_lock(layer):
            cached = self._snapshots.get(layer)
            with self._reader.connect() as connection:
                version = int(connection.execute(sa.select(store_meta.c.value).where(store_meta.c.key == "version")).scalar_one())
                if cached is not None and cached.version == version:
                    return cached.frame
                from_copy = False
                if cached is None:
                    cached = self._disk_snapshot(layer)
                if cached is None:
                    cached = self._copy_snapshot(connection, layer)
                    from_copy = cached is not None
                snapshot = self._refresh(connection, layer, cached, version) if cached is not None else None
                if snapshot is None:
                    snapshot = self._load_snapshot(connection, layer, version)
                    if len(snapshot.frame) >= self.COPY_MIN_FEATURES:
                        self._keep_copy(layer, snapshot)  # the next server to start reads it
                elif from_copy and snapshot.moved >= self.COPY_LAG:
                    self._keep_copy(layer, snapshot)  # the copy fell far behind: write it again
            self._snapshots[layer] = snapshot
            self._keep_on_disk(layer, snapshot)
            return snapshot.frame

    # --- the frames kept on local disk (store/snapshots.py) --------------------------

    DISK_SNAPSHOT_INTERVAL_S = 300.0  # a changing layer is written at most this often

    def use_snapshot_cache(self, directory) -> None:
        """Keep each layer's frame in ``directory`` so a restarted server starts fast."""
        from store.snapshots import SnapshotCache

        self._snapshot_cache = SnapshotCache(directory) if directory else None

    @property
    def snapshot_cache(self):
        """The :class:`store.snapshots.SnapshotCache` in use, or None."""
        return self._snapshot_cache

    def instance(self) -> int:
        """A random number naming this database (not its URL), created on first use."""
        known = self._instance
        if known is not None:
            return known
        query = sa.select(store_meta.c.value).where(store_meta.c.key == "instance")
        with self._reader.connect() as connection:
            found = connection.execute(query).scalar_one_or_none()
        if found is None:
            with self._writer.begin() as connection:
                found = connection.execute(query).scalar_one_or_none()
                if found is None:
                    found = secrets.randbelow(2**31 - 1) + 1  # fits every database's INTEGER
                    connection.execute(sa.insert(store_meta).values(key="instance", value=found))
        self._instance = int(found)
        return int(found)

    def _disk_snapshot(self, layer: str) -> "_Snapshot | None":
        cache = self._snapshot_cache
        if cache is None:
            return None
        found = cache.load(self.instance(), layer)
        if found is None or not isinstance(found[1], gpd.GeoDataFrame):
            return None
        version, frame, head_rows = found
        with self._disk_lock:
            self._disk_written[layer] = (version, time.monotonic())
        return _Snapshot(version, frame, head_rows)

    def _keep_on_disk(self, layer: str, snapshot: "_Snapshot") -> None:
        """Write the layer's frame in the background when it is new on disk (or old enough).

        Inside :meth:`deferred_snapshots` the write waits until the block ends, so that
        encoding the frame does not compete with the rest of the load for the interpreter.
        """
        cache = self._snapshot_cache
        if cache is None:
            return
        with self._disk_lock:
            last = self._disk_written.get(layer)
            now = time.monotonic()
            if last is not None and (last[0] == snapshot.version or now - last[1] < self.DISK_SNAPSHOT_INTERVAL_S):
                return
            self._disk_written[layer] = (snapshot.version, now)
            self._pending_disk[layer] = snapshot
            if self._deferring:
                return
        self._write_pending()

    @contextlib.contextmanager
    def deferred_snapshots(self):
        """Hold back the disk snapshots of frames read in this block; write them when it ends."""
        with self._disk_lock:
            self._deferring += 1
        try:
            yield
        finally:
            with self._disk_lock:
                self._deferring -= 1
                ready = self._deferring == 0
            if ready:
                self._write_pending()

    def _write_pending(self) -> None:
        """Write the waiting snapshots in a background thread (named ``snapshot-<layers>``)."""
        cache = self._snapshot_cache
        with self._disk_lock:
            pending, self._pending_disk = self._pending_disk, {}
            pending_copy, self._pending_copy = self._pending_copy, {}
        if cache is None:
            pending = {}
        if not pending and not pending_copy:
            return
        instance = self.instance() if pending else 0

        def write() -> None:
            for layer, snapshot in pending.items():
                cache.save(instance, layer, snapshot.version, snapshot.frame, snapshot.head_rows)
            for layer, snapshot in pending_copy.items():
                self._write_copy(layer, snapshot)

        names = list(dict.fromkeys([*pending, *pending_copy]))
        threading.Thread(target=write, name="snapshot-" + "-".join(names), daemon=True).start()

    # --- the layers' column-wise copies in the database (store/copies.py) --------------

    COPY_MIN_FEATURES = 2_000  # a smaller layer is read whole about as fast as from a copy
    COPY_LAG = 1_000  # a copy this many features behind is written again

    def _copy_snapshot(self, connection: sa.Connection, layer: str) -> "_Snapshot | None":
        """The layer's copy in the database as a kept frame (to be brought up to date), or None."""
        row = connection.execute(
            sa.select(layer_copies.c.format, layer_copies.c.version, layer_copies.c.columns, layer_copies.c.header)
            .where(layer_copies.c.layer == layer)
        ).first()
        if row is None or row.format != copies.FORMAT:
            return None
        try:
            with _bulk():
                frame, head_rows = copies.decode(bytes(row.columns), row.header)
        except copies.CopyError as exc:
            _log.warning("ignoring the %s layer's copy in the database: %s", layer, exc)
            return None
        with self._disk_lock:
            self._copy_written[layer] = max(self._copy_written.get(layer, 0), int(row.version))
        return _Snapshot(int(row.version), frame, head_rows)

    def _keep_copy(self, layer: str, snapshot: "_Snapshot") -> None:
        """Write the layer's copy in the background (after the block, inside deferred_snapshots)."""
        with self._disk_lock:
            if self._copy_written.get(layer, -1) >= snapshot.version:
                return
            self._copy_written[layer] = snapshot.version
            self._pending_copy[layer] = snapshot
            if self._deferring:
                return
        self._write_pending()

    def _write_copy(self, layer: str, snapshot: "_Snapshot") -> bool:
        """Replace the layer's copy with ``snapshot`` unless a newer one is there; False if not written."""
        try:
            with _bulk():
                columns, header = copies.encode(snapshot.frame, snapshot.head_rows)
        except copies.CopyError as exc:
            _log.warning("the %s layer's copy was not written: %s", layer, exc)
            return False
        try:
            with self._writer.begin() as connection:
                there = connection.execute(
                    sa.select(layer_copies.c.version).where(layer_copies.c.layer == layer)
                ).scalar_one_or_none()
                if there is not None and int(there) >= snapshot.version:
                    return False
                connection.execute(sa.delete(layer_copies).where(layer_copies.c.layer == layer))
                connection.execute(sa.insert(layer_copies).values(
                    layer=layer, format=copies.FORMAT, version=snapshot.version,
                    max_row=max(snapshot.head_rows.values(), default=0), features=len(snapshot.frame),
                    columns=columns, header=header, written_at=_now(),
                ))
        except sa.exc.SQLAlchemyError as exc:  # another server wrote it at the same moment, or the store is busy
            _log.warning("the %s layer's copy was not written: %s", layer, exc)
            return False
        with self._disk_lock:
            self._copy_written[layer] = max(self._copy_written.get(layer, 0), snapshot.version)
        return True

    def _after_batch(self, layers: Iterable[str]) -> None:
        """After a large batch (an import, an undo, a catalogue release, a restore): rewrite the
        copy of each layer it left far behind, in a background thread (``copy-<layers>``), so
        that a server starting next reads one row instead of every feature. The batch is
        committed already; the writer does not wait for the copy (:meth:`wait_for_copies` and
        :meth:`close` do). A save of one feature never starts this."""
        stale = []
        for layer in layers:
            with self._reader.connect() as connection:
                since = connection.execute(
                    sa.select(layer_copies.c.max_row).where(layer_copies.c.layer == layer)
                ).scalar_one_or_none() or 0
                behind = connection.execute(
                    sa.select(sa.func.count()).select_from(revisions).where(revisions.c.id > since, revisions.c.layer == layer)
                ).scalar_one()
            if behind >= self.COPY_LAG:
                stale.append(layer)
        if not stale:
            return

        def refresh() -> None:
            for layer in stale:
                try:
                    with self.deferred_snapshots():
                        self.current(layer)
                        with self._disk_lock:
                            self._pending_copy.pop(layer, None)
                            snapshot = self._snapshots.get(layer)
                    if snapshot is not None and len(snapshot.frame) >= self.COPY_MIN_FEATURES:
                        self._write_copy(layer, snapshot)
                except Exception as exc:  # the copy is an optimisation: the next full read leaves one
                    _log.warning("the %s layer's copy was not rewritten: %s", layer, exc)

        thread = threading.Thread(target=refresh, name="copy-" + "-".join(stale), daemon=True)
        with self._disk_lock:
            self._copy_threads = [t for t in self._copy_threads if t.is_alive()] + [thread]
        thread.start()

    def wait_for_copies(self, timeout: float = 300.0) -> None:
        """Wait for the copies being rewritten after a batch (each at most ``timeout`` seconds)."""
        with self._disk_lock:
            threads = list(self._copy_threads)
        for thread in threads:
            thread.join(timeout)

    def _snapshot_lock(self, layer: str) -> threading.Lock:
        with self._snapshot_locks_guard:
            return self._snapshot_locks.setdefault(layer, threading.Lock())

    def _rows_frame(self, layer: str, rows: Sequence[Any]) -> gpd.GeoDataFrame:
        """A frame from (properties as JSON text, geometry) rows, decoded in one call."""
        with _bulk():
            records = json.loads(_json_array([row[0] for row in rows]))
            geometries = _shapes([row[1] for row in rows])
            frame = gpd.GeoDataFrame(records, geometry=geometries, crs=4326)
        if frame.empty:
            return features_to_frame([])
        return self._ordered(layer, frame)

    @staticmethod
    def _ordered(layer: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        keys = ["date", "id"] if layer == EVENTS else ["id"]
        return frame.sort_values(keys, kind="stable").reset_index(drop=True)

    def _load_snapshot(self, connection: sa.Connection, layer: str, version: int) -> "_Snapshot":
        # The properties come as JSON text (no per-row decoding by the driver or SQLAlchemy)
        # and are decoded in one call; the frame is sorted in memory (ids are unique).
        query = (
            sa.select(sa.cast(revisions.c.properties, sa.Text), revisions.c.geometry, heads.c.feature_id, heads.c.revision_row)
            .join(heads, heads.c.revision_row == revisions.c.id)
            .where(heads.c.layer == layer, heads.c.retired.is_(False))
        )
        rows = connection.execute(query).all()
        head_rows = {row[2]: row[3] for row in rows}
        frame = self._rows_frame(layer, rows)
        return _Snapshot(version, frame, head_rows)

    def _refresh(self, connection: sa.Connection, layer: str, cached: "_Snapshot", version: int) -> "_Snapshot | None":
        """``cached`` brought up to date by fetching only the features whose head moved (None: reload)."""
        query = sa.select(heads.c.feature_id, heads.c.revision_row).where(heads.c.layer == layer, heads.c.retired.is_(False))
        head_rows = dict(_plain_rows(connection, query))
        old = cached.head_rows
        gone = [fid for fid in old if fid not in head_rows]
        moved_ids = [fid for fid, row in head_rows.items() if old.get(fid) != row]
        if len(gone) + len(moved_ids) > max(1000, len(head_rows) // 4):
            return None  # much changed (a large import or undo): a full read is as cheap
        moved = [head_rows[fid] for fid in moved_ids]
        fetched: list = []
        for start in range(0, len(moved), 500):
            chunk = moved[start:start + 500]
            fetched += connection.execute(
                sa.select(sa.cast(revisions.c.properties, sa.Text), revisions.c.geometry).where(revisions.c.id.in_(chunk))
            ).all()
        if not gone and not moved:
            return _Snapshot(version, cached.frame, head_rows)  # this layer did not change: the same frame
        replaced = set(gone) | set(moved_ids)
        frame = cached.frame
        if frame.empty:
            frame = self._rows_frame(layer, fetched) if fetched else features_to_frame([])
            return _Snapshot(version, frame, head_rows, len(gone) + len(moved))
        # Kept rows and fetched rows in one frame, then one take in (date, id) order: the
        # whole frame is copied once, not once to drop the replaced rows and again to sort.
        keep = ~frame["id"].isin(replaced).to_numpy()
        if fetched:
            new = self._rows_frame(layer, fetched)
            frame = gpd.GeoDataFrame(pd.concat([frame, new], ignore_index=True), crs=4326)
            keep = np.concatenate([keep, np.ones(len(new), dtype=bool)])
        kept = np.flatnonzero(keep)
        if len(kept) == 0:
            frame = features_to_frame([])
        else:
            keys = ["date", "id"] if layer == EVENTS else ["id"]
            order = frame[keys].take(kept).sort_values(keys, kind="stable").index.to_numpy()
            frame = frame.take(order).reset_index(drop=True)
        return _Snapshot(version, frame, head_rows, len(gone) + len(moved))

    def head(self, layer: str, feature_id: str) -> tuple[dict, int] | None:
        """(feature, revision) of a live feature, or None."""
        with self._reader.connect() as connection:
            head = self._heads(connection, layer, [feature_id]).get(feature_id)
        if head is None or head.retired:
            return None
        feature = {"type": "Feature", "properties": head.properties, "geometry": mapping(shapely.from_wkt(head.wkt.split(";", 1)[-1]))}
        return feature, head.revision

    def history(self, feature_id: str, layer: str | None = None) -> list[Revision]:
        """Every revision of a feature, oldest first, each with the fields it changed."""
        query = sa.select(revisions).where(revisions.c.feature_id == feature_id).order_by(revisions.c.layer, revisions.c.revision)
        if layer:
            query = query.where(revisions.c.layer == layer)
        with self._reader.connect() as connection:
            rows = list(connection.execute(query))
        geometries = _shapes([row.geometry for row in rows])
        out: list[Revision] = []
        previous: dict[str, tuple[dict, str | None]] = {}
        for row, geometry in zip(rows, geometries):
            wkt = shapely.to_wkt(geometry, rounding_precision=-1) if geometry is not None else None
            before = previous.get(row.layer)
            changed = ("retired",) if row.retired else _changed_fields(before[0] if before else None, before[1] if before else None, row.properties, wkt)
            out.append(
                Revision(
                    row.layer, row.feature_id, row.revision, row.retired, row.properties,
                    mapping(geometry) if geometry is not None else None, row.author, _utc(row.created_at),
                    row.comment, row.batch_id, changed,
                )
            )
            if not row.retired:
                previous[row.layer] = (row.properties, wkt)
        return out

    def batch_list(self, limit: int = 50) -> list[dict]:
        with self._reader.connect() as connection:
            rows = connection.execute(sa.select(batches).order_by(batches.c.id.desc()).limit(limit))
            return [{**row._asdict(), "created_at": _utc(row.created_at).isoformat()} for row in rows]

    def changes_since(self, when: dt.datetime) -> list[Change]:
        """Features added, changed or retired after ``when`` (UTC), latest state of each."""
        query = (
            sa.select(revisions.c.layer, revisions.c.feature_id, sa.func.min(revisions.c.revision), sa.func.max(revisions.c.revision))
            .where(revisions.c.created_at > when)
            .group_by(revisions.c.layer, revisions.c.feature_id)
        )
        with self._reader.connect() as connection:
            rows = list(connection.execute(query))
            live = {(r.layer, r.feature_id): r.retired for r in connection.execute(sa.select(heads.c.layer, heads.c.feature_id, heads.c.retired))}
        out = []
        for layer, feature_id, first, _last in rows:
            kind = "retired" if live.get((layer, feature_id)) else ("added" if first == 1 else "changed")
            out.append(Change(layer, feature_id, kind))
        return out

    # --- writing -----------------------------------------------------------------

    def _heads(self, connection: sa.Connection, layer: str, ids: Iterable[str] | None = None) -> dict[str, _Head]:
        query = (
            sa.select(heads.c.feature_id, heads.c.revision, heads.c.retired, revisions.c.properties, revisions.c.geometry, revisions.c.author)
            .join(revisions, heads.c.revision_row == revisions.c.id)
            .where(heads.c.layer == layer)
        )
        if ids is not None:
            wanted = list(ids)
            if len(wanted) <= 500:
                query = query.where(heads.c.feature_id.in_(wanted))
        rows = list(connection.execute(query))
        geometries = _shapes([row.geometry for row in rows])
        present = [g for g in geometries if g is not None]
        texts = iter(shapely.to_wkt(np.array(present, dtype=object), rounding_precision=-1) if present else ())
        return {
            row.feature_id: _Head(
                row.revision, row.retired, row.properties,
                "SRID=4326;" + next(texts) if g is not None else None, row.author,
            )
            for row, g in zip(rows, geometries)
        }

    def _new_batch(self, connection: sa.Connection, *, author: str, kind: str, comment: str, source: str | None = None,
                   undoes: int | None = None, created_at: dt.datetime | None = None, batch_id: int | None = None) -> tuple[int, dt.datetime]:
        when = created_at or _now()
        values = {"author": author, "created_at": when, "kind": kind, "comment": comment, "source": source, "undoes": undoes}
        if batch_id is not None:
            values["id"] = batch_id
        new_id = connection.execute(sa.insert(batches).values(**values).returning(batches.c.id)).scalar_one()
        connection.execute(sa.update(store_meta).where(store_meta.c.key == "version").values(value=store_meta.c.value + 1))
        return new_id, when

    def _write(self, connection: sa.Connection, layer: str, batch: int, when: dt.datetime, author: str, comment: str,
               rows: list[dict], known: dict[str, _Head]) -> None:
        """Append ``rows`` (feature_id, revision, retired, properties, geometry) and move the heads.

        A head moved by someone else since ``known`` was read, or a revision number taken
        in between, raises :class:`ConflictError` and the caller's transaction is rolled back.
        """
        if not rows:
            return
        for row in rows:
            row.update(layer=layer, author=author, created_at=when, comment=comment, batch_id=batch)
        # A plain executemany (RETURNING in parameter order runs one statement per row on
        # SQLite), then the new rows' ids by their batch: one indexed query.
        connection.execute(sa.insert(revisions), rows)
        inserted = connection.execute(
            sa.select(revisions.c.id, revisions.c.feature_id)
            .where(revisions.c.batch_id == batch, revisions.c.layer == layer)
            .order_by(revisions.c.id)
        ).all()
        ids = {feature_id: row_id for row_id, feature_id in inserted}
        new_heads = [r for r in rows if r["feature_id"] not in known]
        moved = [r for r in rows if r["feature_id"] in known]
        if new_heads:
            connection.execute(
                sa.insert(heads),
                [{"layer": layer, "feature_id": r["feature_id"], "revision": r["revision"],
                  "revision_row": ids[r["feature_id"]], "retired": r["retired"]} for r in new_heads],
            )
        if moved:
            statement = (
                sa.update(heads)
                .where(heads.c.layer == layer, heads.c.feature_id == sa.bindparam("b_feature"),
                       heads.c.revision == sa.bindparam("b_base"))
                .values(revision=sa.bindparam("b_revision"), revision_row=sa.bindparam("b_row"), retired=sa.bindparam("b_retired"))
            )
            params = [{"b_feature": r["feature_id"], "b_base": known[r["feature_id"]].revision, "b_revision": r["revision"],
                       "b_row": ids[r["feature_id"]], "b_retired": r["retired"]} for r in moved]
            result = connection.execute(statement, params)
            if result.rowcount != len(params):
                raise ConflictError("another change was saved at the same time; nothing was written. Reload and try again.")

    def _run_write(self, work):
        """Run ``work(connection)`` in one write transaction; a lost race becomes a ConflictError."""
        try:
            with self._writer.begin() as connection:
                return work(connection)
        except sa.exc.IntegrityError as exc:
            raise ConflictError(
                "another change to the same feature was saved at the same time; nothing was written. Reload and try again."
            ) from exc

    def import_features(
        self,
        layer: str,
        features: list[dict],
        *,
        identity: Identity | None,
        comment: str = "",
        source: str | None = None,
        dry_run: bool = False,
        kind: str = "import",
    ) -> WriteResult:
        """Add new features and change existing ones (matched by id) as one batch.

        The features are validated whole first; an identical feature is left alone, so
        importing the same file twice changes nothing. A dry run (a preview) writes
        nothing and needs no identity; a real import needs an analyst or admin.
        """
        author = "preview" if dry_run else _author(writer(identity, "import"))
        with _bulk():
            # An ACLED file's features were just validated whole by parse_events (store.acled):
            # exactly the same features are not validated a second time.
            if not (layer == EVENTS and passed_validation(features)):
                validate_features(layer, features, source or "<import>")

        def work(connection: sa.Connection) -> WriteResult:
            known = self._heads(connection, layer, [f["properties"]["id"] for f in features])
            plan, rows = self._plan(layer, features, known)
            if dry_run or not rows:
                return WriteResult(None, plan)
            batch, when = self._new_batch(connection, author=author, kind=kind, comment=comment, source=source)
            self._write(connection, layer, batch, when, author, comment, rows, known)
            return WriteResult(batch, plan)

        with _bulk():
            if dry_run:
                with self._reader.connect() as connection:
                    return work(connection)
            result = self._run_write(work)
        if result.batch is not None:
            self._after_batch([layer])
        return result

    @staticmethod
    def _plan(layer: str, features: list[dict], known: dict[str, _Head]) -> tuple[list[Change], list[dict]]:
        plan: list[Change] = []
        rows: list[dict] = []
        # _plain of every feature: properties that are plain JSON values already (dicts with
        # text keys, lists, text, finite numbers, booleans, null) are what _plain would return;
        # anything else makes one JSON round trip. _ewkt of every feature in one shapely call.
        everything = [feature["properties"] for feature in features]
        plains = everything if _is_plain(everything) else _plain(everything)  # type: ignore[arg-type]
        wkts = _ewkts([feature["geometry"] for feature in features])
        for properties, wkt in zip(plains, wkts):
            feature_id = properties["id"]
            head = known.get(feature_id)
            if head is not None and not head.retired and head.properties == properties and head.wkt == wkt:
                plan.append(Change(layer, feature_id, "unchanged"))
                continue
            fields = _changed_fields(None if head is None or head.retired else head.properties,
                                     None if head is None or head.retired else head.wkt, properties, wkt)
            plan.append(Change(layer, feature_id, "added" if head is None or head.retired else "changed", fields))
            rows.append({"feature_id": feature_id, "revision": (head.revision + 1) if head else 1, "retired": False,
                         "properties": properties, "geometry": wkt})
        return plan, rows

    def save(self, layer: str, feature: dict, *, base_revision: int | None, identity: Identity | None,
             comment: str = "") -> int:
        """Save one feature (new when ``base_revision`` is None); returns its new revision number."""
        author = _author(writer(identity, "save changes"))
        validate_features(layer, [feature], "<edit>")
        properties = _plain(feature["properties"])
        feature_id = properties["id"]

        def work(connection: sa.Connection) -> int:
            known = self._heads(connection, layer, [feature_id])
            head = known.get(feature_id)
            current_revision = None if head is None or head.retired else head.revision
            if current_revision != base_revision:
                raise ConflictError(
                    _conflict_message(feature_id, base_revision, head),
                    current=None if head is None else {"revision": head.revision, "author": head.author,
                                                       "retired": head.retired, "properties": head.properties},
                    yours={"properties": properties, "geometry": feature["geometry"]},
                )
            wkt = _ewkt(feature["geometry"])
            if head is not None and not head.retired and head.properties == properties and head.wkt == wkt:
                return head.revision  # nothing to save
            batch, when = self._new_batch(connection, author=author, kind="edit", comment=comment)
            revision = (head.revision + 1) if head else 1
            self._write(connection, layer, batch, when, author, comment,
                        [{"feature_id": feature_id, "revision": revision, "retired": False, "properties": properties, "geometry": wkt}], known)
            return revision

        return self._run_write(work)

    def retire(self, layer: str, feature_id: str, *, base_revision: int, identity: Identity | None, reason: str) -> int:
        """Retire a feature (a tombstone revision); the reason is required."""
        author = _author(writer(identity, "retire features"))
        if not reason or not reason.strip():
            raise StoreError("say why the feature is retired (a reason is required)")

        def work(connection: sa.Connection) -> int:
            known = self._heads(connection, layer, [feature_id])
            head = known.get(feature_id)
            if head is None or head.retired:
                raise StoreError(f"no live feature '{feature_id}' in layer '{layer}'")
            if head.revision != base_revision:
                raise ConflictError(_conflict_message(feature_id, base_revision, head),
                                    current={"revision": head.revision, "author": head.author, "properties": head.properties})
            batch, when = self._new_batch(connection, author=author, kind="retire", comment=reason)
            self._write(connection, layer, batch, when, author, reason,
                        [{"feature_id": feature_id, "revision": head.revision + 1, "retired": True,
                          "properties": head.properties, "geometry": None}], known)
            return head.revision + 1

        return self._run_write(work)

    def restore_revision(self, layer: str, feature_id: str, revision: int, *, identity: Identity | None,
                         comment: str = "") -> int:
        """Make an earlier revision current again, as a new revision (history is never rewritten)."""
        writer(identity, "restore revisions")
        old = next((r for r in self.history(feature_id, layer) if r.revision == revision), None)
        if old is None or old.retired:
            raise StoreError(f"'{feature_id}' has no revision {revision} with content to restore")
        current = self.head(layer, feature_id)
        feature = {"type": "Feature", "properties": old.properties, "geometry": old.geometry}
        base = None if current is None else current[1]
        if current is None:  # retired: the restore brings it back after its tombstone
            last = self.history(feature_id, layer)[-1]
            return self._revive(layer, feature, last.revision, identity=identity, comment=comment or f"restored revision {revision}")
        return self.save(layer, feature, base_revision=base, identity=identity, comment=comment or f"restored revision {revision}")

    def _revive(self, layer: str, feature: dict, tombstone: int, *, identity: Identity | None, comment: str) -> int:
        author = _author(writer(identity, "restore revisions"))
        validate_features(layer, [feature], "<restore>")
        properties = _plain(feature["properties"])
        feature_id = properties["id"]

        def work(connection: sa.Connection) -> int:
            known = self._heads(connection, layer, [feature_id])
            if known[feature_id].revision != tombstone:
                raise ConflictError(_conflict_message(feature_id, tombstone, known[feature_id]))
            batch, when = self._new_batch(connection, author=author, kind="restore", comment=comment)
            self._write(connection, layer, batch, when, author, comment,
                        [{"feature_id": feature_id, "revision": tombstone + 1, "retired": False,
                          "properties": properties, "geometry": _ewkt(feature["geometry"])}], known)
            return tombstone + 1

        return self._run_write(work)

    def undo(self, batch_id: int, *, identity: Identity | None, comment: str = "") -> int:
        """Undo a batch in one new batch: each feature it wrote goes back to its state before.

        Refused as a whole (nothing written) if any of those features changed since.
        An analyst may undo only their own batches, an admin any.
        """
        writer(identity, f"undo batch {batch_id}")

        def work(connection: sa.Connection) -> int:
            batch = connection.execute(sa.select(batches).where(batches.c.id == batch_id)).first()
            if batch is None:
                raise StoreError(f"no batch {batch_id}")
            author = _author(may_undo(identity, batch.author, batch_id))
            done = connection.execute(sa.select(batches.c.id).where(batches.c.undoes == batch_id)).first()
            if done is not None:
                raise StoreError(f"batch {batch_id} was already undone by batch {done.id}")
            written = list(connection.execute(sa.select(revisions).where(revisions.c.batch_id == batch_id)))
            if not written:
                raise StoreError(f"batch {batch_id} wrote nothing to undo")
            new_batch, when = self._new_batch(connection, author=author, kind="undo", undoes=batch_id,
                                              comment=comment or f"undo of batch {batch_id}")
            by_layer: dict[str, list[sa.Row]] = {}
            for row in written:
                by_layer.setdefault(row.layer, []).append(row)
            for layer, layer_rows in by_layer.items():
                known = self._heads(connection, layer, [r.feature_id for r in layer_rows])
                moved = sorted(r.feature_id for r in layer_rows if known[r.feature_id].revision != r.revision)
                if moved:
                    raise ConflictError(
                        f"batch {batch_id} cannot be undone: {len(moved)} of its features changed since "
                        f"({', '.join(moved[:5])}{'…' if len(moved) > 5 else ''}); nothing was written. "
                        "Restore those features one by one from their history."
                    )
                previous = self._revisions_before(connection, layer, [(r.feature_id, r.revision) for r in layer_rows])
                rows = []
                for r in layer_rows:
                    before = previous.get(r.feature_id)
                    if before is None or before.retired:  # the batch created (or revived) it: retire it again
                        rows.append({"feature_id": r.feature_id, "revision": r.revision + 1, "retired": True,
                                     "properties": r.properties, "geometry": None})
                    else:
                        rows.append({"feature_id": r.feature_id, "revision": r.revision + 1, "retired": False,
                                     "properties": before.properties, "geometry": before.geometry_text})
                self._write(connection, layer, new_batch, when, author, comment or f"undo of batch {batch_id}", rows, known)
            return new_batch

        new_batch = self._run_write(work)
        self._after_batch(EDITABLE_LAYERS)
        return new_batch

    def _revisions_before(self, connection: sa.Connection, layer: str, pairs: list[tuple[str, int]]) -> dict:
        out = {}
        for feature_id, revision in pairs:
            if revision <= 1:
                continue
            row = connection.execute(
                sa.select(revisions.c.properties, revisions.c.geometry, revisions.c.retired).where(
                    revisions.c.layer == layer, revisions.c.feature_id == feature_id, revisions.c.revision == revision - 1
                )
            ).first()
            if row is not None:
                geometry = _shapes([row.geometry])[0]
                out[feature_id] = _Before(row.properties, row.retired,
                                          None if geometry is None else "SRID=4326;" + shapely.to_wkt(geometry, rounding_precision=-1))
        return out

    # --- the catalogue files ------------------------------------------------------

    def sync_catalogue(self, files: dict[str, Path], *, dry_run: bool = False) -> WriteResult:
        """Bring the repository's data files in as one batch by the author ``catalogue``.

        A feature an analyst changed since the catalogue last wrote it is left as it is
        and reported as a conflict; features gone from a file are retired.
        """
        from geo.io import read_layer_text

        loaded: dict[str, list[dict]] = {}
        for layer in EDITABLE_LAYERS:
            text = read_layer_text(files[layer])
            features = json.loads(text)["features"]
            validate_features(layer, features, str(files[layer]))
            loaded[layer] = features

        def work(connection: sa.Connection) -> WriteResult:
            changes: list[Change] = []
            pending: list[tuple[str, list[dict], dict[str, _Head]]] = []
            for layer, features in loaded.items():
                known = self._heads(connection, layer)
                last_catalogue = self._last_by_author(connection, layer, CATALOGUE_AUTHOR)
                plan, rows = self._plan(layer, features, known)
                keep_rows = []
                by_id = {r["feature_id"]: r for r in rows}
                for change in plan:
                    head = known.get(change.feature_id)
                    if change.kind == "changed" and head is not None and head.author != CATALOGUE_AUTHOR:
                        file_row = by_id[change.feature_id]
                        ours = last_catalogue.get(change.feature_id)
                        if ours is not None and ours == (file_row["properties"], file_row["geometry"]):
                            changes.append(Change(layer, change.feature_id, "unchanged", message="an analyst's later edit stands"))
                        else:
                            changes.append(Change(layer, change.feature_id, "conflict", change.fields,
                                                  f"changed in the files and by {head.author} in the store; the store's version is kept"))
                        continue
                    changes.append(change)
                    if change.kind != "unchanged":
                        keep_rows.append(by_id[change.feature_id])
                in_file = {f["properties"]["id"] for f in features}
                for feature_id, head in known.items():
                    if feature_id in in_file or head.retired:
                        continue
                    if head.author != CATALOGUE_AUTHOR:
                        changes.append(Change(layer, feature_id, "conflict", (),
                                              f"removed from the files but changed by {head.author} in the store; kept"))
                        continue
                    changes.append(Change(layer, feature_id, "retired", ("retired",)))
                    keep_rows.append({"feature_id": feature_id, "revision": head.revision + 1, "retired": True,
                                      "properties": head.properties, "geometry": None})
                pending.append((layer, keep_rows, known))
            if dry_run or not any(rows for _, rows, _ in pending):
                return WriteResult(None, changes)
            empty = connection.execute(sa.select(sa.func.count()).select_from(batches)).scalar_one() == 0
            batch, when = self._new_batch(connection, author=CATALOGUE_AUTHOR, kind="init" if empty else "catalogue",
                                          comment="seeded from data/" if empty else "catalogue files changed",
                                          source="data/")
            for layer, rows, known in pending:
                self._write(connection, layer, batch, when, CATALOGUE_AUTHOR, "", rows, known)
            return WriteResult(batch, changes)

        if dry_run:
            with self._reader.connect() as connection:
                return work(connection)
        result = self._run_write(work)
        if result.batch is not None:
            self._after_batch(EDITABLE_LAYERS)
        return result

    def _last_by_author(self, connection: sa.Connection, layer: str, author: str) -> dict[str, tuple[dict, str]]:
        """For each feature, (properties, EWKT) of the latest live revision written by ``author``."""
        latest = (
            sa.select(revisions.c.feature_id, sa.func.max(revisions.c.revision).label("rev"))
            .where(revisions.c.layer == layer, revisions.c.author == author, revisions.c.retired.is_(False))
            .group_by(revisions.c.feature_id)
            .subquery()
        )
        rows = list(connection.execute(
            sa.select(revisions.c.feature_id, revisions.c.properties, revisions.c.geometry).join(
                latest, sa.and_(revisions.c.feature_id == latest.c.feature_id, revisions.c.revision == latest.c.rev)
            ).where(revisions.c.layer == layer)
        ))
        geometries = _shapes([r.geometry for r in rows])
        return {r.feature_id: (r.properties, "SRID=4326;" + shapely.to_wkt(g, rounding_precision=-1)) for r, g in zip(rows, geometries)}

    # --- dump and restore ---------------------------------------------------------

    def dump(self, directory: Path) -> dict[str, int]:
        """Write ``<layer>.geojson`` (current features) and ``history.jsonl`` (every batch and revision)."""
        directory.mkdir(parents=True, exist_ok=True)
        counts = {}
        for layer in EDITABLE_LAYERS:
            features = [{"type": "Feature", "properties": f["properties"], "geometry": f["geometry"]} for f in self.current_features(layer)]
            (directory / f"{layer}.geojson").write_text(
                json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            counts[layer] = len(features)
        with self._reader.connect() as connection, (directory / "history.jsonl").open("w", encoding="utf-8") as out:
            for row in connection.execute(sa.select(batches).order_by(batches.c.id)):
                out.write(json.dumps({"batch": {**row._asdict(), "created_at": _utc(row.created_at).isoformat()}}, ensure_ascii=False) + "\n")
            query = sa.select(revisions).order_by(revisions.c.id)
            result = connection.execution_options(yield_per=5_000).execute(query)
            for chunk in result.partitions():
                geometries = _shapes([r.geometry for r in chunk])
                for r, g in zip(chunk, geometries):
                    record = {k: v for k, v in r._asdict().items() if k != "geometry"}
                    record["created_at"] = _utc(r.created_at).isoformat()
                    record["geometry"] = None if g is None else "SRID=4326;" + shapely.to_wkt(g, rounding_precision=-1)
                    out.write(json.dumps({"revision": record}, ensure_ascii=False) + "\n")
        counts["version"] = self.version()
        return counts

    def restore(self, directory: Path) -> int:
        """Replay a dump into an empty store (same batches, revisions, authors and times)."""
        if not self.is_empty():
            raise StoreError("restore needs an empty store (run it on a new database)")
        lines = (directory / "history.jsonl").read_text(encoding="utf-8").splitlines()

        def work(connection: sa.Connection) -> int:
            batch_rows, revision_rows = [], []
            for line in lines:
                record = json.loads(line)
                if "batch" in record:
                    b = record["batch"]
                    b["created_at"] = dt.datetime.fromisoformat(b["created_at"])
                    batch_rows.append(b)
                else:
                    r = record["revision"]
                    r["created_at"] = dt.datetime.fromisoformat(r["created_at"])
                    revision_rows.append(r)
            if batch_rows:
                connection.execute(sa.insert(batches), batch_rows)
            for start in range(0, len(revision_rows), 5_000):
                connection.execute(sa.insert(revisions), revision_rows[start:start + 5_000])
            latest: dict[tuple[str, str], dict] = {}
            for r in revision_rows:
                key = (r["layer"], r["feature_id"])
                if key not in latest or r["revision"] > latest[key]["revision"]:
                    latest[key] = r
            head_rows = [{"layer": r["layer"], "feature_id": r["feature_id"], "revision": r["revision"],
                          "revision_row": r["id"], "retired": r["retired"]} for r in latest.values()]
            for start in range(0, len(head_rows), 5_000):
                connection.execute(sa.insert(heads), head_rows[start:start + 5_000])
            if self.backend == "postgresql":  # identity sequences continue after the restored ids
                for table in ("batches", "revisions"):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
                    )
            connection.execute(sa.update(store_meta).where(store_meta.c.key == "version").values(value=len(batch_rows)))
            return len(revision_rows)

        written = self._run_write(work)
        self._after_batch(EDITABLE_LAYERS)
        return written


@dataclass(frozen=True)
class _Before:
    properties: dict
    retired: bool
    geometry_text: str | None


def _author(author: str) -> str:
    author = (author or "").strip()
    if not author or len(author) > 120 or any(c in author for c in "\r\n\t"):
        raise StoreError("every change needs an author: a name of 1 to 120 characters on one line")
    return author


def _conflict_message(feature_id: str, base: int | None, head: _Head | None) -> str:
    if head is None:
        return f"'{feature_id}' does not exist any more; nothing was written."
    if base is None:
        return f"'{feature_id}' already exists (revision {head.revision} by {head.author}); edit it instead of adding it."
    state = "retired" if head.retired else f"saved as revision {head.revision}"
    return (
        f"'{feature_id}' was {state} by {head.author} after you opened revision {base}; nothing was written. "
        "Compare both versions, then save again on top of the current one."
    )
