"""Timeline: the events of the time window as a chart and a list; open one on the map."""

import streamlit as st

from layers.render import filter_events
from ui import data, session, tables

session.require_entry_script()
layers = data.layer_data()
current = session.state()

st.title("Timeline")
start, end = current.start, current.end
crisis = tables.crisis_part(start, end)
if crisis:  # the crisis by default; the background years one click away
    span = st.segmented_control(
        "Span", options=list(tables.TIMELINE_SPANS), format_func=tables.TIMELINE_SPANS.get, default="crisis",
        required=True, key="bb_timeline_span", label_visibility="collapsed",
        help="The 2023 crisis (May–November 2023), or the whole time window with the background events.",
    )
    if span != "record":
        start, end = crisis
events = filter_events(layers.full["events"], start, end)
table = tables.event_table(events)
st.caption(f"{len(table):,} events from {start} to {end}. Select a row to open the event on the map.")
if table.empty:
    st.info("No events in this time window. Widen it in the sidebar.")
    st.stop()

chart, note = tables.timeline_chart(table)
st.altair_chart(chart, use_container_width=True)
st.caption(note)
selection = st.dataframe(
    table,
    hide_index=True,
    use_container_width=True,
    height=tables.table_height(len(table)),
    on_select="rerun",
    selection_mode="single-row",
    key="bb_timeline_table",
    column_config={
        "id": st.column_config.TextColumn("id", help="Stable id, as in the URL's event= parameter"),
        "fatalities": st.column_config.NumberColumn("fatalities", format="%d"),
    },
)
rows = selection.selection.rows if selection else []
if rows:
    session.select("events", table.iloc[rows[0]]["id"])
    st.switch_page("pages/map.py")
