"""Streamlit AppTest for every page: state from the URL, the panel, toggles, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import BANJSKA_ATTACK
from store.access import Identity

REPO = Path(__file__).resolve().parent.parent
PAGES = ["pages/map.py", "pages/timeline.py", "pages/layers.py", "pages/analysis.py", "pages/about.py", "pages/edit.py"]


def run_app(query: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun_home(at: AppTest) -> AppTest:
    """Run the app again on the default (Map) page.

    AppTest re-runs a st.navigation page by its page hash and then drops the
    elements the entry script (app.py: the shared sidebar) drew; an empty hash
    runs the default page with them, as the browser does.
    """
    at._finished_page_script_hash = ""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def all_markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def query(at: AppTest) -> dict[str, str]:
    return {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}


@pytest.fixture
def fresh_caches():
    """Settings and data are cached per process; tests that change them start and end clean."""
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_and_has_a_title(page):
    at = run_app(page=page)
    assert at.title, f"{page} has no title"
    assert not at.error, [e.value for e in at.error]


def test_map_page_writes_the_full_state_into_the_url():
    at = run_app()
    q = query(at)
    assert set(q) >= {"layers", "from", "to", "basemap"}
    assert "events" in q["layers"].split(",")
    assert q["from"] <= "2008-02-17" and q["to"] >= "2023-11-01"


def test_panel_shows_the_event_named_in_the_url():
    at = run_app({"event": BANJSKA_ATTACK})
    text = all_markdown(at)
    assert "Banjska" in text
    assert "**When:** 2023" in text and "exact day" in text
    assert "**Where:**" in text and "Albanian" in text and "Serbian" in text
    assert "**Fatalities:** 1\n" in text + "\n" and "**Status:**" in text and "**Sources**" in text
    assert "](https://" in text  # sources are links
    assert query(at)["event"] == BANJSKA_ATTACK


def test_missing_values_are_not_shown_as_nan():
    at = run_app({"event": "2023-03-18-ohrid-implementation-annex"})
    text = all_markdown(at)
    assert "**When:** 2023\\-03\\-18 \\(exact day\\)\n" in text  # no time of day: none is given
    assert "nan" not in text.lower().split("**sources**")[0]


def test_closing_the_panel_clears_the_selection_and_the_url():
    at = run_app({"event": BANJSKA_ATTACK})
    at.button(key="bb_panel_close").click().run()
    assert "event" not in query(at)
    assert "newest first" in "\n".join(c.value for c in at.caption)  # the event feed is back


def test_deployment_area_selection_shows_force_details(layer_data):
    area = layer_data.full["kfor_areas"].iloc[0]
    at = run_app({"feature": f"kfor_areas/{area['id']}"})
    text = all_markdown(at)
    assert "**Force:**" in text and "**Status:**" in text and "**How the area is drawn:**" in text


def test_layer_toggle_changes_the_url():
    at = run_app()
    at.checkbox(key="bb_layer_events").uncheck()
    rerun_home(at)
    assert "events" not in query(at)["layers"].split(",")
    at.checkbox(key="bb_layer_air_safety_zone").check()
    rerun_home(at)
    assert "air_safety_zone" in query(at)["layers"].split(",")
    assert at.checkbox(key="bb_layer_events").value is False


def test_time_window_from_the_sidebar_reaches_the_url():
    at = run_app()
    at.button(key="bb_window_crisis").click()
    rerun_home(at)
    assert (query(at)["from"], query(at)["to"]) == ("2023-09-01", "2023-10-31")


def test_layers_and_window_from_url_set_the_widgets():
    at = run_app({"layers": "border,events", "from": "2023-09-01", "to": "2023-10-31"})
    assert at.checkbox(key="bb_layer_border").value is True
    assert at.checkbox(key="bb_layer_countries").value is False
    assert [str(d) for d in at.slider(key="bb_window").value] == ["2023-09-01", "2023-10-31"]


@pytest.mark.parametrize(
    "params",
    [
        {"event": "<script>alert(1)</script>"},
        {"event": "<img src=x onerror=alert(1)>", "layers": "<b>x</b>,events"},
        {"lat": "NaN", "lon": "Infinity", "zoom": "-5"},
        {"from": "yesterday", "to": "2023-13-45"},
        {"feature": "../../etc/passwd"},
        {"basemap": "javascript:alert(1)"},
    ],
)
def test_hostile_url_parameters_give_notices_not_errors(params):
    at = run_app(params)
    assert at.warning, "a visible notice is expected"
    for warning in at.warning:
        # shown as text: every "<" reaches Markdown escaped
        assert not re.search(r"(?<!\\)<", warning.value), warning.value
    assert "event" not in query(at)


def test_timeline_lists_events_in_the_window():
    at = run_app({"from": "2023-09-24", "to": "2023-09-30"}, page="pages/timeline.py")
    (frame,) = at.dataframe
    dates = frame.value["date"].astype(str)
    assert len(dates) > 0 and dates.min() >= "2023-09-24" and dates.max() <= "2023-09-30"


def test_layers_page_offers_a_download_per_layer_and_csv():
    at = run_app(page="pages/layers.py")
    from layers.catalog import LAYERS

    labels = [b.label for b in at.get("download_button")]
    assert labels.count("GeoJSON") == len(LAYERS)
    assert any(label.startswith("CSV") for label in labels)


def test_analysis_page_reports_measured_figures():
    at = run_app(page="pages/analysis.py")
    labels = [m.label for m in at.metric]
    assert any("boundary length" in label.lower() for label in labels)
    assert "Banjska to the boundary" in labels
    assert all(m.value for m in at.metric)


def test_broken_data_shows_what_to_fix_instead_of_a_partial_map(tmp_path, monkeypatch, fresh_caches):
    for source in (REPO / "data").glob("*.geojson"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    events = json.loads((tmp_path / "events.geojson").read_text(encoding="utf-8"))
    events["features"][0]["properties"]["date"] = "24.09.2023"
    (tmp_path / "events.geojson").write_text(json.dumps(events), encoding="utf-8")
    monkeypatch.setenv("BORDER_BRIEF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BORDER_BRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'new-store.sqlite'}")  # seeded from these files
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert at.error and "failed validation" in at.error[0].value
    assert "field 'date'" in at.code[0].value
    assert not at.get("iframe")


def test_since_marks_changes_in_the_panel_and_lists_them(tmp_path, monkeypatch, fresh_caches):
    import copy
    import datetime as dt
    import time

    from layers.config import load_settings
    from store import open_store

    url = f"sqlite:///{tmp_path / 'since.sqlite'}"
    monkeypatch.setenv("BORDER_BRIEF_DATABASE_URL", url)
    store = open_store(load_settings())
    time.sleep(1.1)
    since = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    time.sleep(1.1)
    feature, revision = store.head("events", BANJSKA_ATTACK)
    feature = copy.deepcopy(feature)
    feature["properties"]["summary"] += " Corrected."
    store.save("events", feature, base_revision=revision, identity=Identity("analyst", "analyst"))
    store.close()

    at = run_app({"since": since.strftime("%Y-%m-%dT%H:%M:%S"), "event": BANJSKA_ATTACK})
    assert "badge[Changed since" in all_markdown(at), all_markdown(at)[:500]
    assert "Changes since" in all_markdown(at)
    assert any(b.label.startswith("Changed: ") for b in at.button)
    from ui.state import parse_since

    assert parse_since(query(at)["since"]) == since
    assert at.checkbox(key="bb_since_on").value is True


def test_the_sign_in_outlives_a_visit_to_another_page(tmp_path, monkeypatch, fresh_caches):
    from tests.test_auth import signed_in_app

    monkeypatch.setenv("BORDER_BRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'author.sqlite'}")
    at = signed_in_app("A. Analyst", page="pages/layers.py")
    assert any("Changes are recorded as **A. Analyst**" in c.value.replace("\\", "") for c in at.caption)
    at.switch_page("pages/about.py").run()
    at.switch_page("pages/layers.py").run()
    assert not at.exception
    assert at.session_state["bb_current_identity"].name == "A. Analyst"
    assert any("Changes are recorded as **A. Analyst**" in c.value.replace("\\", "") for c in at.caption)