"""The source audit (geo.audit) of the event being edited, shown on the Edit page.

Findings are advice for the analyst, not a gate: the store's validation decides what may
be written. They are computed from the form as it stands, so a stated distance that does
not match the point, a Serbian-side event drawn in Kosovo or a figure no source carries
shows up before the save.
"""

from __future__ import annotations

import streamlit as st

from geo import audit
from layers.config import PRECISION_RADIUS_M
from layers.data import LayerData
from ui.text import md_escape


@st.cache_resource(show_spinner=False, max_entries=2)
def _reference(_layers: LayerData, key: int) -> tuple:
    full = _layers.full
    return audit.prepare_places(full["places"]), audit.Boundary.from_layers(full["countries"], full.get("border"))


def findings(feature: dict, layers: LayerData) -> list[audit.Finding]:
    places, boundary = _reference(layers, id(layers))
    return audit.audit_event(feature.get("properties") or {}, feature.get("geometry"), places, boundary, PRECISION_RADIUS_M)


def render(feature: dict, layers: LayerData) -> None:
    """An expander with the audit's errors and warnings for ``feature`` (an event)."""
    try:
        found = findings(feature, layers)
    except Exception as exc:  # noqa: BLE001 - advice only; never block the form
        st.caption(f"The source audit could not check this event: {md_escape(type(exc).__name__)}.")
        return
    errors, warnings = audit.split(found)
    label = (f"Source audit: {len(errors)} error(s), {len(warnings)} warning(s)" if found
             else "Source audit: nothing found")
    with st.expander(label, expanded=bool(errors)):
        if not found:
            st.caption("Stated distances, the side of the boundary, figures in the text and the sources' dates all check out.")
        for finding in errors:
            st.error(f"**{md_escape(finding.field)}** ({md_escape(finding.check)}): {md_escape(finding.message)}")
        for finding in warnings:
            st.warning(f"**{md_escape(finding.field)}** ({md_escape(finding.check)}): {md_escape(finding.message)}")
        st.caption("Advice from `python -m geo.audit` (data/EVENTS.md); the save is not blocked by it.")
