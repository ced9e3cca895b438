"""Border Brief: entry point. One navigation, one shared sidebar, thin pages."""

import streamlit as st

from ui import auth, session

st.set_page_config(page_title="Border Brief — Kosovo–Serbia 2023", page_icon="🗺️", layout="wide")

session.mark_entry_script()
identity = auth.refresh()
entries = [
    st.Page("pages/map.py", title="Map", icon=":material/map:", url_path="map", default=True),
    st.Page("pages/timeline.py", title="Timeline", icon=":material/timeline:", url_path="timeline"),
    st.Page("pages/layers.py", title="Layers & data", icon=":material/layers:", url_path="layers"),
    st.Page("pages/edit.py", title="Edit", icon=":material/edit:", url_path="edit"),
    st.Page("pages/analysis.py", title="Analysis", icon=":material/straighten:", url_path="analysis"),
    st.Page("pages/about.py", title="About", icon=":material/info:", url_path="about"),
]
if identity is not None and identity.is_admin:
    entries.append(st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:", url_path="admin"))
if auth.must_sign_in():  # BORDER_BRIEF_PUBLIC_READ=false and nobody signed in: the form only
    st.navigation(entries, position="hidden")
    auth.sign_in_only_page()
    st.stop()
pages = st.navigation(entries)
session.sidebar()
auth.sidebar_section()
pages.run()
