"""The Map page sends the map's component arguments without st_folium (ui.mapview.component_args),
so that a rerun which changes nothing on the map does not render it again. These tests keep
those arguments identical to what streamlit-folium's own st_folium sends for the same map."""

from __future__ import annotations

import re

import pytest
import streamlit_folium

from layers.catalog import DEFAULT_VISIBLE
from layers.config import MAP_HEIGHT_PX
from layers.render import build_map
from ui import mapview

_RANDOM_ID = re.compile(r"[0-9a-f]{32}")


def _normalised(args: dict) -> dict:
    """Folium names every element with a random 32-hex id: two builds differ only there."""
    return {k: _RANDOM_ID.sub("ID", v) if isinstance(v, str) else v for k, v in args.items()}


def _map(layer_data, settings, **options):
    frames = dict(layer_data.display)
    frames["events"] = layer_data.full["events"]
    return build_map(frames, list(DEFAULT_VISIBLE), basemap="offline", settings=settings, **options)


@pytest.mark.parametrize("options", [{}, {"view": (43.03, 20.74, 12), "view_token": "abc123"}])
def test_component_args_are_what_st_folium_sends(layer_data, settings, monkeypatch, options):
    sent = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kwargs: sent.append(kwargs))
    streamlit_folium.st_folium(
        _map(layer_data, settings, **options), key="bb_map", height=MAP_HEIGHT_PX, use_container_width=True,
        returned_objects=list(mapview.RETURNED),
    )
    (theirs,) = sent
    theirs.pop("on_change")
    ours = mapview.component_args(_map(layer_data, settings, **options))
    assert set(ours) == set(theirs), "the same argument names"
    assert _normalised(ours) == _normalised(theirs)
    # and they carry this map: the runtime's options (the view token) are in the script
    assert ("abc123" in ours["script"]) == bool(options)
    assert ours["key"] == theirs["key"], "the same component key: the browser keeps the same frame"


def test_different_maps_get_different_keys(layer_data, settings):
    """The component key is the script's hash: a changed map (here another opening view) is a new
    frame, an unchanged one keeps its frame across reruns."""
    a = mapview.component_args(_map(layer_data, settings))
    b = mapview.component_args(_map(layer_data, settings))
    c = mapview.component_args(_map(layer_data, settings, view=(42.9, 20.9, 11)))
    assert a["key"] == b["key"]
    assert a["key"] != c["key"]
