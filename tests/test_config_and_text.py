"""Configuration from the environment, and escaping of data text."""

import json
import re

import pytest

from layers.config import ConfigurationError, load_settings
from layers.js import js_literal
from ui.text import _TEXT_BREAK as TEXT_BREAK
from ui.text import md_escape, md_link, safe_url, url_host


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
    # the empty :small[] directives md_escape inserts render as empty spans (see below)
    escaped = md_escape(text).replace(TEXT_BREAK, "")
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


# What Streamlit's Markdown turns into links and icons after parsing (GFM autolink literals,
# as in mdast-util-gfm-autolink-literal, and Streamlit's :shortcode: icons). Each applies
# within one text node, so md_escape's output must leave no match in any run of text
# between two inserted breaks, once its backslash escapes are undone.
_AUTOLINK_OR_ICON = re.compile(
    r"https?://|www\.|mailto:|xmpp:|[-.\w+]@[-\w]|:[\w/-]+:", re.IGNORECASE
)


def _text_runs(escaped: str) -> list[str]:
    return [re.sub(r"\\(.)", r"\1", run) for run in escaped.split(TEXT_BREAK)]


@pytest.mark.parametrize(
    "text",
    [
        "Read more at https://evil.example/x now",
        "see http://evil.example",
        "WWW.evil.example and www.evil.example/path",
        "write to mailto:press@evil.example or press@evil.example",
        "<https://evil.example/> and <press@evil.example>",
        ":material/warning: Alert :streamlit: :smile: :+1:",
        "xmpp:agent@evil.example",
        "a\\:b\\ c",
    ],
)
def test_md_escape_leaves_no_autolink_or_icon(text):
    runs = _text_runs(md_escape(text))
    assert not [run for run in runs if _AUTOLINK_OR_ICON.search(run)], runs
    # the text itself is unchanged: seen and copied as written
    assert "".join(runs) == text


def test_md_escape_keeps_plain_text_plain():
    assert md_escape("Banjska attack") == "Banjska attack"
    assert TEXT_BREAK not in md_escape("Zvečan, 29 May 2023")


def test_safe_url_refuses_user_information():
    assert safe_url("https://www.reuters.com@evil.example/") is None
    assert safe_url("https://user:secret@www.reuters.com/") is None
    assert safe_url("https://www.reuters.com/world/?via=a@b") is not None
    assert md_link("Reuters", "https://www.reuters.com@evil.example/") == "Reuters"


def test_url_host_names_the_site_a_link_opens():
    assert url_host("https://www.reuters.com/world/europe/x") == "reuters.com"
    assert url_host("https://balkaninsight.com:443/2023/") == "balkaninsight.com"
    assert url_host("https://www.reuters.com@evil.example/") is None
    assert url_host("javascript:alert(1)") is None


def test_js_literal_escapes_underscores_so_streamlit_folium_cannot_rewrite_data():
    # streamlit-folium renames map_<hex>, feature_group_<hex>, drawnItems_draw_control_div_<n>
    value = {"map_div": "map_div drawnItems_draw_control_div_1 map_0123abcd feature_group_ab12"}
    literal = js_literal(value)
    assert "_" not in literal
    assert json.loads(literal) == value


def test_shipped_streamlit_config_hides_errors_and_listens_on_loopback():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["maxUploadSize"] == 20


def test_readme_shows_how_a_team_server_listens_on_every_interface():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    team = readme.split("## Running it for a team", 1)[1].split("\n## ", 1)[0]
    assert "--server.address 0.0.0.0" in team
