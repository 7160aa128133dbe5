"""A real `rag serve` process on a free loopback port, for the tests of issue 11 that need the
app and the command line as separate processes (as a user runs them)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.app import free_port

RAG = [sys.executable, "-m", "rag.app.cli"]

GLIMMER = """First Glimmerbrook Water Summit held in Lanternfield
2024-03-14

The first Glimmerbrook Water Summit was held in Lanternfield on March 12, 2024.

The Glimmerbrook Water Summit was chaired by Oskarina Velthorpe, director of the Glimmerbrook Basin Authority.

Delegates from nine river towns signed the Lanternfield Compact on shared reservoirs.
"""

HARBOR = """Harborview Lantern Forum opens in Quillmarsh
2024-05-01

The Harborview Lantern Forum was held in Quillmarsh on May 1, 2024.

The Harborview Lantern Forum was chaired by Delphine Okonkwo-Raske, mayor of Quillmarsh.

Delegates of the forum agreed to light the old harbour with solar lanterns by 2026.
"""


def rag(*args, env=None, stdin=None, timeout=600):
    full = {**os.environ, **(env or {})}
    return subprocess.run([*RAG, *args], capture_output=True, text=True, env=full, input=stdin, timeout=timeout)


class Server:
    def __init__(self, index_dir: Path, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.proc = subprocess.Popen(
            [*RAG, "serve", "--index-dir", str(index_dir), "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if "Chat app running at" in line:
                return
        self.stop()
        raise RuntimeError("rag serve did not start:\n" + "".join(self.output))

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def log(self) -> str:
        return "".join(self.output)


def dependency(url: str, api_name: str) -> tuple[int, int | None]:
    """(fn_index, trigger component id) of one of the app's events, from its /config."""
    import httpx

    for d in httpx.get(url + "config", timeout=30).json()["dependencies"]:
        if d.get("api_name") == api_name:
            targets = d.get("targets") or [[None]]
            return d["id"], targets[0][0]
    raise KeyError(api_name)


def queue_call(url: str, api_name: str, data: list, session: str, event_data=None) -> dict:
    """Call an event handler the way the page does (Gradio's queue), even a private one: what a
    client that skips the page can do. Returns the `process_completed` message."""
    import json

    import httpx

    fn, trigger = dependency(url, api_name)
    r = httpx.post(url + "gradio_api/queue/join", json={"data": data, "event_data": event_data, "fn_index": fn,
                                                        "trigger_id": trigger, "session_hash": session}, timeout=120)
    r.raise_for_status()
    event = r.json()["event_id"]
    with httpx.stream("GET", url + f"gradio_api/queue/data?session_hash={session}", timeout=120) as resp:
        for line in resp.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("event_id") == event and msg.get("msg") == "process_completed":
                    return msg
    raise RuntimeError("the queue closed before the event completed")
