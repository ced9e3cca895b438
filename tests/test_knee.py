"""bench.knee: load levels one after another against a real app server (a small smoke run;
the issue's levels are a benchmark, README "Team scale")."""

from __future__ import annotations

import argparse
import concurrent.futures
from pathlib import Path

import pytest

from bench import knee

REPO = Path(__file__).resolve().parent.parent


def _in_thread(function, *args, **kwargs):
    """In a thread of its own: Playwright's sync API (browser tests) may hold this thread's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


@pytest.fixture(scope="module")
def server():
    from tests.browser.conftest import start_app, stop_app

    (REPO / "test-artifacts").mkdir(exist_ok=True)
    process, url = start_app()
    # A fresh server's first page load reads the catalogue (seconds on a busy machine): warm it.
    _in_thread(knee.sweep, url + "/", [1], duration=15, think=1, team_dir=None, limit_s=600, settle_s=0,
               log=lambda *_: None)
    yield url
    stop_app(process)


def test_a_sweep_runs_each_level_and_reports_the_knee(server):
    report = _in_thread(knee.sweep, server + "/", [1, 2], duration=6, think=1, team_dir=None, limit_s=60,
                        settle_s=0.5, log=lambda *_: None)
    assert [row["sessions"] for row in report["levels"]] == [1, 2], report["levels"]
    for row in report["levels"]:
        assert row["errors"] == 0, row["error_messages"]
        assert row["clicks"] >= 1 and row["click_p95_s"] is not None
    assert report["knee_sessions"] == 2 and report["knee_is_lower_bound"]
    text = knee.table(report)
    assert "| 2 | 1 |" in text and "knee: 2 sessions" in text


def test_the_sweep_stops_after_the_first_level_over_the_limit(server):
    """A limit no click can meet: the first level is over it, so the sweep stops there and
    reports no knee (instead of running the larger levels)."""
    report = _in_thread(knee.sweep, server + "/", [1, 2, 3], duration=4, think=1, team_dir=None, limit_s=0.0,
                        settle_s=0.5, log=lambda *_: None)
    assert [row["sessions"] for row in report["levels"]] == [1]
    assert report["knee_sessions"] is None
    assert "no level kept click p95" in knee.table(report)


@pytest.mark.parametrize("text", ["0,5", "5,x", "", f"10,{10**6}"])
def test_levels_out_of_bounds_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        knee._levels(text)
