"""Ablation: the eval set under each retrieval mode and passage size, plus the llama-index baseline.

Why: the defaults (hybrid retrieval, 160-token passages, top 5) should be chosen on the
numbers of the question set, and stay chosen when the code changes. Each passage size gets
its own temporary index (Settings.replace(chunk_tokens=N); the ingest re-chunks and
re-embeds), one embedding model is shared by all, and every mode is run on every index.

    PYTHONPATH=. .venv/bin/python bench/ablation.py                 # markdown table on stdout
    PYTHONPATH=. .venv/bin/python bench/ablation.py --chunks 160 --modes hybrid,vector --json out.json

Takes about 1 minute per passage size on 2 cores (ingest ~30 s, 3 x 100 questions).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from rag.config import DEFAULT_ARTICLES, Settings
from rag.engine import Engine
from rag.eval import runner as ev
from rag.eval.baseline import run_baseline
from rag.eval.datasets import load_questions
from rag.eval.report import fmt

COLUMNS = [("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"), ("ndcg@5", "nDCG@5"),
           ("context_fact_recall", "ctx fact recall"), ("fact_recall", "fact recall"),
           ("citation_precision", "cite prec"), ("fact_support", "fact support"),
           ("abstention_accuracy", "abst acc")]


def run(chunks: list[int], modes: list[str], questions_path: Path, top_k: int, baseline: bool,
        articles: Path = DEFAULT_ARTICLES) -> dict:
    questions = load_questions(questions_path)
    embed_model = None
    rows = []
    for n in chunks:
        with tempfile.TemporaryDirectory(prefix=f"ablation-{n}-") as tmp:
            settings = Settings.from_env(index_dir=Path(tmp)).replace(chunk_tokens=n)
            engine = Engine(settings, embed_model=embed_model)
            t = time.perf_counter()
            engine.ingest([articles])
            ingest_s = time.perf_counter() - t
            embed_model = engine.embed_model
            passages = engine.stats()["passages"]
            for mode in modes:
                print(f"chunk_tokens={n} retrieval={mode} ...", file=sys.stderr)
                result = ev.evaluate(engine, questions, mode=mode, top_k=top_k, baseline=False,
                                     articles=articles, source=str(questions_path))
                rows.append({"chunk_tokens": n, "retrieval": mode, "passages": passages,
                             "ingest_seconds": round(ingest_s, 1), "metrics": result["metrics"],
                             "context_chars": result["context_chars"],
                             "retrieve_p50_ms": result["latency_ms"]["retrieve"]["p50"],
                             "failures": result["failures"]})
    base = None
    if baseline:
        print("llama-index baseline ...", file=sys.stderr)
        if embed_model is None:
            from rag.store.embedding import make_embedding

            embed_model = make_embedding("e5")
        base = run_baseline(questions, embed_model, articles)
    return {"questions": str(questions_path), "n": len(questions), "top_k": top_k, "rows": rows, "baseline": base}


def markdown(data: dict) -> str:
    head = "| chunk tokens | retrieval | passages | " + " | ".join(t for _, t in COLUMNS) + " | ctx chars | retrieve p50 ms |"
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in data["rows"]:
        m = r["metrics"]
        out.append(f"| {r['chunk_tokens']} | {r['retrieval']} | {r['passages']} | "
                   + " | ".join(fmt(m[k]) for k, _ in COLUMNS)
                   + f" | {fmt(r['context_chars'], 0)} | {fmt(r['retrieve_p50_ms'], 1)} |")
    b = data.get("baseline")
    if b:
        m = b["metrics"]
        cells = {"hit@1": fmt(m["hit@1"]), "hit@5": f"({fmt(m['hit@2'])} @2)", "mrr": fmt(m["mrr"]),
                 "ndcg@5": fmt(m["ndcg@5"]), "context_fact_recall": fmt(m["context_fact_recall"])}
        out.append(f"| 1024 (SentenceSplitter) | llama-index vector top-2 | {b['config']['nodes']} | "
                   + " | ".join(cells.get(k, "–") for k, _ in COLUMNS)
                   + f" | {fmt(m['context_chars'], 0)} | {fmt(b['latency_ms']['retrieve']['p50'], 1)} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--chunks", default="100,160,250,400", help="passage sizes in cl100k tokens, comma-separated")
    p.add_argument("--modes", default="vector,bm25,hybrid", help="retrieval modes, comma-separated")
    p.add_argument("--questions", type=Path, default=ev.DEFAULT_QUESTIONS)
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--no-baseline", action="store_true", help="skip the llama-index baseline row")
    p.add_argument("--json", type=Path, default=None, help="also write all numbers to this file")
    a = p.parse_args(argv)
    chunks = [int(c) for c in a.chunks.split(",") if c.strip()]
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    data = run(chunks, modes, a.questions, a.top_k, not a.no_baseline)
    if a.json:
        a.json.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    print(f"{data['n']} questions from {data['questions']}, top_k={data['top_k']}\n")
    print(markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
