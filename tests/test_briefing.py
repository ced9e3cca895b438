"""The offline briefing file (issue 14): self-contained, the sender's state, hostile text kept as text.

The browser tier (tests/browser/test_briefing_file_browser.py) opens these files from file://
with the network blocked; here the HTML text and its data are checked.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace

import pandas as pd
import pytest

from geo.events import event_index, load_events
from geo.io import load_layer
from layers.briefing import VENDOR_URLS, BriefingError, briefing_payload, build_briefing, vendor_scripts
from layers.config import ConfigurationError, load_public_url, load_settings
from layers.data import LayerData
from tests.conftest import BANJSKA_ATTACK, REPO

HOSTILE = REPO / "tests" / "hostile"
HOSTILE_EVENT_FILES = (
    "script-in-every-text-field.geojson",
    "script-breakout-and-separators.geojson",
    "markup-in-every-text-field.geojson",
    "template-syntax.geojson",
    "streamlit-folium-identifiers.geojson",
)
# Source links no catalogue file may carry (the validators refuse them), written straight
# into a frame to show the briefing never links them either.
UNSAFE_URLS = ("javascript:window.__pwned=31", "data:text/html,tampered-data-url",
               "https://www.reuters.com@tampered.example/")
TAMPERED_EVENT = "2023-10-02-hostile-tampered-links"
URL = re.compile(r"https?://[^\s\"'<>`]+")
DATA = re.compile(r"<script>var BB_BRIEFING_DATA = (.*?);</script>", re.DOTALL)


def state_from(layer_data, query: str):
    from layers.__main__ import briefing_state

    return briefing_state(layer_data, load_settings({}), query)


def payload_of(html: str) -> dict:
    """The data the page's script reads (js_literal's \\u escapes are JSON escapes)."""
    match = DATA.search(html)
    assert match, "no data script in the briefing"
    return json.loads(match.group(1))


def source_urls(payload: dict) -> set[str]:
    urls = {s[3] for sources in payload["events"]["sources"] for s in sources if s[3]}
    for layer in [payload["countries"], *payload["layers"]]:
        for feature in layer["data"]["features"]:
            urls |= {s[3] for s in feature["properties"].get("sources", []) if s[3]}
    return urls


def hostile_layer_data(layer_data) -> LayerData:
    """The real layers plus the hostile corpus's stored events and places, and one event whose
    source URLs (javascript:, data:, user information) no validator would let in."""
    hostile = [load_events(HOSTILE / name) for name in HOSTILE_EVENT_FILES]
    tampered = layer_data.full["events"].iloc[[0]].copy()
    tampered["id"] = TAMPERED_EVENT
    tampered["date"] = "2023-10-02"
    tampered["title"] = "Tampered links </script><script>window.__pwned=5</script>\u2028\u2029"
    tampered["sources"] = [[{"publisher": "P", "title": f"link {i}", "date": "2023-10-02", "url": url}
                            for i, url in enumerate(UNSAFE_URLS)]]
    events = pd.concat([layer_data.full["events"], *hostile, tampered], ignore_index=True)
    events = events.sort_values(["date", "id"], kind="stable").reset_index(drop=True)
    places = pd.concat([layer_data.full["places"], load_layer(HOSTILE / "places-script-and-markup.geojson", "places")],
                       ignore_index=True)
    full = {**layer_data.full, "events": events, "places": places}
    display = {**layer_data.display, "events": events, "places": places}
    return LayerData(full, display, event_index(events), layer_data.files)


@pytest.fixture(scope="module")
def crisis_html(layer_data):
    state, notices, query = state_from(
        layer_data, f"layers=countries,border,places,events,kfor_areas&from=2023-09-01&to=2023-10-31"
                    f"&event={BANJSKA_ATTACK}&lat=42.95&lon=20.8&zoom=10&lang=sq")
    assert notices == []
    return build_briefing(layer_data, state, author="Ana Analyst", public_url="https://brief.example.org/app",
                          query=query, now=dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc))


def test_the_file_requests_nothing_and_links_only_sources_and_the_live_app(crisis_html):
    html = crisis_html
    markup = re.sub(r"<(script|style)>.*?</\1>", "", html, flags=re.S)  # the page outside its code and data
    assert not re.search(r"<(link|iframe|img|object|embed|base)\b", markup, re.I)
    assert not re.search(r"\b(src|href)\s*=", markup, re.I), "an attribute that loads or links something"
    assert html.count("<script>") == 3 and html.count("</script>") == 3 and "<script " not in html
    assert "@import" not in html and "url(images/" not in html
    vendor = vendor_scripts()
    assert vendor in html  # Leaflet and Leaflet.markercluster inlined as installed
    outside_vendor = html.replace(vendor, "")
    payload = payload_of(html)
    allowed = source_urls(payload) | {"https://brief.example.org/app", payload["meta"]["deepLink"]}
    decoded = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), outside_vendor)
    stray = {url for url in URL.findall(decoded) if url not in allowed}
    assert stray == set()
    assert set(URL.findall(vendor)) == VENDOR_URLS  # the SVG namespace and Leaflet's licence comment
    # The policy allows the three inline scripts by hash and nothing else (no connect, img or frame source).
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"].split() == [h for h in directives["script-src"].split() if h.startswith("'sha256-")]
    assert len(directives["script-src"].split()) == 3


def test_the_file_carries_the_senders_state(crisis_html, layer_data):
    payload = payload_of(crisis_html)
    assert payload["visible"] == ["countries", "border", "places", "events", "kfor_areas"]
    assert payload["selected"] == ["events", BANJSKA_ATTACK]
    assert payload["view"] == {"lat": 42.95, "lon": 20.8, "zoom": 10}
    assert (payload["meta"]["from"], payload["meta"]["to"]) == ("2023-09-01", "2023-10-31")
    assert payload["meta"]["author"] == "Ana Analyst"
    assert payload["meta"]["generated"] == "2026-11-29 12:00 UTC"
    events = layer_data.full["events"]
    window = events[(events["date"].astype(str) >= "2023-09-01") & (events["date"].astype(str) <= "2023-10-31")]
    assert sorted(payload["events"]["id"]) == sorted(window["id"]) and len(window) > 10
    assert payload["outside"] == []
    banjska = payload["events"]["id"].index(BANJSKA_ATTACK)
    assert payload["events"]["title"][banjska] == layer_data.feature("events", BANJSKA_ATTACK)["title"]
    assert payload["events"]["sources"][banjska][0][3] == layer_data.feature("events", BANJSKA_ATTACK)["sources"][0]["url"]
    # every layer is in the file (hidden ones can be switched on), with its panel fields
    assert [layer["id"] for layer in payload["layers"]] == [
        "air_safety_zone", "ground_safety_zone", "kfor_areas", "serbian_deployments", "border", "places"]
    places = next(layer for layer in payload["layers"] if layer["id"] == "places")
    assert all("name_sq" in f["properties"] for f in places["data"]["features"])
    # the live app's deep link reproduces the same state
    link = payload["meta"]["deepLink"]
    assert link.startswith("https://brief.example.org/app?") and f"event={BANJSKA_ATTACK}" in link
    assert "from=2023-09-01" in link and "zoom=10" in link


def test_language_from_the_state_or_english(layer_data):
    state, _, _ = state_from(layer_data, "lang=sr")
    assert briefing_payload(layer_data, state)["meta"]["lang"] == "sr"
    state, _, _ = state_from(layer_data, "")
    assert briefing_payload(layer_data, state)["meta"]["lang"] == "en"


def test_a_selected_event_outside_the_window_is_shown_but_not_listed(layer_data):
    state, _, _ = state_from(layer_data, f"from=2023-11-01&to=2023-11-30&event={BANJSKA_ATTACK}")
    payload = briefing_payload(layer_data, state)
    ids = payload["events"]["id"]
    assert ids.index(BANJSKA_ATTACK) in payload["outside"] and len(payload["outside"]) == 1
    assert payload["selected"] == ["events", BANJSKA_ATTACK]


def test_a_selected_area_and_unknown_layers(layer_data):
    kfor = layer_data.full["kfor_areas"]["id"].iloc[0]
    state, _, _ = state_from(layer_data, f"layers=events&feature=kfor_areas/{kfor}")
    payload = briefing_payload(layer_data, state)
    assert payload["selected"] == ["kfor_areas", kfor] and "kfor_areas" in payload["visible"]
    with pytest.raises(BriefingError, match="unknown layer"):
        briefing_payload(layer_data, replace(state, layers=("events", "no_such_layer")))


def test_hostile_text_stays_text(layer_data):
    layers = hostile_layer_data(layer_data)
    state, notices, query = state_from(layers, "from=2023-09-01&to=2023-10-31&event=2023-10-01-hostile-script")
    assert notices == []
    html = build_briefing(layers, state, query=query)
    # the page's own three scripts, and no other element a browser would parse from the data
    assert html.count("<script") == 3 and html.lower().count("</script") == 3
    data_text = DATA.search(html).group(1)
    assert "<" not in data_text and ">" not in data_text  # js_literal: no markup can start in the data
    assert "<img" not in html.lower()
    assert "\u2028" not in html and "\u2029" not in html
    assert "<!--" not in html  # script-breakout-and-separators.geojson carries one
    payload = payload_of(html)
    titles = payload["events"]["title"]
    assert any(t.startswith("<script>window.__pwned=1") for t in titles)  # the text itself, unchanged
    tampered = payload["events"]["sources"][payload["events"]["id"].index(TAMPERED_EVENT)]
    assert [s[3] for s in tampered] == [None, None, None]  # named, never linked
    assert not any(url in html for url in UNSAFE_URLS)


def test_real_catalogue_is_under_2_mb(crisis_html, layer_data):
    assert len(crisis_html.encode("utf-8")) <= 2_000_000
    state, _, _ = state_from(layer_data, "")  # every event, every date
    assert len(build_briefing(layer_data, state).encode("utf-8")) <= 2_000_000


def test_ten_thousand_events_stay_under_10_mb(tmp_path):
    from bench.synthetic import write_catalogue
    from layers.data import load_layer_data

    settings = load_settings({"BORDER_BRIEF_EVENTS_FILE": str(write_catalogue(tmp_path / "events.geojson", 10_000))})
    layers = load_layer_data(settings)
    state, _, _ = state_from(layers, "")
    html = build_briefing(layers, state)
    assert len(payload_of(html)["events"]["id"]) == 10_000
    assert len(html.encode("utf-8")) <= 10_000_000


def test_command_writes_the_briefing(tmp_path, monkeypatch, capsys):
    from layers.__main__ import main

    monkeypatch.setenv("BORDER_BRIEF_PUBLIC_URL", "https://brief.example.org/")
    out = tmp_path / "briefing.html"
    code = main(["briefing", str(out), "--state", f"event={BANJSKA_ATTACK}&layers=events,nope&zoom=abc",
                 "--author", "Ana"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Ignored unknown layer(s) in the URL: nope" in captured.err and "zoom=abc" in captured.err
    payload = payload_of(out.read_text(encoding="utf-8"))
    assert payload["selected"] == ["events", BANJSKA_ATTACK] and payload["visible"] == ["events"]
    assert payload["meta"]["author"] == "Ana"
    assert payload["meta"]["cutoff"].startswith("latest change in the catalogue store ")
    assert payload["meta"]["deepLink"].startswith("https://brief.example.org/?layers=events&")


def test_command_refuses_a_bad_public_url_and_writes_nothing(tmp_path, monkeypatch, capsys):
    from layers.__main__ import main

    monkeypatch.setenv("BORDER_BRIEF_PUBLIC_URL", "javascript:alert(1)")
    out = tmp_path / "briefing.html"
    assert main(["briefing", str(out)]) == 1
    assert "BORDER_BRIEF_PUBLIC_URL must be the app's http(s) address" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("value", ["ftp://x.example/", "https://user@x.example/", "brief.example.org", "https://x.example/<b>"])
def test_public_url_setting_rejects_what_is_not_a_plain_http_address(value):
    with pytest.raises(ConfigurationError, match="BORDER_BRIEF_PUBLIC_URL"):
        load_public_url({"BORDER_BRIEF_PUBLIC_URL": value})


def test_public_url_setting_is_optional():
    assert load_public_url({}) is None
    assert load_public_url({"BORDER_BRIEF_PUBLIC_URL": " https://brief.example.org/ "}) == "https://brief.example.org/"


def test_map_page_offers_the_download():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Download briefing" in [b.label for b in at.get("download_button")]


def test_since_marks_what_changed_in_the_store(tmp_path, monkeypatch):
    from layers.__main__ import main

    out = tmp_path / "briefing.html"
    assert main(["briefing", str(out), "--state", f"since=2000-01-01T00:00&event={BANJSKA_ATTACK}"]) == 0
    payload = payload_of(out.read_text(encoding="utf-8"))
    assert payload["meta"]["since"] == "2000-01-01 00:00 UTC"
    assert payload["changes"]["events"][BANJSKA_ATTACK] == "added"  # the store was seeded after 2000
    assert main(["briefing", str(out), "--state", "since=2999-01-01T00:00"]) == 0
    assert payload_of(out.read_text(encoding="utf-8"))["changes"] == {}
