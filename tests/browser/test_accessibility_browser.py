"""Accessibility in a real browser (issue 16): axe-core on every page, the map frame and the briefing file.

axe-core comes from the ``axe-playwright-python`` package (PyPI, the ``test`` extra), which ships
``axe.min.js``; no copy of axe-core lives in this repository. Each check fails on any violation
axe rates *serious* or *critical* (the WCAG 2.1 A/AA rules: contrast, names, labels, ARIA...) and
on a skipped heading level (``heading-order``, rated moderate by axe but asked for by the issue),
with a message that lists the rule, its impact and the elements' selectors.

Streamlit's map is an iframe (streamlit-folium): axe runs in the page with ``iframes: false`` and
then in the map's own document, so the map's controls and legend are checked too.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    MAP_FRAME,
    PANEL,
    add_account,
    checked_context,
    map_frame,
    open_page,
    sign_in,
    wait_for_app,
    wait_for_panel_text,
)
from tests.conftest import BANJSKA_ATTACK

pytestmark = pytest.mark.browser

#: The impacts that fail a check (axe rates each violation minor, moderate, serious or critical).
FAILING_IMPACTS = {"serious", "critical"}
#: Rules that fail whatever their impact: headings must not skip levels (issue 16).
ALWAYS_FAILING = {"heading-order"}
#: Only the WCAG 2.0/2.1 A and AA rules and axe's best practices (no AAA, no experimental rules).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
}

ANALYST = "Axe Analyst"


def failing_violations(results: dict) -> list[dict]:
    return [v for v in results["violations"] if v.get("impact") in FAILING_IMPACTS or v["id"] in ALWAYS_FAILING]


def describe(where: str, violations: list[dict]) -> str:
    """A readable report: one line per rule (id, impact, help), then up to 8 of its elements."""
    lines = [f"{where}: {len(violations)} accessibility violation(s)"]
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')} [{len(v['nodes'])} element(s)]")
        for node in v["nodes"][:8]:
            target = " >>> ".join(str(t) for t in node["target"])
            detail = (node.get("failureSummary") or "").replace("\n", " ")[:200]
            lines.append(f"    {target}  — {detail}")
    return "\n".join(lines)


def run_axe(target, where: str, *, frames: bool = False) -> list[str]:
    """axe-core in ``target`` (a Page or a Frame); the failing violations as report lines (empty: none)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {**AXE_OPTIONS, "iframes": frames}
    results = Axe().run(target, options=options).response
    assert str(results.get("testEngine", {}).get("version", "")).startswith("4."), "axe-core did not run"
    bad = failing_violations(results)
    return [describe(where, bad)] if bad else []


def settle(page, heading: str | None = None) -> None:
    """Wait until Streamlit has drawn the page (its title heading shown, the script finished)."""
    wait_for_app(page, timeout=60_000)
    if heading:
        page.get_by_role("heading", name=heading).first.wait_for(timeout=120_000)
    page.wait_for_timeout(800)  # late widgets (data editor, captions) drawn
    wait_for_app(page, timeout=60_000)


def check_page(page, where: str) -> list[str]:
    problems = run_axe(page, where)
    if page.query_selector(MAP_FRAME):
        problems += run_axe(map_frame(page), where + " (map frame)")
    return problems


PAGES = [
    ("/", "Kosovo–Serbia crisis, autumn 2023"),
    ("/timeline", "Timeline"),
    ("/layers", "Layers & data"),
    ("/edit", "Edit the catalogue"),
    ("/analysis", "Analysis"),
    ("/about", "About Border Brief"),
]


@pytest.mark.parametrize("path,heading", PAGES, ids=[p for p, _ in PAGES])
def test_every_page_passes_axe_core(browser, app_url, path, heading):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, app_url + path)
        settle(page, heading)
        problems = check_page(page, path)
        assert not problems, "\n".join(problems)


def test_a_deep_link_with_its_event_open_passes_axe_core(browser, app_url):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, app_url + f"/?event={BANJSKA_ATTACK}")
        settle(page)
        wait_for_panel_text(page, "Banjska", timeout=60_000)
        problems = check_page(page, "deep link")
        assert not problems, "\n".join(problems)


def test_the_edit_page_signed_in_and_the_admin_page_pass_axe_core(browser, app_url):
    add_account(ANALYST, "analyst")
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, app_url + "/edit")
        settle(page)
        problems = run_axe(page, "sign-in form (Edit page, not signed in)")
        sign_in(page, ANALYST)
        page.get_by_role("button", name="Save", exact=False).first.wait_for(timeout=60_000)
        settle(page)
        problems += check_page(page, "Edit page (signed in as an analyst)")
        assert not problems, "\n".join(problems)
    add_account("Axe Admin", "admin")
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, app_url + "/")
        settle(page)
        sign_in(page, "Axe Admin")
        page, _ = open_page(ctx, app_url + "/admin")
        settle(page)
        page.get_by_text("Local accounts").first.wait_for(timeout=60_000)
        problems = run_axe(page, "Admin page")
        assert not problems, "\n".join(problems)


def test_the_briefing_file_passes_axe_core(browser, layer_data, tmp_path):
    from layers.__main__ import briefing_state
    from layers.briefing import build_briefing, write_briefing
    from layers.config import load_settings

    query = f"from=2023-09-01&to=2023-10-31&event={BANJSKA_ATTACK}"
    state, notices, deep = briefing_state(layer_data, load_settings({}), query)
    assert notices == []
    path = write_briefing(tmp_path / "briefing.html", build_briefing(layer_data, state, author="Axe Test", query=deep))
    with checked_context(browser, offline=True) as ctx:
        page = ctx.new_page()
        page.goto(path.as_uri())
        page.wait_for_function("() => window.BB && BB.ready && BB.loaded.events", timeout=30_000)
        page.wait_for_function("(t) => document.getElementById('bb-panel').innerText.includes(t)", arg="Banjska")
        problems = run_axe(page, "briefing file")
        assert not problems, "\n".join(problems)


def test_the_map_frame_has_an_accessible_name_and_a_landmark(browser, app_url):
    """A screen reader announces the map frame by a name that says what it is, and the map
    document inside it has a title and a labelled landmark around the map."""
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, app_url + "/")
        settle(page)
        frame = map_frame(page)
        snapshot = page.locator(MAP_FRAME).first
        name = snapshot.get_attribute("aria-label") or ""
        assert "map" in name.lower() and "streamlit" not in name.lower(), name
        assert "map" in frame.title().lower(), frame.title()
        landmark = frame.locator("[role=region][aria-label], main[aria-label], [role=main][aria-label]")
        assert landmark.count() >= 1
        assert landmark.first.locator(".leaflet-container").count() + (
            1 if "leaflet-container" in (landmark.first.get_attribute("class") or "") else 0) >= 1
        assert page.locator(PANEL).count() == 1


_SMALLEST_TEXT = """(root) => {
    const out = [], walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent.trim(), el = node.parentElement;
        if (!text || !el || el.closest('[role=status]') || !el.getClientRects().length) continue;
        const size = parseFloat(getComputedStyle(el).fontSize);
        out.push([size, text.slice(0, 40)]);
    }
    return out.sort((a, b) => a[0] - b[0]).slice(0, 5);
}"""


def test_text_in_the_panel_and_the_legend_is_at_least_14_px(browser, app_url):
    """Readable on a projector (issue 16): every visible text in the details panel, in the
    event feed and in the map's legend is drawn at 14 px or more."""
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, app_url + "/")
        settle(page)
        page.locator(".st-key-bb_feed_list button").first.wait_for(timeout=60_000)
        feed = page.evaluate(_SMALLEST_TEXT, page.query_selector(PANEL))
        legend_box = map_frame(page).wait_for_selector(".bb-legend-box")
        legend = legend_box.evaluate(_SMALLEST_TEXT)
        page, _ = open_page(ctx, app_url + f"/?event={BANJSKA_ATTACK}")
        settle(page)
        wait_for_panel_text(page, "Banjska", timeout=60_000)
        panel = page.evaluate(_SMALLEST_TEXT, page.query_selector(PANEL))
        for where, smallest in (("feed", feed), ("legend", legend), ("panel", panel)):
            assert smallest, f"no text found in the {where}"
            assert smallest[0][0] >= 14, (where, smallest)
