#!/usr/bin/env bash
# Set everything up, then serve the app. Extra arguments go to `streamlit run`,
# e.g. scripts/run-app.sh --server.address 0.0.0.0 --server.port 8501
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m streamlit run app.py "$@"
