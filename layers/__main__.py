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
    export = commands.add_parser("export", help="write every layer as RFC 7946 GeoJSON into OUTDIR")
    export.add_argument("outdir", help="folder to write <layer id>.geojson files into (created if missing)")
    args = parser.parse_args(argv)

    try:
        layers = load_layer_data(load_settings())
    except (LayerValidationError, ConfigurationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in export_all(layers, args.outdir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
