"""Tables as files a spreadsheet opens safely and correctly: one CSV writer for every export.

:func:`to_csv_bytes` is the only place a CSV is written. It

- neutralises spreadsheet formulas (OWASP "CSV injection"): a text cell beginning with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so a spreadsheet
  shows it as text instead of evaluating it. Numbers are never touched (a longitude of
  ``-0.12`` stays a number);
- writes UTF-8 with a byte-order mark, so Excel shows ``č`` and ``ë`` (without the mark it
  assumes the system code page);
- writes a column of whole numbers as integers (``1``, not ``1.0``); a missing value stays empty.

:func:`events_csv` flattens the event catalogue with it, including the parties' claims and the
meaning of every precision and status code, so the file explains itself.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from geo.events import GEO_PRECISION, STATUS, TIME_PRECISION

#: A text cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_ENCODING = "utf-8-sig"

EVENT_CSV_COLUMNS = [
    "id",
    "date",
    "time_precision",
    "time_precision_meaning",
    "time_of_day",
    "title",
    "event_type",
    "sub_event_type",
    "actors",
    "fatalities",
    "fatalities_note",
    "location_en",
    "location_sq",
    "location_sr",
    "latitude",
    "longitude",
    "geo_precision",
    "geo_precision_meaning",
    "remote_location",
    "status",
    "status_meaning",
    "claims",
    "summary",
    "sources",
]


def neutralise_formula(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV bytes (UTF-8 with BOM, no index), safe to open in a spreadsheet.

    Parameters
    ----------
    frame : DataFrame
        Any table; it is not modified.

    Returns
    -------
    bytes
        The CSV, starting with the UTF-8 byte-order mark.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"to_csv_bytes needs a pandas DataFrame, got {type(frame).__name__}")
    safe = pd.DataFrame({name: _safe_column(frame[name]) for name in frame.columns}, index=frame.index)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False)
    return buffer.getvalue().encode(CSV_ENCODING)


def _safe_column(column: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        return column
    if pd.api.types.is_float_dtype(column):
        return _whole_as_integer(column)
    if pd.api.types.is_numeric_dtype(column):
        return column
    # Text (or mixed) column: only the text values are neutralised, numbers in it stay numbers.
    return column.map(neutralise_formula).astype(object)


def _whole_as_integer(column: pd.Series) -> pd.Series:
    """A float column whose every value is whole becomes nullable integers (NaN stays missing)."""
    present = column.dropna()
    if present.empty or not (present == present.round()).all() or not present.abs().lt(2**53).all():
        return column
    return column.astype("Int64")


def events_csv(events: pd.DataFrame) -> bytes:
    """The event catalogue (or part of it) as one self-explaining CSV.

    Lists are joined with ``'; '``; claims as ``party: claim``; sources as
    ``publisher, date: title <url>``; each precision and status code is followed by its
    meaning. Coordinates are the point's latitude and longitude (EPSG:4326, 6 decimals).
    """
    return to_csv_bytes(events_table(events))


def events_table(events: pd.DataFrame) -> pd.DataFrame:
    """The flat table :func:`events_csv` writes, one row per event in the given order."""
    if len(events) == 0:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in EVENT_CSV_COLUMNS})
    locations = [loc if isinstance(loc, dict) else {} for loc in events["location"]]
    table = pd.DataFrame(
        {
            "id": events["id"].to_numpy(),
            "date": events["date"].astype(str).to_numpy(),
            "time_precision": events["time_precision"].to_numpy(),
            "time_precision_meaning": [TIME_PRECISION.get(code) for code in events["time_precision"]],
            "time_of_day": _optional(events, "time_of_day"),
            "title": events["title"].to_numpy(),
            "event_type": events["event_type"].to_numpy(),
            "sub_event_type": events["sub_event_type"].to_numpy(),
            "actors": [_joined(actors, str) for actors in events["actors"]],
            "fatalities": pd.to_numeric(events["fatalities"]).to_numpy(dtype=float),
            "fatalities_note": _optional(events, "fatalities_note"),
            "location_en": [loc.get("en") for loc in locations],
            "location_sq": [loc.get("sq") for loc in locations],
            "location_sr": [loc.get("sr") for loc in locations],
            "latitude": events.geometry.y.round(6).to_numpy(),
            "longitude": events.geometry.x.round(6).to_numpy(),
            "geo_precision": events["geo_precision"].to_numpy(),
            "geo_precision_meaning": [GEO_PRECISION.get(code) for code in events["geo_precision"]],
            "remote_location": _optional(events, "remote_location"),
            "status": events["status"].to_numpy(),
            "status_meaning": [STATUS.get(status) for status in events["status"]],
            "claims": [_joined(claims, _claim) for claims in _optional(events, "claims")],
            "summary": events["summary"].to_numpy(),
            "sources": [_joined(sources, _source) for sources in events["sources"]],
        }
    )
    return table[EVENT_CSV_COLUMNS]


def _optional(events: pd.DataFrame, name: str) -> list[Any]:
    """A column that older or uploaded frames may lack, with pandas' NaN as ``None``."""
    if name not in events.columns:
        return [None] * len(events)
    return [None if _missing(value) else value for value in events[name]]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _joined(items: Any, describe) -> str | None:
    if not isinstance(items, (list, tuple)) or not items:
        return None
    return "; ".join(describe(item) for item in items)


def _claim(claim: Any) -> str:
    if not isinstance(claim, dict):
        return str(claim)
    return f"{claim.get('party')}: {claim.get('claim')}"


def _source(source: Any) -> str:
    if not isinstance(source, dict):
        return str(source)
    cited = ", ".join(str(source[key]) for key in ("publisher", "date") if source.get(key))
    return f"{cited}: {source.get('title')} <{source.get('url')}>"
