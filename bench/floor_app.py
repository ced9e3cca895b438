"""The floor of the map benchmark's first paint: Streamlit with the map component and nothing else.

A Streamlit page (run by ``bench.run.floor_row`` from a folder of its own) with a title and streamlit-folium's component showing an empty map with the
app's own local Leaflet (``layers.render.new_map``): no sidebar, no panel, no layers, no data.
It sets the same ``BB.loaded.events`` flag the app's event layer sets once the map exists, so
``bench.browser`` times it exactly as it times the app (``python -m bench`` reports it as the
"floor" row). What the app takes beyond it is the app's own; the floor itself is Streamlit's
frontend and the component's frame on this machine.
"""

import streamlit as st
from branca.element import MacroElement
from jinja2 import Template
from streamlit_folium import st_folium

from layers.config import load_settings
from layers.render import new_map


class _Loaded(MacroElement):
    _template = Template("{% macro script(this, kwargs) %}window.BB = {loaded: {events: true}};{% endmacro %}")


st.set_page_config(page_title="Benchmark floor", layout="wide")
st.title("Benchmark floor: Streamlit and the map component")
m = new_map(load_settings())
_Loaded().add_to(m)
st_folium(m, key="floor", height=600, use_container_width=True, returned_objects=[])
