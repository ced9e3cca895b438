#!/usr/bin/env bash
# Create or reuse .venv/ and install the project's dependencies from pyproject.toml.
# Usage: scripts/setup.sh [--test|--team]   (--test adds the test extra and Debian's chromium;
#        --team the PostgreSQL + PostGIS and nginx that scripts/run-team.sh runs)
# Re-running is fast: the install is skipped while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1
want_team=0  # --team: PostgreSQL + PostGIS and nginx for scripts/run-team.sh (--test installs them too)
[ "${1:-}" = "--team" ] && want_team=1

python_bin="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($python_bin --version)"
    "$python_bin" -m venv .venv
fi

extras=""
[ "$want_test" = 1 ] && extras="test"
stamp=".venv/.border-brief-installed"
want_stamp="$(sha256sum pyproject.toml | cut -d' ' -f1) $extras"
if [ ! -f "$stamp" ] || ! grep -qxF "$want_stamp" "$stamp"; then
    echo "setup: installing Python dependencies (extras: ${extras:-none})"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    # Dependencies are read from pyproject.toml, so there is one list to maintain.
    mapfile -t deps < <(.venv/bin/python - "$extras" <<'PY'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
deps = list(project["dependencies"])
for extra in filter(None, sys.argv[1].split(",")):
    deps += project["optional-dependencies"][extra]
print("\n".join(deps))
PY
)
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "${deps[@]}"
    echo "$want_stamp" > "$stamp"
fi

if [ "$want_test" = 1 ] && [ ! -x /usr/bin/chromium ]; then
    echo "setup: installing Debian's chromium for the browser tests"
    sudo_cmd=""
    [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    apt_updated=1
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

# The database store's tests run against a real PostgreSQL with PostGIS: tests/pgcluster.py
# creates a throwaway cluster with initdb on a free local port and removes it afterwards, so
# only the binaries are installed here; the distribution's own cluster is never started.
pg_missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || pg_missing+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || pg_missing+=(postgresql-15-postgis-3)
[ -x /usr/sbin/nginx ] || pg_missing+=(nginx)  # the team stack's proxy (scripts/run-team.sh)
if { [ "$want_test" = 1 ] || [ "$want_team" = 1 ]; } && [ "${#pg_missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian's ${pg_missing[*]} for the database and team-stack tests"
    sudo_cmd=""
    [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
    [ "${apt_updated:-0}" = 1 ] || $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${pg_missing[@]}" >/dev/null
fi

# Map JavaScript published only on npm (leaflet-draw, supercluster) is pinned in
# layers/npm/package-lock.json and installed with `npm ci` (Debian's npm when missing);
# the install is skipped while the lock file is unchanged.
if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing Debian's npm for the map's JavaScript packages"
    sudo_cmd=""
    [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
    [ "${apt_updated:-0}" = 1 ] || $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq npm >/dev/null
fi
npm_stamp="layers/npm/node_modules/.border-brief-installed"
npm_want="$(sha256sum layers/npm/package-lock.json | cut -d' ' -f1)"
if [ ! -f "$npm_stamp" ] || ! grep -qxF "$npm_want" "$npm_stamp"; then
    echo "setup: installing the map's npm packages (layers/npm)"
    npm ci --prefix layers/npm --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
    echo "$npm_want" > "$npm_stamp"
fi

# Map assets (Leaflet, MarkerCluster, Leaflet.draw, supercluster) are copied from the installed packages into
# static/vendor/, which Streamlit serves; nothing is fetched from a CDN.
.venv/bin/python -m layers.assets sync
