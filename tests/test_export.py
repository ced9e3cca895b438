"""`python -m layers export OUTDIR`: every layer as RFC 7946 GeoJSON, from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from geo.events import load_events
from geo.io import load_layer
from layers.catalog import LAYERS

REPO = Path(__file__).resolve().parent.parent


def run_export(outdir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "layers", "export", str(outdir)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_writes_every_layer_as_rfc7946(tmp_path, layer_data):
    result = run_export(tmp_path / "out")
    assert result.returncode == 0, result.stderr
    for spec in LAYERS:
        path = tmp_path / "out" / f"{spec.id}.geojson"
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


def test_export_refuses_broken_data_and_writes_nothing(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for source in (REPO / "data").glob("*.geojson"):
        (data_dir / source.name).write_bytes(source.read_bytes())
    (data_dir / "border.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    result = run_export(tmp_path / "out", BORDER_BRIEF_DATA_DIR=str(data_dir))
    assert result.returncode == 1
    assert "border.geojson" in result.stderr and "not valid JSON" in result.stderr
    assert not (tmp_path / "out").exists()
