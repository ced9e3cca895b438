"""The map component: build the folium map for the state and read back clicks."""

from __future__ import annotations

import json

import folium
import folium.elements
from branca.element import MacroElement
from jinja2 import Template
import streamlit as st

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

#: The map's accessible name (issue 16): the component's iframe is titled
#: "streamlit_folium.st_folium" by Streamlit, which says nothing to a screen-reader user.
MAP_NAME = "Briefing map: events, places and deployment areas"

# Accessibility inside the map document (issue 16): the legend at 14 px (readable on a
# projector; its inline 12 px is the legend author's default), and a visible focus ring on
# every map control a keyboard reaches (zoom, legend, measure, playback, copy link).
_A11Y_FRAME_CSS = (
    "<style>.bb-legend-box,.bb-legend-box *{font-size:14px!important}"
    ".leaflet-container a:focus-visible,.leaflet-container button:focus-visible,"
    ".leaflet-container summary:focus-visible,.leaflet-container input:focus-visible,"
    ".leaflet-container select:focus-visible,.leaflet-container [tabindex]:focus-visible"
    "{outline:3px solid #1d4ed8!important;outline-offset:2px}</style>"
)

# Names the map for assistive technology (issue 16): the map document's title, a labelled
# region landmark around the map, and the iframe's own aria-label (the component's frame is
# served from the app's origin, so the map document may label the element that holds it;
# aria-label takes precedence over the frame's generic title).
_A11Y_FRAME_JS = """
(function (name) {
  document.title = name;
  var holder = document.getElementById("map_div") || document.body;
  holder.setAttribute("role", "region");
  holder.setAttribute("aria-label", name);
  try {
    if (window.frameElement) window.frameElement.setAttribute("aria-label", name);
  } catch (err) { /* another origin: the title and the landmark still name the map */ }
})(%s);
"""


class _MapName(MacroElement):
    """Runs :data:`_A11Y_FRAME_JS` in the map document (streamlit-folium runs the map's
    children's ``script`` macros; a script in the header would not run)."""

    _template = Template("{% macro script(this, kwargs) %}" + (_A11Y_FRAME_JS % json.dumps(MAP_NAME)) + "{% endmacro %}")


def _take_click(raw: str | None) -> str | None:
    """Act on a value the map sent (``last_object_clicked_popup``) unless it was already taken:
    "select" (a feature was selected), "window" (a new time window was kept) or None."""
    if not raw or raw == st.session_state.get(_LAST_CLICK):
        return None
    st.session_state[_LAST_CLICK] = raw
    b = session.bounds(data.layer_data())
    click = parse_click(raw, b)
    if click:
        session.select(click[0], click[1])
        return "select"
    if window := _kept_window(raw, b):
        session._set_window(window)
        return "window"
    return None


def _store_click() -> None:
    """Runs before the rerun a click causes: the page then draws the new selection at once."""
    taken = _take_click((st.session_state.get("bb_map") or {}).get("last_object_clicked_popup"))
    if taken == "select":
        # Only the side panel shows a selection (the map follows it from the URL): rerun
        # just that fragment (issue 15: a cheap click). st.rerun with a fragment's key is
        # allowed in a callback; it replaces the whole-page rerun of this interaction.
        from ui.panel import PANEL_FRAGMENT

        st.rerun(PANEL_FRAGMENT)
    # a new time window: the whole page runs again (the interaction's own rerun)


def _kept_window(raw: str, b) -> tuple | None:
    """The playback control's "Keep this window" (layers/playback.js): ``"window|<from>/<to>|<nonce>"``."""
    parts = raw.split("|")
    if len(parts) != 3 or parts[0] != "window" or parts[1].count("/") != 1:
        return None
    first, last = parts[1].split("/")
    parsed, notices = parse_query({"from": first, "to": last}, b)
    return None if notices else (parsed.start, parsed.end)


#: What the map sends back to the app: only a feature click reruns the app; panning and
#: zooming update the URL from the browser without a rerun (see layers/runtime.js).
RETURNED = ("last_object_clicked_popup",)

# The component arguments of the session's last map and what they were built from
# (ui.data.data_key() and the state the map depends on): a rerun that changes none of them
# (a click, the panel's buttons) sends the same arguments again without building the map.
_PREPARED = "bb_map_prepared"


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def component_args(m: folium.Map) -> dict:
    """The arguments ``st_folium(m, key="bb_map", height=MAP_HEIGHT_PX, use_container_width=True,
    returned_objects=RETURNED)`` passes to its component, computed as streamlit-folium 0.27 does
    (its own helpers; tests/test_mapview_args.py checks the result against st_folium itself).

    Rendering the folium map is most of a rerun's cost on the server; keeping these arguments
    lets a click rerun the map without rendering it again (issue 15: a cheap click)."""
    import streamlit_folium as sf

    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    leaflet = sf._get_map_string(m)
    css_links: list[str] = []
    js_links: list[str] = []
    for element in _walk(m):
        if isinstance(element, folium.elements.JSCSSMixin):
            css_links.extend(href for _, href in getattr(element, "default_css", []))
            js_links.extend(src for _, src in getattr(element, "default_js", []))
    return dict(
        script=leaflet, header=header, html=html, id=sf.get_full_id(m),
        key=sf.generate_js_hash(leaflet, "bb_map", False),
        height=MAP_HEIGHT_PX, width=None, returned_objects=list(RETURNED),
        default={name: None for name in RETURNED}, zoom=None, center=None, feature_group=None,
        return_on_hover=False, layer_control=None, pixelated=False,
        css_links=list(dict.fromkeys(css_links)), js_links=list(dict.fromkeys(js_links)),
        wrap_longitude=False,
    )


def _build(layers: LayerData, current: AppState) -> dict:
    frames = dict(layers.display)
    frames["events"] = filter_events(layers.full["events"], current.start, current.end)
    view = session.opening_view()
    m = build_map(
        frames,
        list(current.layers),
        basemap=current.basemap,
        settings=data.settings(),
        view=(view.lat, view.lon, view.zoom) if view else None,
        changes=data.changes_since(current.since),
        window=(current.start, current.end),
    )
    m.get_root().header.add_child(folium.Element(_FILL_FRAME_CSS), name="bb_fill_frame")
    m.get_root().header.add_child(folium.Element(_A11Y_FRAME_CSS), name="bb_a11y_css")
    _MapName().add_to(m)
    return component_args(m)


def show_map(layers: LayerData, current: AppState) -> None:
    """Draw the map; a click on a feature selects it (one rerun, via the on_change callback).

    The map is built only when what it shows changed (the data's version, the layers, the
    time window, the basemap, the language, the change marks); otherwise the session's last
    arguments are sent again. No center/zoom: the map keeps its own view across reruns
    (runtime.js); a shared link's view is the map's opening view.

    The component's key is the script's hash, and the script names nothing of the session
    (the opening view rides in the map document's header, layers.render.OpeningView): every
    session that shows the same map gives it the same identity. A browser whose server
    session is gone (its replica died; the page reconnected to another one and was not run
    again) still shows the old session's map, and its first click arrives in the new session
    for this same component, in the first run of that session, where no callback runs (the
    session has no record of the component yet): the value returned here is then taken."""
    from streamlit_folium import _component_func

    # The selection is not part of it: the map follows the URL's selection itself (runtime.js).
    inputs = (data.data_key(), current.layers, current.start, current.end, current.basemap, current.lang,
              current.since, session.opening_view(), id(data.settings()))
    kept = st.session_state.get(_PREPARED)
    if kept is None or kept[0] != inputs:
        kept = (inputs, _build(layers, current))
        st.session_state[_PREPARED] = kept
    args = kept[1]
    hash_key = args["key"]

    def on_change() -> None:  # what st_folium's own callback does, then ours
        st.session_state["bb_map"] = st.session_state.get(hash_key, {})
        _store_click()

    value = _component_func(**args, on_change=on_change)
    # A click no callback took (see above): this run read the page's state and drew the sidebar
    # before the click was taken, so the whole page runs again with it (rare: a new session's
    # first run, once per failover).
    if _take_click((value or {}).get("last_object_clicked_popup")):
        st.session_state["bb_map"] = value
        st.rerun()
