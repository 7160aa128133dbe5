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
    import bm25s

    # bm25s sets its logger to DEBUG when imported and logs every build: noise on our stderr.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s

IDS_FILE = "passage_ids.json"


class BM25Index:
    def __init__(self, retriever, ids: list[str]):
        self._retriever = retriever
        self.ids = ids
        self._pos = {pid: i for i, pid in enumerate(ids)}
        vocab: dict[str, int] = retriever.vocab_dict
        indptr = np.asarray(retriever.scores["indptr"])
        df = np.diff(indptr)
        n = len(ids)
        self._idf = {tok: math.log(1 + (n - int(df[i]) + 0.5) / (int(df[i]) + 0.5))
                     for tok, i in vocab.items() if i < len(df)}
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)

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
        return self._idf.get(token)

    @property
    def max_idf(self) -> float:
        return self._max_idf

    def search(self, query_tokens: list[str], k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        known = [t for t in query_tokens if t in self._idf]
        if not known or not self.ids:
            return []
        scores = np.asarray(self._retriever.get_scores(known), dtype=np.float64)
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            for pid in allowed:
                i = self._pos.get(pid)
                if i is not None:
                    mask[i] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
