"""A persisted BM25 index (bm25s) over passages, with our English/Chinese tokenizer.

Built once per ingest from the live passages and saved next to the vectors; a query only
loads it (memory-mapped) and scores, it never rebuilds it.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _bm25s():
    """bm25s, imported on first use. Its import sets its logger to DEBUG, which prints every
    build on stderr: quieted after the import, not before (where it was undone)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s

IDS_FILE = "passage_ids.json"


class BM25Index:
    """Loading costs O(vocabulary) once (bm25s reads its vocabulary); a query costs the postings
    of its tokens plus one pass over a score array. Nothing per query walks the passage ids:
    the article filter uses row ranges computed once, on first use."""

    def __init__(self, retriever, ids: list[str]):
        self._retriever = retriever
        self.ids = ids
        self._pos: dict[str, int] | None = None  # passage id -> row, built on first use
        self._article_rows: dict[str, np.ndarray] | None = None  # article id -> rows, built on first use
        self._vocab: dict[str, int] = retriever.vocab_dict
        # document frequency per token id: one vectorised pass, no per-token Python work at load
        self._df = np.diff(np.asarray(retriever.scores["indptr"]))
        self._n = len(ids)
        self._max_idf = math.log(1 + (self._n + 0.5) / 0.5)

    @classmethod
    def build(cls, ids: list[str], tokens: list[list[str]]) -> "BM25Index":
        bm25s = _bm25s()
        if len(ids) != len(tokens):
            raise ValueError("ids and tokens differ in length")
        retriever = bm25s.BM25()
        # An empty token list would break bm25s; a placeholder keeps positions aligned.
        retriever.index([t or ["\u2205"] for t in tokens], show_progress=False)
        return cls(retriever, list(ids))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(folder), show_progress=False)
        (folder / IDS_FILE).write_text(json.dumps(self.ids), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        bm25s = _bm25s()
        retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        ids = json.loads((folder / IDS_FILE).read_text("utf-8"))
        return cls(retriever, ids)

    def idf(self, token: str) -> float | None:
        """Inverse document frequency, or None for a token no passage contains."""
        i = self._vocab.get(token)
        if i is None or i >= len(self._df):
            return None
        df = int(self._df[i])
        return math.log(1 + (self._n - df + 0.5) / (df + 0.5))

    def _rows_of(self, allowed: set[str]) -> np.ndarray:
        if self._pos is None:
            self._pos = {pid: i for i, pid in enumerate(self.ids)}
        return np.fromiter((self._pos[p] for p in allowed if p in self._pos), dtype=np.int64)

    def rows_of_articles(self, articles) -> np.ndarray:
        """Rows of the passages of `articles` (passage ids start with "article_id:")."""
        if self._article_rows is None:
            groups: dict[str, list[int]] = {}
            for i, pid in enumerate(self.ids):
                groups.setdefault(pid.split(":", 1)[0], []).append(i)
            self._article_rows = {a: np.asarray(rows, dtype=np.int64) for a, rows in groups.items()}
        parts = [self._article_rows[a] for a in articles if a in self._article_rows]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    @property
    def max_idf(self) -> float:
        return self._max_idf

    def search(self, query_tokens: list[str], k: int, allowed: set[str] | None = None,
               articles=None) -> list[tuple[str, float]]:
        """The k best passages with a positive score; only `allowed` passage ids, or only the
        passages of `articles`, when given."""
        known = [t for t in query_tokens if self.idf(t) is not None]
        if not known or not self.ids:
            return []
        scores = np.asarray(self._retriever.get_scores(known), dtype=np.float64)
        if allowed is not None or articles is not None:
            rows = self._rows_of(allowed) if allowed is not None else self.rows_of_articles(articles)
            if articles is not None and allowed is not None:
                rows = np.intersect1d(rows, self.rows_of_articles(articles))
            if not len(rows):
                return []
            rows = np.sort(rows)  # row order, so that ties break as without a filter
            sub = scores[rows]
            k = min(k, len(sub))
            top = np.argpartition(-sub, k - 1)[:k]
            top = top[np.argsort(-sub[top], kind="stable")]
            return [(self.ids[rows[i]], float(sub[i])) for i in top if sub[i] > 0]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
