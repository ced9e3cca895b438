"""Shared fixtures: the real layer data, loaded once for the whole test run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def settings():
    from layers.config import load_settings

    return load_settings({})


@pytest.fixture(scope="session")
def layer_data(settings):
    from layers.data import load_layer_data

    return load_layer_data(settings)


BANJSKA_ATTACK = "2023-09-24-banjska-attack"
