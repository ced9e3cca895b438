"""``python -m bench``: map build, payload and click latency, ours against a naive baseline.

Examples::

    python -m bench                                   # the real catalogue, 10, 1,000, 10,000 and 100,000 events
    python -m bench --events real --impl ours         # only the real catalogue's row (data/events.geojson)
    python -m bench --events 10,1000 --no-browser     # server side only
    python -m bench --json bench/results/latest.json --md bench/results/latest.md
    python -m bench --store                           # the store: imports, first load, version check
                                                      # (options: python -m bench --store --help)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.run import (DEFAULT_LIMIT_S, DEFAULT_SIZES, REAL, first_paint_targets, report, run, table, targets,
                       targets_table)


def _sizes(text: str) -> list[int | str]:
    try:
        sizes = [REAL if part.strip() == REAL else int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--events takes comma-separated whole numbers or {REAL!r}, got {text!r}"
        ) from None
    if not sizes or any(n != REAL and n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"--events needs one or more sizes of at least 1, got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "--store" in args_list:  # the store benchmark has its own options (bench/store.py)
        from bench import store

        args_list.remove("--store")
        return store.main(args_list, prog="python -m bench --store")
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=_sizes, default=list(DEFAULT_SIZES),
                        help="catalogue sizes, comma-separated; 'real' is the project's own catalogue "
                             "(default: real,10,1000,10000,100000)")
    parser.add_argument("--impl", choices=("both", "ours", "baseline"), default="both")
    parser.add_argument("--no-browser", action="store_true", help="server-side measurements only")
    parser.add_argument("--limit", type=float, default=DEFAULT_LIMIT_S,
                        help=f"seconds allowed for each measurement (default {DEFAULT_LIMIT_S:g})")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--md", type=Path, help="write the tables as Markdown here")
    parser.add_argument("--workdir", type=Path, help="keep catalogues and logs here (default: a temp dir)")
    parser.add_argument("--store", action="store_true",
                        help="run the store benchmark instead (bench/store.py; see python -m bench --store --help)")
    args = parser.parse_args(argv)

    impls = ("ours", "baseline") if args.impl == "both" else (args.impl,)
    started = time.perf_counter()
    rows = run(args.events, browser=not args.no_browser, limit_s=args.limit, impls=impls, workdir=args.workdir)
    elapsed = time.perf_counter() - started

    found = targets(rows, args.limit)
    text = table(rows)
    if found:
        text += "\n\n" + targets_table(found)
    painted = first_paint_targets(rows)
    if painted:
        text += "\n\n" + targets_table(painted, heading="first paint (issue 13)")
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    report(rows, text, elapsed=elapsed, json_path=args.json, md_path=args.md, title="Benchmark results",
           command=command, extra=f", time limit {args.limit:g} s per measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
