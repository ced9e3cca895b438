"""The layers' column-wise copies in the database (store/copies.py, table ``layer_copies``).

A server that starts with nothing on its own disk reads a layer's copy instead of every
feature, then brings it up to date from ``heads``. These tests check, on SQLite and on a
real PostGIS (the ``store`` fixture of tests/test_store.py), that what it then holds is
what a full read gives (the rows compared as in tests/test_store_snapshot.py: a frame
brought up to date may hold a column of missing values as object rather than string), after saves, retirements, imports and undo; that a broken or foreign
copy is ignored, never trusted; and that a frame that would not come back exactly is not
written.
"""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
from geopandas.testing import assert_geodataframe_equal

from store import Store, copies
from store.access import Identity
from store.schema import layer_copies
from tests.test_store_snapshot import _records
from tests.test_store import BANJSKA, empty_store, events_file_features, retitle, store, store_url  # noqa: F401

ANALYST = Identity("copy analyst", "analyst")
LAYERS = ("events", "places", "kfor_areas", "serbian_deployments")


def _small_thresholds(store: Store) -> Store:
    """The real thresholds keep copies for layers of thousands of features; the catalogue has fewer."""
    store.COPY_MIN_FEATURES = 1
    store.COPY_LAG = 1
    return store


def _copy_row(store: Store, layer: str):
    store.wait_for_copies(60)  # rewritten in the background after a large batch
    with store._reader.connect() as connection:
        return connection.execute(sa.select(layer_copies).where(layer_copies.c.layer == layer)).first()


def _full_read(url: str, layer: str):
    fresh = Store(url)
    try:
        fresh._copy_snapshot = lambda *a, **k: None  # noqa: E731  (read every feature)
        return fresh.current(layer)
    finally:
        fresh.close()


def _starting_server(url: str) -> tuple[Store, list[str]]:
    """A new Store with no disk cache that records whether it read a layer in full."""
    server = _small_thresholds(Store(url))
    full_reads: list[str] = []
    original = server._load_snapshot
    server._load_snapshot = lambda connection, layer, version: full_reads.append(layer) or original(connection, layer, version)
    return server, full_reads


def _new_events(count: int, prefix: str) -> list[dict]:
    base = next(f for f in events_file_features() if f["properties"]["id"] == BANJSKA)
    out = []
    for number in range(count):
        feature = copy.deepcopy(base)
        feature["properties"]["id"] = f"{BANJSKA}-{prefix}-{number}"
        retitle(feature, f" ({prefix} {number})")
        out.append(feature)
    return out


def test_a_copy_round_trips_the_catalogue_exactly(store):
    for layer in LAYERS:
        frame = store.current(layer)
        head_rows = store._snapshots[layer].head_rows
        columns, document = copies.encode(frame, head_rows)
        back, back_rows = copies.decode(columns, document)
        assert_geodataframe_equal(back, frame, check_dtype=True, check_crs=True)
        assert back_rows == head_rows
        assert list(back.columns) == list(frame.columns)


def test_an_import_writes_the_copy_and_a_starting_server_reads_it_instead_of_every_feature(store):
    _small_thresholds(store)
    store.import_features("events", _new_events(3, "import"), identity=ANALYST, comment="three more")
    row = _copy_row(store, "events")
    assert row is not None, "a batch that left the copy behind writes it again"
    assert row.version == store.version() and row.features == len(store.current("events"))

    server, full_reads = _starting_server(store.url)
    try:
        frame = server.current("events")
        assert full_reads == [], "the starting server read the copy, not every feature"
        assert _records(frame) == _records(_full_read(store.url, "events"))
    finally:
        server.close()


def test_a_server_starting_after_later_saves_brings_the_copy_up_to_date(store):
    _small_thresholds(store)
    store.import_features("events", _new_events(2, "base"), identity=ANALYST)
    copied_at = _copy_row(store, "events").version
    # Saves and a retirement after the copy: one feature changed, one gone.
    feature, revision = store.head("events", BANJSKA)
    store.save("events", retitle(copy.deepcopy(feature), " (after the copy)"), base_revision=revision, identity=ANALYST)
    gone, gone_revision = store.head("events", f"{BANJSKA}-base-0")
    store.retire("events", f"{BANJSKA}-base-0", base_revision=gone_revision, identity=ANALYST, reason="duplicate")
    assert _copy_row(store, "events").version == copied_at, "a single save does not rewrite the copy"

    server, full_reads = _starting_server(store.url)
    try:
        frame = server.current("events")
        assert full_reads == []
        expected = _full_read(store.url, "events")
        assert _records(frame) == _records(expected)
        assert f"{BANJSKA}-base-0" not in set(frame["id"])
        assert frame.loc[frame["id"] == BANJSKA, "title"].iloc[0].endswith("(after the copy)")
    finally:
        server.close()


def test_an_undo_rewrites_the_copy_and_it_still_equals_a_full_read(store):
    _small_thresholds(store)
    result = store.import_features("events", _new_events(4, "undo"), identity=ANALYST)
    store.undo(result.batch, identity=ANALYST)
    assert _copy_row(store, "events").version == store.version()
    server, full_reads = _starting_server(store.url)
    try:
        frame = server.current("events")
        assert full_reads == []
        assert not any(fid.startswith(f"{BANJSKA}-undo-") for fid in frame["id"])
        assert _records(frame) == _records(_full_read(store.url, "events"))
    finally:
        server.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign format", "header names other columns", "a decompression bomb"])
def test_a_broken_copy_is_ignored_and_the_features_are_read(store, damage):
    _small_thresholds(store)
    store.import_features("events", _new_events(2, "broken"), identity=ANALYST)
    row = _copy_row(store, "events")
    values = {
        "garbage": lambda: {"columns": b"\x00not arrow at all" * 10},
        "truncated": lambda: {"columns": bytes(row.columns)[: len(row.columns) // 2]},
        "foreign format": lambda: {"header": row.header.replace(copies.FORMAT, "someone-else/9")},
        "header names other columns": lambda: {"header": row.header.replace('"nested": ["actors", ', '"nested": [', 1)},
        "a decompression bomb": lambda: {"columns": _claiming(bytes(row.columns), copies.MAX_NESTED_BYTES + 1)},
    }[damage]()
    with store._writer.begin() as connection:
        connection.execute(sa.update(layer_copies).where(layer_copies.c.layer == "events").values(**values))

    server, full_reads = _starting_server(store.url)
    try:
        frame = server.current("events")
        assert full_reads == ["events"], "an unreadable copy means a full read, not an error"
        assert _records(frame) == _records(_full_read(store.url, "events"))
    finally:
        server.close()


def test_a_full_read_of_a_large_layer_leaves_a_copy_for_the_next_server(store):
    store.COPY_MIN_FEATURES = 1
    assert _copy_row(store, "places") is None  # seeded, never read yet
    with store.deferred_snapshots():
        store.current("places")
    for thread in __import__("threading").enumerate():  # the copy is written in the background
        if thread.name.startswith("snapshot-"):
            thread.join(timeout=60)
    row = _copy_row(store, "places")
    assert row is not None and row.features == len(store.current("places"))


def test_a_frame_that_would_not_come_back_exactly_is_not_written(store):
    frame = store.current("events").copy()
    head_rows = store._snapshots["events"].head_rows
    frame["actors"] = [tuple(value) for value in frame["actors"]]  # JSON would give lists back
    with pytest.raises(copies.CopyError, match="would not read back"):
        copies.encode(frame, head_rows)
    frame = store.current("events").copy()
    frame["location"] = [{1: "key that JSON would turn into text"} for _ in range(len(frame))]
    with pytest.raises(copies.CopyError, match="would not read back"):
        copies.encode(frame, head_rows)
    with pytest.raises(copies.CopyError, match="no head row"):
        copies.encode(store.current("events"), {})
    with pytest.raises(copies.CopyError, match="index"):
        copies.encode(store.current("events").iloc[::-1], head_rows)


def test_missing_nested_values_beside_present_ones_round_trip(store):
    """An ACLED import beside the curated catalogue: provenance present on some rows, missing (NaN) on others."""
    frame = store.current("events").copy()
    head_rows = store._snapshots["events"].head_rows
    frame["provenance"] = [{"file": "acled.csv", "row": n + 2} if n % 2 else float("nan") for n in range(len(frame))]
    back, _ = copies.decode(*copies.encode(frame, head_rows))
    assert_geodataframe_equal(back, frame, check_dtype=True, check_crs=True)
    assert back["provenance"].iloc[1] == {"file": "acled.csv", "row": 3}
    assert back["provenance"].iloc[0] != back["provenance"].iloc[0]  # NaN


def _claiming(columns: bytes, size: int) -> bytes:
    """The copy's Arrow stream with its nested values claiming ``size`` bytes when decompressed."""
    import io

    import pyarrow as pa
    import pyarrow.ipc as ipc

    table = ipc.open_stream(pa.py_buffer(columns)).read_all()
    metadata = dict(table.schema.metadata)
    metadata[b"border-brief-nested-size"] = str(size).encode()
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema.with_metadata(metadata)) as writer:
        writer.write_table(table.replace_schema_metadata(metadata))
    return sink.getvalue()


def test_the_copy_is_compressed(store):
    """PostgreSQL sends bytea as hex text: an uncompressed 100,000-event copy took ~0.9 s to fetch."""
    import io

    import pyarrow as pa
    import pyarrow.ipc as ipc

    frame = store.current("events")
    columns, _ = copies.encode(frame, store._snapshots["events"].head_rows)
    table = ipc.open_stream(pa.py_buffer(columns)).read_all()
    nested = table.schema.metadata[b"border-brief-nested"]
    assert len(nested) < int(table.schema.metadata[b"border-brief-nested-size"]) / 2
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema) as writer:  # the same table, buffers not compressed
        writer.write_table(table)
    assert len(columns) < 0.7 * len(sink.getvalue())
