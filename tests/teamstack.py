"""The team stack (scripts/run-team.sh) started for a test in a temporary folder on free ports."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "run-team.sh"


@dataclass
class TeamStack:
    url: str  # nginx, the only entry point, with a trailing slash
    folder: Path
    replica_ports: list[int]
    database_url: str
    env: dict[str, str]

    def pid(self, port: int) -> int:
        return int((self.folder / "replicas" / f"{port}.pid").read_text().split()[0])

    def replica_of(self, cookie: str | None = None) -> tuple[str, str | None]:
        """(the replica nginx sent a request to, the affinity cookie it handed out, if any)."""
        request = urllib.request.Request(self.url)
        if cookie:
            request.add_header("Cookie", f"bb_affinity={cookie}")
        with urllib.request.urlopen(request, timeout=30) as response:
            set_cookie = response.headers.get("Set-Cookie") or ""
            given = set_cookie.split(";", 1)[0].split("=", 1)[1] if set_cookie.startswith("bb_affinity=") else None
            return response.headers["X-Border-Brief-Replica"], given

    def cookie_for(self, port: int) -> str:
        """An affinity cookie that nginx maps to the replica on ``port``."""
        for _ in range(200):
            replica, cookie = self.replica_of()
            if replica == f"127.0.0.1:{port}" and cookie:
                return cookie
        raise AssertionError(f"nginx never chose the replica on port {port}")

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        done = subprocess.run([str(SCRIPT), *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports(count: int) -> list[int]:
    """``count`` consecutive free loopback ports."""
    for _ in range(200):
        base = random.randint(20000, 60000 - count)
        if all(_free(base + i) for i in range(count)):
            return list(range(base, base + count))
    raise RuntimeError("no free ports")


@contextlib.contextmanager
def team_stack(folder: Path, replicas: int = 2) -> Iterator[TeamStack]:
    """Start the stack with run-team.sh in ``folder``; always stop it afterwards."""
    replica_ports = _ports(replicas)
    team_port, pg_port = _ports(1)[0], _ports(1)[0]
    env = {
        **os.environ,
        "BORDER_BRIEF_TEAM_DIR": str(folder),
        "BORDER_BRIEF_REPLICAS": str(replicas),
        "BORDER_BRIEF_TEAM_PORT": str(team_port),
        "BORDER_BRIEF_REPLICA_BASE_PORT": str(replica_ports[0]),
        "BORDER_BRIEF_TEAM_PG_PORT": str(pg_port),
        "BORDER_BRIEF_TEAM_TIMEOUT": "240",
    }
    env.pop("BORDER_BRIEF_DATABASE_URL", None)
    stack = TeamStack(f"http://127.0.0.1:{team_port}/", folder, replica_ports,
                      f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/border_brief", env)
    try:
        stack.run()
        yield stack
    finally:
        subprocess.run([str(SCRIPT), "stop"], cwd=REPO, env=env, capture_output=True, timeout=120, check=False)
