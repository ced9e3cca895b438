"""Bring in new reports: upload event GeoJSON, validate it whole, add it to this session's map."""

from __future__ import annotations

import hashlib

import streamlit as st

from geo.events import parse_events
from geo.io import LayerValidationError
from layers.data import ImportConflictError, with_imported_events
from ui import data, tables
from ui.text import md_escape

MAX_UPLOAD_MB = 20


def import_section() -> None:
    st.subheader("Bring in new reports")
    st.caption(
        "Upload a GeoJSON FeatureCollection of events with the catalogue's fields (see About → precision "
        "codes and data/EVENTS.md). The whole file is checked first; if anything is wrong nothing is "
        "added and every problem is listed. Added reports stay in your session only, are marked as "
        "imported in the panel, and never change the published catalogue."
    )
    upload = st.file_uploader("Event reports (.geojson)", type=["geojson", "json"], key="bb_upload")
    current = st.session_state.get(data.IMPORTED)
    if current is not None:
        st.success(f"{len(current[1])} imported report(s) are on your map.")
        st.button("Remove imported reports", on_click=_clear, key="bb_import_clear")
    if upload is None:
        return
    raw = upload.getvalue()
    if len(raw) > MAX_UPLOAD_MB * 1024 * 1024:
        st.error(f"The file is larger than {MAX_UPLOAD_MB} MB; split it into smaller reports.")
        return
    token = hashlib.sha256(raw).hexdigest()[:16]
    if current is not None and current[0] == token:
        return
    try:
        frame = parse_events(raw, source_name=upload.name)
        with_imported_events(data.base_layer_data(), frame)
    except LayerValidationError as exc:
        st.error(f"{len(exc.problems)} problem(s) in {md_escape(upload.name)}; nothing was added. Fix these and upload again:")
        st.code("\n".join(str(p) for p in exc.problems[:100]), language=None)
        return
    except ImportConflictError as exc:
        st.error(md_escape(exc))
        return
    st.dataframe(tables.event_table(frame), hide_index=True, use_container_width=True)
    st.button(
        f"Add {len(frame)} report(s) to my map",
        type="primary",
        on_click=_add,
        args=(token, frame),
        key="bb_import_add",
    )


def _add(token, frame) -> None:
    st.session_state[data.IMPORTED] = (token, frame)


def _clear() -> None:
    st.session_state.pop(data.IMPORTED, None)
