"""Analysis: measured lengths, areas and distances, with the method stated."""

import streamlit as st

from geo.crs import METRIC_CRS
from ui import data, session

session.require_entry_script()
layers = data.layer_data()
current = session.state()
figures = data.analysis_figures()

st.title("Analysis")
st.caption(
    f"All figures are computed from the layers in this app, in the metric CRS {METRIC_CRS} (UTM zone 34N, "
    "whose central meridian runs through Kosovo), never in degrees. Distances are the shortest distance "
    "from a point or the nearest edge of an area to the Kosovo–Serbia boundary line."
)

published = figures["published"].set_index("figure")
boundary = published.loc["kosovo_serbia_boundary_km"]
area = published.loc["kosovo_area_km2"]
c1, c2, c3 = st.columns(3)
c1.metric(
    "Kosovo–Serbia boundary length",
    f"{boundary['ours']:,.1f} km",
    f"{boundary['difference_pct']:+.1f}% vs {boundary['published']:,.0f} km published",
    delta_color="off",
)
c2.metric(
    "Kosovo area",
    f"{area['ours']:,.0f} km²",
    f"{area['difference_pct']:+.2f}% vs {area['published']:,.0f} km² published",
    delta_color="off",
)
banjska = figures["places"].set_index("id")
if "banjska-village" in banjska.index:
    c3.metric("Banjska to the boundary", f"{banjska.loc['banjska-village', 'distance_km']:.1f} km")
st.caption(
    "Published figures: CIA World Factbook. Our boundary is derived from OpenStreetMap-based outlines "
    "simplified by the source (10 m resolution) and leaves a gap where the Gazivode reservoir is in neither "
    "polygon; our area excludes inland water. See data/SOURCES.md for the full comparison."
)

st.header("Deployment areas and the boundary")
left, right = st.columns(2)
with left:
    st.markdown("**KFOR areas** (inside Kosovo)")
    st.dataframe(figures["kfor"], hide_index=True, use_container_width=True, column_config={"distance_km": st.column_config.NumberColumn("km to boundary", format="%.1f")})
with right:
    st.markdown("**Serbian deployments** (inside Serbia)")
    st.dataframe(figures["serbian"], hide_index=True, use_container_width=True, column_config={"distance_km": st.column_config.NumberColumn("km to boundary", format="%.1f")})

st.header("Reported Serbian deployments inside the 1999 safety zones")
st.caption(
    "The 1999 Military Technical Agreement kept Yugoslav forces out of a 5 km Ground Safety Zone and a 25 km "
    "Air Safety Zone beyond Kosovo's boundary; both were later reduced or lifted (see the zone layers' history). "
    "The overlap shows how the reported 2023 positions relate to those lines, not a breach of a rule in force."
)
zones = figures["zones"].copy()
zones["zone"] = zones["zone"].map({"ground_safety_zone": "Ground (5 km)", "air_safety_zone": "Air (25 km)"})
st.dataframe(
    zones,
    hide_index=True,
    use_container_width=True,
    column_config={
        "overlap_km2": st.column_config.NumberColumn("overlap km²", format="%.0f"),
        "share_of_area": st.column_config.ProgressColumn("share of the area", min_value=0.0, max_value=1.0, format="percent"),
    },
)

st.header("Places and the boundary")
st.dataframe(
    figures["places"],
    hide_index=True,
    use_container_width=True,
    column_config={"distance_km": st.column_config.NumberColumn("km to boundary", format="%.2f")},
)
