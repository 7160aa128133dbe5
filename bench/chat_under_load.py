"""What the benches of chat latency under other work share (bench/upload_load.py,
bench/eval_load.py): a real `rag serve` process on a fresh index of the shipped articles, and
clients asking through /ask in a loop while something else runs."""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from bench.load_app import QUESTIONS, percentile

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def served_shipped_index(prefix: str) -> Iterator[tuple[str, Path]]:
    """(url, work folder) of a `rag serve` on 127.0.0.1 over a new index of data/articles."""
    from tests.support.app import free_port

    work = Path(tempfile.mkdtemp(prefix=prefix))
    index = work / "index"
    env = {**os.environ, "RAG_LOG_FILE": str(work / "rag.log")}
    rag = [sys.executable, "-m", "rag.app.cli"]
    t0 = time.perf_counter()
    subprocess.run([*rag, "ingest", str(ROOT / "data" / "articles"), "--index-dir", str(index)], check=True,
                   env=env, capture_output=True)
    print(f"index of the shipped articles built in {time.perf_counter() - t0:.0f} s")
    port = free_port()
    server = subprocess.Popen([*rag, "serve", "--index-dir", str(index), "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in server.stdout:
            if "Chat app running at" in line:
                break
        yield f"http://127.0.0.1:{port}/", work
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def asks_during(url: str, askers: int, seconds: float | None = None,
                during: Callable[[], None] | None = None) -> tuple[list[float], list[str], float]:
    """(latencies in s, errors, seconds taken) of `askers` clients asking in a loop for
    `seconds`, or for as long as `during()` runs."""
    from gradio_client import Client

    stop, out, errors = threading.Event(), [], []

    def ask_loop() -> None:
        c = Client(url, verbose=False)
        i = 0
        while not stop.is_set():
            q = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            t = time.perf_counter()
            try:
                c.predict(q, 0, api_name="/ask")
                out.append(time.perf_counter() - t)
            except Exception as exc:  # noqa: BLE001  (counted, the run goes on)
                errors.append(repr(exc))

    threads = [threading.Thread(target=ask_loop) for _ in range(askers)]
    for th in threads:
        th.start()
    t = time.perf_counter()
    if during is not None:
        during()
    else:
        time.sleep(seconds or 0.0)
    took = time.perf_counter() - t
    stop.set()
    for th in threads:
        th.join()
    return out, errors, took


def show(name: str, xs: list[float], errors: list[str], width: int = 28) -> None:
    ms = [x * 1000 for x in xs]
    print(f"{name:<{width}} n={len(ms):>4}  p50 {statistics.median(ms):7.0f} ms  p95 {percentile(ms, 95):7.0f} ms  "
          f"max {max(ms):7.0f} ms  errors {len(errors)}")
