#!/usr/bin/env bash
# Install into .venv, index the shipped articles (incrementally), start the app on http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/rag serve "$@"
