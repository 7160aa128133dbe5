"""Run a question set against the engine: every question asked, every answer scored.

Why this exists: "does the engine answer well" has to be a number that moves when the
answering or retrieval code changes, checked per category and language, gated in CI by
eval/thresholds.json (rag.eval.gate), and compared with what an out-of-the-box llama-index
pipeline gets from the same articles and the same embedding model (rag.eval.baseline). This
module only gathers inputs (runs questions, reads passages); every score comes from
rag.eval.scoring, and rag.eval.report lays the results out.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from rag.config import DEFAULT_ARTICLES, PROJECT_ROOT
from rag.errors import IndexMissingError
from rag.eval import metrics as M
from rag.eval.baseline import run_baseline
from rag.eval.scoring import (CATEGORIES, LANGUAGES, aggregate, failure_reasons, gold_spans, group_scores, latency,
                              relevant_counter, score_answer, score_retrieval, score_short)
from rag.eval.types import Dataset, EvalError, EvalQuestion, Progress

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"


def ensure_index(engine, articles: Path = DEFAULT_ARTICLES) -> dict[str, Any] | None:
    """Build the index from `articles` when it is missing or empty (ingest is incremental);
    the ingest summary, or None when the index was there."""
    try:
        engine.require_index()
        return None
    except IndexMissingError:
        log.info("the index at %s is empty: ingesting %s", engine.settings.index_dir, articles)
    return engine.ingest([articles]).to_json()


def corpus_passages(engine) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, text, metadata) of every live passage of the engine's index."""
    from rag.store import chroma
    from rag.store import manifest as store

    manifest = store.require_manifest(engine.settings.index_dir)
    ids = manifest.live_ids()
    got = chroma.fetch(engine.collection, ids, batch=500)
    out = list(zip(got["ids"], got["documents"], got["metadatas"]))
    if len(out) != len(ids):
        raise EvalError(f"the index lists {len(ids)} passages but Chroma returned {len(out)}; "
                        "run `rag ingest` to repair it")
    return out


def run_engine(engine, questions: Sequence[EvalQuestion], mode: str = "hybrid", top_k: int = 5,
               progress: Progress | None = None) -> list[dict[str, Any]]:
    """Ask every question; one scored row per question."""
    n_relevant = relevant_counter([text for _, text, _ in corpus_passages(engine)])
    rows = []
    for i, q in enumerate(questions, 1):
        t = time.perf_counter()
        r = engine.ask(q.question, top_k=top_k, mode=mode)
        total = (time.perf_counter() - t) * 1000
        data = r.to_json()
        cites = [{"n": c["n"], "article_id": c["article_id"], "text": c["text"]} for c in data["citations"]]
        row: dict[str, Any] = {
            "id": q.id, "question": q.question, "language": q.language, "category": q.category,
            "answerable": q.answerable, "answered": bool(data["answered"]), "answer": data["answer"],
            "reason": r.answer.reason,
            "citations": [{"n": c["n"], "article_id": c["article_id"]} for c in cites],
            "retrieved": [{"id": h.id, "article_id": h.article_id, "text": h.text} for h in r.retrieved],
            "timings_ms": {**data["timings_ms"], "total": round(total, 2)},
            # The reader's answerability estimate, when the engine gives one.
            "confidence": data.get("confidence"),
        }
        if "mode" in data:  # a language model is configured
            row["mode"] = data["mode"]
            row["warning"] = data["warning"]
            row["verified"] = data["verified"]
        row.update(score_retrieval(q, [h.text for h in r.retrieved], n_relevant(gold_spans(q))))
        row.update(score_answer(q, data["answer"], bool(data["answered"]), cites))
        row.update(score_short(q, data))
        row["failures"] = failure_reasons(q, row)
        row["expected"] = {"answerable": q.answerable, "gold_facts": [list(f) for f in q.gold_facts],
                           "gold_articles": list(q.gold_articles), "gold_passages": list(q.gold_passages),
                           "gold_short": list(q.gold_short)}
        rows.append(row)
        if progress:
            progress(i, len(questions))
    return rows


def evaluate(engine, questions: Sequence[EvalQuestion], mode: str = "hybrid", top_k: int = 5,
             baseline: bool = True, articles: Path = DEFAULT_ARTICLES,
             progress: Progress | None = None, source: str = "", refresh_index: bool = False,
             ingest_progress: Callable[[str, int, int], None] | None = None,
             dataset: Dataset | None = None) -> dict[str, Any]:
    """Everything the report and --json show: overall metrics, groups, latency, baseline, rows.

    `refresh_index`: ingest `articles` even when the index is there (a public set's own corpus:
    incremental, so an unchanged corpus embeds nothing); otherwise only an empty index is built."""
    if refresh_index:
        ingested = engine.ingest([articles], prune=True, progress=ingest_progress).to_json()
    else:
        ingested = ensure_index(engine, articles)
    present = {a["article_id"] for a in engine.articles()}
    missing = sorted({a for q in questions for a in q.gold_articles} - present)
    if missing:
        log.warning("gold articles not in the index %s: %s", engine.settings.index_dir, ", ".join(missing))
    t0 = time.perf_counter()
    rows = run_engine(engine, questions, mode, top_k, progress)
    seconds = time.perf_counter() - t0
    overall = aggregate(rows)
    llm = engine.llm_label if engine.settings.llm_configured else None
    modes = None
    if llm:
        modes = {"llm": sum(r.get("mode") == "llm" for r in rows),
                 "extractive": sum(r.get("mode") != "llm" for r in rows),
                 "model_failed": sum(1 for r in rows if (r.get("warning") or "").startswith("The language model gave no")),
                 "sentences": sum(len(r.get("verified") or []) for r in rows),
                 "sentences_supported": sum(sum(v["supported"] for v in r.get("verified") or []) for r in rows)}
    result: dict[str, Any] = {
        "set": {"file": source, "name": dataset.name if dataset else Path(source).stem if source else None,
                "format": dataset.format if dataset else "ours",
                "articles": str(articles), "questions": len(rows), "answerable": sum(r["answerable"] for r in rows),
                "unanswerable": sum(not r["answerable"] for r in rows),
                "retrieval": str(getattr(mode, "value", mode)), "top_k": top_k,
                "index_dir": str(engine.settings.index_dir), "min_confidence": engine.settings.min_confidence,
                "short_withhold": engine.short_withhold(),
                "chunk_tokens": (engine.stats().get("chunking") or {}).get("chunk_tokens"),
                "gold_articles_missing": missing, "ingested": ingested, "seconds": round(seconds, 2),
                "answers": "extractive" if not llm else f"generative: {llm}", "answer_modes": modes},
        "metrics": overall,
        "context_chars": M.mean(r["context_chars"] for r in rows if r["answerable"]),
        "latency_ms": latency(rows),
        "by_category": group_scores(rows, "category", CATEGORIES),
        "by_language": group_scores(rows, "language", LANGUAGES),
        "baseline": None,
        "failures": [r["id"] for r in rows if r["failures"]],
        "questions": rows,
    }
    if baseline:
        result["baseline"] = run_baseline(questions, engine.embed_model, articles)
    return result
