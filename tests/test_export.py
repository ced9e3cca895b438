"""`python -m layers export OUTDIR`: every layer as RFC 7946 GeoJSON plus events.csv, from the store.

The written files are checked with an independent reader: plain ``json``/``csv`` and a
shoelace formula written here (not shapely's orientation helpers, not our code), and
``pyogrio`` (GDAL) for re-reading every layer.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Polygon

from geo.events import load_events
from geo.io import load_layer
from layers.catalog import LAYERS
from store.access import Identity

REPO = Path(__file__).resolve().parent.parent
BOM = b"\xef\xbb\xbf"
POLYGON_LAYERS = ("countries", "kfor_areas", "serbian_deployments", "ground_safety_zone", "air_safety_zone")
EDITED_EVENT = "2023-09-24-banjska-attack"


def fresh_store_url(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 's.sqlite'}"


def run_export(outdir: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the command; unless told otherwise, against a fresh store (seeded from data/) beside OUTDIR."""
    env.setdefault("BORDER_BRIEF_DATABASE_URL", fresh_store_url(outdir.parent / f"{outdir.name}-store"))
    return subprocess.run(
        [sys.executable, "-m", "layers", "export", str(outdir)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """One export from a fresh store, shared by the tests that only read it."""
    outdir = tmp_path_factory.mktemp("export") / "out"
    result = run_export(outdir)
    assert result.returncode == 0, result.stderr
    return outdir


# --- an independent reader ---------------------------------------------------------

def signed_area(ring: list[list[float]]) -> float:
    """Shoelace formula: positive for a counterclockwise ring (x = longitude, y = latitude)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        total += x1 * y2 - x2 * y1
    return total / 2.0


def polygons_of(geometry: dict) -> list[list[list[list[float]]]]:
    """Each polygon's rings (exterior first) of a GeoJSON Polygon or MultiPolygon; [] otherwise."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    return []


def orientation_problems(document: dict) -> tuple[list[str], int, int]:
    """(problems, exterior rings seen, holes seen) of a FeatureCollection."""
    problems, exteriors, holes = [], 0, 0
    for feature in document["features"]:
        for polygon in polygons_of(feature["geometry"]):
            exterior, *interiors = polygon
            exteriors += 1
            if not signed_area(exterior) > 0:
                problems.append(f"{feature['id']}: exterior ring is clockwise (area {signed_area(exterior):.3g})")
            for hole in interiors:
                holes += 1
                if not signed_area(hole) < 0:
                    problems.append(f"{feature['id']}: hole is counterclockwise (area {signed_area(hole):.3g})")
    return problems, exteriors, holes


def test_signed_area_reader_knows_both_orientations():
    # so that the orientation tests below can fail: the reader tells the two directions apart
    ccw = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    assert signed_area(ccw) == pytest.approx(1.0)
    assert signed_area(ccw[::-1]) == pytest.approx(-1.0)
    clockwise = {"features": [{"id": "x", "geometry": {"type": "Polygon", "coordinates": [ccw[::-1], ccw]}}]}
    problems, exteriors, holes = orientation_problems(clockwise)
    assert (len(problems), exteriors, holes) == (2, 1, 1)


# --- the written files -------------------------------------------------------------

def test_export_writes_every_layer_as_rfc7946(exported, layer_data):
    for spec in LAYERS:
        path = exported / f"{spec.id}.geojson"
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["type"] == "FeatureCollection" and "crs" not in document
        assert len(document["features"]) == len(layer_data.full[spec.id])
        for feature in document["features"]:
            props = feature["properties"]
            assert feature["id"] == props["id"] and props["name"] and props["sources"]
            assert all(s["url"].startswith("http") for s in props["sources"])
        # what we export, we can load again with the same validation
        reloaded = load_events(path) if spec.id == "events" else load_layer(path, spec.id)
        assert sorted(reloaded["id"]) == sorted(layer_data.full[spec.id]["id"])
    assert sorted(p.name for p in exported.iterdir()) == sorted([f"{s.id}.geojson" for s in LAYERS] + ["events.csv"])


def test_exported_polygons_follow_the_right_hand_rule(exported):
    seen = {}
    for spec in LAYERS:
        document = json.loads((exported / f"{spec.id}.geojson").read_text(encoding="utf-8"))
        problems, exteriors, holes = orientation_problems(document)
        assert not problems, f"{spec.id}.geojson: {problems[:5]}"
        seen[spec.id] = (exteriors, holes)
    for layer_id in POLYGON_LAYERS:
        assert seen[layer_id][0] > 0, f"{layer_id} has no polygon to check"
    assert sum(holes for _, holes in seen.values()) > 0, "no hole was checked"


def test_exported_layers_reread_with_gdal(exported, layer_data):
    for spec in LAYERS:
        frame = pyogrio.read_dataframe(exported / f"{spec.id}.geojson")
        assert frame.crs.to_epsg() == 4326
        assert len(frame) == len(layer_data.full[spec.id])
        assert sorted(frame["id"]) == sorted(layer_data.full[spec.id]["id"])
        assert frame.geometry.is_valid.all() and not frame.geometry.is_empty.any()
        assert frame["name"].notna().all()


def test_events_csv_has_a_bom_and_one_row_per_event(exported):
    raw = (exported / "events.csv").read_bytes()
    assert raw.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(raw[len(BOM):].decode("utf-8"), newline="")))
    events = json.loads((exported / "events.geojson").read_text(encoding="utf-8"))["features"]
    assert len(rows) == len(events) > 0
    assert sorted(r["id"] for r in rows) == sorted(f["id"] for f in events)
    titles = {f["id"]: f["properties"]["title"] for f in events}
    assert all(r["title"] == titles[r["id"]] for r in rows if not r["title"].startswith("'"))


def test_app_download_payload_follows_the_right_hand_rule(layer_data):
    """What the Layers & data page's GeoJSON download buttons send."""
    from layers.export import dumps, to_feature_collection

    holes_seen = 0
    for layer_id in POLYGON_LAYERS:
        payload = dumps(to_feature_collection(layer_data.full[layer_id], layer_id))
        problems, exteriors, holes = orientation_problems(json.loads(payload))
        assert not problems and exteriors > 0, f"{layer_id}: {problems[:5]}"
        holes_seen += holes
    assert holes_seen > 0


def test_payload_orients_rings_given_the_wrong_way_round():
    from layers.export import dumps, to_feature_collection

    exterior = [(20.0, 42.0), (20.0, 43.0), (21.0, 43.0), (21.0, 42.0)]  # clockwise
    hole = [(20.2, 42.2), (20.4, 42.2), (20.4, 42.4), (20.2, 42.4)]  # counterclockwise
    frame = gpd.GeoDataFrame(
        {"id": ["a"], "name": ["A"], "sources": [[]]}, geometry=[Polygon(exterior, [hole])], crs=4326
    )
    document = json.loads(dumps(to_feature_collection(frame, "test")))
    problems, exteriors, holes = orientation_problems(document)
    assert (problems, exteriors, holes) == ([], 1, 1)
    # in a metric CRS it is reprojected first, then oriented
    document = json.loads(dumps(to_feature_collection(frame.to_crs(32634), "test")))
    assert orientation_problems(document)[0] == []


# --- the store's current catalogue -------------------------------------------------

def test_an_edit_saved_in_the_store_is_exported(tmp_path):
    from layers.config import load_settings
    from store import Store, open_store

    url = fresh_store_url(tmp_path / "store")
    open_store(load_settings({"BORDER_BRIEF_DATABASE_URL": url})).close()  # seeded from data/
    store = Store(url)
    try:
        feature, revision = store.head("events", EDITED_EVENT)
        edited = json.loads(json.dumps(feature))
        title = "Banjska attack (edited in the store) – ćirilica ë"
        edited["properties"].update(title=title, name=title, summary="=1+1 would be a formula in a spreadsheet.")
        store.save("events", edited, base_revision=revision, identity=Identity("analyst", "analyst"), comment="test edit")
    finally:
        store.close()

    result = run_export(tmp_path / "out", BORDER_BRIEF_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    events = json.loads((tmp_path / "out" / "events.geojson").read_text(encoding="utf-8"))["features"]
    exported = next(f for f in events if f["id"] == EDITED_EVENT)
    assert exported["properties"]["title"] == exported["properties"]["name"] == title
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "events.csv").read_bytes().decode("utf-8-sig"), newline="")))
    row = next(r for r in rows if r["id"] == EDITED_EVENT)
    assert row["title"] == title
    assert row["summary"] == "'=1+1 would be a formula in a spreadsheet."  # neutralised
    assert len(rows) == len(events)


# --- errors: a clear message, nothing written ----------------------------------------

def copy_data(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for source in (REPO / "data").glob("*.geojson"):
        (data_dir / source.name).write_bytes(source.read_bytes())
    return data_dir


def test_export_refuses_broken_data_and_writes_nothing(tmp_path):
    data_dir = copy_data(tmp_path)
    (data_dir / "border.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    result = run_export(tmp_path / "out", BORDER_BRIEF_DATA_DIR=str(data_dir))
    assert result.returncode == 1
    assert "border.geojson" in result.stderr and "not valid JSON" in result.stderr
    assert not (tmp_path / "out").exists()


def test_export_reports_the_store_refusing_the_catalogue(tmp_path):
    data_dir = copy_data(tmp_path)
    path = data_dir / "events.geojson"
    document = json.loads(path.read_text(encoding="utf-8"))
    broken = next(f for f in document["features"] if f["properties"]["id"] == EDITED_EVENT)
    broken["properties"]["date"] = "2023-13-45"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = run_export(tmp_path / "out", BORDER_BRIEF_DATA_DIR=str(data_dir))
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert EDITED_EVENT in result.stderr and "date" in result.stderr
    assert not (tmp_path / "out").exists()


def test_export_reports_an_unreachable_store(tmp_path):
    result = run_export(tmp_path / "out", BORDER_BRIEF_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "store" in result.stderr
    assert not (tmp_path / "out").exists()
