"""Text from data or URLs shown as text: never as HTML, never as live Markdown."""

from __future__ import annotations

import re
from urllib.parse import urlparse

# Every character Markdown (and Streamlit's extensions: :colour[...], $math$, emoji
# shortcodes) could treat as markup is escaped with a backslash.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=&\"'])")


def md_escape(text: object) -> str:
    """Escape ``text`` so Streamlit Markdown shows it literally."""
    value = "" if text is None else str(text)
    value = value.replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", value)


def safe_url(url: object) -> str | None:
    """The URL if it is a plain http(s) address, else None (nothing else becomes a link)."""
    if not isinstance(url, str):
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or re.search(r"[\s<>\"'()\\]", url):
        return None
    return url


def md_link(title: object, url: object) -> str:
    """A Markdown link with an escaped title, or just the escaped title if the URL is unsafe."""
    target = safe_url(url)
    label = md_escape(title)
    return f"[{label}]({target})" if target else label
