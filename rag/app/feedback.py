"""Votes on answers, appended to <index_dir>/feedback.jsonl.

One JSON object per line, so that the file can be read while the app writes it and a
crash loses at most the line being written. The record holds the question, the answer
and what it cited, so that a vote can be judged later without re-running the question
against an index that may have changed.

What a client sends is bounded: a vote is "up" or "down" with an optional comment of at most
MAX_COMMENT characters, a line is at most MAX_LINE bytes, and the file is rotated
(feedback.jsonl.1, .2, ...) when it reaches its size limit, so no client can fill the disk
through the like button. Rate limits per client are the caller's (rag.app.web.controller), which knows
the client.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.store.manifest import FEEDBACK

VOTES = ("up", "down")
MAX_COMMENT = 1000
MAX_LINE = 256_000  # far above any real record (a question, an answer, 20 passages)
DEFAULT_MAX_BYTES = 10_000_000
DEFAULT_KEEP = 3

_lock = threading.Lock()


class FeedbackError(RagError):
    """A vote that is not a vote (wrong value, comment too long, too many too fast)."""


def record(index_dir: Path, result: dict[str, Any], vote: str, comment: str | None = None,
           max_bytes: int = DEFAULT_MAX_BYTES, keep: int = DEFAULT_KEEP, **extra: Any) -> dict[str, Any]:
    """Append one vote on `result` (a Result.to_json(details=True) dict); returns the entry."""
    if vote not in VOTES:
        shown = repr(vote)[:40]
        raise FeedbackError(f"a vote is 'up' or 'down', not {shown}")
    if comment is not None:
        if not isinstance(comment, str):
            raise FeedbackError("a comment must be text")
        if len(comment) > MAX_COMMENT:
            raise FeedbackError(f"the comment is {len(comment):,} characters long; the limit is {MAX_COMMENT:,}")
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "vote": vote,
        "question": result.get("question"),
        "answer": result.get("answer"),
        "answered": result.get("answered"),
        "citations": [{k: c.get(k) for k in ("n", "article_id", "passage_id", "title", "date", "lang", "text", "score")}
                      for c in result.get("citations", [])],
        **({"comment": comment} if comment else {}),
        **extra,
    }
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    if len(line.encode("utf-8")) > MAX_LINE:
        raise FeedbackError(f"the vote record is over {MAX_LINE:,} bytes; not saved")
    path = Path(index_dir) / FEEDBACK
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and size + len(line.encode("utf-8")) > max_bytes:
            rotate(path, keep)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
    return entry


def rotate(path: Path, keep: int) -> None:
    """feedback.jsonl -> .1 -> .2 ... -> .keep; the oldest beyond `keep` is dropped."""
    for i in range(keep, 0, -1):
        older = path.with_name(f"{path.name}.{i}")
        if i == keep:
            older.unlink(missing_ok=True)
        else:
            newer_name = path.with_name(f"{path.name}.{i + 1}")
            if older.exists():
                os.replace(older, newer_name)
    if keep > 0:
        os.replace(path, path.with_name(f"{path.name}.1"))
    else:
        path.unlink(missing_ok=True)


class RateLimit:
    """At most `calls` per `seconds` per key (a sliding window). Bounded: at most `max_keys`
    clients are remembered, the stalest forgotten first."""

    def __init__(self, calls: int, seconds: float, max_keys: int = 10_000):
        self.calls, self.seconds, self.max_keys = calls, seconds, max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and now - hits[0] > self.seconds:
                hits.popleft()
            allowed = len(hits) < self.calls
            if allowed:
                hits.append(now)
            self._hits[key] = hits  # re-inserted: the dict's order is least recently used first
            while len(self._hits) > self.max_keys:
                self._hits.pop(next(iter(self._hits)))
            return allowed


def read(index_dir: Path) -> list[dict[str, Any]]:
    path = Path(index_dir) / FEEDBACK
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
