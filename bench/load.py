"""``python -m bench.load``: concurrent viewer sessions at Streamlit's protocol level.

Each session does what a browser viewer does, without a browser (a browser per session would
measure the browsers on a 2-core machine, not the server):

1. ``GET`` the deep link (through nginx this hands out the ``bb_affinity`` cookie that pins the
   session to one replica; deploy/nginx/border-brief.conf.in);
2. opens Streamlit's WebSocket ``/_stcore/stream`` and sends a ``rerun_script`` BackMsg with the
   link's query string, as the page does, then reads ForwardMsgs until ``script_finished``:
   that is the **first render**;
3. "clicks" an event: a rerun whose widget state for the map component (streamlit-folium,
   ``key="bb_map"``) is the JSON value the component sends on a click,
   ``{"last_object_clicked_popup": "events|<event id>|<nonce>"}`` (decoded by
   ``ui.state.parse_click``), timed from the send to ``script_finished``: **click → panel**
   (streamlit-folium's 250 ms click debounce in the browser is not part of it);
4. waits the think time and clicks again, until the run's duration is over.

A closed WebSocket (a replica killed) is a **reconnection**: the session opens a new socket with
the same cookie and reruns its current URL, as Streamlit's page does; the time until that render
is recorded. An exception shown by the app, a failed render or a failed reconnection is an
**error**. Replicas' resident memory and CPU come from /proc (``--pids``, or ``--team-dir`` for
scripts/run-team.sh's pid files, or the process listening on the URL's port).

Bounded: only loopback URLs; at most ``MAX_SESSIONS`` sessions and ``MAX_DURATION_S`` seconds;
every run stops by itself.

Examples::

    python -m bench.load --url http://127.0.0.1:8501/ --sessions 1 --duration 30
    python -m bench.load --url http://127.0.0.1:8080/ --sessions 50 --duration 120 --think 5 \\
        --team-dir var/team --json bench/results/load-latest.json
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookies
import ipaddress
import json
import os
import random
import socket
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

MAX_SESSIONS = 200
MAX_DURATION_S = 900.0
DEFAULT_LINK = "?event=2023-09-24-banjska-attack"
MAP_WIDGET_KEY = "bb_map"
RENDER_TIMEOUT_S = 60.0
_CLK_TCK = os.sysconf("SC_CLK_TCK")


class LoadError(Exception):
    """Bad arguments (not loopback, over the bounds, ...)."""


# --- the URL ------------------------------------------------------------------------------

def check_url(url: str) -> urllib.parse.SplitResult:
    """The parsed URL if it is http(s) on a loopback address; LoadError otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadError(f"--url must be an http:// URL of the app, got {url!r}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise LoadError(f"cannot resolve {parts.hostname!r}: {exc}") from None
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise LoadError(
            f"load goes only to loopback addresses; {parts.hostname!r} is {', '.join(sorted(addresses))}"
        )
    return parts


def check_bounds(url: str, sessions: int, duration: float, think: float) -> urllib.parse.SplitResult:
    """The run's bounds and its loopback URL; LoadError when one is out of range."""
    if not 1 <= sessions <= MAX_SESSIONS:
        raise LoadError(f"--sessions must be 1 to {MAX_SESSIONS}, got {sessions}")
    if not 0 < duration <= MAX_DURATION_S:
        raise LoadError(f"--duration must be more than 0 and at most {MAX_DURATION_S:.0f} s, got {duration}")
    if not 0 <= think <= 600:
        raise LoadError(f"--think must be 0 to 600 s, got {think}")
    return check_url(url)


def event_ids(path: Path | None = None) -> list[str]:
    """The catalogue's event ids (data/events.geojson), the events a session clicks."""
    path = path or Path(__file__).resolve().parent.parent / "data" / "events.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [f["properties"]["id"] for f in features if f.get("properties", {}).get("id")]


# --- one render: the ForwardMsgs up to script_finished ------------------------------------

@dataclass
class Render:
    seconds: float
    status: str
    texts: list[str]
    exceptions: list[str]
    component_id: str | None
    query_string: str | None


def _element_texts(element, texts: list[str], exceptions: list[str]) -> str | None:
    kind = element.WhichOneof("type")
    if kind == "markdown":
        texts.append(element.markdown.body)
    elif kind == "text":
        texts.append(element.text.body)
    elif kind == "heading":
        texts.append(element.heading.body)
    elif kind == "alert":
        texts.append(element.alert.body)
    elif kind == "html":
        texts.append(element.html.body)
    elif kind == "exception":
        exceptions.append(f"{element.exception.type}: {element.exception.message}")
    elif kind == "component_instance":
        inst = element.component_instance
        if inst.id.endswith(MAP_WIDGET_KEY) or "st_folium" in inst.component_name:
            return inst.id
    return None


class Session:
    """One viewer: a cookie jar, a WebSocket, the current query string and the map's widget id."""

    def __init__(self, base: urllib.parse.SplitResult, query: str, timeout: float = RENDER_TIMEOUT_S):
        self.base = base
        self.query = query
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.component_id: str | None = None
        self.replica: str | None = None

    @property
    def http_url(self) -> str:
        path = self.base.path if self.base.path.endswith("/") else self.base.path + "/"
        return urllib.parse.urlunsplit((self.base.scheme, self.base.netloc, path, self.query, ""))

    @property
    def ws_url(self) -> str:
        path = (self.base.path.rstrip("/") + "/_stcore/stream")
        return urllib.parse.urlunsplit(("wss" if self.base.scheme == "https" else "ws", self.base.netloc, path, "", ""))

    def _get_page(self) -> None:
        request = urllib.request.Request(self.http_url)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()
            self.replica = response.headers.get("X-Border-Brief-Replica") or self.replica
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        await asyncio.to_thread(self._get_page)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await asyncio.wait_for(
            connect(self.ws_url, subprotocols=["streamlit"], additional_headers=headers,
                    max_size=None, open_timeout=self.timeout, ping_interval=None, compression=None),
            self.timeout,
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def rerun(self, widget_value: dict | None = None) -> Render:
        """Send a rerun (with the map's value if given) and read until the script finishes."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = ""
        state.page_name = ""
        if widget_value is not None and self.component_id:
            widget = state.widget_states.widgets.add()
            widget.id = self.component_id
            widget.json_value = json.dumps(widget_value)
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        return await asyncio.wait_for(self._read_until_finished(start), self.timeout)

    async def _read_until_finished(self, start: float) -> Render:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        texts: list[str] = []
        exceptions: list[str] = []
        query: str | None = None
        while True:
            raw = await self.ws.recv()
            fmsg = ForwardMsg()
            fmsg.ParseFromString(raw)
            kind = fmsg.WhichOneof("type")
            if kind == "delta" and fmsg.delta.WhichOneof("type") == "new_element":
                found = _element_texts(fmsg.delta.new_element, texts, exceptions)
                if found:
                    self.component_id = found
            elif kind == "page_info_changed":
                query = fmsg.page_info_changed.query_string
                self.query = query
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fmsg.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue
                return Render(time.perf_counter() - start, status, texts, exceptions,
                              self.component_id, query)

    async def click(self, feature_id: str, layer: str = "events") -> Render:
        nonce = f"{random.random():.12f}"[2:]
        return await self.rerun({"last_object_clicked_popup": f"{layer}|{feature_id}|{nonce}"})


# --- the replicas' processes --------------------------------------------------------------

def _listening_pid(port: int) -> int | None:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def discover_pids(parts: urllib.parse.SplitResult, team_dir: Path | None) -> dict[str, int]:
    """Replica name -> pid: run-team.sh's pid files, else the streamlit process on the URL's port."""
    found: dict[str, int] = {}
    if team_dir is not None:
        for pidfile in sorted((team_dir / "replicas").glob("*.pid")):
            try:
                found[f"127.0.0.1:{pidfile.stem}"] = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return found
    pid = _listening_pid(parts.port or 80)
    if pid is not None:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            cmdline = b""
        if b"streamlit" in cmdline:
            found[f"127.0.0.1:{parts.port}"] = pid
    return found


def proc_sample(pid: int) -> tuple[float, int] | None:
    """(CPU seconds used so far, resident bytes) of a process, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / _CLK_TCK
        rss_kb = 0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
        return cpu, rss_kb * 1024
    except (OSError, ValueError, IndexError):
        return None


class ReplicaMonitor:
    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.start = {name: proc_sample(pid) for name, pid in pids.items()}
        self.max_rss = {name: (s[1] if s else 0) for name, s in self.start.items()}
        self.last = dict(self.start)

    def sample(self) -> None:
        for name, pid in self.pids.items():
            s = proc_sample(pid)
            if s is not None:
                self.last[name] = s
                self.max_rss[name] = max(self.max_rss[name], s[1])

    def cpu_total(self) -> float:
        total = 0.0
        for name, pid in self.pids.items():
            s = proc_sample(pid)
            if s is not None:
                total += s[0]
        return total

    def report(self, seconds: float) -> list[dict]:
        self.sample()
        rows = []
        for name, pid in self.pids.items():
            first, last = self.start.get(name), self.last.get(name)
            cpu = (last[0] - first[0]) if first and last else None
            rows.append({
                "replica": name, "pid": pid,
                "alive": proc_sample(pid) is not None,
                "rss_mb": round(last[1] / 2**20, 1) if last else None,
                "max_rss_mb": round(self.max_rss[name] / 2**20, 1),
                "cpu_s": round(cpu, 2) if cpu is not None else None,
                "cpu_percent": round(100 * cpu / seconds, 1) if cpu is not None and seconds > 0 else None,
            })
        return rows


# --- the run ------------------------------------------------------------------------------

@dataclass
class Results:
    first_render: list[float] = field(default_factory=list)
    clicks: list[float] = field(default_factory=list)
    reconnect: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reconnections: int = 0
    sessions_reconnected: set = field(default_factory=set)
    replicas_seen: dict = field(default_factory=dict)
    cpu_per_click: list[float] = field(default_factory=list)
    cpu_per_render: list[float] = field(default_factory=list)


async def _viewer(index: int, parts, query: str, ids: list[str], deadline: float, think: float,
                  results: Results, monitor: ReplicaMonitor | None, measure_cpu: bool) -> None:
    session = Session(parts, query.lstrip("?"))
    rng = random.Random(index)
    reconnecting = False
    down_since = 0.0
    try:
        while time.monotonic() < deadline:
            try:
                if session.ws is None:
                    await session.connect()
                    cpu0 = monitor.cpu_total() if measure_cpu and monitor else None
                    render = await session.rerun()
                    if cpu0 is not None:
                        results.cpu_per_render.append(monitor.cpu_total() - cpu0)
                    if render.status != "FINISHED_SUCCESSFULLY" or render.exceptions:
                        results.errors.append(f"session {index}: render {render.status} {render.exceptions[:1]}")
                    elif reconnecting:
                        results.reconnect.append(time.monotonic() - down_since)
                        results.sessions_reconnected.add(index)
                    else:
                        results.first_render.append(render.seconds)
                    reconnecting = False
                    replica = session.replica or "direct"
                    results.replicas_seen[replica] = results.replicas_seen.get(replica, 0) + 1
                    if session.component_id is None:
                        results.errors.append(f"session {index}: the map component was not rendered")
                        return
                    await asyncio.sleep(min(think * rng.random(), max(0.0, deadline - time.monotonic())))
                    continue
                cpu0 = monitor.cpu_total() if measure_cpu and monitor else None
                render = await session.click(rng.choice(ids))
                if cpu0 is not None:
                    results.cpu_per_click.append(monitor.cpu_total() - cpu0)
                if render.status != "FINISHED_SUCCESSFULLY" or render.exceptions:
                    results.errors.append(f"session {index}: click {render.status} {render.exceptions[:1]}")
                else:
                    results.clicks.append(render.seconds)
                await asyncio.sleep(min(think, max(0.0, deadline - time.monotonic())))
            except (asyncio.TimeoutError, TimeoutError) as exc:
                results.errors.append(f"session {index}: no answer within {session.timeout:.0f} s ({type(exc).__name__})")
                await session.close()
                return
            except Exception as exc:  # the socket closed (a replica died) or refused: reconnect
                from websockets.exceptions import ConnectionClosed, InvalidHandshake

                if not isinstance(exc, (ConnectionClosed, InvalidHandshake, OSError, urllib.error.URLError)):
                    raise
                if reconnecting and time.monotonic() - down_since > session.timeout:
                    results.errors.append(f"session {index}: could not reconnect: {exc}")
                    return
                if not reconnecting:
                    results.reconnections += 1
                    reconnecting, down_since = True, time.monotonic()
                session.ws = None
                await asyncio.sleep(0.5)
    finally:
        await session.close()


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, int(round(0.95 * len(ordered))) - 1))]
    return {"n": len(values), "p50": round(statistics.median(ordered), 3), "p95": round(p95, 3),
            "max": round(ordered[-1], 3)}


async def run_load(url: str, sessions: int, duration: float, think: float, link: str = DEFAULT_LINK,
                   pids: dict[str, int] | None = None, team_dir: Path | None = None,
                   measure_cpu: bool | None = None) -> dict:
    """Run the load; the report as a dict (see ``table``)."""
    parts = check_bounds(url, sessions, duration, think)
    pids = pids if pids is not None else discover_pids(parts, team_dir)
    monitor = ReplicaMonitor(pids) if pids else None
    # CPU per operation is only meaningful when one operation runs at a time.
    measure_cpu = (sessions == 1) if measure_cpu is None else measure_cpu
    ids = event_ids()
    results = Results()
    started = time.monotonic()
    deadline = started + duration
    query = link.split("?", 1)[1] if "?" in link else ""

    async def sampler():
        while monitor is not None:
            monitor.sample()
            await asyncio.sleep(1.0)

    sampling = asyncio.create_task(sampler())
    viewers = [
        asyncio.create_task(_viewer(i, parts, query, ids, deadline, think, results, monitor, measure_cpu))
        for i in range(sessions)
    ]
    # Hard stop: whatever happens, the run ends shortly after its duration.
    done, pending = await asyncio.wait(viewers, timeout=duration + RENDER_TIMEOUT_S + 5)
    for task in pending:
        task.cancel()
        results.errors.append("a session did not stop in time and was cancelled")
    for task in done:
        if task.exception() is not None:
            results.errors.append(f"session crashed: {task.exception()!r}")
    sampling.cancel()
    elapsed = time.monotonic() - started
    first, clicks, reconnect = _stats(results.first_render), _stats(results.clicks), _stats(results.reconnect)
    return {
        "url": url, "link": link, "sessions": sessions, "duration_s": duration, "think_s": think,
        "elapsed_s": round(elapsed, 1),
        "replicas": len(pids) if pids else len(results.replicas_seen),
        "first_render_p50_s": first["p50"], "first_render_p95_s": first["p95"], "first_render_max_s": first["max"],
        "renders": first["n"],
        "click_p50_s": clicks["p50"], "click_p95_s": clicks["p95"], "click_max_s": clicks["max"],
        "clicks": clicks["n"],
        "errors": len(results.errors), "error_messages": results.errors[:20],
        "reconnections": results.reconnections,
        "sessions_reconnected": len(results.sessions_reconnected),
        "reconnect_p50_s": reconnect["p50"], "reconnect_max_s": reconnect["max"],
        "sessions_per_replica": results.replicas_seen,
        "server_cpu_per_render_s": round(statistics.median(results.cpu_per_render), 3) if results.cpu_per_render else None,
        "server_cpu_per_click_s": round(statistics.median(results.cpu_per_click), 3) if results.cpu_per_click else None,
        "replica_processes": monitor.report(elapsed) if monitor else [],
    }


def table(report: dict) -> str:
    def f(v):
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    lines = [
        f"load: {report['sessions']} session(s), {report['duration_s']:.0f} s, think {report['think_s']} s, "
        f"{report['replicas']} replica(s): {report['url']}{report['link']}",
        "",
        "| measure | n | p50 (s) | p95 (s) | max (s) |",
        "|---|---|---|---|---|",
        f"| first render | {report['renders']} | {f(report['first_render_p50_s'])} | {f(report['first_render_p95_s'])} | {f(report['first_render_max_s'])} |",
        f"| click → panel | {report['clicks']} | {f(report['click_p50_s'])} | {f(report['click_p95_s'])} | {f(report['click_max_s'])} |",
        "",
        f"errors: {report['errors']}; reconnections: {report['reconnections']} "
        f"({report['sessions_reconnected']} session(s) back, p50 {f(report['reconnect_p50_s'])} s, max {f(report['reconnect_max_s'])} s)",
    ]
    if report["server_cpu_per_render_s"] is not None or report["server_cpu_per_click_s"] is not None:
        lines.append(f"server CPU per page load: {f(report['server_cpu_per_render_s'])} s; "
                     f"per click: {f(report['server_cpu_per_click_s'])} s (median, one session at a time)")
    if report["replica_processes"]:
        lines += ["", "| replica | pid | alive | RSS (MB) | max RSS (MB) | CPU (s) | CPU % |", "|---|---|---|---|---|---|---|"]
        for row in report["replica_processes"]:
            lines.append(f"| {row['replica']} | {row['pid']} | {row['alive']} | {f(row['rss_mb'])} | "
                         f"{f(row['max_rss_mb'])} | {f(row['cpu_s'])} | {f(row['cpu_percent'])} |")
    for message in report["error_messages"][:5]:
        lines.append(f"  error: {message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the app (or nginx) on a loopback address")
    parser.add_argument("--sessions", type=int, default=2, help=f"concurrent viewers (1 to {MAX_SESSIONS})")
    parser.add_argument("--duration", type=float, default=30.0, help=f"seconds (at most {MAX_DURATION_S:.0f})")
    parser.add_argument("--think", type=float, default=5.0, help="seconds between a session's clicks")
    parser.add_argument("--link", default=DEFAULT_LINK, help=f"the deep link each session opens (default {DEFAULT_LINK})")
    parser.add_argument("--pids", default="", help="comma-separated pids of the replicas to measure")
    parser.add_argument("--team-dir", type=Path, help="scripts/run-team.sh's folder: measure its replicas")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    pids = None
    if args.pids:
        try:
            pids = {f"pid {p}": int(p) for p in args.pids.split(",") if p.strip()}
        except ValueError:
            parser.error(f"--pids takes comma-separated process ids, got {args.pids!r}")
    try:
        check_bounds(args.url, args.sessions, args.duration, args.think)  # before any event loop
        report = asyncio.run(run_load(args.url, args.sessions, args.duration, args.think, args.link,
                                      pids=pids, team_dir=args.team_dir))
    except LoadError as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        return 2
    print(table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
