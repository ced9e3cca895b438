"""The store on both databases: the embedded SQLite file and a real PostgreSQL + PostGIS.

Every test runs twice (``store`` is parametrised); nothing is mocked. PostgreSQL comes
from a throwaway cluster (tests/pgcluster.py), each test getting its own empty database.
"""

from __future__ import annotations

import copy
import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from geopandas.testing import assert_geodataframe_equal

from geo.events import load_events
from geo.io import load_layer
from layers.config import load_settings
from layers.data import layer_files
from store.access import Identity
from store import ConflictError, Store, StoreError, ValidationFailed
from store import db

REPO = Path(__file__).resolve().parent.parent
BANJSKA = "2023-09-24-banjska-attack"
_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgis"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    from tests.pgcluster import fresh_database

    base = request.getfixturevalue("postgis_url")
    with fresh_database(base, f"store_test_{next(_names)}") as url:
        yield url


@pytest.fixture
def empty_store(store_url):
    store = Store(store_url)
    db.migrate(store._writer)
    yield store
    store.close()


@pytest.fixture
def store(empty_store):
    empty_store.sync_catalogue(layer_files(load_settings({})))
    return empty_store


def events_file_features() -> list[dict]:
    return json.loads((REPO / "data" / "events.geojson").read_text(encoding="utf-8"))["features"]


def retitle(feature: dict, suffix: str) -> dict:
    """The event's title (which its name repeats) with ``suffix`` added."""
    feature["properties"]["title"] += suffix
    feature["properties"]["name"] = feature["properties"]["title"]
    return feature


def banjska_feature(store: Store) -> tuple[dict, int]:
    found = store.head("events", BANJSKA)
    assert found is not None
    return copy.deepcopy(found[0]), found[1]


def test_migrations_create_the_schema_from_an_empty_database(store_url):
    store = Store(store_url)
    db.migrate(store._writer)
    assert db.schema_is_current(store._writer)
    assert store.version() == 0 and store.is_empty()
    db.migrate(store._writer)  # idempotent
    assert store.version() == 0
    store.close()


def test_seeding_gives_exactly_the_catalogue_files(store):
    files = layer_files(load_settings({}))
    assert_geodataframe_equal(store.current("events"), load_events(files["events"]), check_like=False)
    for layer in ("places", "kfor_areas", "serbian_deployments"):
        expected = load_layer(files[layer], layer).sort_values("id").reset_index(drop=True)
        assert_geodataframe_equal(store.current(layer), expected, check_like=True)
    assert store.version() == 1
    assert {b["kind"] for b in store.batch_list()} == {"init"}
    assert all(r.author == "catalogue" for r in store.history(BANJSKA))


def test_catalogue_sync_changes_nothing_twice_and_keeps_an_analysts_edit(store, tmp_path):
    files = layer_files(load_settings({}))
    assert store.sync_catalogue(files).batch is None  # nothing changed: no batch
    feature, revision = banjska_feature(store)
    feature["properties"]["summary"] = feature["properties"]["summary"] + " Corrected by an analyst."
    store.save("events", feature, base_revision=revision, identity=Identity("analyst", "analyst"))
    # a new release of the curated files changes the same event and another one
    events = events_file_features()
    for f in events:
        if f["properties"]["id"] == BANJSKA:
            retitle(f, " (release 2)")
    other = next(f for f in events if f["properties"]["id"] != BANJSKA)
    retitle(other, " (release 2)")
    (tmp_path / "events.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": events}), encoding="utf-8")
    result = store.sync_catalogue({**files, "events": tmp_path / "events.geojson"})
    assert result.changed == 1 and [c.feature_id for c in result.conflicts] == [BANJSKA]
    assert "analyst" in result.conflicts[0].message
    assert store.head("events", BANJSKA)[0]["properties"]["summary"].endswith("Corrected by an analyst.")
    assert store.head("events", other["properties"]["id"])[0]["properties"]["title"].endswith("(release 2)")
    assert store.history(other["properties"]["id"])[-1].author == "catalogue"


def test_a_save_is_a_new_revision_with_its_author_and_changed_fields(store):
    feature, revision = banjska_feature(store)
    feature["properties"]["fatalities_note"] = "Revised by the analyst."
    before = store.version()
    new = store.save("events", feature, base_revision=revision, identity=Identity("A. Analyst", "analyst"), comment="note")
    assert new == revision + 1 and store.version() == before + 1
    history = store.history(BANJSKA)
    assert [r.revision for r in history] == [1, 2]
    assert history[-1].author == "A. Analyst" and history[-1].changed_fields == ("fatalities_note",)
    assert history[-1].comment == "note" and history[-1].created_at.tzinfo is not None


def test_a_stale_save_is_refused_and_shows_both_versions(store):
    feature, revision = banjska_feature(store)
    mine, theirs = copy.deepcopy(feature), copy.deepcopy(feature)
    theirs["properties"]["summary"] += " Theirs."
    store.save("events", theirs, base_revision=revision, identity=Identity("first", "analyst"))
    mine["properties"]["summary"] += " Mine."
    with pytest.raises(ConflictError) as caught:
        store.save("events", mine, base_revision=revision, identity=Identity("second", "analyst"))
    assert "first" in str(caught.value) and "nothing was written" in str(caught.value)
    assert caught.value.current["properties"]["summary"].endswith("Theirs.")
    assert caught.value.yours["properties"]["summary"].endswith("Mine.")
    assert [r.author for r in store.history(BANJSKA)] == ["catalogue", "first"]


def test_two_analysts_racing_on_one_event_exactly_one_wins(store_url, store):
    feature, revision = banjska_feature(store)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def race(name: str) -> None:
        mine = copy.deepcopy(feature)
        mine["properties"]["summary"] += f" By {name}."
        racer = Store(store_url)
        try:
            barrier.wait()
            racer.save("events", mine, base_revision=revision, identity=Identity(name, "analyst"))
            outcomes.append("saved")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            racer.close()

    threads = [threading.Thread(target=race, args=(name,)) for name in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "saved"]
    history = store.history(BANJSKA)
    assert len(history) == 2 and history[-1].author in ("one", "two")
    assert history[-1].properties["summary"].endswith(f"By {history[-1].author}.")


def test_invalid_features_are_refused_with_the_files_messages_and_nothing_is_written(store):
    feature, revision = banjska_feature(store)
    feature["properties"]["date"] = "2023-13-45"
    feature["geometry"]["coordinates"] = [200.0, 43.0]
    version = store.version()
    with pytest.raises(ValidationFailed) as caught:
        store.save("events", feature, base_revision=revision, identity=Identity("analyst", "analyst"))
    fields = {p.field for p in caught.value.problems}
    assert "date" in fields and "geometry" in fields
    assert store.version() == version and len(store.history(BANJSKA)) == 1


def test_an_import_is_one_batch_and_reimporting_it_changes_nothing(store):
    events = events_file_features()
    new = copy.deepcopy(next(f for f in events if f["properties"]["id"] == BANJSKA))
    new["properties"]["id"] = "2023-09-24-banjska-attack-test-copy"
    changed = copy.deepcopy(next(f for f in events if f["properties"]["id"] == BANJSKA))
    retitle(changed, " (updated report)")
    features = [new, changed, events[0]]
    preview = store.import_features("events", features, identity=Identity("feeds", "analyst"), dry_run=True)
    assert (preview.batch, preview.added, preview.changed, preview.unchanged) == (None, 1, 1, 1)
    assert store.head("events", "2023-09-24-banjska-attack-test-copy") is None  # a dry run writes nothing
    result = store.import_features("events", features, identity=Identity("feeds", "analyst"), source="reports.geojson")
    assert (result.added, result.changed, result.unchanged) == (1, 1, 1) and result.batch is not None
    assert [c.fields for c in result.changes if c.kind == "changed"] == [("name", "title")]
    again = store.import_features("events", features, identity=Identity("feeds", "analyst"))
    assert (again.batch, again.added, again.changed, again.unchanged) == (None, 0, 0, 3)


def test_a_file_with_one_bad_row_writes_nothing(store):
    events = copy.deepcopy(events_file_features())
    retitle(events[0], " changed")
    events[5]["properties"]["event_type"] = "Picnic"
    version = store.version()
    with pytest.raises(ValidationFailed) as caught:
        store.import_features("events", events, identity=Identity("feeds", "analyst"))
    assert any(p.field == "event_type" for p in caught.value.problems)
    assert store.version() == version
    assert not store.head("events", events[0]["properties"]["id"])[0]["properties"]["title"].endswith(" changed")


def test_duplicate_ids_in_one_file_are_refused(store):
    events = events_file_features()
    with pytest.raises(ValidationFailed):
        store.import_features("events", [events[0], events[0]], identity=Identity("feeds", "analyst"))


def test_undo_restores_the_state_before_a_batch_and_is_itself_recorded(store):
    events = events_file_features()
    new = copy.deepcopy(events[1])
    new["properties"]["id"] = "2023-09-24-undo-test-event"
    changed = copy.deepcopy(events[2])
    retitle(changed, " (wrong)")
    batch = store.import_features("events", [new, changed], identity=Identity("feeds", "analyst")).batch
    undo = store.undo(batch, identity=Identity("lead", "admin"))
    assert store.head("events", "2023-09-24-undo-test-event") is None
    assert store.head("events", events[2]["properties"]["id"])[0]["properties"] == events[2]["properties"]
    assert any(b["id"] == undo and b["undoes"] == batch and b["author"] == "lead" for b in store.batch_list())
    with pytest.raises(StoreError):
        store.undo(batch, identity=Identity("lead", "admin"))  # once is enough


def test_undo_is_refused_when_a_feature_changed_since(store):
    events = events_file_features()
    changed = copy.deepcopy(events[3])
    retitle(changed, " (import)")
    batch = store.import_features("events", [changed], identity=Identity("feeds", "analyst")).batch
    feature, revision = store.head("events", events[3]["properties"]["id"])
    feature = copy.deepcopy(feature)
    retitle(feature, " (then edited)")
    store.save("events", feature, base_revision=revision, identity=Identity("analyst", "analyst"))
    version = store.version()
    with pytest.raises(ConflictError, match="changed since"):
        store.undo(batch, identity=Identity("lead", "admin"))
    assert store.version() == version


def test_retire_and_restore_are_revisions(store):
    feature, revision = banjska_feature(store)
    with pytest.raises(StoreError):
        store.retire("events", BANJSKA, base_revision=revision, identity=Identity("analyst", "analyst"), reason=" ")
    store.retire("events", BANJSKA, base_revision=revision, identity=Identity("analyst", "analyst"), reason="duplicate of another report")
    assert store.head("events", BANJSKA) is None
    assert BANJSKA not in set(store.current("events")["id"])
    history = store.history(BANJSKA)
    assert history[-1].retired and history[-1].comment == "duplicate of another report"
    store.restore_revision("events", BANJSKA, 1, identity=Identity("lead", "admin"))
    assert store.head("events", BANJSKA)[1] == 3
    assert store.head("events", BANJSKA)[0]["properties"] == feature["properties"]


def test_dump_and_restore_reproduce_the_store_exactly(store, tmp_path, store_url):
    feature, revision = banjska_feature(store)
    feature["properties"]["summary"] += " Edited before the dump."
    store.save("events", feature, base_revision=revision, identity=Identity("analyst", "analyst"))
    first = tmp_path / "first"
    store.dump(first)
    if store_url.startswith("sqlite"):
        target_url = f"sqlite:///{tmp_path / 'restored.sqlite'}"
        target = Store(target_url)
        db.migrate(target._writer)
        target.restore(first)
        second = tmp_path / "second"
        target.dump(second)
        target.close()
    else:
        from tests.pgcluster import fresh_database

        with fresh_database(store_url, f"store_restore_{next(_names)}") as target_url:
            target = Store(target_url)
            db.migrate(target._writer)
            target.restore(first)
            second = tmp_path / "second"
            target.dump(second)
            with pytest.raises(StoreError):
                target.restore(first)  # only into an empty store
            target.close()
    for name in ("history.jsonl", "events.geojson", "places.geojson", "kfor_areas.geojson", "serbian_deployments.geojson"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_version_check_is_cheap_and_moves_only_on_writes(store):
    before = store.version()
    store.current("events")
    store.history(BANJSKA)
    assert store.version() == before


def test_the_command_line_imports_reports_and_refuses_bad_files(tmp_path, store_url, store):
    env = {"BORDER_BRIEF_DATABASE_URL": store_url, "PATH": "/usr/bin:/bin"}
    events = events_file_features()
    new = copy.deepcopy(events[4])
    new["properties"]["id"] = "2023-09-24-cli-test-event"
    good = tmp_path / "reports.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": [new, events[0]]}, ensure_ascii=False), encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "store", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)

    done = run("import", str(good), "--author", "cli", "--json")
    assert done.returncode == 0, done.stderr
    assert {k: v for k, v in json.loads(done.stdout).items() if k != "batch"} == {"added": 1, "changed": 0, "unchanged": 1, "dry_run": False}
    assert json.loads(done.stdout)["batch"] is not None
    again = run("import", str(good), "--author", "cli", "--json")
    assert json.loads(again.stdout)["batch"] is None and json.loads(again.stdout)["unchanged"] == 2
    history = run("history", "2023-09-24-cli-test-event", "--json")
    assert json.loads(history.stdout)[0]["author"] == "cli"

    broken = tmp_path / "broken.geojson"
    broken.write_text(good.read_text(encoding="utf-8")[:-40], encoding="utf-8")  # truncated
    version = store.version()
    failed = run("import", str(broken), "--author", "cli")
    assert failed.returncode == 2 and "not valid JSON" in failed.stderr and "nothing was written" in failed.stderr
    latin = tmp_path / "latin.geojson"
    text = good.read_text(encoding="utf-8")
    assert "č" in text or "ë" in text
    latin.write_bytes(text.encode("cp1250", errors="replace"))
    failed = run("import", str(latin), "--author", "cli")
    assert failed.returncode == 2 and "UTF-8" in failed.stderr
    assert store.version() == version


def test_changes_since_lists_new_changed_and_retired_features(store):
    import datetime as dt
    import time

    time.sleep(1.1)  # revisions are stamped to the second
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    time.sleep(1.1)
    assert store.changes_since(before) == []
    events = events_file_features()
    new = copy.deepcopy(events[6])
    new["properties"]["id"] = "2023-09-24-since-test-event"
    store.import_features("events", [new], identity=Identity("feeds", "analyst"))
    feature, revision = banjska_feature(store)
    retitle(feature, " (changed)")
    store.save("events", feature, base_revision=revision, identity=Identity("analyst", "analyst"))
    gone = store.head("events", events[7]["properties"]["id"])
    store.retire("events", events[7]["properties"]["id"], base_revision=gone[1], identity=Identity("analyst", "analyst"), reason="duplicate")
    kinds = {(c.layer, c.feature_id): c.kind for c in store.changes_since(before)}
    assert kinds == {
        ("events", "2023-09-24-since-test-event"): "added",
        ("events", BANJSKA): "changed",
        ("events", events[7]["properties"]["id"]): "retired",
    }


def test_geometries_read_back_from_ewkt_are_exact_for_points_and_other_kinds():
    """store.api._shapes: the column-wise point reader gives the same doubles as GEOS's WKT reader."""
    import numpy as np
    import shapely

    from store.api import _ewkts, _shapes

    rng = np.random.default_rng(11)
    xy = np.column_stack([rng.uniform(18.0, 23.0, 500), rng.uniform(41.0, 44.0, 500)])
    xy[0] = (20.0, 42.0)  # integers are written without a decimal point
    xy[1] = (1e-7, -3.5e-12)  # exponents
    geometries = [{"type": "Point", "coordinates": [float(x), float(y)]} for x, y in xy]
    geometries.append({"type": "Polygon", "coordinates": [[[20, 42], [21, 42], [21, 43], [20, 42]]]})
    texts = _ewkts(geometries) + ["SRID=4326;POINT Z (20 42 7)", "SRID=4326;MULTIPOINT ((20 42), (21 43))", None]
    read = _shapes(texts)
    assert read[-1] is None
    for text, geometry in zip(texts[:-1], read[:-1]):
        assert shapely.equals_exact(geometry, shapely.from_wkt(text.split(";", 1)[1]), tolerance=0), text
        assert np.array_equal(shapely.get_coordinates(geometry, include_z=True),
                              shapely.get_coordinates(shapely.from_wkt(text.split(";", 1)[1]), include_z=True),
                              equal_nan=True), text
    assert [g.x for g in read[:500]] == xy[:, 0].tolist() and [g.y for g in read[:500]] == xy[:, 1].tolist()
