"""Safe embedding of data in the map's inline JavaScript.

Everything from the data or the URL enters the page as JSON literals with the
characters that could close a ``<script>`` element or start markup escaped, and
the browser code only ever puts text into the page with ``textContent``.
"""

from __future__ import annotations

import json
from typing import Any

_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
    # streamlit-folium renames identifiers such as map_<hex>, feature_group_<hex> and
    # drawnItems_draw_control_div_<n> in the map script by pattern, data included; every
    # pattern it uses contains "_", so with "_" escaped none can match inside our data.
    "_": "\\u005f",
}
_TABLE = str.maketrans(_ESCAPES)


def js_literal(value: Any) -> str:
    """A compact JSON literal that is safe inside an inline ``<script>``."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(_TABLE)
