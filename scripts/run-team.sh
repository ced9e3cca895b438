#!/usr/bin/env bash
# The team stack on this machine: PostgreSQL 15 + PostGIS, N Streamlit replicas, nginx in front.
#
#   scripts/run-team.sh          start (or finish starting) the stack; prints the URL when it answers
#   scripts/run-team.sh stop     stop what it started
#   scripts/run-team.sh status   one line per part
#
# Settings (environment):
#   BORDER_BRIEF_REPLICAS           replicas (default 2)
#   BORDER_BRIEF_TEAM_PORT          nginx's port, the only entry point (default 8080)
#   BORDER_BRIEF_TEAM_DIR           the stack's folder (default var/team, git-ignored)
#   BORDER_BRIEF_REPLICA_BASE_PORT  first replica's loopback port (default 8601; then 8602, ...)
#   BORDER_BRIEF_TEAM_PG_PORT       the cluster's loopback port (default 55432)
#   BORDER_BRIEF_TEAM_LISTEN        nginx's address (default 127.0.0.1; 0.0.0.0 to share it)
#
# The cluster lives in $DIR/pg (initdb on first start, then `python -m store init`, which seeds
# the catalogue); as root it belongs to the unprivileged 'postgres' (or 'nobody') user, since
# initdb refuses root. nginx is Debian's /usr/sbin/nginx with its own configuration, pid and logs
# in $DIR/nginx (deploy/nginx/), not the system's nginx service. The replicas share one
# server.cookieSecret, generated once into $DIR/cookie-secret.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

replicas="${BORDER_BRIEF_REPLICAS:-2}"
team_port="${BORDER_BRIEF_TEAM_PORT:-8080}"
dir="${BORDER_BRIEF_TEAM_DIR:-$repo/var/team}"
base_port="${BORDER_BRIEF_REPLICA_BASE_PORT:-8601}"
pg_port="${BORDER_BRIEF_TEAM_PG_PORT:-55432}"
listen="${BORDER_BRIEF_TEAM_LISTEN:-127.0.0.1}"
pg_bin="/usr/lib/postgresql/15/bin"
nginx_bin="${BORDER_BRIEF_NGINX:-/usr/sbin/nginx}"
database="border_brief"
db_url="postgresql+psycopg://postgres@127.0.0.1:${pg_port}/${database}"

die() { echo "run-team: $*" >&2; exit 1; }
for value in "$replicas" "$team_port" "$base_port" "$pg_port"; do
    [[ "$value" =~ ^[0-9]+$ ]] || die "ports and BORDER_BRIEF_REPLICAS must be whole numbers, got '$value'"
done
[ "$replicas" -ge 1 ] && [ "$replicas" -le 16 ] || die "BORDER_BRIEF_REPLICAS must be 1 to 16, got $replicas"
case "$dir" in /*) ;; *) dir="$repo/$dir" ;; esac

# As root, the cluster (and nginx's workers) run as an unprivileged user.
pg_user=""
if [ "$(id -u)" = 0 ]; then
    for candidate in postgres nobody; do
        if id -u "$candidate" >/dev/null 2>&1 && [ "$(id -u "$candidate")" != 0 ]; then pg_user="$candidate"; break; fi
    done
    [ -n "$pg_user" ] || die "running as root and neither 'postgres' nor 'nobody' exists to own the cluster"
fi
as_pg() {
    if [ -z "$pg_user" ]; then "$@"
    elif command -v runuser >/dev/null; then runuser -u "$pg_user" -- "$@"
    else setpriv --reuid="$(id -u "$pg_user")" --regid="$(id -g "$pg_user")" --init-groups "$@"; fi
}

replica_port() { echo $((base_port + $1 - 1)); }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
answers() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

stop_stack() {
    local n pidfile pid
    if [ -f "$dir/nginx/nginx.pid" ]; then
        pid="$(cat "$dir/nginx/nginx.pid" 2>/dev/null || true)"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -QUIT "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/nginx/nginx.pid"
    fi
    for pidfile in "$dir"/replicas/*.pid; do
        [ -f "$pidfile" ] || continue
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
    if [ -f "$dir/pg/data/postmaster.pid" ]; then
        as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    echo "run-team: stopped (data kept in $dir)"
}

status_stack() {
    local n port
    if as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" status >/dev/null 2>&1; then echo "postgres: running on 127.0.0.1:$pg_port"; else echo "postgres: stopped"; fi
    for pidfile in "$dir"/replicas/*.pid; do
        [ -f "$pidfile" ] || continue
        port="$(basename "$pidfile" .pid)"
        if pid_alive "$pidfile"; then echo "replica: pid $(cat "$pidfile") on 127.0.0.1:$port"; else echo "replica: 127.0.0.1:$port stopped"; fi
    done
    if pid_alive "$dir/nginx/nginx.pid"; then echo "nginx: pid $(cat "$dir/nginx/nginx.pid") on $listen:$team_port"; else echo "nginx: stopped"; fi
}

case "${1:-start}" in
    stop) stop_stack; exit 0 ;;
    status) status_stack; exit 0 ;;
    start) ;;
    *) die "usage: scripts/run-team.sh [start|stop|status]" ;;
esac

[ -x "$pg_bin/initdb" ] && [ -f /usr/share/postgresql/15/extension/postgis.control ] \
    || die "PostgreSQL 15 with PostGIS is missing: scripts/setup.sh --team installs it"
[ -x "$nginx_bin" ] || die "nginx is missing ($nginx_bin): scripts/setup.sh --team installs it"
[ -x .venv/bin/python ] || die "no .venv: run scripts/setup.sh --team first"
command -v curl >/dev/null || die "curl is needed to check that the stack answers"

mkdir -p "$dir/pg" "$dir/replicas" "$dir/nginx/tmp" "$dir/cache"
chmod 700 "$dir"
if [ -n "$pg_user" ]; then
    chmod 711 "$dir"  # the cluster's user must reach $dir/pg
    as_pg test -x "$dir" || die "the cluster's user '$pg_user' cannot reach $dir (a parent folder is private): choose another BORDER_BRIEF_TEAM_DIR"
fi

# 1. PostgreSQL + PostGIS (trust authentication on 127.0.0.1 only: the stack is for one machine).
if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
    echo "run-team: initialising the cluster in $dir/pg"
    rm -rf "$dir/pg/data"
    mkdir -p "$dir/pg/sock"
    [ -z "$pg_user" ] || chown -R "$pg_user" "$dir/pg"
    init=("$pg_bin/initdb" -D "$dir/pg/data" -U postgres -E UTF8 --auth-local=trust --auth-host=trust --no-instructions)
    as_pg "${init[@]}" --locale=C.UTF-8 >/dev/null 2>&1 \
        || { rm -rf "$dir/pg/data"; as_pg "${init[@]}" --locale=C >/dev/null; }
fi
if ! as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" status >/dev/null 2>&1; then
    as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
        -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $dir/pg/sock" start >/dev/null \
        || { tail -20 "$dir/pg/server.log" >&2; die "PostgreSQL did not start (port $pg_port taken?)"; }
fi
if ! as_pg "$pg_bin/psql" -h "$dir/pg/sock" -p "$pg_port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    as_pg "$pg_bin/psql" -h "$dir/pg/sock" -p "$pg_port" -U postgres -d postgres -qc "CREATE DATABASE $database" >/dev/null
fi
as_pg "$pg_bin/psql" -h "$dir/pg/sock" -p "$pg_port" -U postgres -d "$database" -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
# Migrate and sync the shipped catalogue (seeds an empty store; idempotent afterwards).
BORDER_BRIEF_DATABASE_URL="$db_url" .venv/bin/python -m store init

# 2. The replicas, with one shared cookie secret (generated once, kept out of git).
if [ ! -s "$dir/cookie-secret" ]; then
    (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(32))" > "$dir/cookie-secret")
fi
for n in $(seq "$replicas"); do
    port="$(replica_port "$n")"
    pidfile="$dir/replicas/$port.pid"
    pid_alive "$pidfile" && continue
    STREAMLIT_SERVER_COOKIE_SECRET="$(cat "$dir/cookie-secret")" \
    BORDER_BRIEF_DATABASE_URL="$db_url" \
    BORDER_BRIEF_CACHE_DIR="$dir/cache/$port" \
    setsid .venv/bin/python -m streamlit run app.py \
        --server.address 127.0.0.1 --server.port "$port" --server.headless true \
        --server.fileWatcherType none --browser.gatherUsageStats false \
        </dev/null >"$dir/replicas/$port.log" 2>&1 &
    echo $! > "$pidfile"
done

# 3. nginx, the only entry point.
servers=""
for n in $(seq "$replicas"); do
    servers+="    server 127.0.0.1:$(replica_port "$n") max_fails=1 fail_timeout=10s;"$'\n'
done
user_line=""
if [ -n "$pg_user" ]; then
    user_line="user $pg_user $(id -gn "$pg_user");"
    chown -R "$pg_user" "$dir/nginx/tmp"
fi
REPLACE_SERVERS="$servers" .venv/bin/python - "$dir/nginx" "$listen:$team_port" "$user_line" <<'PY'
import os, sys
out, listen, user_line = sys.argv[1:4]
deploy = os.path.join(os.getcwd(), "deploy", "nginx")
site = open(os.path.join(deploy, "border-brief.conf.in")).read()
site = site.replace("@LISTEN@", listen).replace("@SERVERS@", os.environ["REPLACE_SERVERS"].rstrip("\n"))
site = site.replace("@COOKIE_SECURE@", "")
main = open(os.path.join(deploy, "nginx-standalone.conf.in")).read()
main = main.replace("@DIR@", out).replace("@USER_LINE@", user_line)
for name, text in (("border-brief.conf", site), ("nginx.conf", main)):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)
PY
"$nginx_bin" -t -q -c "$dir/nginx/nginx.conf" -p "$dir/nginx" 2>"$dir/nginx/check.log" \
    || { cat "$dir/nginx/check.log" >&2; die "nginx rejected $dir/nginx/nginx.conf"; }
if pid_alive "$dir/nginx/nginx.pid"; then
    "$nginx_bin" -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -s reload 2>/dev/null
else
    "$nginx_bin" -c "$dir/nginx/nginx.conf" -p "$dir/nginx" 2>"$dir/nginx/start.log" \
        || { cat "$dir/nginx/start.log" >&2; die "nginx did not start (port $team_port taken?)"; }
fi

# 4. Wait until every replica and nginx answer.
deadline=$((SECONDS + ${BORDER_BRIEF_TEAM_TIMEOUT:-120}))
for n in $(seq "$replicas"); do
    port="$(replica_port "$n")"
    until answers "http://127.0.0.1:$port/_stcore/health"; do
        pid_alive "$dir/replicas/$port.pid" || { tail -20 "$dir/replicas/$port.log" >&2; die "replica on port $port exited"; }
        [ "$SECONDS" -lt "$deadline" ] || die "replica on port $port did not answer in time (log: $dir/replicas/$port.log)"
        sleep 0.3
    done
done
# A replica that answers health checks has not run the app yet: its first render loads the
# catalogue, and the map component's files are only served once the script has imported it.
# Render the default deep link once on each replica (Streamlit's protocol, bench/load.py), so a
# browser that fails over to it, or is the first to arrive, finds it ready.
ports=()
for n in $(seq "$replicas"); do ports+=("$(replica_port "$n")"); done
# A first render that fails is tried again (twice, each in a new session) and reported; if it
# keeps failing, the replicas' logs end the message (their tracebacks never reach a page).
.venv/bin/python - "${ports[@]}" <<'PY' || { tail -n 60 "$dir"/replicas/*.log >&2; die "a replica answered but could not render the app (logs: $dir/replicas/)"; }
import asyncio, sys, urllib.parse
from bench.load import DEFAULT_LINK, Session

async def warm(port):
    for attempt in range(3):
        session = Session(urllib.parse.urlsplit(f"http://127.0.0.1:{port}/"), DEFAULT_LINK.lstrip("?"), timeout=240)
        await session.connect()
        try:
            render = await session.rerun()
        finally:
            await session.close()
        if render.status == "FINISHED_SUCCESSFULLY" and not render.exceptions and render.component_id:
            return
        print(f"run-team: replica {port}: first render failed ({render.status} {render.exceptions[:1]})"
              + ("; trying again" if attempt < 2 else ""), file=sys.stderr)
        await asyncio.sleep(2)
    sys.exit(f"run-team: replica {port} could not render the app three times")

async def main():
    await asyncio.gather(*(warm(int(port)) for port in sys.argv[1:]))

asyncio.run(main())
PY
host="$listen"; [ "$host" = 0.0.0.0 ] && host=127.0.0.1
until answers "http://$host:$team_port/_stcore/health"; do
    [ "$SECONDS" -lt "$deadline" ] || die "nginx on port $team_port did not answer in time (log: $dir/nginx/error.log)"
    sleep 0.3
done
echo "run-team: $replicas replica(s) on 127.0.0.1:$base_port.. behind nginx; store $db_url"
echo "run-team: open http://$host:$team_port/"
