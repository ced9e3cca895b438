"""Text from data or URLs shown as text: never as HTML, never as live Markdown."""

from __future__ import annotations

import re
from urllib.parse import urlparse

# Every character Markdown (and Streamlit's extensions: :colour[...], $math$, emoji
# shortcodes) could treat as markup is escaped with a backslash.
_MD_SPECIAL = re.compile(r"([\\/`*_{}\[\]()<>#+\-.!|~:$=&\"'])")

# GFM autolinks (https://, www., e-mail addresses) and Streamlit's icon shortcodes
# (:material/warning:, :streamlit:) are found in the parsed text, after backslash escapes
# are undone, so escaping alone does not stop them. An empty ``:small[]`` directive splits
# the text there: Streamlit renders it as an empty <span>, so what is seen and copied is
# unchanged, but no link or icon pattern can span the split.
_TEXT_BREAK = ":small[]"
_BREAK_POINTS = re.compile(r"(?=\\:|@)|(?<=www)(?=\\\.)", re.IGNORECASE)


def md_escape(text: object) -> str:
    """Escape ``text`` so Streamlit Markdown shows it literally: no markup, links or icons."""
    value = "" if text is None else str(text)
    value = value.replace("\r", " ").replace("\n", " ")
    return _BREAK_POINTS.sub(_TEXT_BREAK, _MD_SPECIAL.sub(r"\\\1", value))


def safe_url(url: object) -> str | None:
    """The URL if it is a plain http(s) address, else None (nothing else becomes a link)."""
    if not isinstance(url, str):
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or re.search(r"[\s<>\"'()\\]", url):
        return None
    if "@" in parsed.netloc:  # user information: https://www.reuters.com@evil.example/ opens evil.example
        return None
    return url


def url_host(url: object) -> str | None:
    """The host a safe URL opens, without a leading ``www.`` (shown beside the link), else None."""
    target = safe_url(url)
    if target is None:
        return None
    host = (urlparse(target).hostname or "").removeprefix("www.")
    return host or None


def md_link(title: object, url: object) -> str:
    """A Markdown link with an escaped title, or just the escaped title if the URL is unsafe."""
    target = safe_url(url)
    label = md_escape(title)
    return f"[{label}]({target})" if target else label
