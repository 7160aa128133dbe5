"""A fake OpenAI-compatible chat server on a loopback port, for tests of the generative path
without a model: it answers what the test tells it to, badly when asked to (garbage JSON, HTTP
500, a hang), and records every request it gets."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

Reply = Callable[[dict], str]


class FakeLLMServer:
    """`behaviour` is one of: "answer" (stream `reply(request)` as SSE chunks, or one JSON when the
    request does not stream), "garbage" (200 with JSON that is no completion), "html" (200 with a
    web page), "error" (HTTP 500), "hang" (sleep `hang` seconds, then close)."""

    def __init__(self, reply: Reply | str = "", behaviour: str = "answer", delay: float = 0.0, hang: float = 30.0):
        self.reply = reply if callable(reply) else (lambda _req, text=reply: text)
        self.behaviour = behaviour
        self.delay = delay  # seconds between two streamed pieces
        self.hang = hang
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send(200, json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode())

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    req = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    req = {}
                server.requests.append(req)
                if server.behaviour == "hang":
                    time.sleep(server.hang)
                    self.close_connection = True
                    return
                if server.behaviour == "error":
                    self._send(500, b'{"error": {"message": "the model crashed", "type": "server_error"}}')
                    return
                if server.behaviour == "garbage":
                    self._send(200, b'{"hello": "world", "choices": "not a list", "x": [1, 2, 3]}')
                    return
                if server.behaviour == "html":
                    self._send(200, b"<html><body>It works!</body></html>", "text/html")
                    return
                text = server.reply(req)
                if not req.get("stream"):
                    body = {"id": "c1", "object": "chat.completion", "created": 0, "model": req.get("model", "fake"),
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}]}
                    self._send(200, json.dumps(body).encode())
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                pieces = [text[i:i + 12] for i in range(0, len(text), 12)] or [""]
                try:
                    for i, piece in enumerate(pieces):
                        delta = {"content": piece}
                        if i == 0:
                            delta["role"] = "assistant"
                        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                                 "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        if server.delay:
                            time.sleep(server.delay)
                    end = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                           "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def last_prompt(self) -> tuple[str, str]:
        """(system, user) message texts of the last request."""
        msgs = self.requests[-1]["messages"]
        return msgs[0]["content"], msgs[-1]["content"]


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


QUESTION = "Who presided over the seventh meeting?"


def passage(user: str, n: int) -> str:
    m = re.search(rf'<passage n="{n}"[^>]*>\n(.*?)\n</passage>', user, re.S)
    return m.group(1) if m else ""


def copy_first_sentence(req: dict) -> str:
    """A model that answers with the first sentence of passage 1, cited: always verifiable."""
    user = req["messages"][-1]["content"]
    text = passage(user, 1)
    first = re.split(r"(?<=[.!?。])\s*", text.strip())[0]
    return f"{first} [1]"
