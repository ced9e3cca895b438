"""Command line: ``python -m layers export OUTDIR`` and ``python -m layers briefing OUT.html``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from geo.io import LayerValidationError
from layers.config import ConfigurationError, load_public_url, load_settings
from layers.data import LayerData, load_layer_data
from layers.export import export_all


def briefing_state(layers: LayerData, settings, query_string: str):
    """The app's URL state from a query string, read by the app's own parser.

    ``ui.state`` is pure (no Streamlit); it is imported here, lazily, so that the
    ``layers`` package itself never depends on ``ui``. Returns (state, notices, query):
    ``query`` is the state's URL form, for the live app's deep link.
    """
    from urllib.parse import parse_qs

    from layers.catalog import DEFAULT_VISIBLE, LAYERS
    from ui.state import Bounds, parse_query, to_query

    events = layers.full["events"]
    dates = events["date"].astype(str)
    bounds = Bounds(
        layer_ids=tuple(spec.id for spec in LAYERS),
        default_layers=DEFAULT_VISIBLE,
        event_ids=frozenset(layers.event_positions),
        feature_ids={k: frozenset(f["id"]) for k, f in layers.full.items() if k != "events"},
        first_date=dt.date.fromisoformat(dates.min()) if len(events) else dt.date(2023, 1, 1),
        last_date=dt.date.fromisoformat(dates.max()) if len(events) else dt.date(2023, 12, 31),
        basemaps=settings.basemap_keys,
        default_basemap=settings.default_basemap,
    )
    params = {k: v[-1] for k, v in parse_qs(query_string.lstrip("?"), keep_blank_values=True).items()}
    state, notices = parse_query(params, bounds)
    return state, notices, to_query(state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers", description="Border Brief layer tools")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export",
        help="write every layer as RFC 7946 GeoJSON (the store's current catalogue) and events.csv into OUTDIR",
    )
    export.add_argument("outdir", help="folder to write <layer id>.geojson and events.csv into (created if missing)")
    briefing = commands.add_parser(
        "briefing",
        help="write a standalone offline HTML briefing (map, details, event list) for a shared state",
    )
    briefing.add_argument("out", help="the HTML file to write, e.g. briefing.html")
    briefing.add_argument(
        "--state", default="",
        help="the app URL's query string, e.g. 'layers=border,events&from=2023-09-01&to=2023-10-31&event=...'",
    )
    briefing.add_argument("--author", default="", help="who generated the briefing (shown in its header)")
    args = parser.parse_args(argv)

    import sqlalchemy as sa

    from store import StoreError, open_store

    store = None
    try:
        settings = load_settings()
        public_url = load_public_url() if args.command == "briefing" else None
        store = open_store(settings)  # created and seeded from data/ if new
        layers = load_layer_data(settings, store)
        if args.command == "briefing":
            return _briefing(args, layers, settings, store, public_url)
    except (StoreError, LayerValidationError, ConfigurationError) as exc:
        # a store.ValidationFailed's message lists every problem (feature, field, what to fix)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as exc:
        print(f"error: cannot read the store: {getattr(exc, 'orig', None) or exc}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.close()
    try:
        written = export_all(layers, args.outdir)
    except OSError as exc:
        print(f"error: cannot write into {args.outdir}: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def _briefing(args, layers: LayerData, settings, store, public_url: str | None) -> int:
    from layers.briefing import BriefingError, build_briefing, write_briefing

    state, notices, query = briefing_state(layers, settings, args.state)
    for notice in notices:
        print(f"note: {notice}", file=sys.stderr)
    try:
        text = build_briefing(layers, state, author=args.author, public_url=public_url, query=query, store=store)
    except BriefingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        path = write_briefing(args.out, text)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    print(f"{path} ({len(text.encode('utf-8')) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
