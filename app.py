"""Border Brief: entry point. One navigation, one shared sidebar, thin pages."""

import streamlit as st

from ui import session

st.set_page_config(page_title="Border Brief — Kosovo–Serbia 2023", page_icon="🗺️", layout="wide")

pages = st.navigation(
    [
        st.Page("pages/map.py", title="Map", icon=":material/map:", url_path="map", default=True),
        st.Page("pages/timeline.py", title="Timeline", icon=":material/timeline:", url_path="timeline"),
        st.Page("pages/layers.py", title="Layers & data", icon=":material/layers:", url_path="layers"),
        st.Page("pages/edit.py", title="Edit", icon=":material/edit:", url_path="edit"),
        st.Page("pages/analysis.py", title="Analysis", icon=":material/straighten:", url_path="analysis"),
        st.Page("pages/about.py", title="About", icon=":material/info:", url_path="about"),
    ]
)
session.mark_entry_script()
session.sidebar()
pages.run()
