"""A stand-in OpenAI-compatible embeddings server on a loopback port, for fast tests of the
client side (rag.store.embedding.OpenAIEmbeddingService): hash vectors, a record of every request,
the most requests it had in flight at once, and a switch to fail."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rag.store.embedding import HashEmbedding


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
