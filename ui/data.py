"""Cached access to the layer data: loaded once per process, shared by sessions."""

from __future__ import annotations

import streamlit as st

from geo.io import LayerValidationError
from layers.config import ConfigurationError, Settings, load_settings
from layers.data import LayerData, load_layer_data, with_imported_events
from ui.text import md_escape

IMPORTED = "bb_imported"  # session: (token, GeoDataFrame) of validated imported reports
_MERGED = "bb_imported_layers"


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Loading layers…")
def _layer_data(_settings: Settings, cache_key: tuple) -> LayerData:
    return load_layer_data(_settings)


def _file_stamps(current: Settings) -> tuple:
    """Paths and modification times: an edited data file is read again."""
    stamps = []
    for path in sorted(current.data_dir.glob("*.geojson")) + [current.events_file]:
        try:
            stamps.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            stamps.append((str(path), None))
    return tuple(stamps)


def base_layer_data() -> LayerData:
    """The validated layers as published (without this session's imported reports)."""
    current = settings()
    return _layer_data(current, _file_stamps(current))


def layer_data() -> LayerData:
    """All layers, validated, with this session's imported reports.

    On bad data the page stops with a message saying what to fix.
    """
    try:
        base = base_layer_data()
        imported = st.session_state.get(IMPORTED)
        if imported is None:
            return base
        token, frame = imported
        cached = st.session_state.get(_MERGED)
        if cached is None or cached[0] != (token, id(base)):
            cached = ((token, id(base)), with_imported_events(base, frame))
            st.session_state[_MERGED] = cached
        return cached[1]
    except ConfigurationError as exc:
        st.error(f"Configuration problem: {md_escape(exc)}")
        st.stop()
    except LayerValidationError as exc:
        st.error(
            "The layer data failed validation, so nothing is shown rather than a partial map. "
            "Fix these problems in the data files:"
        )
        st.code("\n".join(str(p) for p in exc.problems[:50]), language=None)
        st.stop()
    raise AssertionError("unreachable")


@st.cache_resource(show_spinner="Measuring…")
def _analysis(_layers: LayerData, cache_key: tuple) -> dict:
    from geo import analysis

    full = _layers.full
    zones = {name: full[name] for name in ("ground_safety_zone", "air_safety_zone")}
    places = full["places"]
    return {
        "published": analysis.compare_with_published(full["countries"], full["border"]),
        "boundary_km": analysis.boundary_length_km(full["border"]),
        "kosovo_km2": analysis.country_area_km2(full["countries"], "XKX"),
        "kfor": analysis.distances_to_border_km(full["kfor_areas"], full["border"]),
        "serbian": analysis.distances_to_border_km(full["serbian_deployments"], full["border"]),
        "places": analysis.distances_to_border_km(places, full["border"]).merge(
            places[["id", "kind"]], on="id", how="left"
        ),
        "zones": analysis.zone_intersections(full["serbian_deployments"], zones),
    }


def analysis_figures() -> dict:
    """Measured figures of the published layers (computed once per data version)."""
    base = base_layer_data()
    return _analysis(base, _file_stamps(settings()))
