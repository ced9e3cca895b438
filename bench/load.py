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

**Failover** (``--kill-after S`` with ``--team-dir``): S seconds into the run the replica serving
the most sessions (by the ``X-Border-Brief-Replica`` header nginx adds) is SIGKILLed from its pid
file; the report's ``failover`` object says which, how many sessions it served, how many of them
reconnected (to which replica) and how long after the kill each was rendered again (p50/max), and
counts errors on its sessions and on the others separately. A session notices a closed socket
at once (also while thinking), as a browser does; a reconnected session must show the event its
URL names again, or that is an error.

**Reality check** (``--compare-browser``): one protocol session and one headless Chromium
(bench/browser.py: only loopback requests) click the same events on the same server, one after
the other; the browser's click → panel less streamlit-folium's 250 ms debounce is set against
this tool's click, with the browser side split in the page's own clock (click → BackMsg sent,
BackMsg → title in the panel).

Bounded: only loopback URLs; at most ``MAX_SESSIONS`` sessions and ``MAX_DURATION_S`` seconds;
every run stops by itself.

Examples::

    python -m bench.load --url http://127.0.0.1:8501/ --sessions 1 --duration 30
    python -m bench.load --url http://127.0.0.1:8080/ --sessions 50 --duration 120 --think 5 \\
        --team-dir var/team --json bench/results/load-latest.json
    python -m bench.load --url http://127.0.0.1:8080/ --sessions 20 --duration 60 --think 5 \\
        --team-dir var/team --kill-after 25
    python -m bench.load --url http://127.0.0.1:8601/ --compare-browser --compare-rounds 4
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


#: A run that ended well: the whole page's, or (a click on the map) only the side panel's
#: fragment (ui.panel.side_panel), which is what a click reruns.
FINISHED_OK = frozenset({"FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"})


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


def event_titles(path: Path | None = None) -> dict[str, str]:
    """Event id -> its title in the catalogue files: what a panel showing that event contains."""
    path = path or Path(__file__).resolve().parent.parent / "data" / "events.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {f["properties"]["id"]: f["properties"].get("title") or "" for f in features
            if f.get("properties", {}).get("id")}


def _linked_event(query: str) -> str | None:
    values = urllib.parse.parse_qs(query).get("event")
    return values[0] if values else None


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
        if fields[0] in ("Z", "X"):  # killed, not yet reaped: gone
            return None
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
    session_errors: dict = field(default_factory=dict)  # session index -> errors it saw
    back_at: dict = field(default_factory=dict)  # session index -> monotonic time of its last reconnected render
    back_on: dict = field(default_factory=dict)  # session index -> the replica it reconnected to

    def error(self, index: int | None, message: str) -> None:
        self.errors.append(message if index is None else f"session {index}: {message}")
        if index is not None:
            self.session_errors[index] = self.session_errors.get(index, 0) + 1


def _last_replica(header: str | None) -> str | None:
    """The replica that answered: nginx names every upstream it tried (``a, b``), the last answered."""
    return header.split(",")[-1].strip() if header else None


async def _pause(session: "Session", seconds: float) -> None:
    """Think time that ends early when the session's socket closes (a browser notices at once)."""
    if seconds <= 0:
        return
    ws = session.ws
    if ws is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(ws.wait_closed(), seconds)
    except (asyncio.TimeoutError, TimeoutError):
        pass


def _shows_other_event(render: "Render", event_id: str | None, titles: dict[str, str] | None) -> bool:
    """True when a render after a reconnection lost the event its URL names (a known title only:
    a store may hold events the files do not; an edited title keeps the file's as its start)."""
    from ui.text import md_escape  # the panel's heading is the escaped title (no streamlit import)

    title = (titles or {}).get(event_id or "")
    forms = (title, md_escape(title))
    return bool(title) and not any(form in text for text in render.texts if text.lstrip().startswith("#")
                                   for form in forms)


async def _viewer(index: int, parts, query: str, ids: list[str], deadline: float, think: float,
                  results: Results, monitor: ReplicaMonitor | None, measure_cpu: bool,
                  registry: dict | None = None, titles: dict[str, str] | None = None) -> None:
    session = Session(parts, query.lstrip("?"))
    linked: str | None = None
    if registry is not None:
        registry[index] = session
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
                        results.error(index, f"render {render.status} {render.exceptions[:1]}")
                    elif reconnecting and _shows_other_event(render, linked, titles):
                        results.error(index, f"reconnected, but the panel does not show its event {linked}")
                    elif reconnecting:
                        results.reconnect.append(time.monotonic() - down_since)
                        results.sessions_reconnected.add(index)
                        results.back_at[index] = time.monotonic()
                        results.back_on[index] = _last_replica(session.replica)
                    else:
                        results.first_render.append(render.seconds)
                    reconnecting = False
                    replica = session.replica or "direct"
                    results.replicas_seen[replica] = results.replicas_seen.get(replica, 0) + 1
                    if session.component_id is None:
                        results.error(index, "the map component was not rendered")
                        return
                    await _pause(session, min(think * rng.random(), max(0.0, deadline - time.monotonic())))
                    continue
                cpu0 = monitor.cpu_total() if measure_cpu and monitor else None
                render = await session.click(rng.choice(ids))
                if cpu0 is not None:
                    results.cpu_per_click.append(monitor.cpu_total() - cpu0)
                if render.status not in FINISHED_OK or render.exceptions:
                    results.error(index, f"click {render.status} {render.exceptions[:1]}")
                else:
                    results.clicks.append(render.seconds)
                await _pause(session, min(think, max(0.0, deadline - time.monotonic())))
            except (asyncio.TimeoutError, TimeoutError) as exc:
                results.error(index, f"no answer within {session.timeout:.0f} s ({type(exc).__name__})")
                await session.close()
                return
            except Exception as exc:  # the socket closed (a replica died) or refused: reconnect
                from websockets.exceptions import ConnectionClosed, InvalidHandshake

                if not isinstance(exc, (ConnectionClosed, InvalidHandshake, OSError, urllib.error.URLError)):
                    raise
                if reconnecting and time.monotonic() - down_since > session.timeout:
                    results.error(index, f"could not reconnect: {exc}")
                    return
                if not reconnecting:
                    results.reconnections += 1
                    reconnecting, down_since = True, time.monotonic()
                    linked = _linked_event(session.query)  # the event its URL names: the same after
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


# --- failover: SIGKILL one replica in the middle of the run --------------------------------

def _is_streamlit(pid: int) -> bool:
    try:
        return b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def check_kill(kill_after: float | None, duration: float, team_dir: Path | None) -> dict[str, int]:
    """The live replicas --kill-after may choose from (name -> pid); LoadError when it cannot run."""
    if kill_after is None:
        return {}
    if not 0 < kill_after < duration:
        raise LoadError(f"--kill-after must be more than 0 and less than --duration ({duration:g} s), got {kill_after:g}")
    if team_dir is None:
        raise LoadError("--kill-after needs --team-dir (the replicas' pid files from scripts/run-team.sh)")
    live = {name: pid for name, pid in discover_pids(urllib.parse.urlsplit("http://127.0.0.1/"), team_dir).items()
            if _is_streamlit(pid)}
    if len(live) < 2:
        raise LoadError(f"--kill-after needs at least two live replicas in {team_dir}/replicas, found {len(live)}")
    return live


@dataclass
class Kill:
    replica: str
    pid: int
    at: float  # monotonic time of the SIGKILL
    at_s: float  # seconds into the run
    victims: list  # indexes of the sessions the killed replica served at that moment
    others: list  # every other session


async def _killer(after: float, started: float, live: dict[str, int], registry: dict, out: list) -> None:
    """``after`` s into the run, SIGKILL the replica serving the most sessions (the first on a tie)."""
    import signal

    await asyncio.sleep(max(0.0, started + after - time.monotonic()))
    serving: dict[str, list[int]] = {name: [] for name in live}
    for index, session in registry.items():
        name = _last_replica(session.replica)
        if name in serving:
            serving[name].append(index)
    victim = max(live, key=lambda name: len(serving[name]))
    pid = live[victim]
    if not _is_streamlit(pid):  # the pid file is stale: never signal another process
        out.append(None)
        return
    os.kill(pid, signal.SIGKILL)
    at = time.monotonic()
    victims = sorted(serving[victim])
    out.append(Kill(victim, pid, at, round(at - started, 2), victims,
                    sorted(i for i in registry if i not in set(victims))))


def failover_report(kill: "Kill | None", results: Results) -> dict:
    """What the kill did to the sessions: who reconnected, how fast, and who saw errors."""
    if kill is None:
        return {"killed_replica": None, "note": "no replica was killed (its pid file named no streamlit process)"}
    back = [results.back_at[i] - kill.at for i in kill.victims if results.back_at.get(i, 0) > kill.at]
    stats = _stats(back)
    landed: dict[str, int] = {}
    for i in kill.victims:
        if results.back_at.get(i, 0) > kill.at:
            landed[results.back_on[i] or "?"] = landed.get(results.back_on[i] or "?", 0) + 1
    return {
        "killed_replica": kill.replica, "killed_pid": kill.pid, "killed_at_s": kill.at_s,
        "sessions_on_killed_replica": len(kill.victims),
        "sessions_reconnected": stats["n"],
        "reconnect_after_kill_p50_s": stats["p50"], "reconnect_after_kill_max_s": stats["max"],
        "reconnected_to": landed,
        "errors_killed_replica_sessions": sum(results.session_errors.get(i, 0) for i in kill.victims),
        "other_sessions": len(kill.others),
        "errors_other_sessions": sum(results.session_errors.get(i, 0) for i in kill.others),
        "other_sessions_reconnected": sum(1 for i in kill.others if results.back_at.get(i, 0) > kill.at),
    }


async def run_load(url: str, sessions: int, duration: float, think: float, link: str = DEFAULT_LINK,
                   pids: dict[str, int] | None = None, team_dir: Path | None = None,
                   measure_cpu: bool | None = None, kill_after: float | None = None) -> dict:
    """Run the load; the report as a dict (see ``table``). With ``kill_after``, SIGKILL one of
    ``team_dir``'s replicas that many seconds in (the one serving the most sessions)."""
    parts = check_bounds(url, sessions, duration, think)
    live = check_kill(kill_after, duration, team_dir)
    pids = pids if pids is not None else discover_pids(parts, team_dir)
    monitor = ReplicaMonitor(pids) if pids else None
    # CPU per operation is only meaningful when one operation runs at a time.
    measure_cpu = (sessions == 1) if measure_cpu is None else measure_cpu
    titles = event_titles()
    ids = list(titles)
    results = Results()
    started = time.monotonic()
    deadline = started + duration
    query = link.split("?", 1)[1] if "?" in link else ""

    async def sampler():
        while monitor is not None:
            monitor.sample()
            await asyncio.sleep(1.0)

    sampling = asyncio.create_task(sampler())
    registry: dict[int, Session] = {}
    viewers = [
        asyncio.create_task(_viewer(i, parts, query, ids, deadline, think, results, monitor, measure_cpu, registry,
                                    titles))
        for i in range(sessions)
    ]
    kills: list = []
    killer = asyncio.create_task(_killer(kill_after, started, live, registry, kills)) if live else None
    # Hard stop: whatever happens, the run ends shortly after its duration.
    done, pending = await asyncio.wait(viewers, timeout=duration + RENDER_TIMEOUT_S + 5)
    for task in pending:
        task.cancel()
        results.error(viewers.index(task), "did not stop in time and was cancelled")
    for task in done:
        if task.exception() is not None:
            results.error(viewers.index(task), f"crashed: {task.exception()!r}")
    sampling.cancel()
    if killer is not None:
        if not killer.done():
            killer.cancel()
        elif killer.exception() is not None:
            results.error(None, f"the kill failed: {killer.exception()!r}")
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
        **({"failover": failover_report(kills[0] if kills else None, results)} if live else {}),
    }


# --- reality check: the protocol click against a real browser's, on the same server ----------

BROWSER_DEBOUNCE_S = 0.25  # streamlit-folium sends a click 250 ms after it (underscore's debounce)


class _Watch:
    """A session's WebSocket that also notes when a text first arrives after each send."""

    def __init__(self, ws):
        self.ws, self.text, self.sent, self.seen = ws, None, 0.0, None

    async def send(self, data) -> None:
        self.seen, self.sent = None, time.perf_counter()
        await self.ws.send(data)

    async def recv(self):
        raw = await self.ws.recv()
        if self.text and self.seen is None:
            from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

            fmsg = ForwardMsg()
            fmsg.ParseFromString(raw)
            if fmsg.WhichOneof("type") == "delta" and fmsg.delta.WhichOneof("type") == "new_element":
                texts: list[str] = []
                _element_texts(fmsg.delta.new_element, texts, [])
                from ui.text import md_escape

                forms = (self.text, md_escape(self.text))
                if any(form in t for t in texts if t.lstrip().startswith("#") for form in forms):
                    self.seen = time.perf_counter() - self.sent
        return raw

    def __getattr__(self, name):
        return getattr(self.ws, name)


def comparison_events(linked: str | None, count: int) -> list[tuple[str, str]]:
    """(id, title) of up to ``count`` events of the crisis (May 2023 on) at points no other event
    shares (not the linked one): each is a marker of its own, so a click on it opens no pick list."""
    path = Path(__file__).resolve().parent.parent / "data" / "events.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    points: dict[tuple, list] = {}
    for f in features:
        if f.get("geometry", {}).get("type") == "Point":
            points.setdefault(tuple(round(c, 4) for c in f["geometry"]["coordinates"]), []).append(f)
    chosen = []
    for group in points.values():
        props = group[0]["properties"]
        if (len(group) == 1 and props["id"] != linked and str(props.get("date", "")) >= "2023-05-01"
                and props.get("title")):
            chosen.append((props["id"], props["title"]))
    return chosen[:count]


# Timestamps taken in the page itself (the clock performance.timeOrigin + performance.now()):
# each message Streamlit's WebSocket sends. Measuring only: nothing of the app is called or changed.
_TIMING_SCRIPT = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__bbTiming = {sent: []};
  if (window === window.top && window.WebSocket) {
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function () {
      if (String(this.url).endsWith("/_stcore/stream")) window.__bbTiming.sent.push(now());
      return send.apply(this, arguments);
    };
  }
})();
"""
# The panel's text without the event feed's list (shown while nothing is selected, it holds
# every title, so a title there is no sign of a selection).
_PANEL_TEXT_JS = ("const el = document.querySelector('.st-key-bb_panel'); const feed = el && "
                  "el.querySelector('.st-key-bb_feed_list'); const shown = !el ? '' : (feed ? "
                  "el.innerText.replace(feed.innerText, '') : el.innerText);")
_PANEL_SHOWN_AT = """
(title) => { %s
             if (!shown.includes(title)) return false;
             return performance.timeOrigin + performance.now(); }
""" % _PANEL_TEXT_JS


_PAGE_NOW = "() => performance.timeOrigin + performance.now()"


def _split(page, clicked_ms: float, shown_ms: float) -> tuple[float | None, float | None]:
    """(click → the BackMsg leaving the page, BackMsg → the title in the panel), in the page's clock."""
    sent = page.evaluate("(after) => window.__bbTiming.sent.find((t) => t >= after) || null", clicked_ms)
    if sent is None:
        return None, None
    return (sent - clicked_ms) / 1000, (shown_ms - sent) / 1000


def _browser_click(page, event_id: str, title: str, limit_s: float) -> tuple[float, float | None, float | None] | None:
    """A real mouse click on the event's marker: (seconds until its title is in the panel, of
    which click → BackMsg sent, BackMsg sent → title in the panel), or None if it was not found."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from bench import browser as bb

    for attempt in range(2):  # a click landing while a run replaces the map's frame is lost: once more
        frame = bb._loaded_map_frame(page, time.perf_counter() + limit_s)
        if frame is None:
            return None
        point = frame.evaluate(bb._OURS_MARKER_PIXEL, [event_id, 20_000])  # where it is drawn
        if point is None:
            return None
        box = page.query_selector(bb.MAP_FRAME).bounding_box()
        clicked_ms = page.evaluate(_PAGE_NOW)  # the page's clock, a moment before the click
        started = time.perf_counter()
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
        # A place drawn at the same point opens the map's pick list: choosing the event there (a
        # mouse click on its button) is the click that is sent, so the time runs from that one.
        try:
            shown = page.wait_for_function(
                "([title, frameSel]) => { " + _PANEL_TEXT_JS +
                " if (shown.includes(title)) return 'panel';"
                " const f = document.querySelector(frameSel); const d = f && f.contentDocument;"
                " return d && d.querySelector('.bb-pick') ? 'pick' : false; }",
                arg=[title, bb.MAP_FRAME], timeout=(limit_s if attempt else min(limit_s, 15)) * 1000, polling="raf",
            ).json_value()
            break
        except PlaywrightTimeout:
            if attempt:
                raise
    if shown == "pick":
        button = frame.locator(f'.bb-pick button[data-bb-pick="events|{event_id}"]')
        button.wait_for(timeout=limit_s * 1000)
        button.wait_for(state="visible", timeout=limit_s * 1000)
        clicked_ms = page.evaluate(_PAGE_NOW)
        started = time.perf_counter()
        button.click()
    shown_ms = page.wait_for_function(_PANEL_SHOWN_AT, arg=title, timeout=limit_s * 1000, polling="raf").json_value()
    seconds = time.perf_counter() - started
    return (seconds, *_split(page, clicked_ms, shown_ms))


def compare_browser(url: str, link: str = DEFAULT_LINK, rounds: int = 3, limit_s: float = 60.0) -> dict:
    """One protocol session and one headless Chromium on the same server, one at a time: the
    same events clicked by each, alternately. The browser's click → panel less the 250 ms
    debounce is set against bench.load's click (to ``script_finished``) and against the moment
    the protocol session receives the panel's title."""
    parts = check_url(url)
    if not 1 <= rounds <= 10:
        raise LoadError(f"--compare-rounds must be 1 to 10, got {rounds}")
    from bench import browser as bb

    linked = _linked_event(link.split("?", 1)[1] if "?" in link else "")
    events = comparison_events(linked, rounds)
    query = link.split("?", 1)[1] if "?" in link else ""
    session = Session(parts, query)
    rows = []
    notes: list[str] = []

    async def protocol_open():
        await session.connect()
        session.ws = _Watch(session.ws)
        return await session.rerun()

    async def protocol_click(event_id: str, title: str):
        session.ws.text = title
        render = await session.click(event_id)
        return render, session.ws.seen

    # The protocol session's event loop runs in a thread of its own: Playwright's sync API
    # holds one in this thread.
    import concurrent.futures

    pool = concurrent.futures.ThreadPoolExecutor(1)
    loop = asyncio.new_event_loop()

    def on_loop(coroutine):
        return pool.submit(loop.run_until_complete, coroutine).result()

    result = bb.BrowserResult()
    try:
        first = on_loop(protocol_open())
        if first.status != "FINISHED_SUCCESSFULLY" or first.exceptions or not first.component_id:
            raise LoadError(f"the protocol session could not render {link}: {first.status} {first.exceptions[:1]}")
        base = url if url.endswith("/") else url + "/"
        with bb.chromium() as chromium:
            context, page = bb.new_page(chromium, result)
            page.add_init_script(_TIMING_SCRIPT)
            try:
                page.goto(base + ("?" + query if query else ""), wait_until="commit", timeout=limit_s * 1000)
                if bb._loaded_map_frame(page, time.perf_counter() + limit_s) is None:
                    raise LoadError(f"the browser did not show the map within {limit_s:g} s")
                page.wait_for_timeout(1500)  # the first run's last messages
                for event_id, title in events:
                    try:
                        clicked = _browser_click(page, event_id, title, limit_s)
                    except Exception as exc:  # noqa: BLE001  (Playwright's timeouts share no base)
                        notes.append(f"{event_id}: the browser's click was not answered ({type(exc).__name__})")
                        clicked = None
                    seconds, to_send, to_panel = clicked or (None, None, None)
                    page.wait_for_timeout(1500)  # the click's run ends before the protocol's
                    render, seen = on_loop(protocol_click(event_id, title))
                    ok = render.status in FINISHED_OK and not render.exceptions and seen is not None
                    if seconds is None or not ok:
                        notes.append(f"{event_id}: browser {seconds}, protocol {render.status} seen {seen}")
                        continue
                    rnd = lambda v: None if v is None else round(v, 3)  # noqa: E731
                    rows.append({"event": event_id, "browser_s": round(seconds, 3),
                                 "browser_less_debounce_s": round(seconds - BROWSER_DEBOUNCE_S, 3),
                                 "browser_click_to_backmsg_s": rnd(to_send),
                                 "browser_backmsg_to_panel_s": rnd(to_panel),
                                 "protocol_click_s": round(render.seconds, 3), "protocol_panel_s": round(seen, 3)})
                    page.wait_for_timeout(500)
            finally:
                context.close()
    finally:
        try:
            on_loop(session.close())
        finally:
            pool.submit(loop.close).result()
            pool.shutdown()
    notes += [n for n in result.notes] + [f"blocked (not loopback): {h}" for h in sorted(result.blocked)]
    med = lambda key: round(statistics.median(r[key] for r in rows), 3) if rows else None  # noqa: E731
    browser, protocol, panel = med("browser_less_debounce_s"), med("protocol_click_s"), med("protocol_panel_s")
    ratio = round(browser / protocol, 2) if browser and protocol else None
    return {
        "url": url, "link": link, "rounds": rows, "notes": notes,
        "browser_click_p50_s": med("browser_s"), "browser_less_debounce_p50_s": browser,
        "protocol_click_p50_s": protocol, "protocol_panel_p50_s": panel,
        "ratio_browser_to_protocol": ratio,
        "ratio_browser_to_protocol_panel": round(browser / panel, 2) if browser and panel else None,
        "agree_within_20_percent": None if ratio is None else abs(ratio - 1) <= 0.2,
    }


def compare_table(report: dict) -> str:
    def f(v):
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    lines = [f"reality check at one session: {report['url']}{report['link']}", "",
             "| event | browser click → panel (s) | less 250 ms debounce (s) | in the page: click → BackMsg sent (s) | "
             "BackMsg sent → title in the panel (s) | bench.load click (s) | protocol: panel title arrives (s) |",
             "|---|---|---|---|---|---|---|"]
    for r in report["rounds"]:
        lines.append(f"| {r['event']} | {r['browser_s']:.3f} | {r['browser_less_debounce_s']:.3f} | "
                     f"{f(r['browser_click_to_backmsg_s'])} | {f(r['browser_backmsg_to_panel_s'])} | "
                     f"{r['protocol_click_s']:.3f} | {r['protocol_panel_s']:.3f} |")
    lines += ["", f"median: browser less debounce {f(report['browser_less_debounce_p50_s'])} s, bench.load click "
              f"{f(report['protocol_click_p50_s'])} s: ratio {f(report['ratio_browser_to_protocol'])} "
              f"({'within' if report['agree_within_20_percent'] else 'not within'} 20 %); to the panel's title "
              f"{f(report['protocol_panel_p50_s'])} s: ratio {f(report['ratio_browser_to_protocol_panel'])}"]
    lines += [f"  note: {n}" for n in report["notes"]]
    return "\n".join(lines)


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
    fo = report.get("failover")
    if fo and fo.get("killed_replica"):
        lines += [
            "",
            f"failover: SIGKILL {fo['killed_replica']} (pid {fo['killed_pid']}) {fo['killed_at_s']:.1f} s in; "
            f"{fo['sessions_reconnected']} of its {fo['sessions_on_killed_replica']} session(s) reconnected "
            f"to {', '.join(f'{k} ({v})' for k, v in fo['reconnected_to'].items()) or 'none'} "
            f"(after the kill: p50 {f(fo['reconnect_after_kill_p50_s'])} s, max {f(fo['reconnect_after_kill_max_s'])} s); "
            f"errors: {fo['errors_killed_replica_sessions']} on its sessions, "
            f"{fo['errors_other_sessions']} on the {fo['other_sessions']} other session(s)",
        ]
    elif fo:
        lines += ["", f"failover: {fo['note']}"]
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
    parser.add_argument("--kill-after", type=float, default=None,
                        help="failover: SIGKILL the replica serving the most sessions this many seconds in "
                             "(needs --team-dir and two live replicas)")
    parser.add_argument("--compare-browser", action="store_true",
                        help="reality check instead of a load run: one protocol session and one headless Chromium "
                             "click the same events on --url; report both click times and their ratio")
    parser.add_argument("--compare-rounds", type=int, default=3, help="events clicked by each in --compare-browser (1 to 10)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    pids = None
    if args.pids:
        try:
            pids = {f"pid {p}": int(p) for p in args.pids.split(",") if p.strip()}
        except ValueError:
            parser.error(f"--pids takes comma-separated process ids, got {args.pids!r}")
    if args.compare_browser:
        try:
            report = compare_browser(args.url, args.link, args.compare_rounds)
        except LoadError as exc:
            print(f"bench.load: {exc}", file=sys.stderr)
            return 2
        print(compare_table(report))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return 0 if report["rounds"] else 1
    try:
        check_bounds(args.url, args.sessions, args.duration, args.think)  # before any event loop
        check_kill(args.kill_after, args.duration, args.team_dir)
        report = asyncio.run(run_load(args.url, args.sessions, args.duration, args.think, args.link,
                                      pids=pids, team_dir=args.team_dir, kill_after=args.kill_after))
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
