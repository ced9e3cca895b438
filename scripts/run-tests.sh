#!/usr/bin/env bash
# Set everything up (Chromium included), then run the whole test suite.
# Extra arguments go to pytest, e.g. scripts/run-tests.sh -m "not browser"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
