"""Chat latency while the Evaluation tab runs the shipped set (issue 12): a real `rag serve`
process on an index of the shipped articles, clients asking through /ask in a loop, first idle,
then while /evaluate runs eval/questions.jsonl (128 questions, with the llama-index baseline
unless --no-baseline; the app builds it on a set's first run and keeps it), then times a second
run alone. Prints numbers; asserts nothing.

    .venv/bin/python -m bench.eval_load [--askers 1] [--idle 20] [--no-baseline]

About 2 minutes on 2 cores. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.load_app import QUESTIONS, percentile

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--askers", type=int, default=1, help="clients asking in a loop")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of asking with no evaluation")
    ap.add_argument("--no-baseline", action="store_true", help="evaluate without the llama-index baseline")
    args = ap.parse_args()
    from gradio_client import Client

    from tests.app_fixtures import free_port

    work = Path(tempfile.mkdtemp(prefix="eval-load-"))
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
        baseline = not args.no_baseline

        def evaluate() -> dict:
            return client.predict("shipped", None, "hybrid", 5, -1, baseline, api_name="/evaluate")

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
        idle, idle_err, _ = phase(args.idle)
        # The first run is the one measured: it also builds the baseline, which the app then
        # keeps for the set (a second run of the same set does not embed the articles again).
        summary: dict = {}
        busy, busy_err, took = phase(None, lambda: summary.update(evaluate()))
        t = time.perf_counter()
        alone = evaluate()
        alone_s = time.perf_counter() - t

        def show(name, xs, errs):
            ms = [x * 1000 for x in xs]
            print(f"{name:<28} n={len(ms):>4}  p50 {statistics.median(ms):7.0f} ms  p95 {percentile(ms, 95):7.0f} ms  "
                  f"max {max(ms):7.0f} ms  errors {len(errs)}")

        m = summary.get("metrics", {})
        print(f"evaluation of the shipped set ({summary.get('set', {}).get('questions')} questions, "
              f"baseline {'on' if baseline else 'off'}): {took:.1f} s with {args.askers} client(s) asking "
              f"throughout (first run{', baseline built' if baseline else ''}); {alone_s:.1f} s alone "
              f"(second run{', baseline reused' if baseline else ''}); fact_recall {m.get('fact_recall')}, "
              f"runs {summary.get('run_id')} and {alone.get('run_id')}")
        show("asks, idle", idle, idle_err)
        show("asks, during evaluation", busy, busy_err)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
