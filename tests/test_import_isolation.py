"""A GeoJSON upload is checked first in a limited, low-priority child process (issue 18, finding 1).

The server's own interpreter must never parse a hostile file: a ten-million-item array held
its interpreter lock for about a second per upload, stalling every other session. These
tests make the server-side json.loads fail loudly, so a file that reaches it shows up. The
child itself must not parse a hostile file whole either: it walks the document item by item
and stops at the first certain refusal, which these tests check by giving it files that a
whole parse would refuse for another reason (broken JSON, broken UTF-8 after the first items).
"""

from __future__ import annotations

import json

import pytest

from store import importing, jsoncheck
from store.importing import ImportFileError, check_outline, parse_import, run_check

ZEROS = b'{"type":"FeatureCollection","features":[' + b",".join([b"0"] * 300_000) + b"]}"
MINIMAL = b'{"type":"Feature","properties":{},"geometry":{}}'


@pytest.fixture
def no_parse_here(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the server process parsed a file the child should have refused")

    monkeypatch.setattr(importing, "_load_document", refuse)


@pytest.fixture
def no_whole_parse(monkeypatch):
    """jsoncheck run in this process, with the whole-document json.loads made to fail."""
    def refuse(*args, **kwargs):
        raise AssertionError("the check parsed the whole document")

    monkeypatch.setattr(json, "loads", refuse)


def test_a_hostile_array_is_refused_at_its_first_items_without_the_server_parsing_it(no_parse_here):
    with pytest.raises(ImportFileError, match=r"hostile\.geojson: features #0, #1, .*#9 are not GeoJSON features "
                                              r"with properties and a geometry \(the check stopped at the 10th; there may be more\)"):
        parse_import(ZEROS, "hostile.geojson")


def test_a_refusal_certain_from_the_first_64_kb_needs_no_child_process(no_parse_here, monkeypatch):
    def no_child(*args, **kwargs):
        raise AssertionError("a child process was started for a file its first items refuse")

    monkeypatch.setattr(importing, "run_check", no_child)
    with pytest.raises(ImportFileError, match=r"features #0, #1, .*#9 are not GeoJSON features"):
        parse_import(ZEROS, "hostile.geojson")
    with pytest.raises(ImportFileError, match=r"array\.geojson must be a GeoJSON FeatureCollection"):
        parse_import(b"[" + b",".join([b"0"] * 300_000) + b"]", "array.geojson")
    with pytest.raises(AssertionError, match="a child process was started"):  # a file that looks right goes on to the child
        parse_import(b'{"type":"FeatureCollection","features":[' + MINIMAL + b"]}", "ok.geojson")


def test_the_check_stops_reading_at_the_tenth_item_that_is_not_a_feature():
    # After the zeros the file is broken twice over (invalid UTF-8, then no closing bracket):
    # a whole decode or parse would refuse it for that, the walk refuses it for its items.
    data = ZEROS[:-2] + b',"\xff\xfe' + b"0," * 1000
    verdict = run_check(data)
    assert verdict is not None
    assert (verdict["ok"], verdict["kind"], verdict["first"], verdict["stopped"]) == (False, "not_features", list(range(10)), True)


def test_the_first_64_kb_are_enough_to_refuse_the_hostile_file(no_whole_parse):
    data = ZEROS + b"0" * 100_000
    assert jsoncheck.head_verdict(data[:jsoncheck.HEAD_BYTES], 200_000) == {
        "ok": False, "kind": "not_features", "first": list(range(10)), "count": 10, "stopped": True}
    # A head that holds no certain refusal (here: features cut off) means "read the whole file".
    good = b'{"type":"FeatureCollection","features":[' + b",".join([MINIMAL] * 5000) + b"]}"
    assert jsoncheck.head_verdict(good[:jsoncheck.HEAD_BYTES], 200_000) is None
    assert jsoncheck.verdict(good, 200_000) == {"ok": True, "features": 5000}


def test_one_feature_past_the_limit_is_refused_without_counting_the_rest(no_parse_here, monkeypatch):
    monkeypatch.setattr(importing, "MAX_IMPORT_FEATURES", 1_000)
    data = b'{"type":"FeatureCollection","features":[' + b",".join([MINIMAL] * 1_001) + b",]}"  # broken after
    with pytest.raises(ImportFileError, match=r"many\.geojson has more than 1,000 features, the limit\. Split the file\."):
        parse_import(data, "many.geojson")


def test_the_real_feature_limit_is_checked_by_the_child(no_parse_here):
    data = b'{"type":"FeatureCollection","features":[' + b",".join([MINIMAL] * 200_001) + b"]}"
    with pytest.raises(ImportFileError, match=r"has more than 200,000 features, the limit"):
        check_outline(data, "many.geojson")


def test_a_few_items_that_are_not_features_are_all_named(no_parse_here):
    items = [MINIMAL] * 15
    for i in (2, 5, 9):
        items[i] = b'{"type":"Feature","properties":null,"geometry":{}}' if i == 5 else b'"text"'
    data = b'{"type":"FeatureCollection","features":[' + b",".join(items) + b"]}"
    with pytest.raises(ImportFileError) as refused:
        parse_import(data, "few.geojson")
    assert str(refused.value) == "few.geojson: features #2, #5, #9 are not GeoJSON features with properties and a geometry"


def test_a_top_level_object_with_thousands_of_members_is_refused_without_walking_them_all(no_parse_here):
    members = b",".join(b'"m%d":0' % i for i in range(500_000))
    data = b'{"type":"FeatureCollection","features":[],' + members + b',"broken"}'  # a whole parse: a JSON error
    verdict = run_check(data)
    assert verdict is not None and (verdict["kind"], verdict["count"]) == ("members", jsoncheck.MAX_MEMBERS)
    with pytest.raises(ImportFileError, match=r"has more than 1,000 members at its top level"):
        parse_import(data, "members.geojson")


def test_members_after_a_long_features_list_are_fine():
    data = (b'{"features":[' + b",".join([MINIMAL] * 2_000) + b'],"type":"FeatureCollection","name":"x","bbox":[0,0,1,1]}')
    assert run_check(data) == {"ok": True, "features": 2_000, "nice": jsoncheck.LOWEST_PRIORITY}


def test_every_features_member_is_checked_not_only_the_last(no_parse_here):
    data = b'{"features":[0],"type":"FeatureCollection","features":[' + MINIMAL + b"]}"
    with pytest.raises(ImportFileError, match=r"features #0 are not GeoJSON features"):
        parse_import(data, "twice.geojson")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"type":"FeatureCollection","features":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "nested too deeply"),
        (b'{"type":"FeatureCollection","features":[], "n": ' + b"9" * 5000 + b"}", "number too long"),
        (b'{"type": "FeatureCollection", "features": [', r"not valid JSON \(line 1, column 44: Expecting value"),
        ('{"a": "\u00e9"}'.encode("latin-1"), "not UTF-8 text"),
        (b'{"type": "Feature"}', "must be a GeoJSON FeatureCollection"),
        (b"[" * 100_000 + b"]" * 100_000, "must be a GeoJSON FeatureCollection"),  # an array: never read
        (b"", r"not valid JSON \(line 1, column 1: Expecting value"),
        (b'"FeatureCollection"', "must be a GeoJSON FeatureCollection"),
    ],
)
def test_broken_files_get_clear_messages_from_the_child(no_parse_here, data, message):
    with pytest.raises(ImportFileError, match=message):
        check_outline(data, "broken.geojson")


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "FeatureCollection", "features": [{"properties": {}, "geometry": {}} {"properties": {}}]}',
        '{"type": "FeatureCollection", "features": []} trailing',
        '{"type": "FeatureCollection" "features": []}',
        '{"type": "FeatureCollection", features: []}',
        '{"type": "FeatureCollection", "features"  []}',
        '{\n  "type": "FeatureCollection",\n  "features": [\n    {"properties": {}, "geometry": {]}\n  ]\n}',
        '{"type": "FeatureCollection", "features": [{"properties": {}, "geometry": {}},',
    ],
)
def test_json_errors_are_reported_where_json_loads_reports_them(text):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    assert jsoncheck.verdict(text.encode(), 10) == {
        "ok": False, "kind": "json", "line": expected.value.lineno, "column": expected.value.colno, "msg": expected.value.msg}


def test_a_child_that_runs_out_of_memory_becomes_a_clear_message(monkeypatch):
    monkeypatch.setattr(importing, "CHECK_MEMORY_BYTES", 120_000_000)
    # One feature whose properties hold two million strings: decoded whole, it needs more memory than allowed.
    data = (b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{},"properties":{"x":['
            + b",".join([b'"%d"' % i for i in range(2_000_000)]) + b"]}}]}")
    with pytest.raises(ImportFileError, match="too large or too complex to read as GeoJSON; split the file|needs too much memory"):
        check_outline(data, "big.geojson")


def test_a_child_that_takes_too_long_is_stopped_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(importing, "CHECK_TIMEOUT_S", 0.001)
    data = b'{"type":"FeatureCollection","features":[' + b",".join([MINIMAL] * 1000) + b"]}"
    with pytest.raises(ImportFileError, match=r"slow\.geojson took too long to read as GeoJSON; check the file or split it"):
        check_outline(data, "slow.geojson")


def test_the_child_runs_at_the_lowest_cpu_priority():
    verdict = run_check(b'{"type":"FeatureCollection","features":[]}')
    assert verdict == {"ok": True, "features": 0, "nice": jsoncheck.LOWEST_PRIORITY}


def test_a_valid_file_passes_the_check_and_is_parsed_here():
    feature = {"type": "Feature", "properties": {"id": "x"}, "geometry": {"type": "Point", "coordinates": [20.8, 43.0]}}
    data = json.dumps({"features": [feature, feature], "type": "FeatureCollection"}, indent=2).encode("utf-8-sig")
    assert run_check(data)["ok"] is True
    check_outline(data, "ok.geojson")  # no exception
    layer, features = parse_import(data, "ok.geojson")
    assert layer == "events" and features == [feature, feature]


# --- the app's import section: a file is read once per upload --------------------------------

def _upload_script():
    import streamlit as st

    from ui import imports

    class Upload:  # what st.file_uploader returns, as far as the import section uses it
        def __init__(self, file_id: str, data: bytes):
            self.file_id, self.size, self.name, self._data = file_id, len(data), "hostile.geojson", data

        def getvalue(self) -> bytes:
            return self._data

    data = b'{"type":"FeatureCollection","features":[' + b",".join([b"0"] * 1000) + b"]}"
    outcome = imports._outcome(Upload(st.session_state.get("file_id", "first"), data), "geojson", "events")
    st.text(outcome.get("error", "accepted"))


def test_the_import_section_reads_an_upload_once_however_often_the_page_reruns(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui import imports

    reads = []

    def counted(*args, **kwargs):
        reads.append(args[1])
        return parse_import(*args, **kwargs)

    monkeypatch.setattr(imports, "parse_import", counted)
    at = AppTest.from_function(_upload_script, default_timeout=60).run()
    assert "are not GeoJSON features" in at.text[0].value
    at.run()
    at.run()
    assert len(reads) == 1, "a rerun read the same upload again"
    at.session_state["file_id"] = "second"  # a new upload (of the same bytes) is read again
    at.run()
    assert len(reads) == 2 and "are not GeoJSON features" in at.text[0].value
