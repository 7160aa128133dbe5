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
import time

from bench.chat_under_load import asks_during, served_shipped_index, show
from bench.load_app import QUESTIONS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--askers", type=int, default=1, help="clients asking in a loop")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of asking with no evaluation")
    ap.add_argument("--no-baseline", action="store_true", help="evaluate without the llama-index baseline")
    args = ap.parse_args()
    from gradio_client import Client

    with served_shipped_index("eval-load-") as (url, _):
        client = Client(url, verbose=False)
        baseline = not args.no_baseline

        def evaluate() -> dict:
            return client.predict("shipped", None, "hybrid", 5, -1, baseline, api_name="/evaluate")

        client.predict(QUESTIONS[0], 0, api_name="/ask")  # warm
        idle, idle_err, _ = asks_during(url, args.askers, args.idle)
        # The first run is the one measured: it also builds the baseline, which the app then
        # keeps for the set (a second run of the same set does not embed the articles again).
        summary: dict = {}
        busy, busy_err, took = asks_during(url, args.askers, during=lambda: summary.update(evaluate()))
        t = time.perf_counter()
        alone = evaluate()
        alone_s = time.perf_counter() - t

        m = summary.get("metrics", {})
        print(f"evaluation of the shipped set ({summary.get('set', {}).get('questions')} questions, "
              f"baseline {'on' if baseline else 'off'}): {took:.1f} s with {args.askers} client(s) asking "
              f"throughout (first run{', baseline built' if baseline else ''}); {alone_s:.1f} s alone "
              f"(second run{', baseline reused' if baseline else ''}); fact_recall {m.get('fact_recall')}, "
              f"runs {summary.get('run_id')} and {alone.get('run_id')}")
        show("asks, idle", idle, idle_err)
        show("asks, during evaluation", busy, busy_err)


if __name__ == "__main__":
    main()
