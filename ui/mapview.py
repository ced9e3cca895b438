"""The map component: build the folium map for the state and read back clicks."""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from layers.config import MAP_HEIGHT_PX
from layers.data import LayerData
from layers.render import build_map, filter_events
from ui import data, session
from ui.state import AppState, parse_click, parse_query

_LAST_CLICK = "bb_last_click"

#: The map component's iframe on the page (ui.style gives it its height).
MAP_FRAME_SELECTOR = 'iframe[title="streamlit_folium.st_folium"]'

# streamlit-folium gives the map's div the pixel height passed to st_folium. The page's
# stylesheet (ui.style) sizes the iframe from the window instead, so inside the iframe
# the map takes the iframe's whole height, whatever it is, and follows it on resize.
_FILL_FRAME_CSS = "<style>html,body{margin:0;height:100%;overflow:hidden}#map_div{height:100vh!important}</style>"


def _store_click() -> None:
    """Runs before the rerun a click causes: the page then draws the new selection at once."""
    raw = (st.session_state.get("bb_map") or {}).get("last_object_clicked_popup")
    if raw and raw != st.session_state.get(_LAST_CLICK):
        st.session_state[_LAST_CLICK] = raw
        b = session.bounds(data.layer_data())
        click = parse_click(raw, b)
        if click:
            session.select(click[0], click[1])
        elif window := _kept_window(raw, b):
            session._set_window(window)


def _kept_window(raw: str, b) -> tuple | None:
    """The playback control's "Keep this window" (layers/playback.js): ``"window|<from>/<to>|<nonce>"``."""
    parts = raw.split("|")
    if len(parts) != 3 or parts[0] != "window" or parts[1].count("/") != 1:
        return None
    first, last = parts[1].split("/")
    parsed, notices = parse_query({"from": first, "to": last}, b)
    return None if notices else (parsed.start, parsed.end)


def show_map(layers: LayerData, current: AppState) -> None:
    """Draw the map; a click on a feature selects it (one rerun, via the on_change callback)."""
    frames = dict(layers.display)
    frames["events"] = filter_events(layers.full["events"], current.start, current.end)
    view = session.opening_view()
    m = build_map(
        frames,
        list(current.layers),
        basemap=current.basemap,
        settings=data.settings(),
        view=(view.lat, view.lon, view.zoom) if view else None,
        view_token=session.view_token(),
        changes=data.changes_since(current.since),
        window=(current.start, current.end),
    )
    m.get_root().header.add_child(folium.Element(_FILL_FRAME_CSS), name="bb_fill_frame")
    st_folium(
        m,
        key="bb_map",
        # the first height of the iframe, until the page's stylesheet sizes it (ui.style)
        height=MAP_HEIGHT_PX,
        use_container_width=True,
        # Only a feature click reruns the app; panning and zooming update the URL
        # from the browser without a rerun (see layers/runtime.js).
        returned_objects=["last_object_clicked_popup"],
        # No center/zoom: the map keeps its own view across reruns (runtime.js);
        # a shared link's view is the map's opening view above.
        on_change=_store_click,
    )
