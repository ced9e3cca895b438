"""The hostile-input corpus in the browser (issue 18): stored hostile text stays text.

The corpus's storable inputs are imported into the test app's store (the app subprocess uses
the same ``BORDER_BRIEF_DATABASE_URL``, tests/conftest.py), each is opened by its deep link,
and the panel and map are checked: no dialog, nothing set ``window.__pwned``, no live HTML,
no link but the sources' checked URLs, no icon, and the text reads exactly as written. The
imported features are retired at the end, so other tests see the original catalogue.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import PANEL, checked_context, map_frame, open_page, wait_for_app
from tests.conftest import REPO
from store.access import Identity

pytestmark = pytest.mark.browser

CORPUS = REPO / "tests" / "hostile"
STORED = {  # file -> layer (the README's "store" entries)
    "script-in-every-text-field.geojson": "events",
    "markup-in-every-text-field.geojson": "events",
    "autolink-bait.geojson": "events",
    "icon-and-directive-shortcodes.geojson": "events",
    "spreadsheet-formulas.geojson": "events",
    "template-syntax.geojson": "events",
    "script-breakout-and-separators.geojson": "events",
    "streamlit-folium-identifiers.geojson": "events",
    "places-script-and-markup.geojson": "places",
}

# Live markup data text could have turned into, inside the panel's Markdown.
_LIVE_MARKUP = """(panel) => {
    const root = document.querySelector(panel);
    const found = [];
    for (const el of root.querySelectorAll('[data-testid="stMarkdownContainer"] *')) {
        const tag = el.tagName.toLowerCase();
        if (['img', 'script', 'iframe', 'object', 'embed', 'table', 'code', 'pre', 'blockquote'].includes(tag)
            || el.matches('span[role=img], .stMarkdownColoredText, .katex, [data-testid="stIconMaterial"]')) {
            found.push(tag + ': ' + el.outerHTML.slice(0, 120));
        }
    }
    return found;
}"""

_LINKS = """(panel) => Array.from(document.querySelector(panel).querySelectorAll('a'))
    .map(a => a.getAttribute('href')).filter(h => !h.startsWith('#'))"""  # '#...': a heading's own anchor


def _features() -> list[tuple[str, dict]]:
    out = []
    for name, layer in STORED.items():
        for feature in json.loads((CORPUS / name).read_text(encoding="utf-8"))["features"]:
            out.append((layer, feature))
    return out


@pytest.fixture(scope="module")
def imported(app_url):
    """The hostile features in the app's store for the module; retired again afterwards."""
    from layers.config import load_settings
    from store import open_store

    store = open_store(load_settings())
    features = _features()
    for layer in ("events", "places"):
        store.import_features(layer, [f for l, f in features if l == layer], identity=Identity("hostile-browser-test", "analyst"),
                              source="tests/hostile")
    yield features
    for layer, feature in features:
        head = store.head(layer, feature["properties"]["id"])
        if head is not None:
            store.retire(layer, feature["properties"]["id"], base_revision=head[1], identity=Identity("hostile-browser-test", "analyst"),
                         reason="hostile-input browser test finished")
    store.close()


def _pwned(page, frame=None) -> list:
    values = [page.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)")]
    if frame is not None:
        values.append(frame.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)"))
    return [v for v in values if v is not None]


def _open_panel(ctx, app_url: str, layer: str, feature_id: str, heading: str):
    query = f"event={feature_id}" if layer == "events" else f"feature={layer}/{feature_id}"
    page, record = open_page(ctx, f"{app_url}/?{query}")
    wait_for_app(page)
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.includes(text); }",
        arg=[PANEL, heading],
        timeout=30_000,
    )
    return page, record


@pytest.mark.parametrize("name", list(STORED), ids=str)
def test_stored_hostile_text_stays_text_in_the_panel(browser, app_url, imported, name):
    layer = STORED[name]
    feature = json.loads((CORPUS / name).read_text(encoding="utf-8"))["features"][0]
    props = feature["properties"]
    heading = props["title"] if layer == "events" else props["name"]
    with checked_context(browser) as ctx:
        page, record = _open_panel(ctx, app_url, layer, props["id"], heading)
        frame = map_frame(page)
        text = page.inner_text(PANEL)
        # every text field reads exactly as written (Markdown or HTML would have eaten characters)
        shown = [props["summary"]] + ([props["location"]["en"], props["claims"][0]["claim"]] if layer == "events" and props["claims"] else [])
        for value in shown:
            assert " ".join(value.split()) in " ".join(text.split()), value
        # no live markup, no link but the sources' checked URLs, no icon
        assert page.evaluate(_LIVE_MARKUP, PANEL) == []
        sources = {s["url"] for s in props["sources"]}
        assert set(page.evaluate(_LINKS, PANEL)) <= sources
        # each source link's host is shown beside its publisher
        assert "· example.org ·" in text or "· evendo.com ·" in text
        # nothing ran
        page.wait_for_timeout(500)
        assert record.dialogs == []
        assert _pwned(page, frame) == []


def test_streamlit_folium_identifiers_reach_the_map_unchanged(browser, app_url, imported):
    feature = json.loads((CORPUS / "streamlit-folium-identifiers.geojson").read_text(encoding="utf-8"))["features"][0]
    place = json.loads((CORPUS / "places-script-and-markup.geojson").read_text(encoding="utf-8"))["features"][0]
    title = feature["properties"]["title"]
    with checked_context(browser) as ctx:
        page, _ = _open_panel(ctx, app_url, "events", feature["properties"]["id"], title)
        frame = map_frame(page)
        frame.wait_for_function("(id) => BB.index.events && BB.index.events[id]", arg=feature["properties"]["id"], timeout=30_000)
        label = frame.evaluate("(id) => BB.eventLabel(BB.index.events[id].options.bbIndex)", feature["properties"]["id"])
        assert title in label
        places = frame.evaluate("(id) => BB.features.filter(f => f.featureId === id).map(f => f.label)", place["properties"]["id"])
        assert places == [place["properties"]["name"]]


def test_a_retired_selection_leaves_the_session_usable(browser, app_url, imported):
    """Finding 7: the selected event disappears from the data while a viewer has it open."""
    from layers.config import load_settings
    from store import open_store

    layer, feature = next((l, f) for l, f in imported if f["properties"]["id"].endswith("-templates"))
    feature_id = feature["properties"]["id"]
    with checked_context(browser) as ctx:
        page, _ = _open_panel(ctx, app_url, layer, feature_id, feature["properties"]["title"])
        store = open_store(load_settings())
        store.retire(layer, feature_id, base_revision=store.head(layer, feature_id)[1], identity=Identity("hostile-browser-test", "analyst"),
                     reason="retired while open")
        store.close()
        page.reload()
        wait_for_app(page)
        page.wait_for_function(
            "(sel) => { const el = document.querySelector(sel); return el && /no longer in the data|No event/.test(document.body.innerText); }",
            arg=PANEL,
            timeout=30_000,
        )
        # the session still works: another event opens
        page.goto(f"{app_url}/?event=2023-09-24-banjska-attack")
        wait_for_app(page)
        page.wait_for_function("(sel) => document.querySelector(sel) && document.querySelector(sel).innerText.includes('Banjska')",
                               arg=PANEL, timeout=30_000)
