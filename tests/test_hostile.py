"""The hostile-input corpus (tests/hostile/, issue 18) through every input path.

Each input is either refused with a clear message (no traceback, nothing written, exit status
2 from the command line) or stored as inert text, exactly as written, and exported intact.
The corpus files and what each attacks are listed in tests/hostile/README.md; the inputs too
large or too deep to keep in the repository are generated here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from geo.events import load_events
from geo.io import LayerValidationError, load_layer, parse_layer
from geo.schema import is_date, is_id, is_partial_date, is_text, is_url
from layers.config import load_settings
from layers.data import layer_files
from store.access import Identity
from store import Store, StoreError, db
from store.importing import MAX_IMPORT_BYTES, ImportFileError, parse_import

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "hostile"
_ENTRY = re.compile(r"^- `([^`]+)` \((store|reject)\): (.+)$")
# What a refusal may not show: a traceback, an exception's class path, a server path.
_NOT_A_CLEAR_MESSAGE = re.compile(r"Traceback|File \"|RecursionError|site-packages|\.py\b")


@dataclass(frozen=True)
class Hostile:
    name: str
    expect: str  # "store" or "reject"
    attacks: str
    data: bytes
    layer: str = "events"
    file_loading: bool = True  # the data files' own loader (no size limit: the catalogue is trusted)

    def __str__(self) -> str:
        return self.name


def _stored_corpus() -> list[Hostile]:
    listed = {}
    for line in (CORPUS / "README.md").read_text(encoding="utf-8").splitlines():
        if match := _ENTRY.match(line):
            name, expect, attacks = match.groups()
            layer = "places" if name.startswith("places-") or "(layer `places`)" in attacks else "events"
            listed[name] = Hostile(name, expect, attacks, (CORPUS / name).read_bytes(), layer)
    return [listed[name] for name in sorted(listed)]


def _valid_event_text(**properties) -> str:
    feature = json.loads((CORPUS / "script-in-every-text-field.geojson").read_text(encoding="utf-8"))["features"][0]
    feature["properties"].update(properties)
    return json.dumps({"type": "FeatureCollection", "features": [feature]})


def _generated_corpus() -> list[Hostile]:
    deep = 100_000
    digits = "9" * 5_000
    valid = _valid_event_text(id="2023-10-01-hostile-generated")
    return [
        Hostile("deep-nesting-100000", "reject", "arrays nested 100,000 levels deep (RecursionError)",
                ('{"type":"FeatureCollection","features":' + "[" * deep + "]" * deep + "}").encode()),
        Hostile("deep-nesting-in-a-property", "reject", "objects nested 100,000 levels deep inside a summary",
                valid.replace('"summary": "', '"summary": ' + '{"a":' * deep + "1" + "}" * deep + ', "x": "', 1).encode()),
        Hostile("integer-5000-digits", "reject", "a 5,000-digit fatality count (ValueError in int())",
                valid.replace('"fatalities": null', f'"fatalities": {digits}').encode()),
        Hostile("integer-5000-digits-coordinate", "reject", "a 5,000-digit longitude",
                valid.replace("21.16222", digits).encode()),
        Hostile("giant-coordinate-array", "reject", "a Point with 200,000 numbers",
                valid.replace("21.16222", "21.16222" + ",0.0" * 200_000).encode()),
        Hostile("giant-feature-array", "reject", "150,000 features that are all 0",
                ('{"type":"FeatureCollection","features":[' + ",".join(["0"] * 150_000) + "]}").encode()),
        Hostile("oversized-file", "reject", "a valid file padded past the 20 MB import limit",
                valid.encode() + b" " * (MAX_IMPORT_BYTES + 1), file_loading=False),
    ]


STORED = _stored_corpus()
GENERATED = _generated_corpus()
EVERYTHING = STORED + GENERATED


def _assert_clear(message: str) -> None:
    assert message.strip(), "an empty message"
    assert not _NOT_A_CLEAR_MESSAGE.search(message), message[:2000]


def _features(item: Hostile) -> list[dict]:
    return json.loads(item.data.decode("utf-8"))["features"]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'store.sqlite'}"
    store = Store(url)
    db.migrate(store._writer)
    store.sync_catalogue(layer_files(load_settings({})))
    store.close()
    return url


@pytest.fixture(scope="module")
def store(store_url):
    store = Store(store_url)
    yield store
    store.close()


# --- the corpus itself -------------------------------------------------------------------

def test_the_corpus_is_complete_and_every_file_says_what_it_attacks():
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "README.md"}
    assert on_disk == {item.name for item in STORED}, "every file in tests/hostile/ is listed in its README"
    assert len(STORED) >= 30
    assert {"store", "reject"} == {item.expect for item in STORED}
    assert all(len(item.data) < 50_000 for item in STORED), "large inputs are generated, not stored"


# --- file loading ------------------------------------------------------------------------

@pytest.mark.parametrize("item", [i for i in EVERYTHING if i.file_loading], ids=str)
def test_file_loading_refuses_or_accepts_each_input(item, tmp_path):
    path = tmp_path / (item.name if item.name.endswith(".geojson") else f"{item.name}.geojson")
    path.write_bytes(item.data)
    load = (lambda: load_events(path)) if item.layer == "events" else (lambda: load_layer(path, item.layer))
    if item.expect == "reject":
        with pytest.raises(LayerValidationError) as refused:
            load()
        _assert_clear(str(refused.value))
        assert path.name in str(refused.value), "the message names the file"
    else:
        frame = load()
        assert list(frame["id"]) == [f["properties"]["id"] for f in _features(item)]


# --- the app's import and the command line's: parse_import + Store.import_features -------

@pytest.mark.parametrize("item", EVERYTHING, ids=str)
def test_import_refuses_without_writing_or_stores_inert_text(item, store):
    version = store.version()
    try:
        layer, features = parse_import(item.data, item.name, layer=item.layer)
        result = store.import_features(layer, features, identity=Identity("hostile-test", "analyst"), source=item.name)
    except (ImportFileError, LayerValidationError, StoreError) as refused:
        assert item.expect == "reject", f"{item.name} should have been stored: {refused}"
        _assert_clear(str(refused))
        assert store.version() == version, "nothing is half-written"
        return
    assert item.expect == "store", f"{item.name} was accepted: {result.summary()}"
    assert result.batch is not None and store.version() == version + 1
    current = {f["properties"]["id"]: f for f in store.current_features(item.layer)}
    for feature in _features(item):
        kept = current[feature["properties"]["id"]]["properties"]
        assert {k: v for k, v in kept.items() if k in feature["properties"]} == feature["properties"], "stored exactly as written"


# Inputs whose structure alone refuses them: the server's own interpreter never parses them
# (the first 64 KB are looked at in the server, the rest in a low-priority child; issue 18).
STRUCTURAL = {
    "empty.geojson": r"not valid JSON \(line 1, column 1",
    "truncated.geojson": r"not valid JSON \(line 33, column 2",
    "latin-1-encoded.geojson": "not UTF-8 text",
    "utf-16-encoded.geojson": r"not UTF-8 text \(byte 0\)",
    "not-a-feature-collection.geojson": "must be a GeoJSON FeatureCollection",
    "feature-not-object.geojson": r"features #0, #1, #2 are not GeoJSON features with properties and a geometry$",
    "deep-nesting-100000": "nested too deeply",
    "deep-nesting-in-a-property": "nested too deeply",
    "integer-5000-digits": "number too long",
    "integer-5000-digits-coordinate": "number too long",
    "giant-feature-array": r"features #0, .*#9 are not GeoJSON features .*\(the check stopped at the 10th",
    "oversized-file": "the limit is 20 MB",
}


@pytest.mark.parametrize("item", [i for i in EVERYTHING if i.name in STRUCTURAL], ids=str)
def test_structurally_broken_inputs_are_refused_before_the_server_parses_them(item, monkeypatch):
    from store import importing

    def server_parse(*args, **kwargs):
        raise AssertionError(f"the server parsed {item.name}")

    monkeypatch.setattr(importing, "_load_document", server_parse)
    with pytest.raises(ImportFileError, match=STRUCTURAL[item.name]) as refused:
        parse_import(item.data, item.name, layer=item.layer)
    _assert_clear(str(refused.value))


def test_every_structural_input_named_is_in_the_corpus():
    assert set(STRUCTURAL) <= {item.name for item in EVERYTHING}


def _cli(*args: str, url: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "BORDER_BRIEF_DATABASE_URL": url}
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


CLI_SAMPLE = ["deep-nesting-100000", "integer-5000-digits", "oversized-file", "url-user-information.geojson",
              "id-trailing-newline.geojson", "latin-1-encoded.geojson", "control-characters.geojson"]


@pytest.mark.parametrize("item", [i for i in EVERYTHING if i.name in CLI_SAMPLE], ids=str)
def test_store_command_line_refuses_with_status_2_and_a_message(item, store, store_url, tmp_path):
    path = tmp_path / (item.name if item.name.endswith(".geojson") else f"{item.name}.geojson")
    path.write_bytes(item.data)
    version = store.version()
    done = _cli("-m", "store", "import", str(path), "--author", "t", "--layer", item.layer, url=store_url)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "nothing was written" in done.stderr
    _assert_clear(done.stderr)
    assert store.version() == version


# --- what was stored comes back out intact --------------------------------------------------

@pytest.fixture(scope="module")
def exported(store, store_url, tmp_path_factory):
    """Every stored input imported (the test above may run alone), then ``python -m layers export``."""
    for item in STORED:
        if item.expect == "store":
            layer, features = parse_import(item.data, item.name, layer=item.layer)
            store.import_features(layer, features, identity=Identity("hostile-test", "analyst"), source=item.name)
    out = tmp_path_factory.mktemp("export")
    done = _cli("-m", "layers", "export", str(out), url=store_url, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return out


def test_store_command_line_stores_a_hostile_file_as_text(store, store_url, tmp_path):
    item = next(i for i in STORED if i.name == "script-in-every-text-field.geojson")
    feature = _features(item)[0]
    feature["properties"]["id"] = "2023-10-01-hostile-script-cli"
    path = tmp_path / "cli.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    done = _cli("-m", "store", "import", str(path), "--author", "t", url=store_url)
    assert done.returncode == 0, done.stderr[-3000:]
    assert store.head("events", "2023-10-01-hostile-script-cli")[0]["properties"]["title"] == feature["properties"]["title"]


def test_export_writes_stored_hostile_text_exactly(exported):
    for item in STORED:
        if item.expect != "store":
            continue
        written = json.loads((exported / f"{item.layer}.geojson").read_text(encoding="utf-8"))
        by_id = {f["properties"]["id"]: f["properties"] for f in written["features"]}
        for feature in _features(item):
            kept = by_id[feature["properties"]["id"]]
            for key, value in feature["properties"].items():
                if isinstance(value, str):
                    assert kept[key] == value, (item.name, key)


def test_export_csv_has_no_live_formula(exported):
    text = (exported / "events.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    hostile = [row for row in rows if any("hostile" in cell for cell in row)]
    assert hostile, "the hostile events are in the CSV"
    for row in hostile:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not (cell.startswith("-") and not re.fullmatch(r"-?\d+(\.\d+)?", cell)), cell


# --- the checks behind the corpus, one at a time ---------------------------------------------

@pytest.mark.parametrize("check, value", [
    (is_id, "2023-09-24-banjska-attack\n"),
    (is_date, "2023-09-24\n"),
    (is_partial_date, "2023\n"),
    (is_url, "https://www.reuters.com/world/\n"),
])
def test_a_trailing_newline_is_refused(check, value):
    assert check(value) is not None
    assert check(value.rstrip("\n")) is None


@pytest.mark.parametrize("url", [
    "https://www.reuters.com@evil.example/",
    "https://user:secret@www.reuters.com/",
    "https://www.reuters.com\\@evil.example/",
])
def test_source_urls_that_hide_the_site_they_open_are_refused(url):
    assert is_url(url) is not None


def test_an_at_sign_after_the_host_is_fine():
    assert is_url("https://www.reuters.com/world/?by=a@b.example") is None


def test_control_characters_are_refused_in_text_but_line_breaks_are_kept():
    assert is_text("Null\x00byte") is not None
    assert is_text("two\nlines\tand a tab") is None


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"type":"FeatureCollection","features":[],"x":' + "9" * 5_000 + "}", "thousands of digits"),
])
def test_parse_layer_turns_deep_nesting_and_giant_numbers_into_a_problem(text, message):
    with pytest.raises(LayerValidationError, match=message):
        parse_layer(text, "places", source_name="upload.geojson")


def test_non_finite_numbers_are_refused():
    place = json.loads((CORPUS / "places-script-and-markup.geojson").read_text(encoding="utf-8"))
    place["features"][0]["properties"]["precision_m"] = float("nan")
    with pytest.raises(LayerValidationError, match="finite number"):
        parse_layer(json.dumps(place), "places")
