"""The benchmark runs end to end at 10 events (server side only) and writes well-formed rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.run import ROW_KEYS
from bench.synthetic import synthetic_geojson
from geo.events import parse_events

REPO = Path(__file__).resolve().parent.parent


def test_synthetic_catalogue_passes_event_validation():
    events = parse_events(synthetic_geojson(200), source_name="synthetic.geojson")
    assert len(events) == 200 and events["id"].is_unique
    assert events["event_type"].nunique() == 6
    assert set(events["geo_precision"]) == {1, 2, 3}


def test_bench_runs_at_10_events_without_browser(tmp_path):
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--events", "10", "--no-browser", "--json", str(out),
         "--workdir", str(tmp_path / "work")],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(out.read_text())
    assert [(row["events"], row["impl"]) for row in rows] == [(10, "ours"), (10, "baseline")]
    for row in rows:
        assert set(ROW_KEYS) <= set(row)
        assert isinstance(row["build_s"], float) and row["build_s"] > 0
        assert isinstance(row["payload_bytes"], int) and row["payload_bytes"] > 0
        assert row["interactive_s"] is None and row["click_to_panel_s"] is None  # --no-browser
        assert isinstance(row["build_mem_mb"], float) and row["build_mem_mb"] >= 0  # Linux /proc peak RSS
        assert row["server_rss_mb"] is None  # measured only with the browser
    assert "| 10 | ours |" in done.stdout
