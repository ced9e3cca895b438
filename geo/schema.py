"""Property schemas of the project's GeoJSON layers, and the validators they use.

Each layer file in ``data/`` is a FeatureCollection whose features carry the
properties listed in its :class:`LayerSchema`. A validator takes a property
value and returns ``None`` when it is acceptable, or a sentence saying what is
wrong and how to fix it. Validation never changes data.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

Validator = Callable[[Any], "str | None"]

# Patterns are matched against the whole value with ``fullmatch``: ``re.match`` with a
# final ``$`` would also accept the value followed by a newline.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
PARTIAL_DATE_PATTERN = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
# No backslash: browsers read it as "/", so the host they open would differ from ours.
URL_PATTERN = re.compile(r"https?://[^\s<>\"'\\]+")

STATUSES = ("confirmed", "reported", "assessed", "claimed")


# --- validators -------------------------------------------------------------

def is_id(value: Any) -> str | None:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        return (
            f"must be a readable id of lower-case letters, digits and hyphens "
            f"(1-80 characters, e.g. 'banjska-attack'), got {value!r}"
        )
    return None


# Control characters other than tab and line breaks: NUL cannot be stored in PostgreSQL's
# JSON, and the others are invisible in the panel while they change what a text says.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"must be non-empty text, got {value!r}"
    if control := _CONTROL_CHARACTERS.search(value):
        return f"must not contain control characters, found U+{ord(control.group()):04X} in {value!r}"
    return None


def is_optional_text(value: Any) -> str | None:
    if value is None:
        return None
    return is_text(value)


def is_number(value: Any) -> str | None:
    # NaN and infinity (JSON's NaN/Infinity, or 1e999) are refused: they cannot be written
    # back as JSON, drawn or measured.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    return None


def is_optional_number(value: Any) -> str | None:
    return None if value is None else is_number(value)


def is_date(value: Any) -> str | None:
    """An ISO calendar date, YYYY-MM-DD, that exists."""
    if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
        return f"must be an ISO date YYYY-MM-DD, got {value!r}"
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return f"is not a real calendar date: {value!r}"
    return None


def is_optional_date(value: Any) -> str | None:
    return None if value is None else is_date(value)


def is_partial_date(value: Any) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD (publication dates of datasets are often coarse)."""
    if not isinstance(value, str) or not PARTIAL_DATE_PATTERN.fullmatch(value):
        return f"must be a date YYYY-MM-DD (or YYYY-MM, YYYY), got {value!r}"
    return None


def is_url(value: Any) -> str | None:
    """An http(s) URL without user information (``https://site@other.example/`` opens other.example)."""
    if not isinstance(value, str) or not URL_PATTERN.fullmatch(value):
        return f"must be an http(s) URL, got {value!r}"
    authority = re.split(r"[/?#]", value.split("://", 1)[1], maxsplit=1)[0]
    if "@" in authority:
        return (
            f"must not carry user information before '@' (it opens {authority.rsplit('@', 1)[1]!r}, "
            f"not the site it shows first); link the site itself, got {value!r}"
        )
    return None


def one_of(*choices: Any) -> Validator:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(map(repr, choices))}, got {value!r}"
        return None

    return check


def list_of(item: Validator, *, min_items: int = 0) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"must be a list, got {type(value).__name__}"
        if len(value) < min_items:
            return f"must have at least {min_items} item(s), has {len(value)}"
        for i, element in enumerate(value):
            problem = item(element)
            if problem:
                return f"item {i}: {problem}"
        return None

    return check


def is_source(value: Any, *, require_url: bool = True) -> str | None:
    """A citation: publisher, title, date and URL (all required).

    With ``require_url=False`` a source may leave out ``url`` (a URL that is given
    must still be valid). Only the event catalogue uses that, for sources named
    by an imported file without links, and it then requires the feature's
    ``provenance`` (see :mod:`geo.events`).
    """
    if not isinstance(value, dict):
        return f"a source must be an object with publisher, title, date and url, got {value!r}"
    for key, check in (("publisher", is_text), ("title", is_text), ("date", is_partial_date), ("url", is_url)):
        if key not in value:
            if key == "url" and not require_url:
                continue
            return f"a source is missing '{key}'"
        problem = check(value[key])
        if problem:
            return f"source '{key}' {problem}"
    return None


is_sources = list_of(is_source, min_items=1)


# --- schemas ----------------------------------------------------------------

@dataclass(frozen=True)
class LayerSchema:
    """What every feature of one layer must carry."""

    layer_id: str
    geometry_types: tuple[str, ...]
    fields: dict[str, Validator]
    optional_fields: dict[str, Validator] = field(default_factory=dict)

    def check_properties(self, properties: dict[str, Any]) -> list[tuple[str, str]]:
        """Return ``(field, problem)`` pairs; empty when the properties are valid."""
        problems = []
        for name, check in self.fields.items():
            if name not in properties:
                problems.append((name, "is missing (required)"))
                continue
            problem = check(properties[name])
            if problem:
                problems.append((name, problem))
        for name, check in self.optional_fields.items():
            if name in properties and properties[name] is not None:
                problem = check(properties[name])
                if problem:
                    problems.append((name, problem))
        return problems


COMMON_FIELDS: dict[str, Validator] = {"id": is_id, "name": is_text, "sources": is_sources}

POLYGONS = ("Polygon", "MultiPolygon")
LINES = ("LineString", "MultiLineString")
POINTS = ("Point",)

FORCE_FIELDS: dict[str, Validator] = {
    **COMMON_FIELDS,
    "force": is_text,
    "units": list_of(is_text),
    "strength": is_optional_text,
    "equipment": list_of(is_text),
    "period_start": is_date,
    "period_end": is_optional_date,
    "status": one_of(*STATUSES),
    "construction": is_text,
    "uncertainty": is_text,
    "summary": is_text,
}

SCHEMAS: dict[str, LayerSchema] = {
    "countries": LayerSchema(
        "countries", POLYGONS, {**COMMON_FIELDS, "iso_a3": is_text}
    ),
    "border": LayerSchema(
        "border", LINES, {**COMMON_FIELDS, "derived_from": is_text, "summary": is_text}
    ),
    "places": LayerSchema(
        "places",
        POINTS,
        {
            **COMMON_FIELDS,
            "name_sq": is_text,
            "name_sr": is_text,
            "kind": is_text,
            "precision_m": is_number,
            "summary": is_text,
        },
    ),
    "kfor_areas": LayerSchema("kfor_areas", POLYGONS, FORCE_FIELDS),
    "serbian_deployments": LayerSchema("serbian_deployments", POLYGONS, FORCE_FIELDS),
    "ground_safety_zone": LayerSchema(
        "ground_safety_zone",
        POLYGONS,
        {**COMMON_FIELDS, "width_km": is_number, "history": is_text, "summary": is_text},
    ),
    "air_safety_zone": LayerSchema(
        "air_safety_zone",
        POLYGONS,
        {**COMMON_FIELDS, "width_km": is_number, "history": is_text, "summary": is_text},
    ),
}


def register_schema(schema: LayerSchema) -> None:
    """Add a layer schema (the event catalogue registers its own in geo.events)."""
    SCHEMAS[schema.layer_id] = schema
