"""The Edit page's shape section for deployment areas: draw or reshape on the map.

:func:`shape_section` shows the area on an offline map with leaflet-draw's tools
(:mod:`layers.draw`) and returns the geometry the page's Save writes: the stored
one until the analyst draws, then everything in the editable group. What the map
returns (streamlit-folium's ``all_drawings``) is kept under :data:`DRAWN`, tagged
with the form's load generation, so a feature loaded afresh starts from its
stored shape again. :func:`check_shape` refuses, before the store is asked, a shape
the store would accept but the catalogue should not (outside the region); the
store's own validation (``geo.io.parse_layer``) runs on every save as well.
"""

from __future__ import annotations

from typing import Any, Mapping

import streamlit as st
from streamlit_folium import st_folium

from geo.io import Problem
from layers.draw import area_km2, draw_map, drawn_geometry, same_shape, shape_problems
from store import ValidationFailed
from ui import data
from ui.text import md_escape

DRAWN = "bb_edit_drawn"  # (load generation, the editable group's features as the map last returned them)
MAP_HEIGHT = 440  # pixels
AREA_DECIMALS = 1  # the catalogue's area_km2 property


def shape_section(layer_id: str, stored: Mapping[str, Any] | None, generation: int) -> dict | None:
    """Draw the area's map; return the geometry to save (None: nothing drawn yet)."""
    st.markdown("**Shape**")
    st.caption(
        "Draw a part with the polygon tool (the pentagon at the top left of the map): click each corner, then "
        "the first corner again to close it. Reshape with the edit tool (the pencil): drag the white squares, "
        "then press **Save** beside the tools. The bin removes a part. The area is everything drawn in its "
        "colour; holes are kept as stored."
    )
    settings = data.settings()
    countries = data.layer_data().display["countries"]
    result = st_folium(
        draw_map(layer_id, stored, countries, settings),
        key=f"bb_edit_draw_{generation}",
        height=MAP_HEIGHT,
        width="stretch",
        returned_objects=["all_drawings"],
    )
    drawings = (result or {}).get("all_drawings")
    if drawings is not None:
        st.session_state[DRAWN] = (generation, drawings)
    kept = st.session_state.get(DRAWN)
    if not kept or kept[0] != generation:
        if stored:
            st.caption(f"Area: **{area_km2(stored):,.1f} km²** as stored (measured in UTM zone 34N).")
        else:
            st.info("No shape yet: draw the area on the map.")
        return dict(stored) if stored else None
    try:
        geometry = drawn_geometry(kept[1])
    except ValueError as exc:
        st.error(md_escape(f"The shape cannot be saved: {exc}."), icon="⚠️")
        return None
    if stored and same_shape(geometry, stored):
        st.caption(f"Area: **{area_km2(stored):,.1f} km²**, the stored shape (measured in UTM zone 34N).")
        return dict(stored)
    problems = shape_problems(geometry)
    if geometry:
        change = "new shape" if stored else "drawn shape"
        st.caption(f"Area of the {change}: **{area_km2(geometry):,.1f} km²** (measured in UTM zone 34N); "
                   "not saved yet: press Save below.")
    for problem in problems:
        st.error(md_escape(f"The shape cannot be saved: {problem}."), icon="⚠️")
    return geometry


def check_shape(feature: Mapping[str, Any]) -> None:
    """Raise :class:`~store.ValidationFailed` (field ``geometry``) for a shape that must not be saved."""
    problems = shape_problems(feature.get("geometry"))
    if problems:
        feature_id = str((feature.get("properties") or {}).get("id", ""))
        raise ValidationFailed([Problem("<edit>", feature_id, "geometry", message) for message in problems])


def with_measured_area(feature: dict, stored: Mapping[str, Any] | None) -> dict:
    """The feature with its ``area_km2`` measured again when its shape is not the stored one."""
    geometry = feature.get("geometry")
    if geometry and not same_shape(geometry, stored) and not shape_problems(geometry):
        feature["properties"]["area_km2"] = round(area_km2(geometry), AREA_DECIMALS)
    return feature
