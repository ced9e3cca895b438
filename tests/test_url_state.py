"""URL state: parsing never raises, bad values become notices, round trips hold."""

import datetime as dt

import pytest

from ui.state import AppState, Bounds, View, parse_click, parse_query, to_query

BOUNDS = Bounds(
    layer_ids=("countries", "border", "events", "kfor_areas"),
    default_layers=("countries", "border", "events"),
    event_ids=frozenset({"2023-09-24-banjska-attack", "2023-09-29-kirby"}),
    feature_ids={"kfor_areas": frozenset({"kfor-hq"}), "border": frozenset({"xkx-srb"})},
    first_date=dt.date(2023, 5, 1),
    last_date=dt.date(2023, 11, 30),
    basemaps=("offline", "osm"),
)


def test_empty_query_gives_defaults_without_notices():
    state, notices = parse_query({}, BOUNDS)
    assert state == AppState(("countries", "border", "events"), dt.date(2023, 5, 1), dt.date(2023, 11, 30))
    assert notices == []


def test_full_query_round_trips():
    original = AppState(
        layers=("border", "events", "kfor_areas"),
        start=dt.date(2023, 9, 1),
        end=dt.date(2023, 10, 31),
        event="2023-09-24-banjska-attack",
        view=View(43.0123, 20.7456, 11),
        basemap="osm",
    )
    parsed, notices = parse_query(to_query(original), BOUNDS)
    assert notices == []
    assert parsed == original


def test_since_round_trips_in_utc_and_bad_values_become_notices():
    original = AppState(("events",), dt.date(2023, 9, 1), dt.date(2023, 10, 31),
                        since=dt.datetime(2023, 9, 24, 6, 45, tzinfo=dt.timezone.utc))
    query = to_query(original)
    assert query["since"] == "2023-09-24T06:45"
    parsed, notices = parse_query(query, BOUNDS)
    assert parsed == original and notices == []
    for bad in ("2023-09-24", "2023-09-24T25:00", "2023-09-24T06:45\n", "yesterday", "2023-02-30T10:00"):
        parsed, notices = parse_query({"since": bad}, BOUNDS)
        assert parsed.since is None and len(notices) == 1 and "YYYY-MM-DDTHH:MM" in notices[0]


def test_a_selection_is_always_drawn_its_hidden_layer_is_shown():
    state, notices = parse_query({"layers": "border", "event": "2023-09-24-banjska-attack"}, BOUNDS)
    assert state.layers == ("border", "events") and state.event == "2023-09-24-banjska-attack"
    state, _ = parse_query({"layers": "events", "feature": "kfor_areas/kfor-hq"}, BOUNDS)
    assert state.layers == ("events", "kfor_areas") and state.feature == ("kfor_areas", "kfor-hq")
    assert notices == []


def test_layers_are_kept_in_catalogue_order_and_unknown_ones_reported():
    state, notices = parse_query({"layers": "kfor_areas,nope,border"}, BOUNDS)
    assert state.layers == ("border", "kfor_areas")
    assert len(notices) == 1 and "nope" in notices[0]


def test_empty_layers_parameter_means_no_layers():
    state, notices = parse_query({"layers": ""}, BOUNDS)
    assert state.layers == ()
    assert notices == []


@pytest.mark.parametrize(
    "params, expected_notice",
    [
        ({"from": "24/09/2023"}, "YYYY-MM-DD"),
        ({"to": "2023-02-30"}, "YYYY-MM-DD"),
        ({"event": "<script>alert(1)</script>"}, "No event"),
        ({"lat": "abc", "lon": "20"}, "not a number"),
        ({"lat": "95", "lon": "20"}, "between"),
        ({"lat": "43"}, "both 'lat' and 'lon'"),
        ({"zoom": "99", "lat": "43", "lon": "20"}, "zoom"),
        ({"basemap": "evil"}, "basemap"),
        ({"feature": "kfor_areas/unknown"}, "No feature"),
    ],
)
def test_malformed_values_are_ignored_with_a_notice(params, expected_notice):
    state, notices = parse_query(params, BOUNDS)
    assert any(expected_notice in n for n in notices), notices
    assert state.event is None or state.event in BOUNDS.event_ids


def test_out_of_range_dates_are_clamped_and_reversed_window_swapped():
    state, notices = parse_query({"from": "2023-10-31", "to": "2023-09-01"}, BOUNDS)
    assert (state.start, state.end) == (dt.date(2023, 9, 1), dt.date(2023, 10, 31))
    assert any("swapped" in n for n in notices)
    state, notices = parse_query({"from": "2020-01-01"}, BOUNDS)
    assert state.start == dt.date(2023, 5, 1)
    assert any("outside the catalogue" in n for n in notices)


def test_long_hostile_values_are_shortened_in_notices():
    state, notices = parse_query({"event": "x" * 500}, BOUNDS)
    assert len(notices[0]) < 120


def test_repeated_parameter_uses_the_last_value():
    state, _ = parse_query({"event": ["2023-09-29-kirby", "2023-09-24-banjska-attack"]}, BOUNDS)
    assert state.event == "2023-09-24-banjska-attack"


def test_feature_selection_and_event_selection_are_exclusive():
    state, _ = parse_query({"feature": "kfor_areas/kfor-hq"}, BOUNDS)
    assert state.selection == ("kfor_areas", "kfor-hq")
    assert state.with_selection("events", "2023-09-29-kirby").feature is None
    assert state.with_selection(None, None).selection is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("events|2023-09-29-kirby|abc.1", ("events", "2023-09-29-kirby", "abc.1")),
        ("kfor_areas|kfor-hq|abc.2", ("kfor_areas", "kfor-hq", "abc.2")),
        ("events|unknown|abc.3", None),
        ("places|kfor-hq|abc.4", None),
        ("nonsense", None),
        (None, None),
        (42, None),
    ],
)
def test_parse_click(value, expected):
    assert parse_click(value, BOUNDS) == expected


def test_bounds_are_computed_once_per_layer_data_and_follow_new_data(layer_data):
    import dataclasses

    import geopandas as gpd
    import pandas as pd

    from geo.events import event_index
    from ui import session

    first = session.bounds(layer_data)
    assert session.bounds(layer_data) is first  # cached: no rescan of the catalogue per call
    assert first.last_date == dt.date.fromisoformat(layer_data.full["events"]["date"].max())

    report = layer_data.full["events"].iloc[[0]].copy()
    report["id"] = "imported-later-report"
    report["date"] = "2024-01-15"
    events = gpd.GeoDataFrame(pd.concat([layer_data.full["events"], report], ignore_index=True), crs=4326)
    newer = dataclasses.replace(layer_data, full={**layer_data.full, "events": events}, event_positions=event_index(events))
    second = session.bounds(newer)
    assert second is not first
    assert "imported-later-report" in second.event_ids and "imported-later-report" not in first.event_ids
    assert second.last_date == dt.date(2024, 1, 15)


@pytest.mark.parametrize("lang", ["sq", "sr"])
def test_lang_round_trips_and_is_written_only_when_not_english(lang):
    original = AppState(("events",), dt.date(2023, 9, 1), dt.date(2023, 10, 31), lang=lang)
    query = to_query(original)
    assert query["lang"] == lang
    parsed, notices = parse_query(query, BOUNDS)
    assert parsed == original and notices == []
    english = AppState(("events",), dt.date(2023, 9, 1), dt.date(2023, 10, 31))
    assert english.lang == "en" and "lang" not in to_query(english)


def test_lang_defaults_to_english_and_explicit_english_is_accepted():
    assert parse_query({}, BOUNDS)[0].lang == "en"
    parsed, notices = parse_query({"lang": "en"}, BOUNDS)
    assert parsed.lang == "en" and notices == []


@pytest.mark.parametrize("bad", ["de", "SR", "sr-Latn", "<b>x</b>", "e" * 100])
def test_unknown_lang_becomes_a_notice_and_english(bad):
    parsed, notices = parse_query({"lang": bad, "layers": "events"}, BOUNDS)
    assert parsed.lang == "en" and parsed.layers == ("events",)
    assert len(notices) == 1 and "language" in notices[0] and "en, sq, sr" in notices[0]
    assert len(notices[0]) < 120  # the bad value is shortened in the notice
