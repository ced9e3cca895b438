"""Configuration from the environment, and escaping of data text."""

import json

import pytest

from layers.config import ConfigurationError, load_settings
from layers.js import js_literal
from ui.text import md_escape, md_link, safe_url


def test_defaults_work_offline():
    settings = load_settings({})
    assert settings.asset_mode == "local"
    assert settings.default_basemap == "offline"
    assert settings.custom_tiles is None
    assert settings.basemap_keys[0] == "offline"


def test_deployment_tile_server_is_offered_first():
    settings = load_settings(
        {
            "BORDER_BRIEF_TILE_URL": "https://tiles.example.org/{z}/{x}/{y}.png",
            "BORDER_BRIEF_TILE_ATTRIBUTION": "Example tiles",
            "BORDER_BRIEF_BASEMAP": "custom",
        }
    )
    assert settings.tile_servers[0].url == "https://tiles.example.org/{z}/{x}/{y}.png"
    assert settings.tile_servers[0].attribution == "Example tiles"
    assert settings.default_basemap == "custom"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"BORDER_BRIEF_ASSETS": "ftp"}, "BORDER_BRIEF_ASSETS"),
        ({"BORDER_BRIEF_TILE_URL": "javascript:alert(1)"}, "BORDER_BRIEF_TILE_URL"),
        ({"BORDER_BRIEF_BASEMAP": "nope"}, "BORDER_BRIEF_BASEMAP"),
    ],
)
def test_bad_settings_name_the_variable(env, variable):
    with pytest.raises(ConfigurationError, match=variable):
        load_settings(env)


def test_js_literal_cannot_close_a_script_element():
    hostile = '</script><script>alert("x")</script> & \u2028'
    literal = js_literal({"title": hostile})
    assert "</script" not in literal and "<" not in literal and "&" not in literal
    assert "\u2028" not in literal
    assert json.loads(literal) == {"title": hostile}


@pytest.mark.parametrize(
    "text",
    ["<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "![x](https://evil.example/p.png)", "**bold** _i_ `c`", ":red[x] $x$"],
)
def test_md_escape_leaves_no_markup(text):
    escaped = md_escape(text)
    # every character Markdown could read as markup is preceded by a backslash
    for ch in "<>[]()*`_!:$":
        for i, c in enumerate(escaped):
            if c == ch:
                assert escaped[i - 1] == "\\", (text, escaped)


def test_links_only_for_plain_http_urls():
    assert safe_url("https://www.nato.int/cps/en/natohq/news.htm") is not None
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://x.example/a) ![y](z") is None
    assert md_link("NATO", "javascript:alert(1)") == "NATO"
    assert md_link("A [b]", "https://example.org/") == "[A \\[b\\]](https://example.org/)"
