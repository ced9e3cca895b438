"""Map (home): the briefing map with the details panel beside it."""

import streamlit as st

from ui import briefing, data, mapview, panel, session, style

session.require_entry_script()
layers = data.layer_data()
current = session.state()

style.inject()  # the map fills the window; the panel beside it scrolls on its own
st.title("Kosovo–Serbia crisis, autumn 2023")
st.caption(
    "The Banjska attack of 24 September 2023, the Serbian buildup along the boundary and NATO's "
    "reinforcement of KFOR. Click a marker, a place or an area for details; Copy link on the map shares this view."
)
map_column, panel_column = st.columns([3, 1.25], gap="medium")
with map_column:  # first in script order: the map's frame starts loading while the panel is drawn
    mapview.show_map(layers, current)
with panel_column:  # reruns on its own after a click (ui.panel.side_panel): the map is not sent again
    panel.side_panel(data.data_key())
briefing.download_button(layers, current)  # the view as one offline HTML file (ui/briefing.py)
