"""The Edit page: add, change and retire events, places and deployment areas in the store.

The pure helpers at the top (form values <-> feature, ids, table rows) need no
Streamlit and are tested on their own; the rest draws the form and talks to the
store. Every save names the revision the form was loaded from, so a save on top
of someone else's newer one is refused and shown side by side (``ConflictError``);
a save the validators refuse writes nothing and its problems are shown beside the
fields (``ValidationFailed``).

Deployment areas are drawn or reshaped on an offline map with leaflet-draw
(``ui.draw``, ``layers.draw``); their shape is saved with their properties.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from typing import Any, Iterable, Mapping

import pandas as pd
import streamlit as st

from geo.crs import REGION_BBOX
from geo.events import (
    BACKGROUND_START,
    CATALOGUE_END,
    CRISIS_WINDOW,
    EVENT_STATUSES,
    EVENT_TYPES,
    GEO_PRECISION,
    STATUS,
    TIME_PRECISION,
    VIOLENT_EVENT_TYPES,
    is_in_region,
)
from geo.schema import STATUSES, is_id
from layers.catalog import LAYERS_BY_ID
from layers.config import DEFAULT_CENTER
from store import EDITABLE_LAYERS, ConflictError, StoreError, ValidationFailed
from ui import audit as audit_panel
from ui import auth, data, draw, session
from ui.imports import author_field
from ui.text import md_escape

NEW = "__new__"  # the feature chooser's "add a new one" entry
CLAIM_COLUMNS = ("party", "claim")
SOURCE_COLUMNS = ("publisher", "title", "date", "url")
SOURCE_WIDTHS = {"publisher": 180, "title": 300, "date": 110, "url": 300}  # pixels
AREA_LAYERS = ("kfor_areas", "serbian_deployments")
COORDINATE_DECIMALS = 6

# --- pure helpers -------------------------------------------------------------------


def slugify(text: str) -> str:
    """Lower-case ASCII letters, digits and single hyphens (``Zvečan, 29 May`` -> ``zvecan-29-may``)."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _unique(candidate: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    if candidate not in taken:
        return candidate
    for n in range(2, 10_000):
        suffix = f"-{n}"
        numbered = candidate[: 80 - len(suffix)].rstrip("-") + suffix
        if numbered not in taken:
            return numbered
    raise ValueError(f"no free id for {candidate!r}")


def new_event_id(date: dt.date, title: str, taken: Iterable[str] = ()) -> str:
    """``YYYY-MM-DD-slug-of-the-title``, at most 80 characters, not one of ``taken``."""
    slug = slugify(title) or "event"
    candidate = f"{date.isoformat()}-{slug}"[:80].rstrip("-")
    candidate = _unique(candidate, taken)
    assert is_id(candidate) is None, candidate
    return candidate


def new_place_id(name: str, taken: Iterable[str] = ()) -> str:
    """The slug of the English name (``North Mitrovica`` -> ``north-mitrovica``), unique."""
    candidate = (slugify(name) or "place")[:80].rstrip("-")
    candidate = _unique(candidate, taken)
    assert is_id(candidate) is None, candidate
    return candidate


def is_background(date: dt.date) -> bool:
    """Background context is everything before the crisis window (geo.events' date rule)."""
    return date < CRISIS_WINDOW[0]


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def rows_to_records(rows: Iterable[Mapping[str, Any]], columns: tuple[str, ...]) -> list[dict]:
    """Table rows -> catalogue objects: cells trimmed, empty cells left out, empty rows dropped."""
    records = []
    for row in rows:
        record = {c: _cell(row.get(c)) for c in columns}
        record = {c: v for c, v in record.items() if v}
        if record:
            records.append(record)
    return records


def records_to_rows(records: Any, columns: tuple[str, ...]) -> list[dict]:
    """Catalogue objects (claims or sources) -> table rows with every column."""
    if not isinstance(records, list):
        return []
    return [{c: _cell(r.get(c)) for c in columns} for r in records if isinstance(r, dict)]


def frame_rows(frame: pd.DataFrame | None) -> list[dict]:
    return [] if frame is None else frame.to_dict("records")


def lines(text: str) -> list[str]:
    """One item per non-empty line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def id_list(text: str) -> list[str]:
    """Ids separated by commas, spaces or new lines, in order, without repeats."""
    out: list[str] = []
    for part in re.split(r"[\s,;]+", text or ""):
        if part and part not in out:
            out.append(part)
    return out


def _optional(text: Any) -> str | None:
    value = (text or "").strip() if isinstance(text, str) else text
    return value or None


def point(lat: float, lon: float) -> dict:
    return {"type": "Point", "coordinates": [round(float(lon), COORDINATE_DECIMALS), round(float(lat), COORDINATE_DECIMALS)]}


def _date_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def event_feature(values: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict:
    """Form values -> an event feature in the catalogue's schema.

    ``base`` (the stored properties) keeps fields the form does not show (an imported
    event's ``acled_id`` and ``provenance``).
    """
    date = values["date"]
    event_type = values["event_type"]
    if event_type not in VIOLENT_EVENT_TYPES and values.get("fatalities_na"):
        fatalities = None  # not applicable: a statement, an agreement
    else:
        count = values.get("fatalities")
        fatalities = None if count is None or (isinstance(count, float) and math.isnan(count)) else int(count)
    title = (values.get("title") or "").strip()
    remote = bool(values.get("remote"))
    properties = dict(base or {})
    properties.update(
        {
            "id": values["id"],
            "name": title,
            "title": title,
            "date": _date_text(date),
            "time_precision": int(values["time_precision"]),
            "time_of_day": _optional(values.get("time_of_day")) if int(values["time_precision"]) == 1 else None,
            "background": is_background(date) if isinstance(date, dt.date) else False,
            "summary": (values.get("summary") or "").strip(),
            "event_type": event_type,
            "sub_event_type": values["sub_event_type"],
            "actors": lines(values.get("actors", "")),
            "fatalities": fatalities,
            "fatalities_note": _optional(values.get("fatalities_note")),
            "location": {lang: (values.get(f"loc_{lang}") or "").strip() for lang in ("en", "sq", "sr")},
            "geo_precision": int(values["geo_precision"]),
            "related_ids": id_list(values.get("related_ids", "")),
            "remote": remote,
            "remote_location": _optional(values.get("remote_location")) if remote else None,
            "status": values["status"],
            "claims": rows_to_records(values.get("claims", []), CLAIM_COLUMNS),
            "sources": rows_to_records(values.get("sources", []), SOURCE_COLUMNS),
        }
    )
    return {"type": "Feature", "properties": properties, "geometry": point(values["lat"], values["lon"])}


def place_feature(values: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict:
    """Form values -> a gazetteer place (``places`` schema)."""
    properties = dict(base or {})
    properties.update(
        {
            "id": values["id"],
            "name": (values.get("name") or "").strip(),
            "name_sq": (values.get("name_sq") or "").strip(),
            "name_sr": (values.get("name_sr") or "").strip(),
            "kind": (values.get("kind") or "").strip(),
            "precision_m": float(values.get("precision_m") or 0),
            "summary": (values.get("summary") or "").strip(),
            "sources": rows_to_records(values.get("sources", []), SOURCE_COLUMNS),
        }
    )
    return {"type": "Feature", "properties": properties, "geometry": point(values["lat"], values["lon"])}


def new_area_id(name: str, taken: Iterable[str] = ()) -> str:
    """The slug of the area's name (``Camp Bondsteel area`` -> ``camp-bondsteel-area``), unique."""
    candidate = (slugify(name) or "area")[:80].rstrip("-")
    candidate = _unique(candidate, taken)
    assert is_id(candidate) is None, candidate
    return candidate


def area_feature(values: Mapping[str, Any], base: Mapping[str, Any], geometry: dict | None) -> dict:
    """Form values -> a deployment area with ``geometry`` (stored, drawn or reshaped).

    A new area takes its id from ``values["id"]``; an existing one keeps the stored id.
    """
    properties = dict(base)
    if values.get("id") and not properties.get("id"):
        properties["id"] = values["id"]
    properties.update(
        {
            "name": (values.get("name") or "").strip(),
            "force": (values.get("force") or "").strip(),
            "units": lines(values.get("units", "")),
            "strength": _optional(values.get("strength")),
            "equipment": lines(values.get("equipment", "")),
            "period_start": _date_text(values.get("period_start")),
            "period_end": _date_text(values.get("period_end")),
            "status": values["status"],
            "construction": (values.get("construction") or "").strip(),
            "uncertainty": (values.get("uncertainty") or "").strip(),
            "summary": (values.get("summary") or "").strip(),
            "sources": rows_to_records(values.get("sources", []), SOURCE_COLUMNS),
        }
    )
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _as_date(value: Any, default: dt.date | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else default
    except ValueError:
        return default


def _position(geometry: Mapping[str, Any] | None) -> tuple[float, float]:
    if geometry and geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        return float(lat), float(lon)
    return DEFAULT_CENTER


def form_values(layer: str, feature: Mapping[str, Any] | None) -> dict[str, Any]:
    """The form's starting values: from a stored feature, or the defaults of a new one."""
    props = dict((feature or {}).get("properties") or {})
    lat, lon = _position((feature or {}).get("geometry"))
    if layer == "events":
        location = props.get("location") or {}
        event_type = props.get("event_type") or "Strategic developments"
        fatalities = props.get("fatalities")
        return {
            "title": props.get("title", ""),
            "date": _as_date(props.get("date"), dt.date(2023, 10, 1)),
            "time_precision": props.get("time_precision", 1),
            "time_of_day": props.get("time_of_day") or "",
            "event_type": event_type,
            "sub_event_type": props.get("sub_event_type") or EVENT_TYPES[event_type][-1],
            "actors": "\n".join(props.get("actors") or []),
            "fatalities": None if fatalities is None else int(fatalities),
            "fatalities_na": fatalities is None and event_type not in VIOLENT_EVENT_TYPES,
            "fatalities_note": props.get("fatalities_note") or "",
            "loc_en": location.get("en", ""),
            "loc_sq": location.get("sq", ""),
            "loc_sr": location.get("sr", ""),
            "geo_precision": props.get("geo_precision", 1),
            "remote": bool(props.get("remote", False)),
            "remote_location": props.get("remote_location") or "",
            "status": props.get("status", "reported"),
            "summary": props.get("summary", ""),
            "related_ids": ", ".join(props.get("related_ids") or []),
            "lat": lat,
            "lon": lon,
            "place": None,
            "claims": records_to_rows(props.get("claims"), CLAIM_COLUMNS),
            "sources": records_to_rows(props.get("sources"), SOURCE_COLUMNS),
        }
    if layer == "places":
        return {
            "name": props.get("name", ""),
            "name_sq": props.get("name_sq", ""),
            "name_sr": props.get("name_sr", ""),
            "kind": props.get("kind", ""),
            "precision_m": float(props.get("precision_m", 500.0)),
            "summary": props.get("summary", ""),
            "lat": lat,
            "lon": lon,
            "sources": records_to_rows(props.get("sources"), SOURCE_COLUMNS),
        }
    return {
        "name": props.get("name", ""),
        "force": props.get("force", ""),
        "units": "\n".join(props.get("units") or []),
        "strength": props.get("strength") or "",
        "equipment": "\n".join(props.get("equipment") or []),
        "period_start": _as_date(props.get("period_start"), None),
        "period_end": _as_date(props.get("period_end"), None),
        "status": props.get("status", "reported"),
        "construction": props.get("construction", ""),
        "uncertainty": props.get("uncertainty", ""),
        "summary": props.get("summary", ""),
        "sources": records_to_rows(props.get("sources"), SOURCE_COLUMNS),
    }


def place_choice(place: Mapping[str, Any], geometry: Any) -> dict[str, Any]:
    """What an event takes from a gazetteer place: its cited point, three names and id."""
    if hasattr(geometry, "x"):  # a shapely point from the layer frame
        lat, lon = float(geometry.y), float(geometry.x)
    else:
        lat, lon = _position(geometry)
    return {
        "lat": round(lat, COORDINATE_DECIMALS),
        "lon": round(lon, COORDINATE_DECIMALS),
        "loc_en": place["name"],
        "loc_sq": place["name_sq"],
        "loc_sr": place["name_sr"],
        "place_id": place["id"],
    }


def with_related(related: str, place_id: str) -> str:
    """The related ids with ``place_id`` first (the event's main place)."""
    return ", ".join([place_id] + [i for i in id_list(related) if i != place_id])


def problems_by_field(problems: Iterable[Any]) -> dict[str, list[str]]:
    """The store's problems grouped by the form field they concern (``name`` is the title)."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        field = getattr(problem, "field", "") or ""
        grouped.setdefault(field, []).append(getattr(problem, "message", str(problem)))
    return grouped


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def compare(theirs: Mapping[str, Any] | None, yours: Mapping[str, Any]) -> list[dict[str, str]]:
    """Field by field, where the stored (their) and your properties differ."""
    theirs = theirs or {}
    fields = [k for k in yours if k in theirs] + [k for k in yours if k not in theirs] + [k for k in theirs if k not in yours]
    return [
        {"field": k, "theirs (saved)": _shown(theirs.get(k)), "yours (not saved)": _shown(yours.get(k))}
        for k in fields
        if theirs.get(k) != yours.get(k)
    ]


# --- session state --------------------------------------------------------------------

TARGET = "bb_edit_target"  # (layer, feature id): set by the panel's Edit button
_LAYER = "bb_edit_layer"
_CHOICE = "bb_edit_choice"
_LOADED = "bb_edit_loaded"  # (layer, choice) whose values the form holds
_BASE = "bb_edit_base"  # the revision the form was loaded from (None for a new feature)
_GEN = "bb_edit_gen"  # raised on every load: the tables start again from the loaded rows
_ROWS = "bb_edit_rows"  # {"claims": [...], "sources": [...]} as loaded
_GEOMETRY = "bb_edit_geometry"  # a deployment area's stored geometry
_BASE_PROPS = "bb_edit_base_props"
_PROBLEMS = "bb_edit_problems"
_CONFLICT = "bb_edit_conflict"
_ERROR = "bb_edit_error"
_DONE = "bb_edit_done"
_MAP_CLICK = "bb_edit_map_click"


def key(name: str) -> str:
    return f"bb_edit_{name}"


def _load(layer: str, choice: str) -> None:
    """Fill the form from the store's head of ``choice`` (or a new feature's defaults)."""
    feature, revision = None, None
    if choice != NEW:
        head = data.store().head(layer, choice)
        if head is None:
            st.session_state[_ERROR] = f"'{choice}' is not in the catalogue any more (retired?)."
            choice = NEW if layer not in AREA_LAYERS else choice
        else:
            feature, revision = head
    values = form_values(layer, feature)
    st.session_state[_ROWS] = {name: values.pop(name, []) for name in ("claims", "sources")}
    for name, value in values.items():
        st.session_state[key(name)] = value
    st.session_state[_BASE] = revision
    st.session_state[_BASE_PROPS] = dict((feature or {}).get("properties") or {})
    st.session_state[_GEOMETRY] = (feature or {}).get("geometry")
    st.session_state[_GEN] = st.session_state.get(_GEN, 0) + 1
    st.session_state[_LOADED] = (layer, choice)
    st.session_state[_PROBLEMS] = {}
    st.session_state[_CONFLICT] = None
    st.session_state[_MAP_CLICK] = None
    st.session_state[key("retire_reason")] = ""


def _open(layer: str, choice: str) -> None:
    st.session_state[_LAYER] = layer
    st.session_state[_CHOICE] = choice
    _load(layer, choice)


def _layer_changed() -> None:
    layer = st.session_state[_LAYER]
    ids = list(data.layer_data().full[layer]["id"])
    _open(layer, NEW if layer not in AREA_LAYERS else (ids[0] if ids else NEW))


def _choice_changed() -> None:
    _load(st.session_state[_LAYER], st.session_state[_CHOICE])


def _take_place() -> None:
    """A gazetteer place was chosen: the event takes its point, names and id."""
    place_id = st.session_state.get(key("place"))
    if not place_id:
        return
    places = data.layer_data().full["places"]
    row = places[places["id"] == place_id].iloc[0]
    chosen = place_choice(row.to_dict(), row.geometry)
    for name in ("lat", "lon", "loc_en", "loc_sq", "loc_sr"):
        st.session_state[key(name)] = chosen[name]
    st.session_state[key("related_ids")] = with_related(st.session_state.get(key("related_ids"), ""), place_id)


def _take_theirs() -> None:
    layer, choice = st.session_state[_LOADED]
    conflict = st.session_state.get(_CONFLICT) or {}
    _open(layer, conflict.get("feature_id", choice))


def _keep_mine() -> None:
    conflict = st.session_state.get(_CONFLICT) or {}
    current = conflict.get("current") or {}
    st.session_state[_BASE] = None if current.get("retired") else current.get("revision")
    st.session_state[_CONFLICT] = None


# --- drawing ------------------------------------------------------------------------


def _show_problems(*fields: str) -> None:
    problems = st.session_state.get(_PROBLEMS) or {}
    for field in fields:
        for message in problems.get(field, []):
            st.error(f"{md_escape(field)}: {md_escape(message)}", icon="⚠️")


def _sources_editor(gen: int) -> pd.DataFrame:
    rows = (st.session_state.get(_ROWS) or {}).get("sources") or []
    st.markdown("**Sources** (at least one: publisher, title, publication date YYYY-MM-DD, http(s) link)")
    frame = st.container(key="bb_edit_sources").data_editor(
        pd.DataFrame(rows, columns=list(SOURCE_COLUMNS)),
        key=f"bb_edit_sources_{gen}",
        num_rows="dynamic",
        width="stretch",
        hide_index=True,
        column_config={  # fixed widths: a browser test (and the eye) finds each column at the same place
            "publisher": st.column_config.TextColumn("publisher", help="Who published it, e.g. NATO, RFE/RL",
                                                     width=SOURCE_WIDTHS["publisher"]),
            "title": st.column_config.TextColumn("title", width=SOURCE_WIDTHS["title"]),
            "date": st.column_config.TextColumn("date", help="Publication date YYYY-MM-DD", width=SOURCE_WIDTHS["date"]),
            "url": st.column_config.TextColumn("url", help="http(s) address", width=SOURCE_WIDTHS["url"]),
        },
    )
    complete = [r for r in rows_to_records(frame_rows(frame), SOURCE_COLUMNS) if len(r) == len(SOURCE_COLUMNS)]
    st.caption(f"{len(complete)} complete source{'' if len(complete) == 1 else 's'} (publisher, title, date and link).")
    _show_problems("sources")
    return frame


def _position_section(layer: str, places) -> None:
    """Where the feature lies: a gazetteer place (events), typed coordinates or a map click."""
    st.markdown("**Position**")
    modes = (["A gazetteer place"] if layer == "events" else []) + ["Coordinates", "Click on the map"]
    mode = st.radio("Place it by", modes, key=key("position_mode"), horizontal=True)
    if mode == "A gazetteer place":
        names = dict(zip(places["id"], places["name"]))
        st.selectbox(
            "Gazetteer place",
            options=list(names),
            format_func=lambda i: names.get(i, i),
            index=None,
            placeholder="Choose a place",
            key=key("place"),
            on_change=_take_place,
            help="The event takes the place's cited point, its English, Albanian and Serbian names, and its id.",
        )
    elif mode == "Click on the map":
        _click_map()
    left, right = st.columns(2)
    left.number_input("Latitude (°N)", key=key("lat"), format="%.6f", step=0.001)
    right.number_input("Longitude (°E)", key=key("lon"), format="%.6f", step=0.001)
    lat, lon = st.session_state[key("lat")], st.session_state[key("lon")]
    if not is_in_region(lon, lat) and not st.session_state.get(key("remote")):
        lon_min, lat_min, lon_max, lat_max = REGION_BBOX
        st.error(
            f"({lat:.6f} N, {lon:.6f} E) lies outside the region ({lat_min}–{lat_max} N, {lon_min}–{lon_max} E). "
            "Check the order of latitude and longitude."
        )
    _show_problems("geometry")


def _click_map() -> None:
    """A small offline map (the country outlines, no tile server): a click sets the position."""
    import folium
    from streamlit_folium import st_folium

    from layers.render import CountryOutlines, add_basemap, new_map

    settings = data.settings()
    lat, lon = st.session_state[key("lat")], st.session_state[key("lon")]
    m = new_map(settings, (lat, lon, 9))
    countries = data.layer_data().display["countries"]
    CountryOutlines(countries).add_to(m)  # the offline basemap draws from them
    add_basemap(m, "offline", countries, settings)
    folium.CircleMarker([lat, lon], radius=7, color="#b91c1c", fill=True, fill_opacity=0.8, weight=2).add_to(m)
    clicked = st_folium(m, key=f"bb_edit_map_{st.session_state.get(_GEN, 0)}", height=360,
                        width="stretch", returned_objects=["last_clicked"])
    last = (clicked or {}).get("last_clicked")
    if last and last != st.session_state.get(_MAP_CLICK):
        st.session_state[_MAP_CLICK] = last
        st.session_state[key("lat")] = round(float(last["lat"]), COORDINATE_DECIMALS)
        st.session_state[key("lon")] = round(float(last["lng"]), COORDINATE_DECIMALS)
    st.caption("Click the map to place the point; fine-tune the numbers below.")


def _event_form(layer_data, new: bool) -> dict[str, Any]:
    gen = st.session_state[_GEN]
    st.text_input("Title (short headline)", key=key("title"), max_chars=200)
    _show_problems("title", "name")
    left, mid, right = st.columns(3)
    left.date_input("Date (local)", key=key("date"), min_value=BACKGROUND_START, max_value=CATALOGUE_END, format="YYYY-MM-DD")
    mid.selectbox("Time precision", list(TIME_PRECISION), key=key("time_precision"),
                  format_func=lambda c: f"{c} — {TIME_PRECISION[c]}")
    right.text_input("Time of day (HH:MM, local; optional)", key=key("time_of_day"), max_chars=5,
                     disabled=st.session_state[key("time_precision")] != 1,
                     help="Only when the day is known (time precision 1).")
    date = st.session_state[key("date")]
    st.caption(
        f"Background context: **{'yes' if is_background(date) else 'no'}** — events before "
        f"{CRISIS_WINDOW[0]} are background; the crisis runs {CRISIS_WINDOW[0]} to {CRISIS_WINDOW[1]}."
    )
    _show_problems("date", "time_precision", "time_of_day", "background")
    if new:
        taken = set(layer_data.full["events"]["id"])
        event_id = new_event_id(date, st.session_state[key("title")], taken)
    else:
        event_id = st.session_state[_LOADED][1]
    st.markdown(f"Id: `{event_id}`" + (" (from the date and the title; shared links use it)" if new else ""))
    _show_problems("id")

    left, right = st.columns(2)
    event_type = left.selectbox("ACLED event type", list(EVENT_TYPES), key=key("event_type"))
    if st.session_state.get(key("sub_event_type")) not in EVENT_TYPES[event_type]:
        st.session_state[key("sub_event_type")] = EVENT_TYPES[event_type][0]
    right.selectbox("Sub-event type", EVENT_TYPES[event_type], key=key("sub_event_type"))
    _show_problems("event_type", "sub_event_type")
    st.text_area("Actors (one per line)", key=key("actors"), height=90)
    _show_problems("actors")
    left, right = st.columns([1, 2])
    violent = event_type in VIOLENT_EVENT_TYPES
    not_applicable = False
    if not violent:
        not_applicable = left.checkbox("Fatalities not applicable", key=key("fatalities_na"),
                                       help="For statements, agreements and other non-violent events.")
    left.number_input("Fatalities", key=key("fatalities"), min_value=0, step=1, disabled=not_applicable,
                      help="Deaths as reported (0 if nobody died); required for " + ", ".join(VIOLENT_EVENT_TYPES) + ".")
    right.text_input("On the fatalities (optional)", key=key("fatalities_note"),
                     help="Who counted what, injuries, disagreements between sources.")
    _show_problems("fatalities", "fatalities_note")

    _position_section("events", layer_data.full["places"])
    st.markdown("**Location names**")
    cols = st.columns(3)
    cols[0].text_input("English", key=key("loc_en"))
    cols[1].text_input("Albanian", key=key("loc_sq"))
    cols[2].text_input("Serbian (Latin)", key=key("loc_sr"))
    _show_problems("location")
    left, right = st.columns(2)
    left.selectbox("Location precision", list(GEO_PRECISION), key=key("geo_precision"),
                   format_func=lambda c: f"{c} — {GEO_PRECISION[c]}")
    right.text_input("Related ids (places it concerns, main place first; comma-separated)", key=key("related_ids"))
    _show_problems("geo_precision", "related_ids")
    left, right = st.columns([1, 2])
    remote = left.checkbox("Remote (happened outside the region)", key=key("remote"))
    right.text_input("Where it happened (remote events)", key=key("remote_location"), disabled=not remote,
                     placeholder="e.g. Washington, D.C.")
    _show_problems("remote", "remote_location")
    st.selectbox("Status", list(EVENT_STATUSES), key=key("status"), format_func=lambda s: f"{s} — {STATUS[s]}")
    _show_problems("status")
    st.text_area("Summary (2–4 sentences in your own words, at most 900 characters)", key=key("summary"), height=120)
    _show_problems("summary")
    st.markdown("**Claims by party** (one row per party where sources disagree; may stay empty)")
    claims = st.data_editor(
        pd.DataFrame((st.session_state.get(_ROWS) or {}).get("claims") or [], columns=list(CLAIM_COLUMNS)),
        key=f"bb_edit_claims_{gen}", num_rows="dynamic", width="stretch", hide_index=True,
        column_config={c: st.column_config.TextColumn(c) for c in CLAIM_COLUMNS},
    )
    _show_problems("claims")
    sources = _sources_editor(gen)
    values = {name: st.session_state.get(key(name)) for name in form_values("events", None) if name not in ("claims", "sources")}
    values.update(id=event_id, claims=frame_rows(claims), sources=frame_rows(sources))
    return values


def _place_form(layer_data, new: bool) -> dict[str, Any]:
    gen = st.session_state[_GEN]
    cols = st.columns(3)
    cols[0].text_input("Name (English)", key=key("name"))
    cols[1].text_input("Albanian name", key=key("name_sq"))
    cols[2].text_input("Serbian name (Latin)", key=key("name_sr"))
    _show_problems("name", "name_sq", "name_sr")
    if new:
        place_id = new_place_id(st.session_state[key("name")], set(layer_data.full["places"]["id"]))
    else:
        place_id = st.session_state[_LOADED][1]
    st.markdown(f"Id: `{place_id}`")
    _show_problems("id")
    left, right = st.columns(2)
    left.text_input("Kind", key=key("kind"), help="e.g. village, town, crossing, monastery, base")
    right.number_input("Precision of the cited point (metres)", key=key("precision_m"), min_value=0.0, step=50.0)
    _show_problems("kind", "precision_m")
    _position_section("places", None)
    st.text_area("Summary", key=key("summary"), height=110)
    _show_problems("summary")
    sources = _sources_editor(gen)
    values = {name: st.session_state.get(key(name)) for name in form_values("places", None) if name != "sources"}
    values.update(id=place_id, sources=frame_rows(sources))
    return values


def _area_form() -> dict[str, Any]:
    gen = st.session_state[_GEN]
    layer, choice = st.session_state[_LOADED]
    st.text_input("Name", key=key("name"))
    _show_problems("name")
    if choice == NEW:
        frames = data.layer_data().full
        taken = set(frames["kfor_areas"]["id"]) | set(frames["serbian_deployments"]["id"])
        area_id = new_area_id(st.session_state[key("name")], taken)
    else:
        area_id = choice
    st.markdown(f"Id: `{area_id}`" + (" (from the name; shared links use it)" if choice == NEW else ""))
    _show_problems("id")
    geometry = draw.shape_section(layer, st.session_state.get(_GEOMETRY), gen)
    _show_problems("geometry")
    left, right = st.columns(2)
    left.text_input("Force", key=key("force"))
    right.text_input("Strength (optional)", key=key("strength"))
    _show_problems("force", "strength")
    left, right = st.columns(2)
    left.text_area("Units (one per line)", key=key("units"), height=90)
    right.text_area("Equipment (one per line)", key=key("equipment"), height=90)
    _show_problems("units", "equipment")
    left, mid, right = st.columns(3)
    left.date_input("Period start", key=key("period_start"), format="YYYY-MM-DD")
    mid.date_input("Period end (empty: ongoing)", key=key("period_end"), format="YYYY-MM-DD")
    right.selectbox("Status", list(STATUSES), key=key("status"), format_func=lambda s: f"{s} — {STATUS[s]}")
    _show_problems("period_start", "period_end", "status")
    st.text_area("How the area is drawn (construction)", key=key("construction"), height=80)
    st.text_area("Uncertainty", key=key("uncertainty"), height=80)
    st.text_area("Summary", key=key("summary"), height=100)
    _show_problems("construction", "uncertainty", "summary")
    sources = _sources_editor(gen)
    values = {name: st.session_state.get(key(name)) for name in form_values("kfor_areas", None) if name != "sources"}
    values.update(id=area_id, sources=frame_rows(sources), geometry=geometry)
    return values


def _feature(layer: str, values: dict[str, Any]) -> dict:
    base = st.session_state.get(_BASE_PROPS) or {}
    if layer == "events":
        return event_feature(values, base)
    if layer == "places":
        return place_feature(values, base)
    stored = st.session_state.get(_GEOMETRY)
    return draw.with_measured_area(area_feature(values, base, values.get("geometry")), stored)


def _save(layer: str, feature: dict, author: str, comment: str) -> None:
    feature_id = feature["properties"]["id"]
    try:
        if layer in AREA_LAYERS:
            draw.check_shape(feature)
        revision = data.store().save(layer, feature, base_revision=st.session_state.get(_BASE), identity=auth.current(), comment=comment)
    except ValidationFailed as exc:
        st.session_state[_PROBLEMS] = problems_by_field(exc.problems)
        st.session_state[_ERROR] = f"{len(exc.problems)} problem(s); nothing was written. Fix the fields marked below."
    except ConflictError as exc:
        st.session_state[_CONFLICT] = {"message": str(exc), "feature_id": feature_id, "current": exc.current,
                                       "yours": exc.yours or {"properties": feature["properties"]}}
    except StoreError as exc:
        st.session_state[_ERROR] = f"{exc} Nothing was written."
    else:
        st.session_state[_DONE] = {"layer": layer, "id": feature_id, "what": f"Saved revision {revision} of"}
        st.session_state[TARGET] = (layer, feature_id)
    st.rerun()


def _retire(layer: str, feature_id: str, author: str, reason: str) -> None:
    try:
        revision = data.store().retire(layer, feature_id, base_revision=st.session_state.get(_BASE), identity=auth.current(), reason=reason)
    except ConflictError as exc:
        st.session_state[_CONFLICT] = {"message": str(exc), "feature_id": feature_id, "current": exc.current,
                                       "yours": {"properties": st.session_state.get(_BASE_PROPS) or {}}}
    except StoreError as exc:
        st.session_state[_ERROR] = f"{exc} Nothing was written."
    else:
        st.session_state[_DONE] = {"layer": layer, "id": feature_id, "what": f"Retired (revision {revision})", "retired": True}
        ids = [i for i in data.layer_data().full[layer]["id"] if i != feature_id]
        st.session_state[TARGET] = (layer, NEW if layer not in AREA_LAYERS else (ids[0] if ids else NEW))
    st.rerun()


def _show_done() -> None:
    done = st.session_state.pop(_DONE, None)
    if not done:
        return
    spec = LAYERS_BY_ID[done["layer"]]
    st.success(f"{md_escape(done['what'])} {md_escape(spec.title.lower())} `{done['id']}`. Every viewer sees it on their next step.")
    if not done.get("retired"):
        param = {"event": done["id"]} if done["layer"] == "events" else {"feature": f"{done['layer']}/{done['id']}"}
        session.select(done["layer"], done["id"])
        st.page_link("pages/map.py", label="Show it on the map", icon=":material/map:", query_params=param)


def _show_conflict() -> None:
    conflict = st.session_state.get(_CONFLICT)
    if not conflict:
        return
    current = conflict.get("current") or {}
    with st.container(border=True, key="bb_edit_conflict_box"):
        st.error("Someone else saved first. " + md_escape(conflict["message"]))
        who = f"revision {current.get('revision')} by {current.get('author')}" if current else "the current version"
        st.markdown(f"Theirs is {md_escape(who)}; yours is still in the form below and has not been saved.")
        rows = compare(current.get("properties"), (conflict.get("yours") or {}).get("properties") or {})
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        left, right = st.columns(2)
        left.button("Load their version (discard mine)", key="bb_edit_take_theirs", on_click=_take_theirs,
                    width="stretch")
        right.button("Keep mine and save on top of theirs", key="bb_edit_keep_mine", on_click=_keep_mine,
                     width="stretch", disabled=bool(current.get("retired")),
                     help="Your values stay in the form; press Save again to write them as the next revision.")


def _chooser(layer_data) -> tuple[str, str]:
    titles = {layer: LAYERS_BY_ID[layer].title for layer in EDITABLE_LAYERS}
    st.session_state.setdefault(_LAYER, "events")
    left, right = st.columns([1, 2])
    layer = left.selectbox("Layer", list(EDITABLE_LAYERS), key=_LAYER, format_func=titles.get, on_change=_layer_changed)
    frame = layer_data.full[layer]
    names = dict(zip(frame["id"], frame["name"]))
    if layer == "events":
        names = {i: f"{d} · {n}" for i, d, n in zip(frame["id"], frame["date"], frame["name"])}
    options = [NEW] + sorted(names, key=lambda i: names[i], reverse=layer == "events")
    if st.session_state.get(_CHOICE) not in options:
        st.session_state[_CHOICE] = options[0] if options else NEW
    label = {"events": "Add a new event", "places": "Add a new place"}.get(layer, "Add a new area (draw it)")
    right.selectbox("Feature", options, key=_CHOICE, format_func=lambda i: label if i == NEW else names.get(i, i),
                    on_change=_choice_changed)
    return layer, st.session_state[_CHOICE]


def render_page() -> None:
    """The whole Edit page."""
    layer_data = data.layer_data()
    target = st.session_state.pop(TARGET, None)
    if target and target[0] in EDITABLE_LAYERS:
        _open(*target)
    st.title("Edit the catalogue")
    st.caption(
        "Add, change or retire events, gazetteer places and deployment areas. Every save is a new revision "
        "recorded with your name; a save on top of a version someone else changed meanwhile is refused and "
        "both versions are shown. Nothing invalid is written."
    )
    # Messages come and go; one container always holds them, so the elements below keep
    # their places between runs (an expander that moved would fold itself again).
    messages = st.container()
    with messages:
        _show_done()
    author = author_field()
    layer, choice = _chooser(layer_data)
    if st.session_state.get(_LOADED) != (layer, choice):
        _load(layer, choice)
        layer, choice = st.session_state[_LOADED]
    with st.container():
        error = st.session_state.pop(_ERROR, None)
        if error:
            st.error(md_escape(error))
        _show_conflict()
    new = choice == NEW
    base = st.session_state.get(_BASE)
    st.caption("A new feature" if new else f"Editing revision {base} of `{choice}`")

    if layer == "events":
        values = _event_form(layer_data, new)
    elif layer == "places":
        values = _place_form(layer_data, new)
    else:
        values = _area_form()
    _show_problems("")
    if layer == "events":
        audit_panel.render(_feature(layer, values), layer_data)

    why = None if author else "Enter your name above first: every change is recorded with its author."
    comment = st.text_input("Comment for this revision (optional)", key=key("comment"), max_chars=500)
    if st.button("Save", type="primary", key="bb_edit_save", disabled=not author, help=why):
        _save(layer, _feature(layer, values), author, comment)

    if not new:
        with st.expander(f"Retire `{choice}`"):
            st.caption("A retired feature leaves the map for everyone; its history stays and it can be restored.")
            reason = st.text_input("Reason (required)", key=key("retire_reason"), max_chars=500)
            if st.button("Retire", key="bb_edit_retire", disabled=not (author and reason.strip()),
                         help=why or (None if reason.strip() else "Say why it is retired.")):
                _retire(layer, choice, author, reason.strip())
