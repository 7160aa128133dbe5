"""Passage-side vectors of sentences, for the reader's semantic features, the semantic fallback
across languages and the check of generated sentences: embedded once, remembered by text.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

CACHE_SIZE = 5000


class TextVectors:
    """`vectors(texts)`: L2-normalised rows, one per text. `embed_model` gives the embedding
    model when first needed (it loads on first use)."""

    def __init__(self, embed_model: Callable[[], Any]):
        self._embed_model = embed_model
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            todo = [s for s in dict.fromkeys(texts) if s not in self._cache]
        if todo:
            got = self._embed_model().get_text_embedding_batch(todo)
            with self._lock:
                for s, v in zip(todo, got):
                    v = np.asarray(v, dtype=np.float32)
                    self._cache[s] = v / (np.linalg.norm(v) or 1.0)
                while len(self._cache) > CACHE_SIZE:  # bounded: oldest out first
                    self._cache.pop(next(iter(self._cache)))
        with self._lock:
            cache = self._cache
            return np.stack([cache[s] if s in cache else self._vector_now(s) for s in texts]) if texts else \
                np.zeros((0, 1), dtype=np.float32)

    def _vector_now(self, text: str) -> np.ndarray:
        # Evicted between the two steps above by another thread's texts: embedded again.
        v = np.asarray(self._embed_model().get_text_embedding(text), dtype=np.float32)
        return v / (np.linalg.norm(v) or 1.0)

    def similarity(self, question: str, sentences: list[str]) -> list[float]:
        """The cosine of each sentence with the question (the question as a query)."""
        qv = np.asarray(self._embed_model().get_query_embedding(question))
        return [float(v @ qv) for v in self(sentences)]
