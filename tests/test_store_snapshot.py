"""The store's in-memory snapshot: after every kind of write, ``Store.current`` (brought up to
date by fetching only the features whose head moved) equals a full read by a new Store.

Runs on SQLite and on a real PostGIS (the ``store`` fixture of tests/test_store.py).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from store import Store
from store.access import Identity
from tests.test_store import BANJSKA, empty_store, retitle, store, store_url  # noqa: F401  (fixtures)

ANALYST = Identity("snapshot analyst", "analyst")
ADMIN = Identity("snapshot admin", "admin")
LAYERS = ("events", "places", "kfor_areas", "serbian_deployments")


def _records(frame) -> list[dict]:
    """Rows as comparable JSON (NaN and missing columns alike; geometry as WKT)."""
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if key == "geometry":
                clean[key] = value.wkt
            elif isinstance(value, float) and pd.isna(value):
                continue
            elif value is None:
                continue
            else:
                clean[key] = value
        out.append(json.loads(json.dumps(clean, sort_keys=True, default=str)))
    return out


def assert_same_as_a_full_read(store: Store) -> None:
    fresh = Store(store.url)
    try:
        for layer in LAYERS:
            assert _records(store.current(layer)) == _records(fresh.current(layer)), layer
    finally:
        fresh.close()


def test_the_snapshot_follows_saves_retirements_imports_and_undo(store):
    for layer in LAYERS:
        store.current(layer)  # the first read: full
    version = store.version()
    assert store.current("events") is store.current("events"), "an unchanged store is not read again"

    feature, revision = store.head("events", BANJSKA)
    store.save("events", retitle(copy.deepcopy(feature), " (edited)"), base_revision=revision, identity=ANALYST)
    assert store.version() > version
    edited = store.current("events")
    assert edited.loc[edited["id"] == BANJSKA, "title"].iloc[0].endswith(" (edited)")
    assert_same_as_a_full_read(store)

    place = store.current("places").iloc[0]
    _, place_revision = store.head("places", place["id"])
    store.retire("places", place["id"], base_revision=place_revision, identity=ANALYST, reason="test")
    assert place["id"] not in set(store.current("places")["id"])
    assert_same_as_a_full_read(store)

    new = copy.deepcopy(feature)
    new["properties"]["id"] = "2023-09-24-snapshot-test"
    retitle(new, " (a second report)")
    batch = store.import_features("events", [new], identity=ANALYST).batch
    assert "2023-09-24-snapshot-test" in set(store.current("events")["id"])
    assert_same_as_a_full_read(store)

    store.undo(batch, identity=ADMIN)
    assert "2023-09-24-snapshot-test" not in set(store.current("events")["id"])
    assert_same_as_a_full_read(store)


def test_a_write_by_another_store_object_is_seen(store):
    before = store.current("events")
    other = Store(store.url)  # another server process on the same database
    try:
        feature, revision = other.head("events", BANJSKA)
        other.save("events", retitle(copy.deepcopy(feature), " (from elsewhere)"), base_revision=revision, identity=ANALYST)
    finally:
        other.close()
    after = store.current("events")
    assert after is not before
    assert after.loc[after["id"] == BANJSKA, "title"].iloc[0].endswith(" (from elsewhere)")
    assert len(after) == len(before)
    assert_same_as_a_full_read(store)


def test_a_restarted_server_starts_from_the_disk_snapshot_and_brings_it_up_to_date(store, tmp_path):
    cache = tmp_path / "cache"
    first = Store(store.url)
    first.use_snapshot_cache(cache)
    try:
        first.current("events")
        for thread in __import__("threading").enumerate():
            if thread.name.startswith("snapshot-"):
                thread.join(timeout=60)
        written = list(cache.glob("store-*/events.pickle"))
        assert len(written) == 1
        assert written[0].stat().st_mode & 0o077 == 0, "the snapshot is readable by its owner only"
    finally:
        first.close()

    # Meanwhile someone edits an event: the restarted server must show the edit, not the file.
    feature, revision = store.head("events", BANJSKA)
    store.save("events", retitle(copy.deepcopy(feature), " (after the snapshot)"), base_revision=revision, identity=ANALYST)

    restarted = Store(store.url)
    restarted.use_snapshot_cache(cache)
    try:
        loaded_from_disk = []
        original = restarted._load_snapshot
        restarted._load_snapshot = lambda *a, **k: loaded_from_disk.append("full") or original(*a, **k)
        events = restarted.current("events")
        assert loaded_from_disk == [], "the restarted server read the frame from disk, not in full"
        assert events.loc[events["id"] == BANJSKA, "title"].iloc[0].endswith(" (after the snapshot)")
        assert_same_as_a_full_read(restarted)
    finally:
        restarted.close()


def test_a_snapshot_that_others_could_write_is_ignored(store, tmp_path):
    cache = tmp_path / "cache"
    first = Store(store.url)
    first.use_snapshot_cache(cache)
    first.current("places")
    for thread in __import__("threading").enumerate():
        if thread.name.startswith("snapshot-"):
            thread.join(timeout=60)
    first.close()
    (path,) = cache.glob("store-*/places.pickle")
    path.chmod(0o666)
    again = Store(store.url)
    again.use_snapshot_cache(cache)
    try:
        assert again._disk_snapshot("places") is None
        path.chmod(0o600)
        assert again._disk_snapshot("places") is not None
        path.write_bytes(b"not a pickle")
        assert again._disk_snapshot("places") is None, "a broken file means a full read, not an error"
        assert len(again.current("places")) > 0
    finally:
        again.close()


def _join_snapshot_threads() -> None:
    for thread in __import__("threading").enumerate():
        if thread.name.startswith("snapshot-"):
            thread.join(timeout=60)


def test_the_disk_format_gives_back_the_same_frame_column_by_column(store, tmp_path):
    """encode_frame/decode_frame: same columns, dtypes, index, nested values and exact coordinates."""
    from geopandas.testing import assert_geodataframe_equal

    from store.snapshots import SnapshotCache, decode_frame, encode_frame

    for layer in LAYERS:
        frame = store.current(layer)
        back = decode_frame(encode_frame(frame))
        assert_geodataframe_equal(back, frame)
        assert list(back.dtypes) == list(frame.dtypes), layer
        assert back.crs == frame.crs
    events = store.current("events")
    back = decode_frame(encode_frame(events))
    row = events.index[events["id"] == BANJSKA][0]
    for column in ("sources", "actors", "location", "claims"):
        assert back.at[row, column] == events.at[row, column], column
        assert type(back.at[row, column]) is type(events.at[row, column]), column
    # A value marshal cannot write (here a set) makes that column pickled, not the save fail.
    odd = events.head(3).copy()
    odd["actors"] = [{"a"}, {"b"}, None]
    cache = SnapshotCache(tmp_path / "cache")
    cache.save(1, "events", 7, odd, {"x": 1})
    version, loaded, heads = cache.load(1, "events")
    assert (version, heads) == (7, {"x": 1})
    assert loaded["actors"].tolist() == [{"a"}, {"b"}, None]


def test_snapshots_are_written_after_a_deferred_block_not_during_it(store, tmp_path):
    cache = tmp_path / "cache"
    other = Store(store.url)
    other.use_snapshot_cache(cache)
    try:
        with other.deferred_snapshots():
            for layer in LAYERS:
                other.current(layer)
            writing = [t.name for t in __import__("threading").enumerate() if t.name.startswith("snapshot-")]
            assert writing == [], "nothing is written while the load goes on"
            assert not list(cache.glob("store-*/*.pickle"))
        _join_snapshot_threads()
        assert sorted(p.stem for p in cache.glob("store-*/*.pickle")) == sorted(LAYERS)
    finally:
        other.close()


def test_a_restart_reads_the_derived_layers_and_their_display_copies_from_disk(store, tmp_path, monkeypatch):
    """layers.data keeps countries/border/zones (validated frame + display copy) beside the store's frames."""
    import shutil

    from geopandas.testing import assert_geodataframe_equal

    import layers.data as data
    from layers.config import load_settings

    cache = tmp_path / "cache"
    data_dir = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parent.parent / "data", data_dir)
    settings = load_settings({"BORDER_BRIEF_DATA_DIR": str(data_dir), "BORDER_BRIEF_CACHE_DIR": str(cache)})
    # The very first start: this process validates the derived layers and keeps them on disk,
    # display copies included even when the memo of derived results fills up during the load
    # (it is emptied when full: a long-running server's memo usually is).
    monkeypatch.setattr(data, "_FILE_MEMO", {})
    monkeypatch.setattr(data, "_DERIVED_MEMO", {("filler", str(n), n): (None, None) for n in range(data._MEMO_LIMIT - 1)})
    validated_here = []
    real_load_layer = data.load_layer
    monkeypatch.setattr(data, "load_layer", lambda path, layer_id: validated_here.append(layer_id) or real_load_layer(path, layer_id))
    first = Store(store.url)
    first.use_snapshot_cache(cache)
    try:
        expected = data.load_layer_data(settings, first)
    finally:
        first.close()
    monkeypatch.undo()
    _join_snapshot_threads()
    kept = sorted(p.stem for p in (cache / "derived").glob("*.pickle"))
    assert kept == ["file-air_safety_zone", "file-border", "file-countries", "file-ground_safety_zone"]
    assert sorted(validated_here) == ["air_safety_zone", "border", "countries", "ground_safety_zone"]
    for layer in ("countries", "border", "ground_safety_zone", "air_safety_zone"):
        assert_geodataframe_equal(expected.full[layer], data.load_layer(settings.data_dir / f"{layer}.geojson", layer))
        assert_geodataframe_equal(expected.display[layer], data._display(layer, expected.full[layer]))

    # A new process: nothing in memory. Validation and simplification must not run for the kept layers.
    monkeypatch.setattr(data, "_FILE_MEMO", {})
    monkeypatch.setattr(data, "_DERIVED_MEMO", {})
    validated, simplified = [], []
    monkeypatch.setattr(data, "load_layer", lambda path, layer_id: validated.append(layer_id))
    real_display = data._display
    monkeypatch.setattr(data, "_display", lambda layer_id, frame: simplified.append(layer_id) or real_display(layer_id, frame))
    restarted = Store(store.url)
    restarted.use_snapshot_cache(cache)
    try:
        again = data.load_layer_data(settings, restarted)
    finally:
        restarted.close()
    assert validated == []
    assert sorted(simplified) == ["kfor_areas", "serbian_deployments"], "only the store's areas are simplified again"
    for layer in ("countries", "border", "ground_safety_zone", "air_safety_zone"):
        assert_geodataframe_equal(again.full[layer], expected.full[layer])
        assert_geodataframe_equal(again.display[layer], expected.display[layer])

    # A changed file is read and validated again, never served from the disk.
    monkeypatch.undo()
    from store.snapshots import SnapshotCache

    kept_files = {p.name: p.stat().st_mtime_ns for p in (cache / "derived").glob("*.pickle")}
    border = data_dir / "border.geojson"
    old_digest = data._file_digest(border)
    border.write_text(border.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    new_digest = data._file_digest(border)
    assert new_digest != old_digest
    assert SnapshotCache(cache).load_object("file-border", new_digest) is None
    monkeypatch.setattr(data, "_FILE_MEMO", {})
    monkeypatch.setattr(data, "_DERIVED_MEMO", {})
    third = Store(store.url)
    third.use_snapshot_cache(cache)
    try:
        data.load_layer_data(settings, third)
    finally:
        third.close()
    _join_snapshot_threads()
    assert SnapshotCache(cache).load_object("file-border", new_digest) is not None
    assert SnapshotCache(cache).load_object("file-border", old_digest) is None
    now = {p.name: p.stat().st_mtime_ns for p in (cache / "derived").glob("*.pickle")}
    assert [name for name in now if now[name] != kept_files[name]] == ["file-border.pickle"]
