"""Shared state for every page: read the URL once per session, keep widgets and URL in step.

``app.py`` calls :func:`sidebar` on every run before the page runs; pages call
:func:`state` to read the current :class:`~ui.state.AppState` and :func:`select`
to change the selection. At the end of each run the URL is rewritten from the
state, so the address bar can always be copied and shared.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import replace

import streamlit as st

from layers.catalog import DEFAULT_VISIBLE, GROUPS, LAYERS
from layers.data import LayerData
from ui import data
from ui.state import DEFAULT_LANG, LANGUAGES, AppState, Bounds, View, parse_query, sorted_layers, to_query
from ui.text import md_escape

_ENTRY = "bb_entry_script_ran"
_INIT = "bb_initialised"
_NOTICES = "bb_notices"
_SELECTION = "bb_selection"
_VIEW = "bb_view"
_WINDOW = "bb_window"
_BASEMAP = "bb_basemap"
_OPENING_VIEW = "bb_opening_view"


def mark_entry_script() -> None:
    """Called by app.py before it runs the page."""
    st.session_state[_ENTRY] = True


def require_entry_script() -> None:
    """Make sure the page runs under app.py's navigation and shared sidebar.

    Because the project has a ``pages/`` folder, a freshly started Streamlit server
    treats the very first request for ``/<page>`` the legacy way and runs that page
    file alone (no sidebar, no state from the URL). The page then switches the
    server to app.py's ``st.navigation`` and reruns; the URL path keeps the page.
    """
    if st.session_state.get(_ENTRY):
        return
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    st.rerun()


def layer_key(layer_id: str) -> str:
    return f"bb_layer_{layer_id}"


# layer data -> (settings, bounds); an entry goes when its layer data is dropped.
_BOUNDS: weakref.WeakKeyDictionary[LayerData, tuple[object, Bounds]] = weakref.WeakKeyDictionary()


def bounds(layers: LayerData) -> Bounds:
    """What URL values and clicks may refer to; computed once per layer data (and settings)."""
    current = data.settings()
    cached = _BOUNDS.get(layers)
    if cached is None or cached[0] is not current:
        cached = _BOUNDS[layers] = (current, _compute_bounds(layers, current))
    return cached[1]


def _compute_bounds(layers: LayerData, current) -> Bounds:
    events = layers.full["events"]
    dates = events["date"].astype(str)
    feature_ids = {
        layer_id: frozenset(frame["id"]) for layer_id, frame in layers.full.items() if layer_id != "events"
    }
    return Bounds(
        layer_ids=tuple(spec.id for spec in LAYERS),
        default_layers=DEFAULT_VISIBLE,
        event_ids=frozenset(layers.event_positions),
        feature_ids=feature_ids,
        first_date=dt.date.fromisoformat(dates.min()),
        last_date=dt.date.fromisoformat(dates.max()),
        basemaps=current.basemap_keys,
        default_basemap=current.default_basemap,
    )


def _query_dict() -> dict[str, str]:
    return {key: st.query_params.get(key) for key in st.query_params.keys()}


# Widgets keep their values under their own keys (layer_key(...), _WINDOW, _BASEMAP),
# but Streamlit may drop a widget's value on a page switch (a slider then comes back
# as its single default date: the Timeline crash). The app's own copy of each value
# lives under a plain session key that Streamlit never drops; the widgets are
# restored from it whenever their value is missing or malformed.
_KEPT_LAYERS = "bb_kept_layers"
_KEPT_WINDOW = "bb_kept_window"
_KEPT_BASEMAP = "bb_kept_basemap"
_KEPT_SINCE = "bb_kept_since"
_KEPT_LANG = "bb_kept_lang"
_LANG = "bb_lang"
_SINCE_ON = "bb_since_on"
_SINCE_DATE = "bb_since_date"
_SINCE_TIME = "bb_since_time"


def _initialise(b: Bounds) -> None:
    """First run of a session: the URL decides every widget's starting value."""
    parsed, notices = parse_query(_query_dict(), b)
    st.session_state[_KEPT_LAYERS] = parsed.layers
    st.session_state[_KEPT_WINDOW] = (parsed.start, parsed.end)
    st.session_state[_KEPT_BASEMAP] = parsed.basemap
    st.session_state[_KEPT_SINCE] = parsed.since
    st.session_state[_KEPT_LANG] = parsed.lang
    st.session_state[_SELECTION] = parsed.selection
    st.session_state[_VIEW] = parsed.view
    st.session_state[_OPENING_VIEW] = parsed.view
    st.session_state[_NOTICES] = notices
    st.session_state[_INIT] = True


#: A link to an event without a view opens on the event at this zoom: close enough to read
#: its surroundings, never closer than its location is known (``geo_precision`` 2: within a
#: few km, 3: the region only; the uncertainty circles of layers.config.PRECISION_RADIUS_M
#: then fit in the map).
EVENT_LINK_ZOOM = {1: 13, 2: 12, 3: 10}
_OPENING_FIXED = "bb_opening_view_fixed"


def event_view(layers: LayerData, event_id: str) -> View | None:
    """The view a link to ``event_id`` opens at (see :data:`EVENT_LINK_ZOOM`), or None."""
    position = layers.event_positions.get(event_id)
    if position is None:
        return None
    row = layers.full["events"].iloc[position]
    point = row.geometry.representative_point()
    zoom = EVENT_LINK_ZOOM.get(int(row["geo_precision"]), min(EVENT_LINK_ZOOM.values()))
    return View(round(point.y, 5), round(point.x, 5), zoom)


def opening_view() -> View | None:
    """The view the session's first map opens at: the shared link's; with no view but a
    selected event (a deep link, or an event chosen on another page first), the event at
    :func:`event_view`'s zoom; otherwise None (the default view).

    It is fixed by the session's first map and stays the same for the whole session. It does
    not reach the map's script (layers.render.OpeningView puts it in the map document's
    header), and it is used only by the first map of the page in the browser: later maps open
    where the user left off (runtime.js keeps the view in the app's window)."""
    if not st.session_state.get(_OPENING_FIXED):
        st.session_state[_OPENING_FIXED] = True
        selection = st.session_state.get(_SELECTION)
        if st.session_state.get(_OPENING_VIEW) is None and selection and selection[0] == "events":
            st.session_state[_OPENING_VIEW] = event_view(data.layer_data(), selection[1])
    return st.session_state.get(_OPENING_VIEW)


def _valid_window(value: object, b: Bounds) -> tuple[dt.date, dt.date] | None:
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        return None
    start, end = value
    if not (isinstance(start, dt.date) and isinstance(end, dt.date)):
        return None
    start, end = min(start, end), max(start, end)
    return max(start, b.first_date), min(end, b.last_date)


def _restore_widgets(b: Bounds) -> None:
    """Give every sidebar widget the app's kept value where Streamlit lost or mangled it."""
    kept_layers = st.session_state.get(_KEPT_LAYERS, b.default_layers)
    for spec in LAYERS:
        if not isinstance(st.session_state.get(layer_key(spec.id)), bool):
            st.session_state[layer_key(spec.id)] = spec.id in kept_layers
    if _valid_window(st.session_state.get(_WINDOW), b) is None:
        st.session_state[_WINDOW] = st.session_state.get(_KEPT_WINDOW) or (b.first_date, b.last_date)
    if st.session_state.get(_BASEMAP) not in b.basemaps:
        kept = st.session_state.get(_KEPT_BASEMAP)
        st.session_state[_BASEMAP] = kept if kept in b.basemaps else b.default_basemap
    if st.session_state.get(_LANG) not in LANGUAGES:
        kept = st.session_state.get(_KEPT_LANG)
        st.session_state[_LANG] = kept if kept in LANGUAGES else DEFAULT_LANG
    since = st.session_state.get(_KEPT_SINCE)
    if not isinstance(st.session_state.get(_SINCE_ON), bool):
        st.session_state[_SINCE_ON] = since is not None
    default = since or (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).replace(second=0, microsecond=0)
    if not isinstance(st.session_state.get(_SINCE_DATE), dt.date):
        st.session_state[_SINCE_DATE] = default.date()
    if not isinstance(st.session_state.get(_SINCE_TIME), dt.time):
        st.session_state[_SINCE_TIME] = default.time().replace(tzinfo=None)


def _keep_widgets(b: Bounds) -> None:
    """After the sidebar ran: the widgets' values become the app's kept values.

    A selection whose layer was just hidden is dropped, so the panel never shows
    a feature that the map does not draw.
    """
    visible = sorted_layers((spec.id for spec in LAYERS if st.session_state.get(layer_key(spec.id))), b)
    st.session_state[_KEPT_LAYERS] = visible
    window = _valid_window(st.session_state.get(_WINDOW), b)
    if window is not None:
        st.session_state[_KEPT_WINDOW] = window
    st.session_state[_KEPT_BASEMAP] = st.session_state.get(_BASEMAP)
    if st.session_state.get(_LANG) in LANGUAGES:
        st.session_state[_KEPT_LANG] = st.session_state[_LANG]
    st.session_state[_KEPT_SINCE] = (
        _since_from_widgets(st.session_state.get(_KEPT_SINCE))
        if st.session_state.get(_SINCE_ON)
        else None
    )
    selection = st.session_state.get(_SELECTION)
    if selection and selection[0] not in visible:
        st.session_state[_SELECTION] = None


def _since_from_widgets(kept: dt.datetime | None) -> dt.datetime:
    """The moment the date and time widgets show (UTC); a link's seconds are kept while they match."""
    chosen = dt.datetime.combine(st.session_state[_SINCE_DATE], st.session_state[_SINCE_TIME]).replace(
        second=0, microsecond=0, tzinfo=dt.timezone.utc
    )
    if kept is not None and kept.replace(second=0) == chosen:
        return kept
    return chosen


def _refresh_view(b: Bounds) -> None:
    """The map writes its view into the URL itself (no rerun); pick it up here."""
    query = _query_dict()
    if "lat" in query and "lon" in query:
        parsed, _ = parse_query({k: query[k] for k in ("lat", "lon", "zoom") if k in query}, b)
        if parsed.view is not None:
            st.session_state[_VIEW] = parsed.view


def sidebar() -> AppState:
    """Draw the shared sidebar (layers, time window, basemap) and return the state."""
    layers = data.layer_data()
    b = bounds(layers)
    if not st.session_state.get(_INIT):
        _initialise(b)
    _restore_widgets(b)

    with st.sidebar:
        st.markdown("#### Layers")
        for group_id, group_title in GROUPS.items():
            specs = [spec for spec in LAYERS if spec.group == group_id]
            st.caption(group_title)
            for spec in specs:
                st.checkbox(spec.title, key=layer_key(spec.id), help=spec.description)
        st.markdown("#### Time window")
        st.slider(
            "Events dated",
            min_value=b.first_date,
            max_value=b.last_date,
            key=_WINDOW,
            format="YYYY-MM-DD",
            help="The map, the timeline and the tables show only events in this window.",
        )
        quick = st.columns(2)
        crisis = (max(b.first_date, dt.date(2023, 9, 1)), min(b.last_date, dt.date(2023, 10, 31)))
        quick[0].button("Sep–Oct 2023", on_click=_set_window, args=(crisis,), key="bb_window_crisis", use_container_width=True)
        quick[1].button(
            "All dates", on_click=_set_window, args=((b.first_date, b.last_date),), key="bb_window_all", use_container_width=True
        )
        st.markdown("#### What changed")
        st.checkbox(
            "Mark changes since…",
            key=_SINCE_ON,
            help="Ring events and areas added or changed in the catalogue since this moment (UTC) and list "
            "every change, retirements included; the link carries it as since=.",
        )
        if st.session_state.get(_SINCE_ON):
            when = st.columns(2)
            when[0].date_input("Date (UTC)", key=_SINCE_DATE, format="YYYY-MM-DD")
            when[1].time_input("Time (UTC)", key=_SINCE_TIME, step=dt.timedelta(minutes=15))
        st.markdown("#### Basemap")
        current = data.settings()
        names = {"offline": "Offline outlines (no tile server)"} | {t.key: t.name for t in current.tile_servers}
        st.selectbox("Basemap", options=list(names), format_func=names.get, key=_BASEMAP, label_visibility="collapsed")
        st.markdown("#### Place names")
        st.selectbox(
            "Place names", options=list(LANGUAGES), format_func=LANGUAGES.get, key=_LANG,
            label_visibility="collapsed",
            help="The language of place names on the map and in the panel; the link carries it as lang=.",
        )
        st.caption(f"Data as of {b.last_date:%d %B %Y} · {len(layers.event_positions)} events in the catalogue")
    _keep_widgets(b)

    for notice in st.session_state.get(_NOTICES, []):
        st.warning(md_escape(notice), icon="⚠️")
    return state(b)


def _set_window(window: tuple[dt.date, dt.date]) -> None:
    st.session_state[_WINDOW] = window
    st.session_state[_KEPT_WINDOW] = window


def state(b: Bounds | None = None) -> AppState:
    """The current state, from the app's kept values and the URL's view (and written to the URL)."""
    if b is None:
        b = bounds(data.layer_data())
    if st.session_state.get(_INIT):
        # Always take the view the map last wrote into the address bar: a URL
        # rewritten without it would move the map back (or lose the view).
        _refresh_view(b)
    start, end = st.session_state.get(_KEPT_WINDOW) or (b.first_date, b.last_date)
    visible = st.session_state.get(_KEPT_LAYERS, b.default_layers)
    selection = st.session_state.get(_SELECTION)
    current = AppState(
        layers=tuple(visible),
        start=start,
        end=end,
        view=st.session_state.get(_VIEW),
        basemap=st.session_state.get(_KEPT_BASEMAP) or b.default_basemap,
        since=st.session_state.get(_KEPT_SINCE),
        lang=st.session_state.get(_KEPT_LANG) or DEFAULT_LANG,
    )
    current = current.with_selection(*(selection or (None, None)))
    _write_url(current)
    return current


def select(layer_id: str | None, feature_id: str | None) -> None:
    """Change the selected feature (None, None clears it) and update the URL."""
    st.session_state[_SELECTION] = (layer_id, feature_id) if layer_id and feature_id else None
    _write_url(state())


def set_view(view: View | None) -> None:
    st.session_state[_VIEW] = view


def dismiss_notices() -> None:
    st.session_state[_NOTICES] = []


def _write_url(current: AppState) -> None:
    wanted = to_query(current)
    existing = _query_dict()
    if existing != wanted:
        st.query_params.from_dict(wanted)


def with_view(current: AppState, view: View | None) -> AppState:
    return replace(current, view=view)
