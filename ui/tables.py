"""Event tables and downloads shared by the Timeline and Layers & data pages."""

from __future__ import annotations

import io

import altair as alt
import geopandas as gpd
import pandas as pd

from layers.catalog import EVENT_TYPE_COLORS

EVENT_COLUMNS = ["date", "title", "event_type", "sub_event_type", "fatalities", "status", "id"]


def event_table(events: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per event, newest last, with the location's English name."""
    table = pd.DataFrame(events[EVENT_COLUMNS]).copy()
    table.insert(2, "place", [loc.get("en") if isinstance(loc, dict) else None for loc in events["location"]])
    return table.sort_values(["date", "id"]).reset_index(drop=True)


def events_csv(events: gpd.GeoDataFrame) -> bytes:
    """Flat CSV of the catalogue: lists joined with '; ', sources as 'title <url>'."""
    rows = []
    for _, event in events.iterrows():
        location = event["location"] if isinstance(event["location"], dict) else {}
        rows.append(
            {
                "id": event["id"],
                "date": event["date"],
                "time_precision": event["time_precision"],
                "title": event["title"],
                "event_type": event["event_type"],
                "sub_event_type": event["sub_event_type"],
                "actors": "; ".join(event["actors"] or []),
                "fatalities": event["fatalities"],
                "location_en": location.get("en"),
                "location_sq": location.get("sq"),
                "location_sr": location.get("sr"),
                "latitude": round(event.geometry.y, 6),
                "longitude": round(event.geometry.x, 6),
                "geo_precision": event["geo_precision"],
                "status": event["status"],
                "summary": event["summary"],
                "sources": "; ".join(f"{s.get('title')} <{s.get('url')}>" for s in event["sources"] or []),
            }
        )
    buffer = io.StringIO()
    pd.DataFrame(rows).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


#: Above this many events the timeline shows counts per day or week instead of one dot per event.
DOT_LIMIT = 2_000


def _type_color(legend: bool = False) -> alt.Color:
    return alt.Color(
        "event_type:N",
        scale=alt.Scale(domain=list(EVENT_TYPE_COLORS), range=list(EVENT_TYPE_COLORS.values())),
        legend=alt.Legend(title="Event type", orient="right") if legend else None,
    )


def timeline_chart(table: pd.DataFrame) -> tuple[alt.Chart, str]:
    """The events over time, coloured as on the map, and a sentence saying what the chart shows.

    Up to :data:`DOT_LIMIT` events: one dot per event, one row per event type, sized by
    fatalities. Above it, stacked bars of the number of events per day (per week when the
    window is longer than 120 days), so the browser draws a few hundred marks, not 100,000.
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
        }
    )
    chart = (
        alt.Chart(data)
        .mark_circle(opacity=0.85, stroke="#1f2937", strokeWidth=0.5)
        .encode(
            x=alt.X("date:T", title="Date"),
            y=alt.Y("event_type:N", title=None, sort=list(EVENT_TYPE_COLORS)),
            size=alt.Size("fatalities:Q", title="Fatalities", scale=alt.Scale(range=[60, 400])),
            color=_type_color(),
            tooltip=[
                alt.Tooltip("date:T", title="Date"),
                alt.Tooltip("title:N", title="Event"),
                alt.Tooltip("place:N", title="Place"),
            ],
        )
        .properties(height=260)
    )
    return chart, "One dot per event, sized by fatalities."


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
