"""A real browser through the team stack's nginx: a deep link survives the death of its replica.

The stack (scripts/run-team.sh: PostGIS, two replicas, nginx) runs in a temporary folder on free
ports. Chromium opens ``?event=2023-09-24-banjska-attack`` through nginx; the replica that serves
it (the one its affinity cookie hashes to) is killed with SIGKILL; Streamlit's page reconnects
its WebSocket through nginx and lands on the other replica: the page still shows the same event
(Streamlit's page does not rerun on a reconnect), and a reload renders it on the survivor.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from tests.browser.conftest import PANEL, checked_context, map_frame, open_page, url_params, wait_for_app, wait_for_panel_text
from bench.load import proc_sample
from tests.teamstack import team_stack

BANJSKA = "2023-09-24-banjska-attack"
TITLE = "Kosovo police ambushed at Banjska"


def _dead(pid: int) -> bool:
    """Gone, or a zombie its (re)parent has not reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


@pytest.fixture(scope="module")
def stack():
    folder = Path(tempfile.mkdtemp(prefix="bb-team-browser-"))
    folder.chmod(0o711)  # as root, the cluster's unprivileged user must reach it
    try:
        with team_stack(folder / "team") as running:
            yield running
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_deep_link_comes_back_on_the_other_replica_after_its_replica_is_killed(browser, stack):
    with checked_context(browser) as ctx:
        page, record = open_page(ctx, f"{stack.url}?event={BANJSKA}")
        wait_for_app(page, timeout=240_000)
        map_frame(page, timeout=120_000)
        wait_for_panel_text(page, TITLE, timeout=60_000)

        [cookie] = [c["value"] for c in ctx.cookies() if c["name"] == "bb_affinity"]
        serving, _ = stack.replica_of(cookie)
        victim = int(serving.rsplit(":", 1)[1])
        [survivor] = [p for p in stack.replica_ports if p != victim]

        sockets = []
        page.on("websocket", lambda ws: sockets.append(ws))  # every WebSocket opened from now on
        survivor_cpu = proc_sample(stack.pid(survivor))[0]
        os.kill(stack.pid(victim), signal.SIGKILL)
        killed_at = time.monotonic()

        # The page notices, reconnects through nginx (same cookie, the dead replica is skipped)
        # and its new session reruns the page from its URL.
        deadline = killed_at + 120
        while time.monotonic() < deadline and not sockets:
            page.wait_for_timeout(250)
        assert sockets, "the page did not open a new WebSocket after its replica died"
        wait_for_app(page, timeout=120_000)
        map_frame(page, timeout=120_000)
        wait_for_panel_text(page, TITLE, timeout=60_000)
        back_after = time.monotonic() - killed_at

        assert url_params(page).get("event") == BANJSKA
        assert TITLE in page.inner_text(PANEL)
        # the same cookie now reaches the survivor, and the dead replica stays dead
        assert stack.replica_of(cookie)[0].split(", ")[-1] == f"127.0.0.1:{survivor}"
        assert _dead(stack.pid(victim))
        assert back_after < 120
        # Streamlit's page does not rerun after a reconnect (it expects its old session on the
        # same server), so the panel above is the page as it was. Reloading it reaches the
        # survivor with the same cookie, which runs the deep link again.
        page.reload()  # the browser's reload button (a key press of F5 reaches only the page)
        wait_for_app(page, timeout=120_000)
        map_frame(page, timeout=120_000)
        wait_for_panel_text(page, TITLE, timeout=60_000)
        assert url_params(page).get("event") == BANJSKA
        assert proc_sample(stack.pid(survivor))[0] - survivor_cpu > 0.1  # the survivor ran the page
        print(f"back on 127.0.0.1:{survivor} {back_after:.1f} s after the kill; console: {record.console_errors}")
