"""The event palette under colour-vision deficiencies (issue 16): layers/colour_vision.py."""

from __future__ import annotations

import numpy as np
import pytest

from layers.catalog import EVENT_TYPE_COLORS, EVENT_TYPE_SYMBOLS, UNKNOWN_EVENT_SYMBOL
from layers.colour_vision import (
    MACHADO_2009,
    MIN_DELTA_E,
    ciede2000,
    hex_to_linear,
    linear_to_hex,
    linear_to_lab,
    report,
    simulate,
)

# Sharma, Wu & Dalal (2005), Table 1: pairs 1, 7, 17, 25 and 34 with their published ΔE00.
SHARMA_PAIRS = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize("lab1,lab2,expected", SHARMA_PAIRS)
def test_ciede2000_matches_sharmas_published_test_data(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)  # symmetric


def test_srgb_round_trip_and_lab_of_white_and_black():
    for colour in ("#000000", "#ffffff", "#b91c1c", "#0369a1"):
        assert linear_to_hex(hex_to_linear(colour)) == colour
    assert linear_to_lab(np.ones(3)) == pytest.approx((100, 0, 0), abs=1e-6)
    assert linear_to_lab(np.zeros(3)) == pytest.approx((0, 0, 0), abs=1e-6)
    with pytest.raises(ValueError):
        hex_to_linear("#abc")


@pytest.mark.parametrize("deficiency", sorted(MACHADO_2009))
def test_the_simulation_keeps_greys_and_merges_what_dichromats_confuse(deficiency):
    # Each Machado matrix maps neutral grey to itself (its rows sum to 1).
    assert MACHADO_2009[deficiency].sum(axis=1) == pytest.approx(np.ones(3), abs=2e-3)
    grey = linear_to_lab(simulate("#808080", deficiency))
    assert abs(grey[1]) < 1 and abs(grey[2]) < 1


def test_red_and_green_collapse_for_red_green_dichromats_but_not_for_normal_vision():
    red, green = "#d62728", "#2ca02c"  # a classic confusable pair
    normal = ciede2000(linear_to_lab(hex_to_linear(red)), linear_to_lab(hex_to_linear(green)))
    assert normal > 50
    for deficiency in ("protanopia", "deuteranopia"):
        seen = ciede2000(linear_to_lab(simulate(red, deficiency)), linear_to_lab(simulate(green, deficiency)))
        assert seen < normal / 2, deficiency


def test_every_event_type_pair_is_told_apart_by_colour_or_else_by_symbol():
    """Colour is never the only signal: where a deficiency brings two types' colours closer
    than MIN_DELTA_E, their symbols differ (and every type has a symbol of its own)."""
    symbols = {**EVENT_TYPE_SYMBOLS, "other type": UNKNOWN_EVENT_SYMBOL}
    assert set(EVENT_TYPE_SYMBOLS) == set(EVENT_TYPE_COLORS)
    assert len(set(symbols.values())) == len(symbols)
    results = report()
    assert set(results) == {"normal", *MACHADO_2009}
    n = len(symbols)
    for vision, pairs in results.items():
        assert len(pairs) == n * (n - 1) // 2
        for distance, a, b in pairs:
            assert distance >= MIN_DELTA_E or symbols[a] != symbols[b], (vision, a, b, distance)
    # with normal vision the colours alone tell every pair apart
    assert min(d for d, *_ in results["normal"]) >= MIN_DELTA_E
