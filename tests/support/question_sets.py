"""A small slice of eval/questions.jsonl, one question of each kind, for tests that run `rag eval`."""

from __future__ import annotations

import json
from pathlib import Path

from rag.eval.runner import DEFAULT_QUESTIONS

SUBSET = ["q002", "q008", "q034", "q070", "q063", "q096"]  # where, list, who, cross, zh who, unanswerable


def write_subset(path: Path) -> Path:
    rows = {json.loads(line)["id"]: line for line in DEFAULT_QUESTIONS.read_text("utf-8").splitlines() if line.strip()}
    path.write_text("\n".join(rows[i] for i in SUBSET) + "\n", "utf-8")
    return path
