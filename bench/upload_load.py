"""Asks while an upload is ingested (issue 11, case 5): a real `rag serve` process on a copy of
the shipped articles' index, one client asking in a loop, and a 100 KB article uploaded
through /upload meanwhile. Prints numbers; asserts nothing.

    .venv/bin/python -m bench.upload_load [--kb 100] [--askers 1]

About 2 minutes on 2 cores (index build, then the upload). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.load_app import QUESTIONS, percentile

ROOT = Path(__file__).resolve().parent.parent


def article(kb: int, seed: int = 7) -> str:
    """About `kb` KB of distinct English news sentences (distinct, so every passage is embedded)."""
    rng = random.Random(seed)
    towns = ["Quillmarsh", "Lanternfield", "Brackenford", "Ostermoor", "Fennick Bay", "Glimmerbrook"]
    verbs = ["opened", "inspected", "approved", "debated", "funded", "postponed"]
    things = ["a ferry terminal", "the river levee", "a seed bank", "the tram line", "a solar farm", "the harbour wall"]
    lines = ["Regional council reports for the northern towns", "2024-06-01", ""]
    n = 0
    while sum(len(x) for x in lines) < kb * 1000:
        n += 1
        lines.append(f"In session {n}, the council of {rng.choice(towns)} {rng.choice(verbs)} {rng.choice(things)} "
                     f"at a cost of {rng.randint(2, 900)} million yuan, said councillor {rng.choice('ABCDEFGH')}."
                     f"{rng.randint(100, 999)} on day {rng.randint(1, 28)}.")
        if n % 6 == 0:
            lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=int, default=100)
    ap.add_argument("--askers", type=int, default=1)
    args = ap.parse_args()
    from gradio_client import Client, handle_file

    from tests.app_fixtures import free_port

    work = Path(tempfile.mkdtemp(prefix="upload-load-"))
    index = work / "index"
    env = {**os.environ, "RAG_LOG_FILE": str(work / "rag.log")}
    rag = [sys.executable, "-m", "rag.cli"]
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
        url = f"http://127.0.0.1:{port}/"
        client = Client(url, verbose=False)

        def ask_loop(stop: threading.Event, out: list[float], errors: list[str]) -> None:
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

        def phase(seconds: float | None, during=None) -> tuple[list[float], list[str], float]:
            stop, out, errors = threading.Event(), [], []
            threads = [threading.Thread(target=ask_loop, args=(stop, out, errors)) for _ in range(args.askers)]
            for t in threads:
                t.start()
            t = time.perf_counter()
            if during is not None:
                during()
            else:
                time.sleep(seconds)
            took = time.perf_counter() - t
            stop.set()
            for th in threads:
                th.join()
            return out, errors, took

        client.predict(QUESTIONS[0], 0, api_name="/ask")  # warm
        idle, idle_err, _ = phase(15)
        path = work / "regional-council.txt"
        path.write_text(article(args.kb), "utf-8")
        summary = {}

        def upload() -> None:
            summary.update(client.predict(handle_file(str(path)), api_name="/upload"))

        busy, busy_err, took = phase(None, upload)

        def show(name, xs, errs):
            ms = [x * 1000 for x in xs]
            print(f"{name:<22} n={len(ms):>4}  p50 {statistics.median(ms):7.0f} ms  p95 {percentile(ms, 95):7.0f} ms  "
                  f"max {max(ms):7.0f} ms  errors {len(errs)}")

        print(f"upload: {path.stat().st_size / 1000:.0f} KB, {summary.get('passages_added')} passages, "
              f"{took:.1f} s with {args.askers} client(s) asking throughout")
        show("asks, idle", idle, idle_err)
        show("asks, during upload", busy, busy_err)
    finally:
        server.terminate()
        server.wait(timeout=30)
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
