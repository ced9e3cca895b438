"""Shared fixtures: the real layer data, loaded once for the whole test run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# The app under test (AppTest in this process, browser tests in a subprocess that
# inherits the environment) uses its own throwaway store, never the developer's.
_TEST_STORE = Path(tempfile.mkdtemp(prefix="bb-test-store-")) / "store.sqlite"
os.environ["BORDER_BRIEF_DATABASE_URL"] = f"sqlite:///{_TEST_STORE}"
os.environ["BORDER_BRIEF_CACHE_DIR"] = str(_TEST_STORE.parent / "cache")


@pytest.fixture(scope="session")
def settings():
    from layers.config import load_settings

    return load_settings({})


@pytest.fixture(scope="session")
def layer_data(settings):
    from layers.data import load_layer_data

    return load_layer_data(settings)


BANJSKA_ATTACK = "2023-09-24-banjska-attack"


@pytest.fixture(scope="session")
def postgis_url():
    """URL of ``border_brief_test`` in a throwaway PostgreSQL + PostGIS cluster (pgcluster.py).

    The cluster is started once per test run on a free port of 127.0.0.1 and removed afterwards.
    Missing binaries fail the tests instead of skipping them: scripts/run-tests.sh installs them.
    """
    import contextlib

    from tests.pgcluster import PostgisUnavailable, throwaway_postgis

    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_postgis())
        except PostgisUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        yield url
