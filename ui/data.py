"""Cached access to the layer data: loaded once per process, shared by sessions."""

from __future__ import annotations

import streamlit as st

from geo.io import LayerValidationError
from layers.config import ConfigurationError, Settings, load_settings
from layers.data import LayerData, load_layer_data
from store import Store, StoreError, ValidationFailed, open_store
from ui.text import md_escape



@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Opening the catalogue store…")
def store() -> Store:
    """The catalogue's store (created and seeded from data/ on first use), one per process."""
    return open_store(settings())


@st.cache_resource(show_spinner="Loading layers…", max_entries=2)
def _layer_data(_settings: Settings, _store: Store, cache_key: tuple) -> LayerData:
    return load_layer_data(_settings, _store)


def _file_stamps(current: Settings) -> tuple:
    """Paths and modification times: an edited data file is read again."""
    stamps = []
    for path in sorted(current.data_dir.glob("*.geojson")) + [current.events_file]:
        try:
            stamps.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            stamps.append((str(path), None))
    return tuple(stamps)


def data_key() -> tuple:
    """What the layers depend on: the store's version (one cheap query per run) and the derived files."""
    current = settings()
    return (store().version(), _file_stamps(current))


def base_layer_data() -> LayerData:
    """The validated layers: the store's current catalogue (reloaded when its version moves)."""
    return _layer_data(settings(), store(), data_key())


def layer_data() -> LayerData:
    """All layers, validated: the store's current catalogue and the derived files.

    On bad data the page stops with a message saying what to fix.
    """
    try:
        return base_layer_data()
    except ConfigurationError as exc:
        st.error(f"Configuration problem: {md_escape(exc)}")
        st.stop()
    except (ValidationFailed, LayerValidationError) as exc:
        # ValidationFailed: the files that seed a new store; LayerValidationError: the derived files.
        st.error(
            "The layer data failed validation, so nothing is shown rather than a partial map. "
            "Fix these problems in the data files:"
        )
        st.code("\n".join(str(p) for p in exc.problems[:50]), language=None)
        st.stop()
    except StoreError as exc:
        st.error(f"The catalogue store refused to open: {md_escape(exc)}")
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
    return _analysis(base, data_key())


@st.cache_data(show_spinner=False, max_entries=16)
def _changes(since_iso: str, version: int) -> dict[str, dict[str, str]]:
    import datetime as dt

    changes = store().changes_since(dt.datetime.fromisoformat(since_iso))
    out: dict[str, dict[str, str]] = {}
    for change in changes:
        out.setdefault(change.layer, {})[change.feature_id] = change.kind
    return out


def changes_since(since) -> dict[str, dict[str, str]]:
    """layer -> feature id -> "added" | "changed" | "retired", for changes after ``since`` (UTC);
    empty without ``since``. Cached per store version."""
    if since is None:
        return {}
    return _changes(since.isoformat(), store().version())
