"""Layers & data: each layer's description, size, provenance, licence and downloads."""

import streamlit as st

from layers.catalog import GROUPS, LAYERS
from layers.export import dumps, to_feature_collection
from layers.render import filter_events
from ui import data, imports, session, tables
from ui.text import md_escape

session.require_entry_script()
layers = data.layer_data()
current = session.state()

st.title("Layers & data")
st.caption(
    "Every layer is real geography or a reported fact with its sources. Downloads are RFC 7946 GeoJSON "
    "(EPSG:4326), ready for QGIS; `python -m layers export OUTDIR` writes them all at once."
)

for group_id, group_title in GROUPS.items():
    st.header(group_title)
    for spec in (s for s in LAYERS if s.group == group_id):
        frame = layers.full[spec.id]
        with st.container(border=True):
            left, right = st.columns([3, 1])
            with left:
                visible = "shown" if spec.id in current.layers else "hidden"
                st.markdown(f"**{md_escape(spec.title)}** · `{spec.id}` · {len(frame)} features · {visible} on the map")
                st.markdown(md_escape(spec.description))
                st.caption(f"Licence: {spec.licence} · Read from {layers.origin.get(spec.id, 'data/' + layers.files[spec.id].name)}")
                publishers = sorted({s.get("publisher") for srcs in frame["sources"] for s in srcs if isinstance(s, dict)})
                st.caption("Sources from: " + md_escape(", ".join(p for p in publishers if p)))
            with right:
                st.download_button(
                    "GeoJSON",
                    # Generated only when clicked: the page stays light.
                    lambda frame=frame, layer_id=spec.id: dumps(to_feature_collection(frame, layer_id)),
                    file_name=f"{spec.id}.geojson",
                    mime="application/geo+json",
                    key=f"bb_download_{spec.id}",
                    on_click="ignore",
                    use_container_width=True,
                )
                if spec.id == "events":
                    window = filter_events(frame, current.start, current.end)
                    st.download_button(
                        f"CSV ({len(window)} in window)",
                        lambda window=window: tables.events_csv(window),
                        file_name="events.csv",
                        mime="text/csv",
                        key="bb_download_events_csv",
                        on_click="ignore",
                        use_container_width=True,
                    )

st.divider()
imports.import_section()
