"""``python -m bench.knee``: the load levels of issue 15, one after another, and the knee.

Runs :func:`bench.load.run_load` at each number of concurrent viewer sessions, from the
smallest, against one running app or team stack, and reports each level's click p50/p95,
first-render p95, errors and the replicas' CPU and memory. The **knee** is the most sessions
at which click p95 stayed at or under ``--limit`` (1.5 s, the issue's); the sweep stops after
the first level above it (the next would only be worse and take longer).

Start what you measure first (each level reuses it; sessions of one level end before the next):

    BORDER_BRIEF_REPLICAS=1 BORDER_BRIEF_TEAM_DIR=var/team1 BORDER_BRIEF_TEAM_PORT=8081 \\
        BORDER_BRIEF_REPLICA_BASE_PORT=8611 BORDER_BRIEF_TEAM_PG_PORT=55441 scripts/run-team.sh
    python -m bench.knee --url http://127.0.0.1:8081/ --team-dir var/team1 --sessions 25,50,100,150,200

Bounded like ``bench.load``: loopback URLs, at most ``bench.load.MAX_SESSIONS`` sessions and
``MAX_DURATION_S`` per level.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bench import load

KNEE_LIMIT_S = 1.5


def _levels(text: str) -> list[int]:
    try:
        levels = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sessions takes comma-separated whole numbers, got {text!r}") from None
    if not levels or levels[0] < 1 or levels[-1] > load.MAX_SESSIONS:
        raise argparse.ArgumentTypeError(f"--sessions: 1 to {load.MAX_SESSIONS} each, got {text!r}")
    return levels


def sweep(url: str, levels: list[int], duration: float, think: float, team_dir: Path | None,
          limit_s: float = KNEE_LIMIT_S, settle_s: float = 5.0, log=print) -> dict:
    """Each level in turn; stops after the first whose click p95 is over ``limit_s``."""
    rows = []
    for sessions in levels:
        load.check_bounds(url, sessions, duration, think)
        started = time.perf_counter()
        report = asyncio.run(load.run_load(url, sessions, duration, think, team_dir=team_dir, measure_cpu=False))
        processes = report.get("replica_processes") or []
        row = {
            "sessions": sessions,
            "replicas": report["replicas"],
            "click_p50_s": report["click_p50_s"],
            "click_p95_s": report["click_p95_s"],
            "click_max_s": report["click_max_s"],
            "clicks": report["clicks"],
            "first_render_p95_s": report["first_render_p95_s"],
            "errors": report["errors"],
            "reconnections": report["reconnections"],
            "replica_cpu_percent": [p.get("cpu_percent") for p in processes],
            "replica_max_rss_mb": [p.get("max_rss_mb") for p in processes],
            "error_messages": report["error_messages"][:5],
        }
        rows.append(row)
        log(f"[knee] {sessions} sessions: click p50 {row['click_p50_s']} s, p95 {row['click_p95_s']} s, "
            f"errors {row['errors']} ({time.perf_counter() - started:.0f} s)")
        if row["click_p95_s"] is None or row["click_p95_s"] > limit_s or row["errors"]:
            break
        time.sleep(settle_s)  # the level's sockets close and the replicas go idle
    within = [r["sessions"] for r in rows if r["click_p95_s"] is not None and r["click_p95_s"] <= limit_s
              and not r["errors"]]
    last = rows[-1] if rows else None
    return {
        "url": url,
        "duration_s": duration,
        "think_s": think,
        "limit_s": limit_s,
        "levels": rows,
        "knee_sessions": max(within) if within else None,
        # the sweep ended without passing its limit: the knee is at least the largest level
        "knee_is_lower_bound": bool(last and last["sessions"] == levels[-1] and last["sessions"] in within),
    }


def table(report: dict) -> str:
    def f(v):
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    lines = [
        f"knee sweep: {report['url']}, {report['duration_s']:.0f} s per level, think {report['think_s']} s",
        "",
        "| sessions | replicas | clicks | click p50 (s) | click p95 (s) | click max (s) | first render p95 (s) | errors | replica CPU % | replica max RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in report["levels"]:
        lines.append(
            f"| {r['sessions']} | {r['replicas']} | {r['clicks']} | {f(r['click_p50_s'])} | {f(r['click_p95_s'])} | "
            f"{f(r['click_max_s'])} | {f(r['first_render_p95_s'])} | {r['errors']} | "
            f"{', '.join(f(v) for v in r['replica_cpu_percent'])} | {', '.join(f(v) for v in r['replica_max_rss_mb'])} |"
        )
    knee = report["knee_sessions"]
    if knee is None:
        lines.append(f"\nknee: no level kept click p95 ≤ {report['limit_s']} s without errors")
    else:
        bound = " (at least: the largest level measured)" if report["knee_is_lower_bound"] else ""
        lines.append(f"\nknee: {knee} sessions kept click p95 ≤ {report['limit_s']} s{bound}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.knee", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the app or nginx, on a loopback address")
    parser.add_argument("--sessions", type=_levels, default=[25, 50, 100, 150, 200],
                        help="the levels, comma-separated (default 25,50,100,150,200)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per level (default 60)")
    parser.add_argument("--think", type=float, default=5.0, help="seconds between a session's clicks (default 5)")
    parser.add_argument("--team-dir", type=Path, help="scripts/run-team.sh's folder: measure its replicas")
    parser.add_argument("--limit", type=float, default=KNEE_LIMIT_S, help="the click p95 of the knee (default 1.5 s)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    try:
        report = sweep(args.url, args.sessions, args.duration, args.think, args.team_dir, args.limit)
    except load.LoadError as exc:
        parser.error(str(exc))
    print(table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
