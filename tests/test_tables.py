"""Event tables and the timeline chart: dots for a briefing, counts for a large catalogue."""

import pandas as pd

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
    assert set(chart.data.columns) == {"date", "event_type", "fatalities", "title", "place"}

    n = tables.DOT_LIMIT + 1
    large = _table(pd.date_range("2023-09-01", periods=n, freq="h").strftime("%Y-%m-%d"), ["Protests"] * n, [0] * n)
    chart, note = tables.timeline_chart(large)
    assert chart.to_dict()["mark"]["type"] == "bar"
    assert int(chart.data["events"].sum()) == n and len(chart.data) <= 90
    assert f"{n:,} events" in note and "per day" in note
