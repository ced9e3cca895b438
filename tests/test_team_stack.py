"""The team stack (scripts/run-team.sh, deploy/): PostGIS, two replicas, nginx in front.

Started once for this module in a temporary folder on free ports: both replicas answer through
nginx with cookie affinity, a viewer session renders on each, a save in the store is seen by
sessions on both replicas on their next rerun (the store's version check, no restart), a killed
replica's session reconnects through nginx to the other and renders the same event, start
brings a dead replica back, and stop stops everything.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bench import load
from tests.teamstack import team_stack

BANJSKA = "2023-09-24-banjska-attack"


def _run(coroutine):
    """asyncio.run in a thread of its own: in a full test run Playwright's sync API (the
    browser tests) may already hold an event loop in this thread."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
TIMEOUT = 240  # a fresh replica's first render loads the catalogue from PostGIS


@pytest.fixture(scope="module")
def stack():
    # Not pytest's tmp_path: its folders are private to root, and as root the cluster runs as
    # an unprivileged user that must reach its folder.
    folder = Path(tempfile.mkdtemp(prefix="bb-team-"))
    folder.chmod(0o711)
    try:
        with team_stack(folder / "team") as running:
            yield running
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _session(stack, port: int) -> load.Session:
    session = load.Session(urllib.parse.urlsplit(stack.url), f"event={BANJSKA}", timeout=TIMEOUT)
    session.cookies["bb_affinity"] = stack.cookie_for(port)
    return session


async def _render(session: load.Session) -> load.Render:
    if session.ws is None:
        await session.connect()
    return await session.rerun()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_both_replicas_answer_through_nginx_with_affinity(stack):
    seen = {stack.replica_of()[0] for _ in range(40)}
    assert seen == {f"127.0.0.1:{port}" for port in stack.replica_ports}
    for port in stack.replica_ports:
        cookie = stack.cookie_for(port)
        # the same cookie always reaches the same replica, and nginx hands out no new one
        assert {stack.replica_of(cookie) for _ in range(10)} == {(f"127.0.0.1:{port}", None)}
        assert _answers(f"http://127.0.0.1:{port}/_stcore/health")
    assert _answers(stack.url + "_stcore/health")
    assert not (stack.folder / "cookie-secret").stat().st_mode & 0o077  # the shared secret is private


def test_a_save_in_the_store_reaches_sessions_on_both_replicas(stack):
    from store.access import command_line
    from store.api import Store

    sessions = [_session(stack, port) for port in stack.replica_ports]

    async def render_all():
        return [await _render(s) for s in sessions]

    async def close_all():
        for s in sessions:
            await s.close()

    async def scenario():
        try:
            before = await render_all()
            head, revision = store.head("events", BANJSKA)
            feature = {**head, "properties": {**head["properties"], "title": new_title, "name": new_title}}
            store.save("events", feature, base_revision=revision, identity=command_line("team-test analyst"),
                       comment="seen by every replica")
            after = [await s.rerun() for s in sessions]  # the next rerun of the same sessions
            return before, after
        finally:
            await close_all()

    store = Store(stack.database_url)
    try:
        old_title = store.head("events", BANJSKA)[0]["properties"]["title"]
        new_title = old_title + " edited by the team test"  # no Markdown escapes
        before, after = _run(scenario())
    finally:
        store.close()
    assert {s.replica for s in sessions} == {f"127.0.0.1:{port}" for port in stack.replica_ports}
    for render in before:
        assert render.status == "FINISHED_SUCCESSFULLY" and not render.exceptions
        assert any(old_title in t for t in render.texts) and not any(new_title in t for t in render.texts)
    for render in after:
        assert render.status == "FINISHED_SUCCESSFULLY" and not render.exceptions
        assert any(new_title in t for t in render.texts), "a replica still shows the old title"


def test_a_killed_replicas_session_comes_back_on_the_other_with_the_same_event(stack):
    victim, survivor = stack.replica_ports
    session = _session(stack, victim)

    async def scenario():
        try:
            first = await _render(session)
            os.kill(stack.pid(victim), signal.SIGKILL)
            with pytest.raises(Exception) as lost:
                await session.rerun()
            session.ws = None
            started = time.monotonic()
            await session.connect()  # a new socket with the same cookie, as the page does
            again = await session.rerun()
            return first, lost.value, again, time.monotonic() - started
        finally:
            await session.close()

    first, lost, again, seconds = _run(scenario())
    from websockets.exceptions import ConnectionClosed

    assert isinstance(lost, ConnectionClosed)
    assert first.status == "FINISHED_SUCCESSFULLY" and any("Banjska" in t for t in first.texts)
    # nginx names every replica it tried: the dead one may come first, the survivor answered
    assert session.replica.split(", ")[-1] == f"127.0.0.1:{survivor}"
    assert again.status == "FINISHED_SUCCESSFULLY" and not again.exceptions
    assert any("Banjska" in t for t in again.texts if t.startswith("#")), "the panel lost the event"
    assert f"event={BANJSKA}" in session.query
    assert seconds < TIMEOUT

    # start again brings the dead replica back; the live parts are left as they are
    survivor_pid = stack.pid(survivor)
    stack.run()
    assert stack.pid(survivor) == survivor_pid
    assert _answers(f"http://127.0.0.1:{victim}/_stcore/health")


def test_the_load_tool_kills_a_replica_mid_run_and_its_sessions_come_back_on_the_other(stack, tmp_path):
    """bench.load --kill-after: 4 sessions through nginx, one replica SIGKILLed 8 s in; its
    sessions reconnect to the survivor and show their event again, the others see no error."""
    import json
    import subprocess
    import sys

    stack.run()  # both replicas alive (an earlier test killed one)
    pids = {f"127.0.0.1:{port}": stack.pid(port) for port in stack.replica_ports}
    out = tmp_path / "failover.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--url", stack.url, "--sessions", "4", "--duration", "20",
         "--think", "1", "--team-dir", str(stack.folder), "--kill-after", "8", "--json", str(out)],
        cwd=load.Path(load.__file__).resolve().parent.parent, capture_output=True, text=True,
        timeout=TIMEOUT + 120, check=False,
    )
    print(done.stdout)
    assert out.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    failover = report["failover"]
    victim = failover["killed_replica"]
    [survivor] = [name for name in pids if name != victim]
    assert failover["killed_pid"] == pids[victim] and 7 <= failover["killed_at_s"] < 12
    assert load.proc_sample(pids[victim]) is None  # really killed (gone, or a zombie not yet reaped)
    assert load.proc_sample(pids[survivor]) is not None
    assert failover["sessions_on_killed_replica"] >= 1
    assert failover["sessions_reconnected"] == failover["sessions_on_killed_replica"]
    assert failover["reconnected_to"] == {survivor: failover["sessions_on_killed_replica"]}
    assert 0 < failover["reconnect_after_kill_p50_s"] <= failover["reconnect_after_kill_max_s"] < TIMEOUT
    assert failover["other_sessions"] == 4 - failover["sessions_on_killed_replica"]
    assert failover["errors_other_sessions"] == 0 and failover["other_sessions_reconnected"] == 0
    assert failover["errors_killed_replica_sessions"] == 0
    assert report["errors"] == 0 and done.returncode == 0, report["error_messages"]
    assert "failover: SIGKILL " + victim in done.stdout
    stack.run()  # the dead replica back for the tests after this one


def test_kill_after_is_refused_without_a_team_or_in_bounds(stack, capsys):
    assert load.main(["--url", stack.url, "--duration", "10", "--kill-after", "5"]) == 2
    assert "--team-dir" in capsys.readouterr().err
    assert load.main(["--url", stack.url, "--duration", "10", "--kill-after", "10",
                      "--team-dir", str(stack.folder)]) == 2
    assert "less than --duration" in capsys.readouterr().err


def test_stop_stops_every_part(stack):
    pids = [stack.pid(port) for port in stack.replica_ports]
    nginx_pid = int((stack.folder / "nginx" / "nginx.pid").read_text())
    done = stack.run("stop")
    assert "stopped" in done.stdout
    for pid in [*pids, nginx_pid]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not _answers(stack.url + "_stcore/health")
    with socket.socket() as sock:  # the cluster's port is free again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", int(stack.database_url.rsplit(":", 1)[1].split("/")[0])))
    assert (stack.folder / "pg" / "data" / "PG_VERSION").exists()  # the data is kept
