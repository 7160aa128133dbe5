"""Embeddings for tests, without the model.

- `HashEmbedding`: deterministic and instant, for unit tests of logic only. It hashes the
  same tokens BM25 sees into a vector, so texts that share words are close.
- `FakeEmbeddingServer`: a stand-in OpenAI-compatible embeddings server on a loopback port,
  for fast tests of the client side (rag.store.embedding_service.OpenAIEmbeddingService):
  hash vectors, a record of every request, the most requests it had in flight at once, and a
  switch to fail.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from llama_index.core.embeddings import BaseEmbedding

from rag.lang.tokenization import tokenize


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


class FakeEmbeddingServer:
    def __init__(self, model: str = "fake-e5-small", owned_by: str = "tests", delay: float = 0.0):
        self.model = model
        self.owned_by = owned_by
        self.delay = delay
        self.requests: list[dict] = []
        self.fail = False
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._hash = HashEmbedding()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, code: int, obj) -> None:
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": server.model, "owned_by": server.owned_by}]})
                else:
                    self._send(404, {"error": {"message": "unknown route"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                    if server.fail:
                        self._send(500, {"error": {"message": "boom"}})
                        return
                    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": server._hash._vec(t)}
                            for i, t in enumerate(texts)]
                    data.reverse()  # the client must order by "index", not by position
                    self._send(200, {"object": "list", "data": data, "model": server.model})
                finally:
                    with server._lock:
                        server.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def texts(self) -> list[str]:
        return [t for r in self.requests for t in (r["input"] if isinstance(r["input"], list) else [r["input"]])]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
