"""About: what the app shows, how current it is, what the precision codes mean, the sources."""

import pandas as pd
import streamlit as st

from geo.events import GEO_PRECISION, STATUS, TIME_PRECISION
from layers.catalog import LAYERS
from ui import data, session
from ui.text import md_link

session.require_entry_script()
layers = data.layer_data()
current = session.state()
events = layers.full["events"]

st.title("About Border Brief")
st.markdown(
    """
Border Brief is a briefing map of the Kosovo–Serbia crisis of autumn 2023: the armed attack on
Kosovo Police at **Banjska** on 24 September 2023 and the siege of the monastery, the **Serbian
military buildup** reported along the boundary with Kosovo, and NATO's **reinforcement of KFOR**.
It grew from a news briefing of 11 November 2023 and extends it with the wider crisis from May to
November 2023 and the background it names.

Every geometry, place and event comes from a named source, cited on the feature itself. Where a
fact is uncertain, the data says how precise it is; where parties disagree, each claim is recorded
with its source. Summaries are written by Border Brief; figures and facts are the sources'.
"""
)
st.header("How current the data is")
st.markdown(
    f"The event catalogue runs from **{events['date'].min()}** to **{events['date'].max()}** "
    f"({len(events)} events). It is not updated automatically."
)

st.header("Precision codes")
left, right = st.columns(2)
with left:
    st.markdown("**Time precision** (`time_precision`)")
    st.table(pd.DataFrame({"code": list(TIME_PRECISION), "meaning": list(TIME_PRECISION.values())}).set_index("code"))
with right:
    st.markdown("**Location precision** (`geo_precision`)")
    st.table(pd.DataFrame({"code": list(GEO_PRECISION), "meaning": list(GEO_PRECISION.values())}).set_index("code"))
st.markdown(
    "On the map an event with location precision 2 or 3 is drawn hollow and dashed, with a circle "
    "showing the area it may lie in. An event that happened far away but concerns the region (a statement "
    "in Washington, say) is placed at the place it concerns, with location precision 3, and its panel says "
    "where it really happened."
)
st.markdown("**Status**")
st.table(pd.DataFrame({"status": list(STATUS), "meaning": list(STATUS.values())}).set_index("status"))
st.caption(
    "The events CSV (Layers & data) carries these meanings in its `time_precision_meaning`, "
    "`geo_precision_meaning` and `status_meaning` columns; it is UTF-8 with a byte-order mark, and any "
    "text cell starting with =, +, -, @ or a tab is prefixed with ' so a spreadsheet shows it as text, "
    "never runs it as a formula."
)

st.header("Sources")
counts: dict[tuple[str, str], int] = {}
titles: dict[tuple[str, str], str] = {}
for spec in LAYERS:
    for sources in layers.full[spec.id]["sources"]:
        for source in sources:
            key = (source.get("publisher", ""), source.get("url", ""))
            counts[key] = counts.get(key, 0) + 1
            titles[key] = source.get("title", "")
with st.expander(f"All {len(counts)} cited sources", expanded=False):
    st.markdown(
        "\n".join(
            f"- {md_link(titles[key], key[1])} — {md_link(key[0], None)} ({counts[key]} feature(s))"
            for key in sorted(counts)
        )
    )
st.caption(
    "Software: Streamlit, folium/Leaflet, streamlit-folium, GeoPandas, Shapely. Map assets are served "
    "from installed packages; the offline basemap is drawn from OpenStreetMap-derived country outlines."
)
