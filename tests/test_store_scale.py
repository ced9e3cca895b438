"""Imports at the store's scale (issue 11): a 100,000-row ACLED file and files above the limits.

The ACLED files are the store benchmark's synthetic exports (bench/store.py: valid rows in the
region box, dated in the crisis window). SQLite only: the path from the file to the store's
validation is the same on PostGIS (tests/test_store.py runs every store test on both).
No timing is asserted here; python -m bench --store measures them.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from bench.store import ACLED_COLUMNS, acled_csv, acled_rows
from geo.io import LayerValidationError
from layers.config import load_settings
from layers.data import layer_files
from store.access import Identity
from store import Store, ValidationFailed, db
from store import acled
from store.importing import MAX_IMPORT_BYTES, MAX_IMPORT_FEATURES, ImportFileError, parse_import
from store.schema import heads, revisions

ROWS = 100_000


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    db.migrate(store._writer)
    store.sync_catalogue(layer_files(load_settings({})))
    yield store
    store.close()


def _counts(store: Store) -> tuple[int, int, int]:
    with store._reader.connect() as connection:
        return (
            store.version(),
            connection.execute(sa.select(sa.func.count()).select_from(revisions)).scalar_one(),
            connection.execute(sa.select(sa.func.count()).select_from(heads)).scalar_one(),
        )


def test_a_100000_row_acled_file_with_one_bad_date_in_its_last_row_writes_nothing_and_names_the_row(store):
    rows = acled_rows(ROWS)
    rows[-1]["event_date"] = "2023-09-31"  # no such day
    data = acled_csv(ROWS, rows=rows)
    assert len(data) <= MAX_IMPORT_BYTES
    before = _counts(store)

    with pytest.raises(LayerValidationError) as caught:
        parse_import(data, "acled-100k.csv", fmt="acled")
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems[:5]]
    (problem,) = problems
    # The header is row 1, so the last of 100,000 event rows is row 100,001.
    assert (problem.row, problem.field) == (ROWS + 1, "event_date")
    assert "row 100001" in str(problem) and "'2023-09-31' is not a date" in str(problem)
    assert _counts(store) == before


def test_features_changed_after_the_file_was_read_are_validated_again(store):
    # read_acled_csv validated these features whole; the store does not validate exactly the
    # same features twice, but one changed in place since is caught by its own validation.
    features, problems = acled.read_acled_csv(acled_csv(2_000), "acled-2k.csv")
    assert problems == [] and acled.passed_validation(features)
    before = _counts(store)
    last = features[-1]
    valid_date = last["properties"]["date"]
    last["properties"]["date"] = "2023-09-31"  # in place: the very list that passed validation
    assert not acled.passed_validation(features)
    with pytest.raises(ValidationFailed) as refused:
        store.import_features("events", features, identity=Identity("scale test", "analyst"), source="acled-2k.csv")
    assert [(p.feature, p.field) for p in refused.value.problems] == [(repr(last["properties"]["id"]), "date")]
    assert _counts(store) == before
    last["properties"]["date"] = valid_date
    assert store.import_features("events", features, identity=Identity("scale test", "analyst")).added == 2_000


def _minimal_rows(n: int) -> bytes:
    """``n`` short ACLED rows (required columns only) so that the file stays under the byte limit."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(acled.REQUIRED_COLUMNS)
    for i in range(n):
        writer.writerow([f"X{i}", "2023-09-24", "1", "Protests", "Peaceful protest", "A", "L",
                         "42.9", "20.7", "1", "S", "", "0"])
    return out.getvalue().encode("utf-8")


def test_an_acled_file_above_the_row_limit_is_refused_before_any_feature_is_built(monkeypatch):
    data = _minimal_rows(MAX_IMPORT_FEATURES + 1)
    assert len(data) <= MAX_IMPORT_BYTES  # so the row limit, not the size limit, refuses it
    built = []
    original = acled._build_feature
    monkeypatch.setattr(acled, "_build_feature", lambda *a: built.append(1) or original(*a))
    with pytest.raises(LayerValidationError) as caught:
        parse_import(data, "too-many-rows.csv", fmt="acled")
    assert built == []
    (problem,) = caught.value.problems
    assert problem.row is None
    assert str(problem) == (
        f"too-many-rows.csv: has more than {MAX_IMPORT_FEATURES:,} event rows (the import limit); "
        "split the export (e.g. by date range) and import the parts one by one"
    )


def test_a_geojson_file_above_the_feature_limit_is_refused_with_a_clear_message():
    # Features that look right at a glance (the upload check refuses a file of feature-less
    # members from its first bytes, store.jsoncheck), so that the count is what is refused.
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [21, 43]}}
    data = json.dumps({"type": "FeatureCollection", "features": [feature] * (MAX_IMPORT_FEATURES + 1)},
                      separators=(",", ":")).encode()
    assert len(data) <= MAX_IMPORT_BYTES
    with pytest.raises(ImportFileError, match=r"^too-many\.geojson has more than 200,000 features, the limit\. Split the file\.$"):
        parse_import(data, "too-many.geojson")


def test_a_file_above_the_size_limit_is_refused_before_it_is_read():
    data = b"event_id_cnty\n" + b"x" * MAX_IMPORT_BYTES
    with pytest.raises(ImportFileError, match=r"too-big\.csv is 20\.0 MB; the limit is 20 MB\. Split the file\."):
        parse_import(data, "too-big.csv", fmt="acled")


def test_the_synthetic_acled_export_is_valid_and_within_the_limits():
    features, problems = acled.read_acled_csv(acled_csv(2_000), "sample.csv")
    assert problems == [] and len(features) == 2_000
    assert {f["properties"]["event_type"] for f in features} == {
        "Battles", "Explosions/Remote violence", "Violence against civilians", "Protests", "Riots",
        "Strategic developments",
    }
    assert all("2023-05-01" <= f["properties"]["date"] <= "2023-11-30" for f in features)
    assert list(csv.reader(io.StringIO(acled_csv(1).decode())))[0] == list(ACLED_COLUMNS)
