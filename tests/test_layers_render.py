"""Layer rendering: the generated map script, its assets, and the compact event payload."""

from __future__ import annotations

import datetime as dt
import json
import re

import branca
import folium
import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers import assets
from layers.js import js_literal
from layers.catalog import DEFAULT_VISIBLE, LAYERS, LAYERS_BY_ID
from layers.config import load_settings
from layers.render import DETAIL_LIMIT, build_map, event_payload, filter_events

ALL_LAYERS = [spec.id for spec in LAYERS]
CDN_HOSTS = ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "netdna.bootstrapcdn.com", "unpkg.com")


def rendered(m: folium.Map) -> str:
    return m.get_root().render()


def linked_assets(m: folium.Map) -> list[str]:
    """What streamlit-folium would load: default_js/default_css of every element."""
    links = []

    def walk(element):
        links.extend(url for _, url in getattr(element, "default_js", []))
        links.extend(url for _, url in getattr(element, "default_css", []))
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(m)
    return links


@pytest.fixture(scope="module")
def frames(layer_data):
    return dict(layer_data.display)


def test_local_mode_links_no_cdn_and_every_file_exists(frames, settings):
    assets.sync()
    m = build_map(frames, ALL_LAYERS, basemap="offline", settings=settings)
    links = linked_assets(m)
    assert links, "the map must declare its assets"
    assert not [url for url in links if any(host in url for host in CDN_HOSTS)]
    local = {f"../../app/static/vendor/{assets.local_relpath(assets.ASSETS[n])}" for n in assets.ASSETS}
    assert set(links) <= local, "every link is one of the locally served assets"
    for name in assets.MAP_JS + assets.MAP_CSS + assets.SUPERCLUSTER_JS:
        assert f"../../app/static/vendor/{assets.local_relpath(assets.ASSETS[name])}" in links
    for asset in assets.ASSETS.values():
        assert (assets.VENDOR_DIR / assets.local_relpath(asset)).is_file()
    html = rendered(m)
    assert not [host for host in CDN_HOSTS if host in html]


def test_cdn_mode_uses_public_cdns(frames):
    settings = load_settings({"BORDER_BRIEF_ASSETS": "cdn"})
    links = linked_assets(build_map(frames, ["countries", "events"], basemap="offline", settings=settings))
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in links


def test_every_visible_layer_is_drawn_with_all_its_feature_ids(frames, settings):
    html = rendered(build_map(frames, ALL_LAYERS, basemap="offline", settings=settings))
    for layer_id in ALL_LAYERS:
        if layer_id == "events":
            continue
        # data enters the page as js_literal text (underscores escaped, see layers/js.py)
        assert js_literal(layer_id) in html
        for feature_id in frames[layer_id]["id"]:
            assert '"id":' + js_literal(feature_id) in html, (layer_id, feature_id)
    for event_id in frames["events"]["id"]:
        assert js_literal(event_id) in html


def test_hidden_layers_are_not_drawn(frames, settings):
    html = rendered(build_map(frames, ["border"], basemap="offline", settings=settings))
    assert "new Supercluster" not in html and '"prec":' not in html  # no event layer, no event data
    for feature_id in frames["kfor_areas"]["id"]:
        assert f'"id":"{feature_id}"' not in html


def test_offline_basemap_draws_country_outlines_and_no_tiles(frames, settings):
    html = rendered(build_map(frames, [], basemap="offline", settings=settings))
    assert "L.tileLayer" not in html
    assert "bbBasemap" in html and '"XKX":"#fdf6e3"' in html  # Kosovo's land colour
    for name in frames["countries"]["name"]:
        assert json.dumps(name, ensure_ascii=False) in html


@pytest.mark.parametrize("basemap, url", [("osm", "tile.openstreetmap.org"), ("opentopomap", "opentopomap.org")])
def test_tile_basemaps(frames, settings, basemap, url):
    html = rendered(build_map(frames, [], basemap=basemap, settings=settings))
    assert "L.tileLayer" in html and url in html


def test_deployment_tile_server(frames):
    settings = load_settings({"BORDER_BRIEF_TILE_URL": "https://tiles.internal.example/{z}/{x}/{y}.png"})
    html = rendered(build_map(frames, [], basemap="custom", settings=settings))
    assert "https://tiles.internal.example/{z}/{x}/{y}.png" in html


def test_unknown_basemap_or_layer_is_refused(frames, settings):
    with pytest.raises(ValueError, match="unknown basemap"):
        build_map(frames, [], basemap="nope", settings=settings)
    with pytest.raises(ValueError, match="unknown layer"):
        build_map(frames, ["nope"], basemap="offline", settings=settings)


def test_map_script_is_identical_for_the_same_state(frames, settings):
    """A rerun (e.g. after a click) must not change the script, or the browser re-renders the map."""
    from streamlit_folium import _get_map_string

    first = _get_map_string(build_map(frames, list(DEFAULT_VISIBLE), basemap="offline", settings=settings))
    second = _get_map_string(build_map(frames, list(DEFAULT_VISIBLE), basemap="offline", settings=settings))
    strip = lambda s: re.sub(r"_[0-9a-f]{32}", "", s)  # noqa: E731  (element ids are random)
    assert strip(first) == strip(second)


def _events(titles, precisions=None, dates=None):
    n = len(titles)
    return gpd.GeoDataFrame(
        {
            "id": [f"ev-{i}" for i in range(n)],
            "title": titles,
            "event_type": ["Battles"] * n,
            "geo_precision": precisions or [1] * n,
            "date": dates or ["2023-09-24"] * n,
        },
        geometry=[Point(20.79 + i * 1e-3, 43.01) for i in range(n)],
        crs="EPSG:4326",
    )


def test_event_payload_round_trips_positions_types_and_dates():
    events = _events(["a", "b"], precisions=[1, 3], dates=["2023-09-24", "2023-10-01"])
    payload = event_payload(events)
    assert payload["id"] == ["ev-0", "ev-1"]
    assert [lon / 1e5 for lon in payload["lon"]] == pytest.approx([20.79, 20.791], abs=1e-5)
    assert payload["prec"] == [1, 3]
    assert payload["day"] == [0, 7]
    assert dt.datetime.fromtimestamp(payload["baseDay"] / 1000, dt.timezone.utc).date() == dt.date(2023, 9, 24)
    assert payload["colors"][payload["type"][0]] == "#b91c1c"
    assert payload["title"] == ["a", "b"]


def test_large_catalogues_leave_out_titles_and_circles():
    payload = event_payload(_events(["t"] * (DETAIL_LIMIT + 1)))
    assert payload["title"] is None and payload["uncertaintyRadius"] is None


def test_hostile_event_text_cannot_break_out_of_the_script(settings, frames):
    hostile = _events(['</script><script>alert("x")</script>', "<img src=x onerror=alert(1)>"])
    html = rendered(build_map({**frames, "events": hostile}, ["events"], basemap="offline", settings=settings))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "\\u003c/script\\u003e" in html


def test_filter_events_is_inclusive():
    events = _events(["a", "b", "c"], dates=["2023-09-23", "2023-09-24", "2023-09-30"])
    kept = filter_events(events, dt.date(2023, 9, 24), dt.date(2023, 9, 30))
    assert list(kept["id"]) == ["ev-1", "ev-2"]
    assert len(filter_events(events, None, None)) == 3


def test_layer_specs_are_complete(layer_data):
    for spec in LAYERS:
        assert spec.id in layer_data.full, spec.id
        frame = layer_data.full[spec.id]
        for field, _ in spec.panel_fields:
            assert field in frame.columns, (spec.id, field)
    assert LAYERS_BY_ID["events"].group == "events"


def test_changes_since_are_drawn_as_rings_and_outlines_and_explained(layer_data, settings):
    from layers.render import CHANGE_COLORS, ChangeMarks

    frames = dict(layer_data.display)
    event_id = layer_data.full["events"]["id"].iloc[0]
    area_id = layer_data.full["kfor_areas"]["id"].iloc[0]
    changes = {"events": {event_id: "added", "gone-event": "retired"}, "kfor_areas": {area_id: "changed"}}
    marks = ChangeMarks(changes, frames, ["events", "kfor_areas"])
    assert marks.count == 2  # retired features are not drawn (they are listed)
    html = rendered(build_map(frames, ["events", "kfor_areas"], basemap="offline", settings=settings, changes=changes))
    assert CHANGE_COLORS["added"] in html and area_id in html and "Changed since the chosen moment" in html
    assert ChangeMarks(changes, frames, ["kfor_areas"]).count == 1  # hidden events: no rings for them
    plain = rendered(build_map(frames, ["events"], basemap="offline", settings=settings))
    assert "ChangeMarks" not in plain and "Changed since the chosen moment" not in plain


def _playback_payload(html: str) -> dict:
    """The playback control's data: the JSON argument of its script (layers/playback.js)."""
    found = re.search(r'\(map_\w+, (\{"start":.*?"frameMs":\d+\})\);', html)
    assert found, "no playback control on the map"
    return json.loads(found.group(1))


def test_playback_walks_the_given_window_with_the_dated_areas_of_the_visible_layers(frames, settings):
    events = filter_events(frames["events"], dt.date(2023, 9, 20), dt.date(2023, 10, 10))
    m = build_map(
        {**frames, "events": events},
        ["countries", "events", "kfor_areas", "serbian_deployments"],
        basemap="offline",
        settings=settings,
        window=(dt.date(2023, 9, 20), dt.date(2023, 10, 10)),
    )
    payload = _playback_payload(rendered(m))
    assert (payload["start"], payload["end"]) == ("2023-09-20", "2023-10-10")
    assert payload["eventDays"] == sorted(set(events["date"].astype(str).str.slice(0, 10)))
    assert "2023-09-24" in payload["eventDays"]  # the Banjska attack
    september = payload["areas"]["serbian_deployments"]["serbian-buildup-boundary-belt-2023-09"]
    assert september == ["2023-09-24", "2023-10-02"]
    assert payload["areas"]["kfor_areas"]["kfor-reinforcement-north-2023"] == ["2023-10-06", None]


def test_playback_leaves_out_hidden_layers_and_a_map_with_nothing_dated(frames, settings):
    html = rendered(build_map(frames, ["countries", "events"], basemap="offline", settings=settings))
    payload = _playback_payload(html)
    assert payload["areas"] == {}
    first, last = frames["events"]["date"].astype(str).min()[:10], frames["events"]["date"].astype(str).max()[:10]
    assert (payload["start"], payload["end"]) == (first, last)  # no window given: the events' span
    assert '"frameMs"' not in rendered(build_map(frames, ["countries", "border"], basemap="offline", settings=settings))


def test_events_are_clustered_by_the_locally_served_supercluster_not_markercluster(frames, settings):
    m = build_map(frames, ["countries", "events"], basemap="offline", settings=settings)
    links = linked_assets(m)
    supercluster = f"../../app/static/vendor/{assets.local_relpath(assets.ASSETS['supercluster'])}"
    assert supercluster in links and supercluster.endswith("supercluster/dist/supercluster.min.js")
    assert not [url for url in links if "markercluster" in url.lower()]
    html = rendered(m)
    assert "new Supercluster(" in html and "markerClusterGroup" not in html
    assert not [host for host in CDN_HOSTS if host in html]
    cdn = linked_assets(build_map(frames, ["events"], basemap="offline", settings=load_settings({"BORDER_BRIEF_ASSETS": "cdn"})))
    assert "https://cdn.jsdelivr.net/npm/supercluster@8.0.1/dist/supercluster.min.js" in cdn


def test_each_event_type_has_its_own_symbol_named_in_the_legend(frames):
    from layers.catalog import EVENT_TYPE_COLORS, EVENT_TYPE_SYMBOLS, UNKNOWN_EVENT_SYMBOL
    from layers.render import legend_html

    assert set(EVENT_TYPE_SYMBOLS) == set(EVENT_TYPE_COLORS)
    shapes = list(EVENT_TYPE_SYMBOLS.values()) + [UNKNOWN_EVENT_SYMBOL]
    assert len(set(shapes)) == len(shapes)  # shape alone tells the types apart
    legend = legend_html(["events"])
    for name, symbol in EVENT_TYPE_SYMBOLS.items():
        assert f"{html_escape(name)} ({symbol.replace('-', ' ')})" in legend
    payload = event_payload(frames["events"])
    assert payload["symbols"] == shapes
    assert {payload["symbols"][t] for t in payload["type"]} <= set(shapes)


def html_escape(text: str) -> str:
    import html

    return html.escape(text)
