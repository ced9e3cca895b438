#!/usr/bin/env bash
# Set everything up, then serve the app. Extra arguments go to `streamlit run`,
# e.g. scripts/run-app.sh --server.address 0.0.0.0 --server.port 8501
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Create the catalogue store (var/ by default) or bring it up to date with data/.
.venv/bin/python -m store init
exec .venv/bin/python -m streamlit run app.py "$@"
