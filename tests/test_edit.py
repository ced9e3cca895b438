"""The Edit page: pure form helpers, and the page through app.py with a throwaway store."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
import streamlit as st

from geo.events import parse_events
from geo.schema import is_id
from tests.conftest import BANJSKA_ATTACK, REPO
from tests.test_pages_apptest import run_app
from ui import edit
from store.access import Identity
from tests.test_auth import signed_in_app

# --- pure helpers -----------------------------------------------------------------------


def _catalogue_event(event_id: str = BANJSKA_ATTACK) -> dict:
    features = json.loads((REPO / "data" / "events.geojson").read_text(encoding="utf-8"))["features"]
    return next(f for f in features if f["properties"]["id"] == event_id)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Zvečan protest turns violent", "2023-05-29-zvecan-protest-turns-violent"),
        ("  KFOR: +300 troops (UK)!  ", "2023-05-29-kfor-300-troops-uk"),
        ("", "2023-05-29-event"),
        ("Приштина", "2023-05-29-event"),
    ],
)
def test_new_event_id_is_the_date_and_the_slugified_title(title, expected):
    assert edit.new_event_id(dt.date(2023, 5, 29), title) == expected
    assert is_id(expected) is None


def test_new_event_id_is_unique_and_at_most_80_characters():
    long_title = "word " * 40
    first = edit.new_event_id(dt.date(2023, 9, 24), long_title)
    assert len(first) <= 80 and is_id(first) is None and not first.endswith("-")
    second = edit.new_event_id(dt.date(2023, 9, 24), long_title, taken={first})
    assert second != first and second.endswith("-2") and len(second) <= 80


def test_new_place_id_slugifies_the_english_name():
    assert edit.new_place_id("North Mitrovica") == "north-mitrovica"
    assert edit.new_place_id("North Mitrovica", taken={"north-mitrovica"}) == "north-mitrovica-2"


@pytest.mark.parametrize(
    ("day", "background"),
    [(dt.date(2008, 2, 17), True), (dt.date(2023, 4, 30), True), (dt.date(2023, 5, 1), False), (dt.date(2023, 11, 30), False)],
)
def test_background_follows_the_crisis_window(day, background):
    assert edit.is_background(day) is background


def test_table_rows_become_claims_and_sources_without_empty_cells_or_rows():
    rows = [
        {"publisher": " NATO ", "title": "Statement", "date": "2023-09-29", "url": "https://www.nato.int/x"},
        {"publisher": None, "title": float("nan"), "date": "", "url": None},  # an empty row added by mistake
        {"publisher": "RFE/RL", "title": "Report", "date": "2023-09-25", "url": ""},
    ]
    assert edit.rows_to_records(rows, edit.SOURCE_COLUMNS) == [
        {"publisher": "NATO", "title": "Statement", "date": "2023-09-29", "url": "https://www.nato.int/x"},
        {"publisher": "RFE/RL", "title": "Report", "date": "2023-09-25"},
    ]
    claims = [{"party": "Kosovo police", "claim": "30 attackers"}]
    assert edit.rows_to_records(edit.records_to_rows(claims, edit.CLAIM_COLUMNS), edit.CLAIM_COLUMNS) == claims
    assert edit.records_to_rows(None, edit.CLAIM_COLUMNS) == []


def test_form_values_of_a_catalogue_event_give_back_the_same_feature():
    feature = _catalogue_event()
    values = edit.form_values("events", feature)
    values["id"] = feature["properties"]["id"]
    rebuilt = edit.event_feature(values)
    assert rebuilt["properties"] == feature["properties"]
    assert rebuilt["geometry"]["coordinates"] == pytest.approx(feature["geometry"]["coordinates"])


def test_a_new_event_from_form_values_passes_the_catalogue_validators():
    values = edit.form_values("events", None)
    values.update(
        id=edit.new_event_id(dt.date(2023, 10, 2), "Test meeting"),
        title="Test meeting",
        date=dt.date(2023, 10, 2),
        actors="Government of Kosovo\n\nKFOR\n",
        summary="A test meeting took place.",
        fatalities_na=True,
        loc_en="Pristina", loc_sq="Prishtinë", loc_sr="Priština",
        related_ids="pristina",
        lat=42.66333, lon=21.16222,
        sources=[{"publisher": "Test", "title": "A report", "date": "2023-10-02", "url": "https://example.org/r"}],
    )
    feature = edit.event_feature(values)
    props = feature["properties"]
    assert props["actors"] == ["Government of Kosovo", "KFOR"]
    assert props["fatalities"] is None and props["background"] is False and props["name"] == props["title"]
    assert props["time_of_day"] is None and props["remote_location"] is None
    parse_events(json.dumps({"type": "FeatureCollection", "features": [feature]}))


def test_fatalities_of_a_violent_event_are_never_not_applicable():
    values = edit.form_values("events", _catalogue_event())
    values.update(id="x", event_type="Battles", sub_event_type="Armed clash", fatalities_na=True, fatalities=3)
    assert edit.event_feature(values)["properties"]["fatalities"] == 3


def test_a_time_of_day_is_dropped_unless_the_day_is_known_and_remote_location_unless_remote():
    values = edit.form_values("events", _catalogue_event())
    values.update(id="x", time_precision=2, time_of_day="14:30", remote=False, remote_location="Brussels")
    props = edit.event_feature(values)["properties"]
    assert props["time_of_day"] is None and props["remote_location"] is None


def test_an_imported_events_provenance_is_kept():
    feature = copy.deepcopy(_catalogue_event())
    base = dict(feature["properties"], acled_id="XKX123", provenance={"file": "a.csv", "row": 2, "acled_id": "XKX123"})
    values = edit.form_values("events", {"properties": base, "geometry": feature["geometry"]})
    values["id"] = base["id"]
    props = edit.event_feature(values, base)["properties"]
    assert props["acled_id"] == "XKX123" and props["provenance"]["row"] == 2


def test_a_gazetteer_place_gives_its_point_names_and_id(layer_data):
    places = layer_data.full["places"]
    row = places[places["id"] == "jarinje-crossing"].iloc[0]
    chosen = edit.place_choice(row.to_dict(), row.geometry)
    assert (chosen["lat"], chosen["lon"]) == (round(row.geometry.y, 6), round(row.geometry.x, 6))
    assert (chosen["loc_en"], chosen["loc_sq"], chosen["loc_sr"]) == (row["name"], row["name_sq"], row["name_sr"])
    assert edit.with_related("raska, jarinje-crossing", "jarinje-crossing") == "jarinje-crossing, raska"


def test_compare_lists_only_the_fields_that_differ():
    rows = edit.compare({"title": "A", "summary": "same", "fatalities": 1}, {"title": "B", "summary": "same", "fatalities": 1})
    assert rows == [{"field": "title", "theirs (saved)": "A", "yours (not saved)": "B"}]


def test_problems_are_grouped_by_field():
    from geo.io import Problem

    grouped = edit.problems_by_field([Problem("<edit>", "'x'", "summary", "must be non-empty text, got ''"),
                                      Problem("<edit>", "'x'", "", "file problem")])
    assert grouped == {"summary": ["must be non-empty text, got ''"], "": ["file problem"]}


def test_a_place_and_an_area_round_trip_through_the_form(layer_data):
    import geo.io  # noqa: F401  (registers nothing; the schemas live in geo.schema)
    from shapely.geometry import mapping

    from store.api import validate_features

    places = layer_data.full["places"]
    place = places.iloc[0].to_dict()
    feature = {"properties": {k: v for k, v in place.items() if k != "geometry"}, "geometry": mapping(place["geometry"])}
    values = edit.form_values("places", feature)
    values["id"] = place["id"]
    validate_features("places", [edit.place_feature(values, feature["properties"])], "<test>")

    area = layer_data.full["kfor_areas"].iloc[0].to_dict()
    props = {k: (None if isinstance(v, float) and v != v else v) for k, v in area.items() if k != "geometry"}
    values = edit.form_values("kfor_areas", {"properties": props, "geometry": mapping(area["geometry"])})
    rebuilt = edit.area_feature(values, props, mapping(area["geometry"]))
    assert rebuilt["properties"]["units"] == list(props["units"]) and rebuilt["properties"]["period_end"] == props["period_end"]
    validate_features("kfor_areas", [rebuilt], "<test>")


# --- the page (AppTest through app.py, a throwaway store per test) ---------------------------


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    """A fresh SQLite store seeded from data/, and clean caches before and after."""
    monkeypatch.setenv("BORDER_BRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'edit.sqlite'}")
    st.cache_resource.clear()
    from layers.config import load_settings
    from store import open_store

    store = open_store(load_settings())
    yield store
    store.close()
    st.cache_resource.clear()


def _open_event(event_id: str = BANJSKA_ATTACK, author: str = "Test Analyst"):
    at = signed_in_app(author, page="pages/edit.py")
    at.selectbox(key="bb_edit_choice").set_value(event_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="bb_edit_title").value == _catalogue_event(event_id)["properties"]["title"]
    return at


def test_without_sign_in_the_edit_page_shows_no_form(own_store):
    at = run_app(page="pages/edit.py")
    assert not [b for b in at.button if b.key in ("bb_edit_save", "bb_edit_retire")]
    assert any("Sign in as an analyst" in i.value for i in at.info)


def test_editing_the_title_and_saving_writes_revision_2(own_store):
    at = _open_event(author="Test Analyst")
    at.text_input(key="bb_edit_title").input("Banjska attack (edited)").run()
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    feature, revision = own_store.head("events", BANJSKA_ATTACK)
    assert revision == 2
    assert feature["properties"]["title"] == feature["properties"]["name"] == "Banjska attack (edited)"
    assert own_store.history(BANJSKA_ATTACK, "events")[-1].author == "Test Analyst"
    assert any("Saved revision 2" in s.value for s in at.success)
    assert "Editing revision 2" in "\n".join(c.value for c in at.caption)


def test_a_stale_save_shows_the_conflict_side_by_side_and_keeps_the_analysts_values(own_store):
    at = _open_event(author="Slow Analyst")
    # a colleague saves first
    feature, revision = own_store.head("events", BANJSKA_ATTACK)
    theirs = copy.deepcopy(feature)
    theirs["properties"]["summary"] += " Corrected by a colleague."
    own_store.save("events", theirs, base_revision=revision, identity=Identity("Quick Colleague", "analyst"))

    at.text_input(key="bb_edit_title").input("My new title").run()
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Someone else saved first" in e.value for e in at.error)
    assert own_store.head("events", BANJSKA_ATTACK)[1] == 2  # nothing of mine was written
    table = at.dataframe[0].value
    assert set(table["field"]) >= {"title", "name", "summary"}
    assert "My new title" in set(table["yours (not saved)"])
    assert at.text_input(key="bb_edit_title").value == "My new title"  # nothing lost

    at.button(key="bb_edit_take_theirs").click().run()
    assert at.text_input(key="bb_edit_title").value == theirs["properties"]["title"]
    assert at.text_area(key="bb_edit_summary").value.endswith("Corrected by a colleague.")
    assert not any("Someone else saved first" in e.value for e in at.error)


def test_keeping_my_values_after_a_conflict_saves_on_top_of_theirs(own_store):
    at = _open_event(author="Slow Analyst")
    feature, revision = own_store.head("events", BANJSKA_ATTACK)
    theirs = copy.deepcopy(feature)
    theirs["properties"]["summary"] += " Corrected."
    own_store.save("events", theirs, base_revision=revision, identity=Identity("Quick Colleague", "analyst"))
    at.text_input(key="bb_edit_title").input("My new title").run()
    at.button(key="bb_edit_save").click().run()
    at.button(key="bb_edit_keep_mine").click().run()
    at.button(key="bb_edit_save").click().run()
    feature, revision = own_store.head("events", BANJSKA_ATTACK)
    assert revision == 3 and feature["properties"]["title"] == "My new title"


def test_an_empty_summary_is_shown_at_its_field_and_nothing_is_written(own_store):
    version = own_store.version()
    at = _open_event(author="Test Analyst")
    at.text_area(key="bb_edit_summary").input("").run()
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("nothing was written" in e for e in errors), errors
    assert any(e.startswith("summary: must be non\\-empty text") for e in errors), errors
    assert own_store.version() == version and own_store.head("events", BANJSKA_ATTACK)[1] == 1


def test_retire_needs_a_reason_and_retires_the_event(own_store):
    at = _open_event(author="Test Analyst")
    assert at.button(key="bb_edit_retire").disabled
    at.text_input(key="bb_edit_retire_reason").input("duplicate of another event").run()
    at.button(key="bb_edit_retire").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert own_store.head("events", BANJSKA_ATTACK) is None
    assert own_store.history(BANJSKA_ATTACK, "events")[-1].comment == "duplicate of another event"


def test_the_panels_edit_button_opens_the_feature_on_the_edit_page(own_store):
    at = signed_in_app("Test Analyst", query={"event": BANJSKA_ATTACK})
    at.button(key="bb_panel_edit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="bb_edit_title").value == _catalogue_event()["properties"]["title"]
    assert at.selectbox(key="bb_edit_layer").value == "events"


def test_a_new_event_from_a_gazetteer_place_takes_its_point_and_names(own_store, layer_data):
    at = signed_in_app("Test Analyst", page="pages/edit.py")
    at.radio(key="bb_edit_position_mode").set_value("A gazetteer place").run()
    at.selectbox(key="bb_edit_place").set_value("jarinje-crossing").run()
    assert not at.exception, [e.value for e in at.exception]
    places = layer_data.full["places"]
    row = places[places["id"] == "jarinje-crossing"].iloc[0]
    assert at.text_input(key="bb_edit_loc_en").value == row["name"]
    assert at.text_input(key="bb_edit_loc_sr").value == row["name_sr"]
    assert at.number_input(key="bb_edit_lat").value == pytest.approx(row.geometry.y, abs=1e-6)
    assert at.text_input(key="bb_edit_related_ids").value.startswith("jarinje-crossing")
    at.text_input(key="bb_edit_title").input("Boundary crossing closed").run()
    assert "2023\\-10\\-01\\-boundary\\-crossing\\-closed" in "\n".join(m.value for m in at.markdown) or any(
        "2023-10-01-boundary-crossing-closed" in m.value for m in at.markdown
    )


def test_a_place_can_be_edited(own_store):
    at = signed_in_app("Gazetteer Keeper", page="pages/edit.py")
    at.selectbox(key="bb_edit_layer").set_value("places").run()
    at.selectbox(key="bb_edit_choice").set_value("jarinje-crossing").run()
    at.text_input(key="bb_edit_kind").input("border crossing").run()
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    feature, revision = own_store.head("places", "jarinje-crossing")
    assert revision == 2 and feature["properties"]["kind"] == "border crossing"


def test_a_deployment_areas_properties_can_be_edited(own_store, layer_data):
    area_id = layer_data.full["kfor_areas"]["id"].iloc[0]
    at = signed_in_app("Force Analyst", page="pages/edit.py")
    at.selectbox(key="bb_edit_layer").set_value("kfor_areas").run()
    at.selectbox(key="bb_edit_choice").set_value(area_id).run()
    at.text_input(key="bb_edit_strength").input("about 200").run()
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    feature, revision = own_store.head("kfor_areas", area_id)
    assert revision == 2 and feature["properties"]["strength"] == "about 200"


def test_typed_coordinates_outside_the_region_are_flagged_and_the_map_mode_draws_an_offline_map(own_store):
    at = signed_in_app("Test Analyst", page="pages/edit.py")
    at.radio(key="bb_edit_position_mode").set_value("Coordinates").run()
    at.number_input(key="bb_edit_lat").set_value(21.1).run()  # latitude and longitude swapped
    at.number_input(key="bb_edit_lon").set_value(42.9).run()
    assert any("lies outside the region" in e.value for e in at.error)
    at.radio(key="bb_edit_position_mode").set_value("Click on the map").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Click the map to place the point" in c.value for c in at.caption)


def test_the_source_audit_of_the_event_being_edited_is_shown_before_the_save(own_store):
    at = _open_event(author="Test Analyst")
    assert [e.label for e in at.expander if e.label.startswith("Source audit")] == ["Source audit: nothing found"]
    summary = at.text_area(key="bb_edit_summary").value
    at.text_area(key="bb_edit_summary").input(summary + " Banjska lies about 40 km from Zvečan.").run()
    assert not at.exception, [e.value for e in at.exception]
    (label,) = [e.label for e in at.expander if e.label.startswith("Source audit")]
    assert label.startswith("Source audit: 1 error(s)"), label
    assert any("40" in e.value and "km" in e.value for e in at.error), [e.value for e in at.error]
    assert own_store.head("events", BANJSKA_ATTACK)[1] == 1, "the audit only advises; nothing was saved"
