"""The Map panel's event feed, a deep link's opening view, and the Timeline's default span."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import BANJSKA_ATTACK

REPO = Path(__file__).resolve().parent.parent


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


def query(at: AppTest) -> dict[str, str]:
    return {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}


def feed_buttons(at: AppTest) -> list:
    return [b for b in at.button if (b.key or "").startswith("bb_feed_t")]


# --- feed_events: what the feed lists --------------------------------------------------


def test_feed_lists_newest_first(layer_data):
    from ui.feed import feed_events

    listed = feed_events(layer_data.full["events"])
    assert len(listed) == len(layer_data.full["events"])
    dates = listed["date"].tolist()
    assert dates == sorted(dates, reverse=True)
    assert set(listed.columns) >= {"id", "date", "event_type", "title", "place"}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("police ambushed", BANJSKA_ATTACK),  # title
        ("banjskës", BANJSKA_ATTACK),  # the Albanian place name, in any case
        ("Orthodox church", "2023-09-24-banjska-monastery-siege"),  # an actor
        ("zveçan kfor", "2023-05-29-zvecan-kfor-clashes"),
    ],
)
def test_feed_search_matches_titles_places_and_actors(layer_data, words, expected):
    from ui.feed import feed_events

    events = layer_data.full["events"]
    found = feed_events(events, words)
    assert expected in set(found["id"])
    assert 0 < len(found) < len(events)


def test_feed_search_needs_every_word(layer_data):
    from ui.feed import feed_events

    events = layer_data.full["events"]
    assert feed_events(events, "Banjska no-such-word").empty
    assert len(feed_events(events, "Banjska Zvečan")) < len(feed_events(events, "Banjska"))


def test_feed_of_an_empty_window_is_empty(layer_data):
    from ui.feed import feed_events

    assert feed_events(layer_data.full["events"].iloc[0:0]).empty


def test_feed_labels_keep_data_as_text():
    from ui.feed import item_label

    row = pd.Series({"date": "2023-09-24", "event_type": "Battles", "title": "**bold** <b>x</b> [a](http://x)",
                     "place": ":material/warning: place"})
    label = item_label(row)
    assert "**bold**" not in label and "\\*\\*bold\\*\\*" in label
    assert "<b>" not in label and "](http" not in label


# --- the feed in the app --------------------------------------------------------------


def test_empty_panel_lists_the_window_newest_first(layer_data):
    from ui.feed import FEED_PAGE

    at = run_app({"from": "2023-09-01", "to": "2023-10-31"})
    buttons = feed_buttons(at)
    events = layer_data.full["events"]
    dates = events["date"].astype(str)
    in_window = events[(dates >= "2023-09-01") & (dates <= "2023-10-31")]
    assert len(buttons) == min(FEED_PAGE, len(in_window))
    shown = [b.label.split("**")[1].replace("\\-", "-") for b in buttons]  # the bold date
    assert shown == sorted(shown, reverse=True)
    assert all("2023-09-01" <= d <= "2023-10-31" for d in shown)
    assert any("newest first" in c.value for c in at.caption)


def test_choosing_an_event_in_the_feed_selects_it_like_a_map_click(layer_data):
    from ui.text import md_escape

    title = md_escape(layer_data.feature("events", BANJSKA_ATTACK)["title"])
    at = run_app({"from": "2023-09-24", "to": "2023-09-24"})
    (button,) = [b for b in feed_buttons(at) if title in b.label]
    button.click().run()
    assert not at.exception
    assert query(at)["event"] == BANJSKA_ATTACK
    text = "\n".join(m.value for m in at.markdown)
    assert "**When:** 2023" in text and "Bunjaku" in text  # the panel shows the event's details
    assert not feed_buttons(at)  # the details replace the feed
    at.button(key="bb_panel_close").click().run()
    assert "event" not in query(at) and feed_buttons(at)


def test_feed_search_filters_the_list(layer_data):
    from ui.feed import feed_events

    at = run_app()
    everything = len(feed_buttons(at))
    at.text_input(key="bb_feed_query").input("Banjska").run()
    assert not at.exception
    labels = [b.label for b in feed_buttons(at)]
    expected = feed_events(layer_data.full["events"], "Banjska")
    assert 0 < len(labels) == len(expected) < everything
    assert any("Banjska" in c.value or "match" in c.value for c in at.caption)
    at.text_input(key="bb_feed_query").input("no-such-event-anywhere").run()
    assert not feed_buttons(at)
    assert any("No event matches" in c.value for c in at.caption)


def test_feed_says_when_the_events_layer_is_hidden():
    at = run_app({"layers": "border,places"})
    assert not feed_buttons(at)
    assert any("Events layer is hidden" in c.value for c in at.caption)


# --- a deep link's opening view -------------------------------------------------------------


def test_event_link_zoom_follows_location_precision(layer_data):
    from ui.session import EVENT_LINK_ZOOM, event_view

    assert max(EVENT_LINK_ZOOM.values()) <= 13
    assert EVENT_LINK_ZOOM[1] >= EVENT_LINK_ZOOM[2] >= EVENT_LINK_ZOOM[3]
    events = layer_data.full["events"]
    for _, event in events.iterrows():
        view = event_view(layer_data, event["id"])
        assert view.zoom == EVENT_LINK_ZOOM[int(event["geo_precision"])]
        point = event.geometry.representative_point()
        assert abs(view.lat - point.y) < 1e-4 and abs(view.lon - point.x) < 1e-4
    assert event_view(layer_data, "no-such-event") is None


def test_a_link_to_an_event_opens_on_it_and_a_link_with_a_view_keeps_its_view(layer_data):
    from ui import session

    at = run_app({"event": BANJSKA_ATTACK})
    opened = at.session_state["bb_opening_view"]
    assert opened == session.event_view(layer_data, BANJSKA_ATTACK) and opened.zoom <= 13
    at = run_app({"event": BANJSKA_ATTACK, "lat": "43.1", "lon": "20.6", "zoom": "8"})
    assert (at.session_state["bb_opening_view"].lat, at.session_state["bb_opening_view"].zoom) == (43.1, 8)


def test_the_opening_view_stays_while_the_feed_selects(layer_data):
    at = run_app()
    assert at.session_state["bb_opening_view"] is None
    feed_buttons(at)[0].click().run()
    assert "event" in query(at)
    assert at.session_state["bb_opening_view"] is None  # the map is not rebuilt at another view


# --- the Timeline opens on the crisis ------------------------------------------------------


def _chart_dates(at: AppTest) -> list[str]:
    (frame,) = at.dataframe
    return frame.value["date"].astype(str).tolist()


def test_timeline_opens_on_the_crisis_and_the_whole_record_is_one_click_away(layer_data):
    from geo.events import CRISIS_WINDOW

    at = run_app(page="pages/timeline.py")
    dates = _chart_dates(at)
    assert dates and min(dates) >= str(CRISIS_WINDOW[0]) and max(dates) <= str(CRISIS_WINDOW[1])
    background = layer_data.full["events"]["background"].astype(bool)
    assert len(dates) == int((~background).sum())
    at.segmented_control(key="bb_timeline_span").set_value("record").run()
    assert not at.exception
    dates = _chart_dates(at)
    assert len(dates) == len(layer_data.full["events"])
    assert min(dates) < "2009-01-01"  # 2008 is in the whole record


def test_timeline_keeps_a_window_outside_the_crisis():
    at = run_app({"from": "2008-01-01", "to": "2014-12-31"}, page="pages/timeline.py")
    dates = _chart_dates(at)
    assert dates and max(dates) < "2015-01-01"  # nothing of the crisis: the chosen window is shown as it is


def test_fatalities_legend_counts_whole_people(layer_data):
    from layers.render import filter_events
    from ui import tables

    events = filter_events(layer_data.full["events"], dt.date(2023, 5, 1), dt.date(2023, 11, 30))
    chart, _ = tables.timeline_chart(tables.event_table(events))
    legend = chart.to_dict()["encoding"]["size"]["legend"]
    assert legend["format"] == "d" and legend["tickMinStep"] == 1
