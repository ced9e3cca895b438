"""The Map page's own stylesheet: the map fills the window, the panel beside it scrolls.

One constant stylesheet (no data in it), injected once per run by :func:`inject`.
The map's height is CSS, not a pixel number: the component iframe and the panel
beside it both take ``--bb-map-h``, a share of the window's height (``dvh``: the
visible height on phones too), so the layout follows the window without a rerun.
Below 640 px Streamlit stacks the columns in script order: the map first, at
full width, then the panel at its natural height.
"""

from __future__ import annotations

import streamlit as st

from layers.catalog import EVENT_TYPE_COLORS, UNKNOWN_EVENT_COLOR
from ui.mapview import MAP_FRAME_SELECTOR

#: The window height left for the page's top bar, the one-line title and the caption.
MAP_CHROME_REM = 10.5
#: The map never gets shorter than this (a very low window scrolls instead).
MAP_MIN_HEIGHT_PX = 360
#: On a phone the map leaves part of the screen for the panel below it.
PHONE_MAP_HEIGHT_VH = 68


def type_class(index: int) -> str:
    """The CSS key fragment of the ``index``-th event type (see :func:`feed_css`)."""
    return f"t{index}"


def _type_rules() -> str:
    colours = list(EVENT_TYPE_COLORS.values()) + [UNKNOWN_EVENT_COLOR]
    rules = []
    for index, colour in enumerate(colours):
        # a feed button's key is bb_feed_<type class>_<n>: its left edge and its dot take the type colour
        selector = f'[class*="st-key-bb_feed_{type_class(index)}_"] button'
        rules.append(f"{selector}{{border-left:6px solid {colour}!important}}")
        rules.append(f"{selector} p::before{{content:'';display:inline-block;width:.7em;height:.7em;"
                     f"border-radius:50%;background:{colour};margin-right:.35em;vertical-align:-.05em}}")
    return "\n".join(rules)


def stylesheet() -> str:
    """The Map page's CSS (a constant: nothing from data or URLs goes into it)."""
    return f"""
:root {{ --bb-map-h: max({MAP_MIN_HEIGHT_PX}px, calc(100dvh - {MAP_CHROME_REM}rem)); }}
[data-testid="stMainBlockContainer"] {{ padding: 3.25rem 2.5rem 1rem; }}
[data-testid="stMainBlockContainer"] h1 {{
  font-size: 1.55rem; line-height: 1.3; padding: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}}
{MAP_FRAME_SELECTOR} {{ height: var(--bb-map-h) !important; display: block; }}
/* Streamlit's own classes carry the same weight and come later: hence !important */
.st-key-bb_side {{
  flex: none !important; height: var(--bb-map-h) !important; overflow-y: auto !important; overscroll-behavior: contain;
  flex-wrap: nowrap;
  padding-right: 4px;
}}
/* the panel's headings (an event's title, a place's name) sized for a third of the window, not the page */
.st-key-bb_side h2 {{ font-size: 1.4rem; line-height: 1.3; padding: .25rem 0 .5rem; }}
.st-key-bb_feed_list button {{ justify-content: flex-start !important; text-align: left; }}
.st-key-bb_feed_list button div, .st-key-bb_feed_list button p {{ text-align: left !important; justify-content: flex-start !important; }}
{_type_rules()}
@media (max-width: 640px) {{
  :root {{ --bb-map-h: max({MAP_MIN_HEIGHT_PX}px, {PHONE_MAP_HEIGHT_VH}dvh); }}
  [data-testid="stMainBlockContainer"] {{ padding: 3.25rem 1rem 1rem; }}
  [data-testid="stMainBlockContainer"] h1 {{ font-size: 1.25rem; }}
  .st-key-bb_side {{ height: auto !important; overflow-y: visible !important; }}
}}
"""


def inject() -> None:
    """Add the Map page's stylesheet to the page (takes no room of its own)."""
    st.html(f"<style>{stylesheet()}</style>")
