"""A GeoJSON upload is parsed first in a limited child process (issue 18, finding 1).

The server's own interpreter must never parse a hostile file: a ten-million-item array held
its interpreter lock for about a second per upload, stalling every other session. These
tests make the server-side json.loads fail loudly, so a file that reaches it shows up.
"""

from __future__ import annotations

import json

import pytest

from store import importing
from store.importing import ImportFileError, check_outline, parse_import

ZEROS = b'{"type":"FeatureCollection","features":[' + b",".join([b"0"] * 300_000) + b"]}"


@pytest.fixture
def no_parse_here(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the server process parsed a file the child should have refused")

    monkeypatch.setattr(importing, "_load_document", refuse)


def test_a_hostile_array_is_refused_without_the_server_parsing_it(no_parse_here):
    with pytest.raises(ImportFileError, match=r"hostile\.geojson has 300,000 features; the limit is 200,000"):
        parse_import(ZEROS, "hostile.geojson")


def test_items_that_are_not_features_are_named_by_the_child(no_parse_here):
    data = b'{"type":"FeatureCollection","features":[' + b",".join([b"0"] * 25) + b"]}"
    with pytest.raises(ImportFileError, match=r"features #0, #1, .*#9 and 15 more are not GeoJSON features"):
        parse_import(data, "zeros.geojson")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"type":"FeatureCollection","features":[], "n": ' + b"9" * 5000 + b"}", "number too long"),
        (b'{"type": "FeatureCollection", "features": [', r"not valid JSON \(line 1, column 44: Expecting value"),
        ('{"a": "\u00e9"}'.encode("latin-1"), "not UTF-8 text"),
        (b'{"type": "Feature"}', "must be a GeoJSON FeatureCollection"),
    ],
)
def test_broken_files_get_the_same_clear_messages_from_the_child(no_parse_here, data, message):
    with pytest.raises(ImportFileError, match=message):
        check_outline(data, "broken.geojson")


def test_a_child_that_runs_out_of_memory_becomes_a_clear_message(monkeypatch):
    monkeypatch.setattr(importing, "CHECK_MEMORY_BYTES", 120_000_000)
    data = b'{"type":"FeatureCollection","features":[' + b",".join([b'"%d"' % i for i in range(2_000_000)]) + b"]}"
    with pytest.raises(ImportFileError, match="too large or too complex to read as GeoJSON; split the file|needs too much memory"):
        check_outline(data, "big.geojson")


def test_a_valid_file_passes_the_check_and_is_parsed_here():
    feature = {"type": "Feature", "properties": {"id": "x"}, "geometry": {"type": "Point", "coordinates": [20.8, 43.0]}}
    data = json.dumps({"type": "FeatureCollection", "features": [feature, feature]}).encode()
    check_outline(data, "ok.geojson")  # no exception
    layer, features = parse_import(data, "ok.geojson")
    assert layer == "events" and features == [feature, feature]
