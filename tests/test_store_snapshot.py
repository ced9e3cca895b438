"""The store's in-memory snapshot: after every kind of write, ``Store.current`` (brought up to
date by fetching only the features whose head moved) equals a full read by a new Store.

Runs on SQLite and on a real PostGIS (the ``store`` fixture of tests/test_store.py).
"""

from __future__ import annotations

import copy
import json

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
