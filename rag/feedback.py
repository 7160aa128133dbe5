"""Votes on answers, appended to <index_dir>/feedback.jsonl.

One JSON object per line, so that the file can be read while the app writes it and a
crash loses at most the line being written. The record holds the question, the answer
and what it cited, so that a vote can be judged later without re-running the question
against an index that may have changed.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from rag.store import FEEDBACK

_lock = threading.Lock()


def record(index_dir: Path, result: dict[str, Any], vote: str, **extra: Any) -> dict[str, Any]:
    """Append one vote on `result` (a Result.to_json(details=True) dict); returns the entry."""
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "vote": vote,
        "question": result.get("question"),
        "answer": result.get("answer"),
        "answered": result.get("answered"),
        "citations": [{k: c.get(k) for k in ("n", "article_id", "passage_id", "title", "date", "lang", "text", "score")}
                      for c in result.get("citations", [])],
        **extra,
    }
    path = Path(index_dir) / FEEDBACK
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
    return entry


def read(index_dir: Path) -> list[dict[str, Any]]:
    path = Path(index_dir) / FEEDBACK
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
