"""Command line: ``python -m layers export OUTDIR``."""

from __future__ import annotations

import argparse
import sys

from geo.io import LayerValidationError
from layers.config import ConfigurationError, load_settings
from layers.data import load_layer_data
from layers.export import export_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers", description="Border Brief layer tools")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export",
        help="write every layer as RFC 7946 GeoJSON (the store's current catalogue) and events.csv into OUTDIR",
    )
    export.add_argument("outdir", help="folder to write <layer id>.geojson and events.csv into (created if missing)")
    args = parser.parse_args(argv)

    import sqlalchemy as sa

    from store import StoreError, open_store

    store = None
    try:
        settings = load_settings()
        store = open_store(settings)  # created and seeded from data/ if new
        layers = load_layer_data(settings, store)
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


if __name__ == "__main__":
    raise SystemExit(main())
