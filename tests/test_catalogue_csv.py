"""Events from a CSV with the catalogue's columns: a round trip of the real catalogue, and bad rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from geo.events import parse_events
from geo.io import LayerValidationError
from store.catalogue_csv import read_catalogue_csv
from store.importing import guess_format, parse_import

REPO = Path(__file__).resolve().parent.parent
COLUMNS = [
    "id", "name", "title", "date", "time_precision", "time_of_day", "background", "summary", "event_type",
    "sub_event_type", "actors", "fatalities", "fatalities_note", "location_en", "location_sq", "location_sr",
    "latitude", "longitude", "geo_precision", "related_ids", "remote", "remote_location", "status", "claims", "sources",
]


def catalogue_rows() -> list[dict]:
    features = json.loads((REPO / "data" / "events.geojson").read_text(encoding="utf-8"))["features"]
    rows = []
    for f in features:
        p = f["properties"]
        rows.append({
            **{k: p.get(k) for k in ("id", "name", "title", "date", "time_precision", "time_of_day", "summary", "event_type",
                                      "sub_event_type", "fatalities", "fatalities_note", "geo_precision", "remote_location", "status")},
            "background": str(p["background"]).lower(), "remote": str(p["remote"]).lower(),
            "actors": "; ".join(p["actors"]), "related_ids": "; ".join(p["related_ids"]),
            "location_en": p["location"]["en"], "location_sq": p["location"]["sq"], "location_sr": p["location"]["sr"],
            "latitude": f["geometry"]["coordinates"][1], "longitude": f["geometry"]["coordinates"][0],
            "claims": json.dumps(p["claims"], ensure_ascii=False), "sources": json.dumps(p["sources"], ensure_ascii=False),
        })
    return rows


def to_csv(rows: list[dict], columns=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def test_the_catalogue_round_trips_through_its_csv_form():
    data = to_csv(catalogue_rows())
    features = read_catalogue_csv(data, "catalogue.csv")
    original = json.loads((REPO / "data" / "events.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["properties"] for f in features] == [f["properties"] for f in original]
    assert [f["geometry"]["coordinates"] for f in features] == [f["geometry"]["coordinates"] for f in original]
    parse_events(json.dumps({"type": "FeatureCollection", "features": features}))  # the catalogue's checks pass


def test_the_format_is_told_from_the_header():
    assert guess_format("x.csv", to_csv(catalogue_rows()[:1])) == "csv"
    assert guess_format("x.csv", b"event_id_cnty,event_date\n") == "acled"
    assert guess_format("x.geojson", b"{}") == "geojson"
    layer, features = parse_import(to_csv(catalogue_rows()[:2]), "two.csv")
    assert layer == "events" and len(features) == 2


def test_bad_rows_are_each_reported_with_row_and_column():
    rows = catalogue_rows()[:3]
    rows[0]["latitude"] = "north"
    rows[1]["claims"] = "[not json"
    rows[2]["remote"] = "maybe"
    with pytest.raises(LayerValidationError) as caught:
        read_catalogue_csv(to_csv(rows), "bad.csv")
    found = {(p.feature, p.field) for p in caught.value.problems}
    assert ("row 2", "latitude") in found and ("row 3", "claims") in found and ("row 4", "remote") in found


def test_missing_columns_a_truncated_file_and_a_wrong_encoding_are_refused():
    with pytest.raises(LayerValidationError) as caught:
        read_catalogue_csv(to_csv(catalogue_rows()[:1], [c for c in COLUMNS if c != "sources"]), "no-sources.csv")
    assert [(p.field, p.message) for p in caught.value.problems] == [("sources", "column is missing")]
    data = to_csv(catalogue_rows()[:2])
    with pytest.raises(LayerValidationError, match="cut short|JSON|more cells"):
        read_catalogue_csv(data[: len(data) // 2 + 7], "truncated.csv")
    with pytest.raises(LayerValidationError, match="not UTF-8"):
        read_catalogue_csv(data.decode("utf-8-sig").encode("cp1250", errors="replace").replace(b"Banjska", b"Banjsk\xe8"), "latin.csv")
