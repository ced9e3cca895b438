"""The event feed: the panel's content while nothing is selected.

The events of the current time window, newest first, one button each (date, type
with its map colour, title, place), with a search over titles, place names and
actors. Choosing one selects it exactly as a click on its marker does (the
``on_select`` callback, i.e. ``ui.session.select``): the panel shows it, the URL
gets ``event=`` and the map, which follows the URL's selection, brings it into view.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd
import streamlit as st

from layers.catalog import EVENT_TYPE_COLORS
from layers.data import LayerData
from layers.render import filter_events
from ui.state import AppState
from ui.style import type_class
from ui.text import md_escape

#: How many events the feed lists at first; "Show more" adds as many again. The whole real
#: catalogue fits (a keyboard user tabs to any of its events); every item is a button the
#: browser builds while the map loads, so it is not larger.
FEED_PAGE = 40
_QUERY = "bb_feed_query"
_LIMIT = "bb_feed_limit"
_TYPE_INDEX = {name: index for index, name in enumerate(EVENT_TYPE_COLORS)}


def _place(location: object) -> str:
    return str(location.get("en") or "") if isinstance(location, dict) else ""


def _searchable(events: pd.DataFrame) -> pd.Series:
    """One lower-case text per event: title, place names in every language, actors."""
    def text(row) -> str:
        location = row["location"] if isinstance(row["location"], dict) else {}
        actors = row["actors"] if isinstance(row["actors"], (list, tuple)) else []
        parts = [row["title"], *location.values(), *actors]
        return " ".join(str(part) for part in parts if part).casefold()

    return events.apply(text, axis=1) if len(events) else pd.Series(dtype=str)


def feed_events(events: pd.DataFrame, query: str = "") -> pd.DataFrame:
    """The events to list, newest first; with ``query``, only those whose title, place names
    or actors contain every word of it (case-insensitive).

    Returns a frame with ``id``, ``date``, ``event_type``, ``title`` and ``place`` (English).
    """
    columns = ["id", "date", "event_type", "title", "place"]
    if events.empty:
        return pd.DataFrame(columns=columns)
    words = [word for word in str(query or "").casefold().split() if word]
    chosen = events
    if words:
        haystack = _searchable(events)
        mask = pd.Series(True, index=events.index)
        for word in words:
            mask &= haystack.str.contains(word, regex=False)
        chosen = events[mask]
    table = pd.DataFrame(
        {
            "id": chosen["id"].astype(str),
            "date": chosen["date"].astype(str),
            "event_type": chosen["event_type"].astype(str),
            "title": chosen["title"].astype(str),
            "place": [_place(loc) for loc in chosen["location"]],
        }
    )
    return table.sort_values(["date", "id"], ascending=[False, True]).reset_index(drop=True)


def item_label(row: pd.Series) -> str:
    """A feed button's text (Markdown, every value escaped): date, type, title, place."""
    place = f" — {md_escape(row['place'])}" if row["place"] else ""
    return f"**{md_escape(row['date'])}** · {md_escape(row['event_type'])}  \n{md_escape(row['title'])}{place}"


def _more() -> None:
    st.session_state[_LIMIT] = st.session_state.get(_LIMIT, FEED_PAGE) + FEED_PAGE


def _new_query() -> None:
    st.session_state[_LIMIT] = FEED_PAGE


def render_feed(layers: LayerData, current: AppState, on_select: Callable[[str, str], None]) -> None:
    """The feed of the time window's events; a chosen event is passed to ``on_select``."""
    st.markdown("## Events")
    if "events" not in current.layers:
        st.caption("The Events layer is hidden: turn it on in the sidebar to list its events here. "
                   "Click a place, a deployment area or a zone on the map to read its details.")
        return
    events = filter_events(layers.full["events"], current.start, current.end)
    query = st.text_input(
        "Search events",
        key=_QUERY,
        placeholder="Title, place or actor",
        on_change=_new_query,
        help="Lists the events whose title, place name (English, Albanian or Serbian) or actors "
        "contain every word typed here.",
    )
    items = feed_events(events, query)
    limit = st.session_state.get(_LIMIT, FEED_PAGE)
    window = f"{current.start:%d %b %Y} – {current.end:%d %b %Y}"
    if items.empty:
        st.caption(f"No event matches in the time window ({window})." if query
                   else f"No events in the time window ({window}): widen it in the sidebar.")
        return
    what = "match" if query else "in the time window"
    st.caption(f"{len(items):,} event{'s' if len(items) != 1 else ''} {what} ({window}), newest first. "
               "Choose one to read it and see it on the map.")
    with st.container(key="bb_feed_list", gap="small"):
        for n, row in items.head(limit).iterrows():
            kind = type_class(_TYPE_INDEX.get(row["event_type"], len(_TYPE_INDEX)))
            st.button(
                item_label(row),
                key=f"bb_feed_{kind}_{n}",
                on_click=on_select,
                args=("events", row["id"]),
                width="stretch",
            )
    if len(items) > limit:
        st.button(f"Show more ({len(items) - limit:,} not listed)", key="bb_feed_more", on_click=_more)
