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


def timeline_chart(table: pd.DataFrame) -> alt.Chart:
    """Events as dots over time, one row per event type, coloured as on the map."""
    data = table.assign(date=pd.to_datetime(table["date"]), fatalities=table["fatalities"].fillna(0))
    return (
        alt.Chart(data)
        .mark_circle(opacity=0.85, stroke="#1f2937", strokeWidth=0.5)
        .encode(
            x=alt.X("date:T", title="Date"),
            y=alt.Y("event_type:N", title=None, sort=list(EVENT_TYPE_COLORS)),
            size=alt.Size("fatalities:Q", title="Fatalities", scale=alt.Scale(range=[60, 400])),
            color=alt.Color(
                "event_type:N",
                scale=alt.Scale(domain=list(EVENT_TYPE_COLORS), range=list(EVENT_TYPE_COLORS.values())),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("date:T", title="Date"),
                alt.Tooltip("title:N", title="Event"),
                alt.Tooltip("place:N", title="Place"),
            ],
        )
        .properties(height=260)
    )
