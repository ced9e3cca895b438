"""The side panel: one selected event or feature, every value shown as plain text."""

from __future__ import annotations

import datetime as dt
import html
import math
from typing import Any, Callable

import streamlit as st

from layers.catalog import LAYERS_BY_ID
from layers.data import LayerData
from store import EDITABLE_LAYERS, StoreError
from ui import auth, briefing, data, feed, session
from ui.state import AppState
from ui.text import md_escape, md_link

# The code meanings belong to the catalogue schema; the panel, About page and CSV share them.
from geo.events import GEO_PRECISION, STATUS, TIME_PRECISION


def _line(label: str, value: Any) -> None:
    if value is None or value == "" or value == []:
        return
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    st.markdown(f"**{label}:** {md_escape(value)}")


def _sources(sources: Any) -> None:
    from ui.text import url_host  # kept beside its one use

    if not isinstance(sources, list) or not sources:
        return
    st.markdown("**Sources**")
    lines = []
    for source in sources:
        if not isinstance(source, dict):
            continue
        # The host beside the publisher: the reader sees which site a link opens before clicking.
        parts = (source.get("publisher"), url_host(source.get("url")), source.get("date"))
        meta = " · ".join(md_escape(part) for part in parts if part)
        lines.append(f"- {md_link(source.get('title'), source.get('url'))} — {meta}")
    st.markdown("\n".join(lines))


def _without_nan(record: dict[str, Any]) -> dict[str, Any]:
    """pandas stores a missing value (null in the GeoJSON) as NaN; the panel wants None."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in record.items()}


def render_event(event: dict[str, Any], current: AppState) -> None:
    event = _without_nan(event)
    st.markdown(f"## {md_escape(event.get('title'))}")
    precision = TIME_PRECISION.get(event.get("time_precision"), "unknown precision")
    when = f"{event.get('date')} ({precision})"
    if event.get("time_of_day"):
        when += f", about {event['time_of_day']} local time"
    _line("When", when)
    date = dt.date.fromisoformat(str(event.get("date")))
    if not current.start <= date <= current.end:
        st.info("This event is outside the current time window, so it is not drawn on the map.")
    location = event.get("location") or {}
    if isinstance(location, dict):
        st.markdown("**Where:** " + place_names(location, current.lang))
    _line("Location precision", GEO_PRECISION.get(event.get("geo_precision"), "unknown"))
    if event.get("remote"):
        st.caption(
            f"Happened in {md_escape(event.get('remote_location') or 'another place')}; "
            "shown at the place it concerns."
        )
    _line("Type", f"{event.get('event_type')} — {event.get('sub_event_type')}")
    _line("Actors", event.get("actors"))
    fatalities = event.get("fatalities")
    if fatalities is None:
        _line("Fatalities", "not applicable / none reported")
    else:
        _line("Fatalities", int(fatalities))
    _line("On the fatalities", event.get("fatalities_note"))
    status = event.get("status")
    _line("Status", f"{status} — {STATUS.get(status, '')}".rstrip(" —"))
    claims = event.get("claims") or []
    if claims:
        st.markdown("**Claims by party**")
        st.markdown(
            "\n".join(
                f"- {md_escape(c.get('party'))}: {md_escape(c.get('claim'))}" for c in claims if isinstance(c, dict)
            )
        )
    st.markdown(md_escape(event.get("summary")))
    _sources(event.get("sources"))


# A place's name in each language of the lang= choice (ui.state.LANGUAGES), and how the
# panel names the languages it does not lead with.
LANGUAGE_NAMES = {"en": "English", "sq": "Albanian", "sr": "Serbian"}


def place_names(names: dict[str, Any], lang: str) -> str:
    """Markdown: the name in ``lang`` (English where that one is missing), then the others."""
    lead = lang if names.get(lang) else "en"
    others = [
        f"{LANGUAGE_NAMES[code]}: {md_escape(names[code])}" for code in LANGUAGE_NAMES if code != lead and names.get(code)
    ]
    return md_escape(names.get(lead)) + (f" ({'; '.join(others)})" if others else "")


def render_feature(layer_id: str, feature: dict[str, Any], lang: str = "en") -> None:
    feature = _without_nan(feature)
    spec = LAYERS_BY_ID[layer_id]
    names = {"en": feature.get("name"), "sq": feature.get("name_sq"), "sr": feature.get("name_sr")}
    lead = lang if layer_id == "places" and names.get(lang) else "en"
    st.markdown(f"## {md_escape(names[lead])}")
    st.caption(spec.title)
    if layer_id == "places":
        for code, language in LANGUAGE_NAMES.items():
            if code != lead:
                _line(language, names[code])
    for name, label in spec.panel_fields:
        _line(label, feature.get(name))
    _sources(feature.get("sources"))


# Visually hidden but read by screen readers (the usual "sr-only" pattern; not display:none,
# which would silence it).
_SR_ONLY = ("position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
            "clip:rect(0,0,0,0);white-space:nowrap;border:0")


def _announcement(selection: tuple[str, str] | None, feature: dict[str, Any] | None, lang: str) -> str:
    """What the panel's live region says: the selection's name and kind, or that the list is back."""
    if selection is None:
        return "Event list shown."
    if feature is None:
        return "The selected item is no longer in the data."
    layer_id = selection[0]
    name = feature.get("title") if layer_id == "events" else (
        feature.get({"sq": "name_sq", "sr": "name_sr"}.get(lang, "name")) or feature.get("name"))
    kind = "event" if layer_id == "events" else LAYERS_BY_ID[layer_id].title
    return f"Selected {kind}: {name or selection[1]}. Details in the panel."


def announce(text: str) -> None:
    """A polite live region (role=status): screen readers read its new text when they are idle.
    The text is escaped: data is never markup."""
    st.html(f'<div role="status" aria-live="polite" aria-atomic="true" class="bb-live" style="{_SR_ONLY}">'
            f"{html.escape(str(text))}</div>")


def render_panel(
    layers: LayerData,
    current: AppState,
    on_close: Callable[[], None],
    on_select: Callable[[str, str], None],
) -> None:
    """The details of the selected event or feature; with nothing selected, the event feed
    (ui.feed), whose choice goes to ``on_select`` (the same path as a click on the map)."""
    selection = current.selection
    with st.container(border=True, key="bb_panel"):
        feature = layers.feature(*selection) if selection is not None else None
        # First in the panel in both states, so the browser keeps one live region and reads out its change.
        announce(_announcement(selection, feature, current.lang))
        if selection is None:
            feed.render_feed(layers, current, on_select=on_select)
            return
        layer_id, feature_id = selection
        if feature is None:
            st.warning("The selected item is no longer in the data.")
            return
        # Escape closes the panel too (Streamlit's button shortcut, caught anywhere on the page
        # but inside the map's frame, whose keys stay in the frame): see README, Accessibility.
        st.button("Close ✕", key="bb_panel_close", on_click=on_close, help="Close the details panel (Esc)",
                  shortcut="Esc")
        if layer_id in EDITABLE_LAYERS and auth.can_edit():
            st.button("Edit", key="bb_panel_edit", on_click=_request_edit, args=(layer_id, feature_id),
                      help="Change or retire it on the Edit page")
            # st.switch_page cannot run inside a callback: the callback leaves a flag.
            if st.session_state.pop(_EDIT_SWITCH, False):
                st.switch_page("pages/edit.py")
        kind = data.changes_since(current.since).get(layer_id, {}).get(feature_id)
        if kind in ("added", "changed"):
            since = f"{current.since:%Y-%m-%d %H:%M} UTC"
            st.badge(f"New since {since}" if kind == "added" else f"Changed since {since}",
                     color="green" if kind == "added" else "blue")
        if layer_id == "events":
            render_event(feature, current)
        else:
            render_feature(layer_id, feature, lang=current.lang)
        if layer_id in EDITABLE_LAYERS:
            render_history(layer_id, feature_id)


_EDIT_SWITCH = "bb_edit_switch"


def _request_edit(layer_id: str, feature_id: str) -> None:
    st.session_state["bb_edit_target"] = (layer_id, feature_id)
    st.session_state[_EDIT_SWITCH] = True


def _what_changed(revision) -> str:
    if revision.retired:
        return "retired"
    if revision.revision == 1:
        return "created"
    return "changed " + ", ".join(revision.changed_fields) if revision.changed_fields else "saved unchanged"


def render_history(layer_id: str, feature_id: str) -> None:
    """Who changed what and when, field by field; an earlier revision can be restored."""
    history = data.store().history(feature_id, layer_id)
    if not history:
        return
    author = auth.editor_name()  # restoring is for signed-in analysts and admins
    with st.expander(f"History ({len(history)} revision{'s' if len(history) != 1 else ''})"):
        for revision in reversed(history):
            line = (
                f"**r{revision.revision}** · {revision.created_at:%Y-%m-%d %H:%M} UTC · {md_escape(revision.author)} · "
                f"{md_escape(_what_changed(revision))}"
            )
            if revision.comment:
                line += f" — {md_escape(revision.comment)}"
            st.markdown(line)
            if author and revision is not history[-1] and not revision.retired:
                st.button(
                    f"Restore r{revision.revision}",
                    key=f"bb_restore_{layer_id}_{feature_id}_{revision.revision}",
                    disabled=not author,
                    on_click=_restore,
                    args=(layer_id, feature_id, revision.revision, author),
                    help="Save this revision again as the newest one" if author
                    else "Enter your name on the Layers & data page first: every change records its author.",
                )
        failed = st.session_state.pop("bb_restore_failed", None)
        if failed:
            st.error(md_escape(failed))


def _restore(layer_id: str, feature_id: str, revision: int, author: str) -> None:
    try:
        data.store().restore_revision(layer_id, feature_id, revision, identity=auth.current())
    except StoreError as exc:
        st.session_state["bb_restore_failed"] = str(exc)


def render_changes(layers: LayerData, current: AppState, on_select: Callable[[str, str], None]) -> None:
    """The list of what changed since ``current.since``: each live item opens in the panel."""
    if current.since is None:
        return
    changes = data.changes_since(current.since)
    items = [(layer_id, feature_id, kind) for layer_id, kinds in changes.items() for feature_id, kind in kinds.items()]
    with st.container(border=True, key="bb_changes"):
        st.markdown(f"## Changes since {current.since:%Y-%m-%d %H:%M} UTC")
        if not items:
            st.caption("Nothing was added, changed or retired in the catalogue since then.")
            return
        counts = {k: sum(1 for *_, kind in items if kind == k) for k in ("added", "changed", "retired")}
        st.caption(f"{counts['added']} new · {counts['changed']} changed · {counts['retired']} retired")
        order = {"added": 0, "changed": 1, "retired": 2}
        for layer_id, feature_id, kind in sorted(items, key=lambda i: (order[i[2]], i[0], i[1]))[:200]:
            feature = layers.feature(layer_id, feature_id) if kind != "retired" else None
            name = (feature or {}).get("name") or feature_id
            label = {"added": "New", "changed": "Changed", "retired": "Retired"}[kind]
            spec = LAYERS_BY_ID.get(layer_id)
            text = f"{label}: {name} ({spec.title if spec else layer_id})"
            if feature is None:
                st.markdown(md_escape(text))
            else:
                st.button(text, key=f"bb_change_{layer_id}_{feature_id}", on_click=on_select, args=(layer_id, feature_id),
                          use_container_width=True)
        if len(items) > 200:
            st.caption(f"… and {len(items) - 200} more.")


#: The side panel's fragment (issue 15: a cheap click). A click on the map reruns only this
#: (ui.mapview's callback names it), as do the feed and the panel's own buttons.
PANEL_FRAGMENT = "bb_side_panel"


@st.fragment(key=PANEL_FRAGMENT)
def side_panel(data_key: tuple) -> None:
    """The details panel, or the feed, and the list of changes, as high as the map.

    It reruns on its own: the map is neither rebuilt nor sent again, and it follows the new
    selection from the URL (layers/runtime.js). ``data_key`` is the catalogue's version when
    the whole page last ran; if the catalogue changed since (a restore here, another analyst's
    save), the whole page runs again so the map and the sidebar show the same data."""
    layers = data.layer_data()
    if data.data_key() != data_key:
        st.rerun()
    current = session.state()
    briefing.remember(current)  # the download button builds the briefing of this state
    with st.container(key="bb_side"):  # as high as the map, scrolled on its own (ui.style)
        render_panel(layers, current, on_close=lambda: session.select(None, None), on_select=session.select)
        render_changes(layers, current, on_select=session.select)
