"""Event tables and the timeline chart: dots for a briefing, counts for a large catalogue."""

import pandas as pd
import pytest

from ui import tables


def _table(dates, types, fatalities):
    n = len(dates)
    return pd.DataFrame(
        {
            "date": dates,
            "title": [f"event {i}" for i in range(n)],
            "place": ["Zvečan"] * n,
            "event_type": types,
            "sub_event_type": ["x"] * n,
            "fatalities": fatalities,
            "status": ["reported"] * n,
            "id": [f"e{i}" for i in range(n)],
        }
    )


def test_event_counts_by_day_and_type_with_missing_fatalities_as_zero():
    table = _table(
        ["2023-09-24", "2023-09-24", "2023-09-24", "2023-09-29"],
        ["Battles", "Battles", "Protests", "Battles"],
        [1, 3, None, None],
    )
    counts, unit = tables.event_counts(table)
    assert unit == "day"
    rows = {(str(r.period.date()), r.event_type): (r.events, r.fatalities) for r in counts.itertuples()}
    assert rows == {
        ("2023-09-24", "Battles"): (2, 4),
        ("2023-09-24", "Protests"): (1, 0),
        ("2023-09-29", "Battles"): (1, 0),
    }


def test_event_counts_by_week_from_monday_over_a_long_span():
    table = _table(["2023-01-01", "2023-09-24", "2023-09-25", "2023-09-27"], ["Riots"] * 4, [0, 0, 0, 0])
    counts, unit = tables.event_counts(table)
    assert unit == "week"
    weeks = dict(zip(counts["period"].dt.strftime("%Y-%m-%d"), counts["events"]))
    # 2023-09-24 was a Sunday: it belongs to the week from Monday 18 September
    assert weeks == {"2022-12-26": 1, "2023-09-18": 1, "2023-09-25": 2}


def test_timeline_draws_dots_up_to_the_limit_then_counts():
    small = _table(["2023-09-24"] * 3, ["Battles"] * 3, [1, 0, None])
    chart, note = tables.timeline_chart(small)
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "circle" and "dot per event" in note
    assert set(chart.data.columns) == {"date", "event_type", "fatalities", "title", "place", "id", "lane"}

    n = tables.DOT_LIMIT + 1
    large = _table(pd.date_range("2023-09-01", periods=n, freq="h").strftime("%Y-%m-%d"), ["Protests"] * n, [0] * n)
    chart, note = tables.timeline_chart(large)
    assert chart.to_dict()["mark"]["type"] == "bar"
    assert int(chart.data["events"].sum()) == n and len(chart.data) <= 90
    assert f"{n:,} events" in note and "per day" in note


def test_events_of_one_type_on_one_day_get_their_own_lanes():
    # the two Banjska events of 2023-09-24 are both Battles
    table = _table(
        ["2023-09-24", "2023-09-24", "2023-09-24", "2023-09-29", "2023-09-29"],
        ["Battles", "Battles", "Protests", "Battles", "Riots"],
        [3, 1, None, 0, 0],
    )
    chart, _ = tables.timeline_chart(table)
    spec = chart.to_dict()
    assert spec["encoding"]["yOffset"]["field"] == "lane"
    positions = list(zip(chart.data["date"], chart.data["event_type"], chart.data["lane"]))
    assert len(set(positions)) == len(table), positions
    lanes = dict(zip(chart.data["id"], chart.data["lane"]))
    assert lanes["e0"] != lanes["e1"]
    # a lone event sits in the same lane wherever it is
    assert lanes["e2"] == lanes["e3"] == lanes["e4"]
    assert spec["encoding"]["yOffset"]["scale"]["domain"] == [0, 1]


def test_lanes_are_as_many_as_the_busiest_day_and_type():
    table = _table(["2023-09-29"] * 6 + ["2023-10-04"], ["Strategic developments"] * 7, [None] * 7)
    lanes, count = tables.timeline_lanes(
        pd.DataFrame({"date": pd.to_datetime(table["date"]), "event_type": table["event_type"]})
    )
    assert count == 6
    assert sorted(lanes[:6]) == [0, 1, 2, 3, 4, 5]
    assert 0 <= lanes[6] < 6


def test_fatalities_legend_shows_whole_numbers_only():
    chart, _ = tables.timeline_chart(_table(["2023-09-24", "2023-09-25"], ["Battles"] * 2, [1, 3]))
    legend = chart.to_dict()["encoding"]["size"]["legend"]
    assert legend["format"] == "d" and legend["tickMinStep"] == 1


@pytest.mark.parametrize(("rows", "shown"), [(0, 1), (1, 1), (38, 38), (200, 200), (5_000, 200)])
def test_table_height_shows_every_row_up_to_the_cap(rows, shown):
    assert tables.table_height(rows) == (shown + 1) * tables.TABLE_ROW_PX + 3
