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


def download_button(layers: LayerData, current: AppState) -> None:
    """A button that downloads the briefing of ``current`` (built only when it is clicked)."""
    try:
        public_url = load_public_url()
    except ConfigurationError as exc:
        st.warning(f"The briefing leaves out the live app's link: {md_escape(exc)}")
        public_url = None
    store = data.store()
    author = _author()
    query = to_query(current)

    def build() -> bytes:  # runs on its own thread when clicked: no Streamlit calls in here
        return build_briefing(layers, current, author=author, public_url=public_url, query=query,
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
