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
# The panel is drawn first in script order (it still sits right of the map): after a
# click its new content reaches the browser before the map is rebuilt and sent again.
with panel_column, st.container(key="bb_side"):  # as high as the map, scrolled on its own (ui.style)
    panel.render_panel(layers, current, on_close=lambda: session.select(None, None), on_select=session.select)
    panel.render_changes(layers, current, on_select=session.select)
with map_column:
    mapview.show_map(layers, current)
briefing.download_button(layers, current)  # the view as one offline HTML file (ui/briefing.py)
