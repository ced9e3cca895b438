"""Cached access to the layer data: loaded once per process, shared by sessions."""

from __future__ import annotations

import streamlit as st

from geo.io import LayerValidationError
from layers.config import ConfigurationError, Settings, load_settings
from layers.data import LayerData, load_layer_data
from ui.text import md_escape


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Loading layers…")
def _layer_data(_settings: Settings, cache_key: tuple) -> LayerData:
    return load_layer_data(_settings)


def layer_data() -> LayerData:
    """All layers, validated. On bad data the page stops with a message saying what to fix."""
    try:
        current = settings()
        files = (str(current.data_dir), str(current.events_file))
        return _layer_data(current, files)
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
