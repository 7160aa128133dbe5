"""Ingest time of the shipped articles and warm `ask` latency, per stage.

    .venv/bin/python bench/core.py [--repeat 3]

Prints numbers; asserts nothing (these machines are noisy). Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rag.config import DEFAULT_ARTICLES, PROJECT_ROOT, Settings
from rag.engine import Engine
from rag.eval.metrics import percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the question set")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in (PROJECT_ROOT / "eval" / "questions.jsonl").open()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp))
        engine = Engine(settings)
        t = time.perf_counter()
        engine.embed_model.get_query_embedding("load")  # the model loads on first use: timed on its own
        load = time.perf_counter() - t
        first = engine.ingest([DEFAULT_ARTICLES])
        second = Engine(settings).ingest([DEFAULT_ARTICLES])
        print(f"model load            {load * 1000:8.1f} ms")
        print(f"ingest (first)        {first.seconds:8.2f} s   {first.passages_added} passages, "
              f"{first.passages_added / first.seconds:.1f} passages/s")
        print(f"ingest (unchanged)    {second.seconds:8.2f} s")
        engine.ask(questions[0])  # warm: first query opens the BM25 index and Chroma segments
        stages: dict[str, list[float]] = {}
        totals = []
        for _ in range(args.repeat):
            for q in questions:
                t = time.perf_counter()
                r = engine.ask(q)
                totals.append((time.perf_counter() - t) * 1000)
                for k, v in r.timings_ms.items():
                    stages.setdefault(k, []).append(v)
        print(f"\nwarm ask over {len(totals)} questions (ms)      p50      p95")
        for k, v in stages.items():
            print(f"  {k:24s} {percentile(v, 50):8.1f} {percentile(v, 95):8.1f}")
        print(f"  {'total (wall)':24s} {percentile(totals, 50):8.1f} {percentile(totals, 95):8.1f}"
              f"   mean {statistics.mean(totals):.1f}")


if __name__ == "__main__":
    main()
