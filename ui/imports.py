"""Import into the shared catalogue: upload, validate whole, preview, commit as one batch; undo a batch."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.io import LayerValidationError
from store import EDITABLE_LAYERS, ConflictError, StoreError, ValidationFailed
from store.importing import MAX_IMPORT_BYTES, ImportFileError, guess_format, parse_import
from ui import auth, data
from ui.text import md_escape

_READ = "bb_import_read"  # session: (upload token, what reading the file gave)
_CHECKED = "bb_import_checked"  # session: (upload and catalogue version token, preview outcome)
_DONE = "bb_import_done"
_RERUN_APP = "bb_import_rerun_app"  # set by a commit: the fragment asks for a run of the whole page


def author_field() -> str:
    """The signed-in name every change is recorded under, or "" when this session may not write."""
    identity = auth.current()
    if identity is None:
        st.info("Sign in as an analyst (the form in the sidebar) to import or undo; every change records its author.")
        return ""
    if not identity.can_write:
        st.info(f"{md_escape(identity.name)} is a {identity.role}: viewers cannot import or undo.")
        return ""
    st.caption(f"Changes are recorded as **{md_escape(identity.name)}** ({identity.role}).")
    return identity.name


def _read(raw: bytes, name: str, fmt: str, layer: str) -> dict:
    """Read and check a file's structure (store.importing, the outline in a child process)."""
    try:
        layer, features = parse_import(raw, name, fmt=fmt, layer=layer)
    except (ImportFileError, StoreError) as exc:
        return {"error": str(exc)}
    except LayerValidationError as exc:
        return {"problems": [str(p) for p in exc.problems[:200]], "count": len(exc.problems)}
    return {"layer": layer, "features": features}


def _preview(read: dict, name: str) -> dict:
    """Validate a read file whole against the catalogue as it is now and preview the change."""
    if "features" not in read:
        return read
    try:
        preview = data.store().import_features(read["layer"], read["features"], identity=None, source=name, dry_run=True)
    except StoreError as exc:
        return {"error": str(exc)}
    except (ValidationFailed, LayerValidationError) as exc:
        return {"problems": [str(p) for p in exc.problems[:200]], "count": len(exc.problems)}
    return {**read, "preview": preview}


def _outcome(upload, fmt: str, layer: str) -> dict:
    """What to show for the uploaded file: read once per upload, previewed once per catalogue version.

    A file is identified by Streamlit's id for this upload (a new upload of the same file gets a
    new id), so a rerun neither reads nor hashes its bytes again; a refused file stays refused
    when the catalogue changes, and only a readable file's preview is redone then.
    """
    file_token = f"{upload.file_id}|{upload.size}|{fmt}|{layer}"
    read = st.session_state.get(_READ)
    if read is None or read[0] != file_token:
        read = (file_token, _read(upload.getvalue(), upload.name, fmt, layer))
        st.session_state[_READ] = read
        st.session_state.pop(_CHECKED, None)
    if "features" not in read[1]:
        return read[1]
    token = f"{file_token}|{data.store().version()}"
    checked = st.session_state.get(_CHECKED)
    if checked is None or checked[0] != token:
        checked = (token, _preview(read[1], upload.name))
        st.session_state[_CHECKED] = checked
    return checked[1]


def import_section() -> None:
    st.subheader("Import into the catalogue")
    st.caption(
        "A GeoJSON FeatureCollection in the catalogue's schema (events, places or deployment areas; see "
        "data/EVENTS.md), a CSV of events with the catalogue's columns (see the README), or an ACLED CSV "
        "export (its own column names; both of ACLED's date formats). "
        "The whole file is checked first: if anything is wrong nothing is written and every problem is "
        "listed. You then see what would be added and changed, matched by id, and commit it as one batch "
        "that every viewer sees at once and that can be undone in one step. "
        f"At most {MAX_IMPORT_BYTES // 1_000_000} MB."
    )
    done = st.session_state.pop(_DONE, None)
    if done:
        st.success(done)
    author = author_field()
    if not author:
        _batches_section(author)
        return
    _upload_part(author)
    _batches_section(author)


@st.fragment
def _upload_part(author: str) -> None:
    """The file, the layer and what the file gives, with the commit button.

    A fragment: choosing a file or a layer or typing a comment reruns only this part, not the
    page around it (the Layers page's sections above, the batches below), so an upload costs
    the server its own check and little else (issue 18). A commit reruns the whole page, which
    then shows the new batch.
    """
    if st.session_state.pop(_RERUN_APP, False):
        st.rerun(scope="app")
    left, right = st.columns([2, 1])
    upload = left.file_uploader("File (.geojson, .json or ACLED .csv)", type=["geojson", "json", "csv"], key="bb_upload")
    layer = right.selectbox("Layer (for GeoJSON)", EDITABLE_LAYERS, key="bb_import_layer")
    if upload is not None and author:
        fmt = guess_format(upload.name, upload.getvalue()[:4096])
        _show_outcome(_outcome(upload, fmt, layer), upload.name, author)


def _show_outcome(outcome: dict, name: str, author: str) -> None:
    if "error" in outcome:
        st.error(f"{md_escape(name)}: {md_escape(outcome['error'])} Nothing was written.")
        return
    if "problems" in outcome:
        st.error(f"{outcome['count']} problem(s) in {md_escape(name)}; nothing was written. Fix these and upload again:")
        st.code("\n".join(outcome["problems"]), language=None)
        return
    preview = outcome["preview"]
    st.markdown(
        f"**{md_escape(name)}** → `{outcome['layer']}`: {preview.added} to add, {preview.changed} to change, "
        f"{preview.unchanged} unchanged."
    )
    rows = [c for c in preview.changes if c.kind != "unchanged"]
    if rows:
        st.dataframe(
            pd.DataFrame({"id": [c.feature_id for c in rows], "what": [c.kind for c in rows],
                          "fields": [", ".join(c.fields) for c in rows]}),
            hide_index=True, use_container_width=True, height=min(35 * (len(rows) + 1) + 3, 420),
        )
    if not rows:
        st.info("Everything in this file is already in the catalogue: nothing to import.")
        return
    comment = st.text_input("Comment for this batch (optional)", key="bb_import_comment", max_chars=500)
    st.button(
        f"Import {preview.added + preview.changed} feature(s) as one batch",
        type="primary",
        disabled=not author,
        help=None if author else "Enter your name first: every change is recorded with its author.",
        on_click=_commit,
        args=(outcome["layer"], outcome["features"], name, author, comment),
        key="bb_import_commit",
    )


def _commit(layer: str, features: list[dict], name: str, author: str, comment: str) -> None:
    st.session_state[_RERUN_APP] = True  # the outcome and the batches list are drawn outside the fragment
    try:
        result = data.store().import_features(layer, features, identity=auth.current(), comment=comment, source=name)
    except (StoreError, ValidationFailed) as exc:
        st.session_state[_DONE] = None
        st.session_state["bb_import_failed"] = str(exc)
        return
    st.session_state.pop(_CHECKED, None)
    st.session_state.pop(_READ, None)
    st.session_state[_DONE] = (
        f"Imported {name} as batch {result.batch}: {result.added} added, {result.changed} changed, "
        f"{result.unchanged} unchanged. Every viewer sees it now."
    )


def _batches_section(author: str) -> None:
    failed = st.session_state.pop("bb_import_failed", None)
    if failed:
        st.error(md_escape(failed))
    batches = data.store().batch_list(12)
    if not batches:
        return
    with st.expander("Recent changes (batches)", expanded=False):
        for batch in batches:
            cols = st.columns([5, 1])
            undone = f" · undoes batch {batch['undoes']}" if batch["undoes"] else ""
            what = f"{batch['kind']}" + (f" of {batch['source']}" if batch["source"] else "")
            cols[0].markdown(
                f"**Batch {batch['id']}** · {md_escape(batch['created_at'][:16].replace('T', ' '))} UTC · "
                f"{md_escape(batch['author'])} · {md_escape(what)}{undone}"
                + (f" — {md_escape(batch['comment'])}" if batch["comment"] else "")
            )
            identity = auth.current()
            mine = identity is not None and (identity.is_admin or batch["author"] == identity.name)
            if author and mine and batch["kind"] not in ("init", "catalogue", "undo"):
                cols[1].button("Undo", key=f"bb_undo_{batch['id']}", disabled=not author, on_click=_undo,
                               args=(batch["id"], author), help="Undo this batch as a new batch")


def _undo(batch: int, author: str) -> None:
    try:
        new = data.store().undo(batch, identity=auth.current())
    except (StoreError, ConflictError) as exc:
        st.session_state["bb_import_failed"] = str(exc)
        return
    st.session_state[_DONE] = f"Batch {batch} undone (batch {new})."
