"""The Map page's "Download briefing" button: the current view as one offline HTML file."""

from __future__ import annotations

import streamlit as st

from layers.briefing import build_briefing
from layers.config import ConfigurationError, load_public_url
from layers.data import LayerData
from ui import auth, data
from ui.state import AppState, to_query
from ui.text import md_escape


def _author() -> str:
    """Who generates the briefing: the signed-in name, or nobody named for an anonymous viewer."""
    identity = auth.current()
    return str(identity.name) if identity is not None and identity.name else ""


class _Latest:
    """The state the briefing is built from: the side panel (a fragment that reruns on its own)
    updates it after a click, so the file has the selection the page shows."""

    current: AppState | None = None


_LATEST = "bb_briefing_latest"


def remember(current: AppState) -> None:
    """Build the briefing of ``current`` from now on (see :class:`_Latest`)."""
    st.session_state.setdefault(_LATEST, _Latest()).current = current


def download_button(layers: LayerData, current: AppState) -> None:
    """A button that downloads the briefing of the page's state (built only when it is clicked)."""
    try:
        public_url = load_public_url()
    except ConfigurationError as exc:
        st.warning(f"The briefing leaves out the live app's link: {md_escape(exc)}")
        public_url = None
    store = data.store()
    author = _author()
    remember(current)
    latest = st.session_state[_LATEST]

    def build() -> bytes:  # runs on its own thread when clicked: no Streamlit calls in here
        state = latest.current or current
        return build_briefing(layers, state, author=author, public_url=public_url, query=to_query(state),
                              store=store).encode("utf-8")

    st.download_button(
        "Download briefing",
        data=build,
        file_name=f"border-brief-{current.start}-to-{current.end}.html",
        mime="text/html",
        key="bb_briefing_download",
        help="One HTML file with this map (layers, time window, view, selection), the details and the "
        "event list: it opens offline in any browser and prints as an A4 handout.",
    )
