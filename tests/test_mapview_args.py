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


@pytest.mark.parametrize("options", [{}, {"view": (42.91, 20.87, 11)}])
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
    # and they carry this map's opening view, in the document's header, never in the script
    meta = '<meta name="bb-opening-view" content="42.91000,20.87000,11">'
    assert (meta in ours["header"]) == bool(options)
    plain = mapview.component_args(_map(layer_data, settings))
    assert _normalised(ours)["script"] == _normalised(plain)["script"]
    assert ours["key"] == theirs["key"], "the same component key: the browser keeps the same frame"


def test_different_maps_get_different_keys(layer_data, settings):
    """The component key is the script's hash: a changed map (here other layers) is a new frame,
    an unchanged one keeps its frame across reruns."""
    a = mapview.component_args(_map(layer_data, settings))
    b = mapview.component_args(_map(layer_data, settings))
    frames = dict(layer_data.display)
    frames["events"] = layer_data.full["events"]
    c = mapview.component_args(build_map(frames, ["countries", "border"], basemap="offline", settings=settings))
    assert a["key"] == b["key"]
    assert a["key"] != c["key"]


def test_sessions_that_show_the_same_map_give_it_the_same_key(layer_data, settings):
    """Issue 15's failover: a browser whose replica died reconnects to a new session on another
    replica without running the page again, so it still shows (and clicks) the old session's map.
    That session's opening view (here a deep link's event, and a panned link's view) must not
    change the component's identity, or the new session would not know the click's component."""
    plain = mapview.component_args(_map(layer_data, settings))
    on_event = mapview.component_args(_map(layer_data, settings, view=(42.97333, 20.78083, 12)))
    on_view = mapview.component_args(_map(layer_data, settings, view=(43.1, 20.6, 8)))
    assert plain["key"] == on_event["key"] == on_view["key"]
    assert _normalised(plain)["script"] == _normalised(on_event)["script"] == _normalised(on_view)["script"]
    assert on_event["header"] != on_view["header"]  # each still opens where its session said


def test_the_opening_view_is_a_meta_element_with_numbers_only():
    from layers.render import OpeningView

    assert OpeningView((42.97333, 20.78083, 12)).render() == '<meta name="bb-opening-view" content="42.97333,20.78083,12">'
    with pytest.raises((TypeError, ValueError)):
        OpeningView(("43\"><script>", 20.7, 12))
