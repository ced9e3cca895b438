"""The one CSV writer: formulas neutralised, BOM for Excel, whole numbers as integers; the events CSV."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.crs import STORAGE_CRS
from layers import tabular
from tests.conftest import BANJSKA_ATTACK


def read_back(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False, dtype=str)


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_like_a_formula_is_written_as_text(prefix):
    cell = f"{prefix}HYPERLINK(\"http://evil.example\",\"x\")"
    data = tabular.to_csv_bytes(pd.DataFrame({"title": [cell, "plain"]}))
    assert read_back(data)["title"].tolist() == ["'" + cell, "plain"]


def test_numbers_are_never_prefixed_even_negative_ones():
    frame = pd.DataFrame({"longitude": [-0.127758, 20.5], "offset": [-3, 4], "mixed": [-7, "-7"]})
    back = read_back(tabular.to_csv_bytes(frame))
    assert back["longitude"].tolist() == ["-0.127758", "20.5"]
    assert back["offset"].tolist() == ["-3", "4"]
    # in a text column a number stays a number; the same characters as text are neutralised
    assert back["mixed"].tolist() == ["-7", "'-7"]


def test_file_starts_with_the_utf8_byte_order_mark_and_keeps_diacritics():
    frame = pd.DataFrame({"place": ["Zvečan", "Mitrovicë e Veriut", "Banjska"]})
    data = tabular.to_csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")["place"].tolist() == frame["place"].tolist()


def test_whole_numbers_are_written_as_integers_and_missing_stays_empty():
    frame = pd.DataFrame({"fatalities": [1.0, None, 3.0], "share": [0.5, 1.0, None]})
    lines = tabular.to_csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert lines == ["fatalities,share", "1,0.5", ",1.0", "3,"]


def test_the_input_frame_is_left_alone():
    frame = pd.DataFrame({"title": ["=1+1"], "n": [2.0]})
    tabular.to_csv_bytes(frame)
    assert frame["title"][0] == "=1+1" and frame["n"].dtype == float


def test_only_dataframes_are_accepted():
    with pytest.raises(TypeError, match="DataFrame"):
        tabular.to_csv_bytes([["a"]])


def _event(**overrides):
    event = {
        "id": "2023-09-24-test",
        "date": "2023-09-24",
        "time_precision": 1,
        "time_of_day": "03:00",
        "title": "=cmd|' /C calc'!A0",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actors": ["Kosovo Police", "Armed group"],
        "fatalities": 4.0,
        "fatalities_note": "one police officer and three attackers",
        "location": {"en": "Banjska", "sq": "Banjskë", "sr": "Banjska / Бањска"},
        "geo_precision": 2,
        "remote_location": None,
        "status": "confirmed",
        "claims": [
            {"party": "Kosovo government", "claim": "a terrorist attack"},
            {"party": "Serbian government", "claim": "a rebellion of local Serbs"},
        ],
        "summary": "Summary.",
        "sources": [{"publisher": "Reuters", "title": "Attack", "date": "2023-09-24", "url": "https://example.org/a"}],
        "geometry": Point(20.798, 42.968),
    }
    event.update(overrides)
    return event


def _events(*events):
    return gpd.GeoDataFrame(list(events), geometry="geometry", crs=STORAGE_CRS)


def test_events_csv_explains_codes_and_exports_claims_and_sources():
    remote = _event(
        id="2023-09-29-remote", fatalities=None, claims=[], time_of_day=None, geo_precision=3,
        remote_location="Washington, D.C.", status="claimed", title="Statement",
    )
    back = read_back(tabular.events_csv(_events(_event(), remote)))
    assert list(back.columns) == tabular.EVENT_CSV_COLUMNS
    first, second = back.to_dict("records")
    assert first["claims"] == "Kosovo government: a terrorist attack; Serbian government: a rebellion of local Serbs"
    assert first["time_precision"] == "1" and first["time_precision_meaning"] == "exact day"
    assert first["geo_precision"] == "2" and first["geo_precision_meaning"] == "near the named place (small area)"
    assert second["geo_precision_meaning"] == "region only" and second["remote_location"] == "Washington, D.C."
    assert second["status_meaning"].startswith("Claimed by a party")
    assert first["fatalities"] == "4" and second["fatalities"] == ""
    assert first["fatalities_note"] == "one police officer and three attackers" and first["time_of_day"] == "03:00"
    assert first["sources"] == "Reuters, 2023-09-24: Attack <https://example.org/a>"
    assert first["title"] == "'=cmd|' /C calc'!A0"
    assert first["location_sq"] == "Banjskë" and first["location_sr"] == "Banjska / Бањска"
    assert (first["latitude"], first["longitude"]) == ("42.968", "20.798")


def test_events_csv_of_no_events_still_has_the_header():
    data = tabular.events_csv(_events(_event()).iloc[0:0])
    assert data.decode("utf-8-sig").strip() == ",".join(tabular.EVENT_CSV_COLUMNS)


def test_events_csv_of_the_catalogue(layer_data):
    events = layer_data.full["events"]
    back = read_back(tabular.events_csv(events)).set_index("id")
    assert len(back) == len(events)
    known = events.dropna(subset=["fatalities"])
    assert len(known) > 0
    # 1, not 1.0; missing stays empty
    assert {back.loc[i, "fatalities"] for i in known["id"]} == {str(int(f)) for f in known["fatalities"]}
    assert set(back.loc[events.loc[events["fatalities"].isna(), "id"], "fatalities"]) == {""}
    assert back.loc[BANJSKA_ATTACK, "claims"] != ""
    assert (back["claims"] != "").sum() == (events["claims"].map(len) > 0).sum()
    assert (back["time_precision_meaning"] != "").all() and (back["geo_precision_meaning"] != "").all()


def test_ui_tables_keeps_the_csv_download_importable():
    from ui import tables

    assert tables.events_csv is tabular.events_csv
