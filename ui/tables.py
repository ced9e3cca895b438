"""Event tables and downloads shared by the Timeline and Layers & data pages."""

from __future__ import annotations

import datetime as dt

import altair as alt
import geopandas as gpd
import pandas as pd

from geo.events import CRISIS_WINDOW
from layers.catalog import EVENT_TYPE_COLORS
from layers.tabular import events_csv  # noqa: F401 (the pages' CSV download; written in layers.tabular)

EVENT_COLUMNS = ["date", "title", "event_type", "sub_event_type", "fatalities", "status", "id"]


def event_table(events: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per event, newest last, with the location's English name."""
    table = pd.DataFrame(events[EVENT_COLUMNS]).copy()
    table.insert(2, "place", [loc.get("en") if isinstance(loc, dict) else None for loc in events["location"]])
    return table.sort_values(["date", "id"]).reset_index(drop=True)


#: What the Timeline spans: the crisis itself (the default), or the whole time window, with
#: the background events (2008, 2013, early 2023) that would otherwise stretch the axis.
TIMELINE_SPANS = {"crisis": "The 2023 crisis (May–Nov)", "record": "Whole record (with the background)"}


def crisis_part(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The part of the window ``start``..``end`` inside the crisis (geo.events.CRISIS_WINDOW),
    when the window reaches beyond it; None when the window lies inside the crisis or misses it
    (the Timeline then shows the window as it is)."""
    first, last = max(start, CRISIS_WINDOW[0]), min(end, CRISIS_WINDOW[1])
    if first > last or (first, last) == (start, end):
        return None
    return first, last


#: st.dataframe draws every row, and its header, 35 px high (plus a 3 px border).
TABLE_ROW_PX = 35
#: A table taller than this many rows scrolls inside its box.
TABLE_MAX_ROWS = 200


def table_height(rows: int, max_rows: int = TABLE_MAX_ROWS) -> int:
    """Pixel height for ``st.dataframe`` that shows ``rows`` rows without an inner scroll bar,
    up to ``max_rows`` rows (beyond that the table scrolls)."""
    return (min(max(rows, 1), max_rows) + 1) * TABLE_ROW_PX + 3


#: Above this many events the timeline shows counts per day or week instead of one dot per event.
DOT_LIMIT = 2_000


def _type_color(legend: bool = False) -> alt.Color:
    return alt.Color(
        "event_type:N",
        scale=alt.Scale(domain=list(EVENT_TYPE_COLORS), range=list(EVENT_TYPE_COLORS.values())),
        legend=alt.Legend(title="Event type", orient="right") if legend else None,
    )


#: Vertical room per lane: events of one type on one day sit in lanes this far apart at least.
LANE_PX = 24
CHART_HEIGHT = 260
CHART_MAX_HEIGHT = 720


def timeline_chart(table: pd.DataFrame) -> tuple[alt.Chart, str]:
    """The events over time, coloured as on the map, and a sentence saying what the chart shows.

    Up to :data:`DOT_LIMIT` events: one dot per event, one row per event type, sized by
    fatalities; events of one type on one day each get their own lane in that row (so two
    events never plot as one dot). Above it, stacked bars of the number of events per day (per
    week when the window is longer than 120 days), so the browser draws a few hundred marks,
    not 100,000.
    """
    if len(table) > DOT_LIMIT:
        return _counts_chart(table)
    data = pd.DataFrame(
        {
            "date": pd.to_datetime(table["date"]),
            "event_type": table["event_type"],
            "fatalities": table["fatalities"].fillna(0),
            "title": table["title"],
            "place": table["place"],
            "id": table["id"],
        }
    )
    data["lane"], lanes = timeline_lanes(data)
    rows = data["event_type"].nunique()
    chart = (
        alt.Chart(data)
        .mark_circle(opacity=0.85, stroke="#1f2937", strokeWidth=0.5)
        .encode(
            x=alt.X("date:T", title="Date"),
            # thin padding between rows and around the lanes: the room goes to the lanes
            y=alt.Y(
                "event_type:N", title=None, sort=list(EVENT_TYPE_COLORS),
                scale=alt.Scale(paddingInner=0.1, paddingOuter=0.05),
            ),
            yOffset=alt.YOffset("lane:O", scale=alt.Scale(domain=list(range(lanes)), paddingOuter=0.2)),
            size=alt.Size(
                "fatalities:Q",
                title="Fatalities",
                scale=alt.Scale(range=[60, 400]),
                # deaths are counted in whole people: no 0.5 or 1.5 steps in the legend
                legend=alt.Legend(format="d", tickMinStep=1),
            ),
            color=_type_color(),
            tooltip=[
                alt.Tooltip("date:T", title="Date"),
                alt.Tooltip("title:N", title="Event"),
                alt.Tooltip("place:N", title="Place"),
            ],
        )
        .properties(height=min(CHART_MAX_HEIGHT, max(CHART_HEIGHT, rows * lanes * LANE_PX)))
    )
    return chart, "One dot per event, sized by fatalities; events of one type on one day sit side by side."


def timeline_lanes(data: pd.DataFrame) -> tuple[pd.Series, int]:
    """Each event's lane within its (date, event type) row, and the number of lanes.

    The events of one (date, type) take consecutive lanes in table order, centred in the row:
    a lone event sits in the middle, two events of the same day just above and below it.
    """
    if data.empty:
        return pd.Series(dtype=int, index=data.index), 1
    group = data.groupby(["date", "event_type"], sort=False)["event_type"]
    rank, size = group.cumcount(), group.transform("size")
    lanes = int(size.max())
    return (rank + (lanes - size) // 2).astype(int), lanes


def event_counts(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Events and fatalities per period and event type; the period is a day, or a week (from
    Monday) when the dates span more than 120 days."""
    dates = pd.to_datetime(table["date"])
    weekly = (dates.max() - dates.min()).days > 120
    period = dates.dt.to_period("W-SUN").dt.start_time if weekly else dates
    counts = (
        pd.DataFrame({"period": period, "event_type": table["event_type"], "fatalities": table["fatalities"].fillna(0)})
        .groupby(["period", "event_type"], as_index=False)
        .agg(events=("event_type", "size"), fatalities=("fatalities", "sum"))
    )
    counts["fatalities"] = counts["fatalities"].astype(int)
    return counts, "week" if weekly else "day"


def _counts_chart(table: pd.DataFrame) -> tuple[alt.Chart, str]:
    counts, unit = event_counts(table)
    chart = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=f"{unit.capitalize()} (start)"),
            y=alt.Y("events:Q", title=f"Events per {unit}", stack=True),
            color=_type_color(legend=True),
            order=alt.Order("event_type:N", sort="ascending"),
            tooltip=[
                alt.Tooltip("period:T", title=unit.capitalize()),
                alt.Tooltip("event_type:N", title="Type"),
                alt.Tooltip("events:Q", title="Events", format=","),
                alt.Tooltip("fatalities:Q", title="Fatalities", format=","),
            ],
        )
        .properties(height=260)
    )
    return chart, (
        f"{len(table):,} events are too many to draw one by one: bars count the events per {unit}, "
        "stacked by type (colours as on the map). The table below lists every event."
    )
