#!/usr/bin/env bash
# The plain install, as a new user gets it: `pip install .` (no extras) into a fresh venv,
# then the README's commands on data/articles into a temporary index. Catches a core
# command that needs an extra (issue 11, case 1: `rag eval` needed matplotlib).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check .
if "$work/venv/bin/python" -c "import matplotlib" 2>/dev/null; then
  echo "smoke_plain: matplotlib is in the plain install; this check would prove nothing" >&2
  exit 1
fi
rag="$work/venv/bin/rag"
export RAG_LOG_FILE="$work/rag.log"
cd "$work"   # not the source tree: the installed package must stand on its own
"$rag" ingest "$OLDPWD/data/articles" --index-dir "$work/index"
"$rag" ask "Who attended the seventh meeting?" --index-dir "$work/index" >/dev/null
"$rag" ask "谁主持了第七次会议座谈会？" --index-dir "$work/index" --json | grep -q "\"short_answer\": {\"text\": \"袁家军\""  # jieba, in the plain install
"$rag" stats --index-dir "$work/index"
"$rag" eval "$OLDPWD/eval/questions.jsonl" --limit 5 --no-baseline --index-dir "$work/index" --report "$work/report" >/dev/null
test -s "$work/report/report.md" && test -s "$work/report/results.json"
echo "smoke_plain: ingest, ask, stats and eval --report work on the plain install"
