"""Run the question set against the engine and a plain llama-index baseline; write the report.

Why this exists: "does the engine answer well" has to be a number that moves when the
answering or retrieval code changes, checked per category and language, gated in CI by
eval/thresholds.json, and compared with what an out-of-the-box llama-index pipeline gets
from the same articles and the same embedding model. This module only gathers inputs (runs
questions, reads passages) and lays out results; every score comes from rag.eval.metrics.

Definitions (also in docs/EVALUATION.md):
- A retrieved passage is relevant when it contains any gold span of the question.
  hit@k, MRR and nDCG@5 are means over answerable questions that have gold spans. The ideal
  DCG counts every passage of the index that contains a gold span.
- fact_recall: mean over answerable questions of the share of gold facts in the answer
  (0 when the engine abstained). context_fact_recall: the same over the retrieved passages
  read together, which is what the baseline (no reader) can be compared on.
- Abstention: positive class = "answered".
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from rag.eval import metrics as M
from rag.config import DEFAULT_ARTICLES, PROJECT_ROOT
from rag.eval.datasets import Dataset, EvalError, EvalQuestion, load_dataset, sample, write_articles
from rag.errors import IndexMissingError

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
DEFAULT_REPORT_DIR = Path("reports")
CATEGORIES = ("who", "where", "when", "what", "list", "cross", "paraphrase", "unanswerable")
LANGUAGES = ("en", "zh")
KS = (1, 2, 3, 5)
STAGES = ("embed_query", "dense", "bm25", "fusion", "retrieve", "answer", "llm_first_token", "llm", "verify", "total")
FAILURES_SHOWN = 12  # ids in the printed table; a public set fails by the dozen, report.md lists all
BASELINE_TOP_K = 2  # llama-index's VectorIndexRetriever default (similarity_top_k=2)

# The overall metrics, in the order of the printed table. Each may be named in thresholds.json.
METRIC_ORDER = (
    "hit@1", "hit@2", "hit@3", "hit@5", "mrr", "ndcg@5",
    "fact_recall", "context_fact_recall",
    "answer_recall", "support", "support_retrieved",
    "citation_precision", "fact_support", "marker_validity",
    "abstention_accuracy", "answered_precision", "answered_recall",
    "abstention_precision", "abstention_recall",
    "false_abstention", "unanswerable_abstention",
    "exact_match", "f1", "exact_match_answerable", "f1_answerable", "short_answer_rate", "median_short_chars",
    "median_answer_chars", "mean_confidence_answerable", "mean_confidence_unanswerable",
)
# Reported but not gateable by a minimum: lower is better, or not a score at all.
NOT_GATED = ("false_abstention", "median_answer_chars", "median_short_chars", "mean_confidence_answerable", "mean_confidence_unanswerable")
# The per-group columns (by category, by language).
GROUP_METRICS = ("hit@1", "hit@5", "mrr", "ndcg@5", "fact_recall", "context_fact_recall", "answer_recall",
                 "support", "citation_precision", "abstention_accuracy", "false_abstention",
                 "unanswerable_abstention", "exact_match", "f1", "median_answer_chars")
# What the baseline, which has no reader, is given: its "answer" is its top passage.
BASELINE_METRICS = ("hit@1", "hit@2", "mrr", "ndcg@5", "context_fact_recall", "answer_recall", "support",
                    "support_retrieved", "false_abstention", "unanswerable_abstention", "median_answer_chars")


# -- the question set ---------------------------------------------------------------------------
# One reader for every format lives in rag.eval.datasets; these names stay importable from here.

def load_questions(path: Path, limit: int | None = None, seed: int | None = None) -> list[EvalQuestion]:
    """The questions of a question set in any format rag.eval.datasets reads (line numbers in
    errors); `limit` of them, the first ones or a seeded random draw."""
    return sample(load_dataset(path).questions, limit, seed)


def load_thresholds(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"thresholds file {path} not found") from exc
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, (int, float)) for v in data.values()):
        raise EvalError(f"{path} must be one JSON object of metric name -> minimum value")
    unknown = sorted(set(data) - set(METRIC_ORDER))
    if unknown:
        raise EvalError(f"{path} names unknown metrics: {', '.join(unknown)}; known: {', '.join(METRIC_ORDER)}")
    ungated = sorted(set(data) & set(NOT_GATED))
    if ungated:
        raise EvalError(f"{path}: {', '.join(ungated)} cannot be gated by a minimum (lower is better, or not a score)")
    return {k: float(v) for k, v in data.items()}


# -- scoring one question (pure: texts in, numbers out) ---------------------------------------

def gold_spans(q: EvalQuestion) -> tuple[str, ...]:
    """What makes a passage relevant: our gold passages, or for public sets (which have none)
    the gold answers, as open-domain QA scores retrieval (a passage holding the answer)."""
    return q.gold_passages or q.gold_short


def score_retrieval(q: EvalQuestion, passages: Sequence[str], n_relevant: int) -> dict[str, Any]:
    """hit@k, MRR, nDCG@5, context fact recall and support_retrieved of one ranked list of
    passage texts."""
    spans = gold_spans(q)
    row: dict[str, Any] = {"relevant": M.relevance(passages, spans), "n_relevant": n_relevant}
    if q.answerable and spans:
        rels = row["relevant"]
        for k in KS:
            row[f"hit@{k}"] = M.hit_at_k(rels, k)
        row["mrr"] = M.reciprocal_rank(rels)
        ndcg = M.ndcg_at_k(rels, 5, n_relevant)
        row["ndcg@5"] = 0.0 if ndcg is None else ndcg  # no indexed passage holds a gold span: a miss
    row["context_fact_recall"] = M.context_fact_recall(passages, q.gold_facts) if q.answerable else None
    row["support_retrieved"] = M.gold_in_any(passages, q.gold_facts) if q.answerable else None
    row["context_chars"] = sum(len(p) for p in passages)
    return row


def score_answer(q: EvalQuestion, answer: str, answered: bool,
                 citations: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Fact recall, answer recall, support, citation precision, fact support, marker validity
    and length of one answer. `citations` are dicts with n, article_id and text."""
    row: dict[str, Any] = {
        "fact_recall": M.fact_recall(answer, q.gold_facts, answered) if q.answerable else None,
        "answer_recall": M.answer_recall(answer, q.gold_facts, answered) if q.answerable else None,
        "support": M.support([c["text"] for c in citations], q.gold_facts, answered) if q.answerable else None,
        "answer_chars": len(M.answer_text(answer)) if answered else None,
        "facts_present": M.facts_present(answer, q.gold_facts) if answered else [False] * len(q.gold_facts),
        "citation_precision": None, "fact_support": None,
        "marker_validity": M.marker_validity(answer, [c["n"] for c in citations]),
    }
    if answered:
        row["citation_precision"] = M.citation_precision([c["article_id"] for c in citations], q.gold_articles)
        row["fact_support"] = M.fact_support(answer, [c["text"] for c in citations], q.gold_facts)
    return row


def short_prediction(result: dict[str, Any]) -> str:
    """What exact match and F1 score of an answer (`rag ask --json`): its short answer; the
    answer's text when it has none (a why-question); the empty answer when it abstained."""
    if not result.get("answered"):
        return ""
    short = result.get("short_answer")
    return short["text"] if short else M.answer_text(result.get("answer", ""))


def score_short(q: EvalQuestion, result: dict[str, Any]) -> dict[str, Any]:
    """SQuAD's exact match and F1 (character F1 for Chinese, as CMRC) of the short answer, for a
    question with short gold answers or none at all (unanswerable: only an abstention is right)."""
    pred = short_prediction(result)
    row: dict[str, Any] = {"short_answer": (result.get("short_answer") or {}).get("text"),
                           "short_prediction": pred, "exact_match": None, "f1": None}
    if q.gold_short or not q.answerable:
        golds = list(q.gold_short) if q.answerable else []
        cjk = q.language == "zh"
        row["exact_match"] = M.exact_match(pred, golds, cjk)
        row["f1"] = M.token_f1(pred, golds, cjk)
    return row


def failure_reasons(q: EvalQuestion, row: dict[str, Any]) -> list[str]:
    reasons = []
    if q.answerable and not row["answered"]:
        reasons.append("abstained on an answerable question")
    if not q.answerable and row["answered"]:
        reasons.append("answered an unanswerable question")
    if q.answerable and row["answered"] and row["fact_recall"] is not None and row["fact_recall"] < 1:
        missing = [" | ".join(f) for f, ok in zip(q.gold_facts, row["facts_present"]) if not ok]
        reasons.append(f"fact recall {row['fact_recall']:.2f}; missing: {'; '.join(missing)}")
    if row.get("hit@5") == 0.0:
        reasons.append("no gold passage in the top 5" + (
            " (no indexed passage contains a gold span)" if row["n_relevant"] == 0 else ""))
    return reasons


# -- aggregation ----------------------------------------------------------------------------------

def aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """The overall metrics of a list of scored rows (see METRIC_ORDER)."""
    ans = [r for r in rows if r["answerable"]]
    out: dict[str, float | None] = {}
    for k in KS:
        out[f"hit@{k}"] = M.mean(r.get(f"hit@{k}") for r in ans)
    out["mrr"] = M.mean(r.get("mrr") for r in ans)
    out["ndcg@5"] = M.mean(r.get("ndcg@5") for r in ans)
    out["fact_recall"] = M.mean(r.get("fact_recall") for r in ans)
    out["context_fact_recall"] = M.mean(r.get("context_fact_recall") for r in ans)
    out["citation_precision"] = M.mean(r.get("citation_precision") for r in rows)
    out["fact_support"] = M.pooled(r.get("fact_support") for r in rows)
    out["marker_validity"] = M.pooled(r.get("marker_validity") for r in rows)
    if all("answered" in r for r in rows):
        out.update(M.abstention_scores([r["answered"] for r in rows], [r["answerable"] for r in rows]))
    out["answer_recall"] = M.mean(r.get("answer_recall") for r in ans)
    out["support"] = M.mean(r.get("support") for r in ans)
    out["support_retrieved"] = M.mean(r.get("support_retrieved") for r in ans)
    out["false_abstention"] = M.share(not r["answered"] for r in ans if "answered" in r)
    out["unanswerable_abstention"] = M.share(not r["answered"] for r in rows if not r["answerable"] and "answered" in r)
    out["exact_match"] = M.mean(r.get("exact_match") for r in rows)
    out["f1"] = M.mean(r.get("f1") for r in rows)
    out["exact_match_answerable"] = M.mean(r.get("exact_match") for r in ans)
    out["f1_answerable"] = M.mean(r.get("f1") for r in ans)
    out["short_answer_rate"] = M.share(bool(r.get("short_answer")) for r in ans if r.get("answered"))
    out["median_short_chars"] = M.median(len(r["short_answer"]) for r in rows if r.get("short_answer"))
    out["median_answer_chars"] = M.median(r.get("answer_chars") for r in rows if r.get("answered"))
    out["mean_confidence_answerable"] = M.mean(r.get("confidence") for r in ans)
    out["mean_confidence_unanswerable"] = M.mean(r.get("confidence") for r in rows if not r["answerable"])
    return {m: out[m] for m in METRIC_ORDER if m in out}


def group_scores(rows: Sequence[dict[str, Any]], key: str, order: Iterable[str]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    ordered = [g for g in order if g in groups] + sorted(set(groups) - set(order))
    out = {}
    for g in ordered:
        agg = aggregate(groups[g])
        out[g] = {"n": len(groups[g]), **{m: agg.get(m) for m in GROUP_METRICS}}
    return out


def latency(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    out = {}
    for stage in STAGES:
        vals = [r["timings_ms"][stage] for r in rows if stage in r.get("timings_ms", {})]
        if vals:
            out[stage] = {"p50": M.percentile(vals, 50), "p95": M.percentile(vals, 95), "n": len(vals)}
    return out


# -- running ------------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


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
    from rag.store import manifest as store

    manifest = store.require_manifest(engine.settings.index_dir)
    ids = manifest.live_ids()
    out = []
    for i in range(0, len(ids), 500):
        got = engine.collection.get(ids=ids[i:i + 500], include=["documents", "metadatas"])
        out.extend(zip(got["ids"], got["documents"], got["metadatas"]))
    if len(out) != len(ids):
        raise EvalError(f"the index lists {len(ids)} passages but Chroma returned {len(out)}; "
                        "run `rag ingest` to repair it")
    return out


def count_relevant(corpus_texts: Sequence[str], spans: Sequence[str]) -> int:
    return relevant_counter(corpus_texts)(spans)


def relevant_counter(corpus_texts: Sequence[str]) -> Callable[[Sequence[str]], int]:
    """count(spans): the passages of the corpus that contain any of the spans (M.relevance's
    rule). The corpus is normalised once: a public set has thousands of passages and questions."""
    norm = [M.normalise(t) for t in corpus_texts]

    def count(spans: Sequence[str]) -> int:
        ns = [n for n in (M.normalise(s) for s in spans) if n]
        return sum(1 for t in norm if any(n in t for n in ns)) if ns else 0
    return count


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


def baseline_documents(articles: Path = DEFAULT_ARTICLES) -> list:
    """llama-index Documents of the cleaned article texts (rag.ingest.loading.read_article), one per
    language version, so the baseline reads exactly the text our passages are cut from. The
    ids ride along as metadata that is kept out of the embedded and the LLM text."""
    from llama_index.core import Document

    from rag.ingest.loading import find_article_files, read_article

    files, _ = find_article_files([articles])
    if not files:
        raise EvalError(f"no article files under {articles}")
    docs = []
    for path in files:
        for d in read_article(path).documents:
            keys = ["article_id", "lang"]
            docs.append(Document(text=d.text, id_=d.doc_id, metadata={"article_id": d.article_id, "lang": d.lang},
                                 excluded_embed_metadata_keys=keys, excluded_llm_metadata_keys=keys))
    return docs


def run_baseline(questions: Sequence[EvalQuestion], embed_model, articles: Path = DEFAULT_ARTICLES,
                 progress: Progress | None = None) -> dict[str, Any]:
    """A plain llama-index pipeline: SentenceSplitter() defaults, an in-memory VectorStoreIndex,
    `index.as_retriever()` defaults (vector only, top 2), the same embedding model."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms.mock import MockLLM
    from llama_index.core.node_parser import SentenceSplitter

    # What `Settings.llm = None` does, minus its print on stdout (which would break --json).
    # Nothing here calls an LLM; this only keeps llama-index from resolving OpenAI.
    LlamaSettings.llm = MockLLM()
    t0 = time.perf_counter()
    splitter = SentenceSplitter()
    docs = baseline_documents(articles)
    nodes = splitter.get_nodes_from_documents(docs)
    index = VectorStoreIndex(nodes, embed_model=embed_model)
    build_s = time.perf_counter() - t0
    retriever = index.as_retriever()
    n_relevant = relevant_counter([n.get_content() for n in nodes])
    rows = []
    for i, q in enumerate(questions, 1):
        t = time.perf_counter()
        got = retriever.retrieve(q.question)
        ms = (time.perf_counter() - t) * 1000
        texts = [r.node.get_content() for r in got]
        # Without a reader, what a user of this pipeline reads as the answer is its top passage,
        # which is also the only evidence it shows for it; it never abstains.
        top = texts[0] if texts else ""
        answered = bool(texts)
        row = {"id": q.id, "language": q.language, "category": q.category, "answerable": q.answerable,
               "answered": answered, "answer_chars": len(top) if answered else None,
               "retrieved": [{"id": r.node.node_id, "article_id": r.node.metadata.get("article_id")} for r in got],
               "timings_ms": {"retrieve": round(ms, 2)}}
        row.update(score_retrieval(q, texts, n_relevant(gold_spans(q))))
        if q.answerable:
            row["answer_recall"] = M.answer_recall(top, q.gold_facts, answered)
            row["support"] = M.support([top], q.gold_facts, answered)
        rows.append(row)
        if progress:
            progress(i, len(questions))
    agg = aggregate(rows)
    return {
        "config": {"documents": "cleaned (rag.ingest.loading.read_article), one per language version",
                   "splitter": f"SentenceSplitter() chunk_size={splitter.chunk_size} chunk_overlap={splitter.chunk_overlap}",
                   "retriever": f"index.as_retriever() vector only, similarity_top_k={BASELINE_TOP_K}",
                   "embed_model": getattr(embed_model, "model_name", str(embed_model)),
                   "vector_store": "SimpleVectorStore (in memory)",
                   "nodes": len(nodes), "build_seconds": round(build_s, 2)},
        "metrics": {**{k: agg[k] for k in BASELINE_METRICS},
                    "context_chars": M.mean(r["context_chars"] for r in rows if r["answerable"])},
        "by_category": group_scores(rows, "category", CATEGORIES),
        "by_language": group_scores(rows, "language", LANGUAGES),
        "latency_ms": latency(rows),
        "questions": [{k: r.get(k) for k in ("id", "hit@1", "hit@2", "mrr", "ndcg@5", "context_fact_recall",
                                             "answer_recall", "support", "support_retrieved", "answer_chars",
                                             "n_relevant", "retrieved")} for r in rows],
    }


def corpus_folder(ds: Dataset, corpus_dir: Path) -> Path:
    """Where a set that brings its own articles keeps them and their index: one folder per set
    name and content, so that a second run (or a --limit/--seed sample) reuses the index and an
    edited set gets a fresh one."""
    return Path(corpus_dir) / f"{ds.name}-{ds.corpus_key}"


def materialise(ds: Dataset, corpus_dir: Path) -> dict[str, Path]:
    """Write the set's articles as files (unchanged files are left alone, so ingest's content
    hashes skip them); the articles and index folders."""
    root = corpus_folder(ds, corpus_dir)
    articles = write_articles(ds, root / "articles")
    return {"root": root, "articles": articles, "index": root / "index"}


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


def check_thresholds(result: dict[str, Any], thresholds: dict[str, float]) -> dict[str, Any]:
    failed = M.below_thresholds(result["metrics"], thresholds)
    return {"thresholds": thresholds, "passed": not failed,
            "failed": [{"metric": n, "value": v, "minimum": m} for n, v, m in failed]}


# -- presentation -------------------------------------------------------------------------------

def fmt(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def fmt_metric(name: str, v: float | None, digits: int = 3) -> str:
    return fmt(v, 0) if name.endswith("_chars") else fmt(v, digits)


def comparison_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, ours, baseline) for the metrics both pipelines have, plus context size."""
    base = (result.get("baseline") or {}).get("metrics")
    rows = []
    for m in ("hit@1", "hit@2", "hit@3", "hit@5", "mrr", "ndcg@5", "context_fact_recall", *BASELINE_METRICS[5:]):
        b = "–" if base is None else (fmt_metric(m, base[m]) if m in base else f"n/a (top-{BASELINE_TOP_K})")
        rows.append((m, fmt_metric(m, result["metrics"][m]), b))
    rows.append(("context chars (mean)", fmt(result["context_chars"], 0),
                 "–" if base is None else fmt(base["context_chars"], 0)))
    return rows


def ingest_line(s: dict[str, Any]) -> str:
    i = s["ingested"]
    return (f"index of `{s['articles']}`: {i['articles']} articles, {i['passages_added']} passages added, "
            f"{i['passages_unchanged']} unchanged; {i['embedded']} embedded, {i['embeddings_reused']} reused; "
            f"{i['seconds']:.1f} s")


def render_table(result: dict[str, Any]) -> str:
    """The compact plain-text summary printed by `rag eval`."""
    s = result["set"]
    lines = [f"{s['questions']} questions ({s['answerable']} answerable) from {s['file']}; "
             f"retrieval={s['retrieval']} top_k={s['top_k']} chunk_tokens={s['chunk_tokens']}; {s['seconds']:.1f} s", ""]
    if s.get("ingested"):
        lines[-1:] = [ingest_line(s).replace("`", ""), ""]
    if s.get("answer_modes"):
        m = s["answer_modes"]
        lines[-1:] = [f"answers: {s['answers']}: {m['llm']} by the model, {m['extractive']} extractive "
                      f"({m['model_failed']} model failures); {m['sentences_supported']} of {m['sentences']} "
                      "generated sentences verified", ""]
    base = result.get("baseline")
    cmp = {m: (o, b) for m, o, b in comparison_rows(result)}
    lines.append(f"{'metric':<30}{'ours':>8}{'baseline' if base else '':>18}")
    for m in METRIC_ORDER:
        o, b = cmp.get(m, (fmt_metric(m, result["metrics"][m]), ""))
        lines.append(f"{m:<30}{o:>8}{b if base else '':>18}")
    if base:
        lines.append(f"{'context chars (mean)':<30}{cmp['context chars (mean)'][0]:>8}{cmp['context chars (mean)'][1]:>18}")
    lines.append("")
    cols = [("hit@5", "hit@5"), ("mrr", "MRR"), ("fact_recall", "facts"), ("context_fact_recall", "ctx"),
            ("answer_recall", "ans"), ("support", "supp"), ("citation_precision", "cite"),
            ("abstention_accuracy", "abst"), ("false_abstention", "f.abst"), ("unanswerable_abstention", "u.abst"),
            ("exact_match", "EM"), ("f1", "F1"), ("median_answer_chars", "chars")]
    lines.append(f"{'group':<14}{'n':>5}" + "".join(f"{h:>7}" for _, h in cols))
    for groups in (result["by_category"], result["by_language"]):
        for g, v in groups.items():
            lines.append(f"{g:<14}{v['n']:>5}" + "".join(f"{fmt_metric(k, v.get(k), 2):>7}" for k, _ in cols))
    lines.append("")
    lat = result["latency_ms"]
    lines.append("latency ms  " + "  ".join(f"{st} {fmt(v['p50'], 1)}/{fmt(v['p95'], 1)}" for st, v in lat.items())
                 + "  (p50/p95)")
    fails = result["failures"]
    shown = ", ".join(fails[:FAILURES_SHOWN]) + (f", … {len(fails) - FAILURES_SHOWN} more in the report"
                                                 if len(fails) > FAILURES_SHOWN else "")
    lines.append(f"failed questions: {len(fails)}" + (f" ({shown})" if fails else ""))
    return "\n".join(lines)


CHART_MISSING = "chart not drawn: matplotlib is not installed (pip install 'newsrag[eval]' to get it)"


def write_chart(result: dict[str, Any], path: Path) -> Path | None:
    """Grouped bars of the per-category and per-language scores (Agg backend: no display).
    None when matplotlib is missing: it is an extra (`eval`), and the plain install must still
    write the rest of the report."""
    try:
        import matplotlib
    except ImportError:
        log.warning("%s", CHART_MISSING)
        return None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = {**result["by_category"], **{f"lang:{k}": v for k, v in result["by_language"].items()}}
    names = list(groups)
    series = [("hit@5", "hit@5"), ("fact_recall", "fact recall"), ("answer_recall", "answer recall"), ("context_fact_recall", "context fact recall"),
              ("citation_precision", "citation precision"), ("abstention_accuracy", "abstention accuracy")]
    x = np.arange(len(names))
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(names) + 2), 4.8), dpi=110)
    for i, (key, label) in enumerate(series):
        vals = [groups[g][key] for g in names]
        ax.bar(x + (i - (len(series) - 1) / 2) * width, [np.nan if v is None else v for v in vals], width, label=label)
    ax.set_xticks(x, [f"{g}\n(n={groups[g]['n']})" for g in names], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    s = result["set"]
    ax.set_title(f"Scores by category and language (retrieval={s['retrieval']}, top_k={s['top_k']}, "
                 f"{s['questions']} questions)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=len(series), loc="upper center", bbox_to_anchor=(0.5, -0.16))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def render_markdown(result: dict[str, Any], chart_name: str | None, gate: dict[str, Any] | None = None) -> str:
    s = result["set"]
    out = ["# Evaluation report", "",
           f"- question set: `{s['file']}`: {s['questions']} questions, {s['answerable']} answerable, "
           f"{s['unanswerable']} unanswerable",
           f"- engine: retrieval `{s['retrieval']}`, top_k {s['top_k']}, chunk_tokens {s['chunk_tokens']}, "
           f"index `{s['index_dir']}`; run took {s['seconds']:.1f} s"]
    if s.get("ingested"):
        out.append(f"- {ingest_line(s)}")
    if s.get("answer_modes"):
        m = s["answer_modes"]
        out.append(f"- answers: {s['answers']}: {m['llm']} by the model (verified sentences), {m['extractive']} "
                   f"extractive ({m['model_failed']} model failures); {m['sentences_supported']} of "
                   f"{m['sentences']} generated sentences passed verification")
    out.append("")
    if s["gold_articles_missing"]:
        out += [f"**Warning**: gold articles missing from the index: {', '.join(s['gold_articles_missing'])}", ""]
    if gate is not None:
        out.append("## Threshold gate: " + ("passed" if gate["passed"] else "FAILED"))
        out.append("")
        for f in gate["failed"]:
            out.append(f"- `{f['metric']}` = {fmt(f['value'])} < {f['minimum']}")
        out.append("")
    base = result.get("baseline")
    out += ["## Overall", "", "| metric | ours |" + (" llama-index baseline |" if base else ""),
            "|---|---:|" + ("---:|" if base else "")]
    cmp = {m: (o, b) for m, o, b in comparison_rows(result)}
    for m in METRIC_ORDER:
        o, b = cmp.get(m, (fmt_metric(m, result["metrics"][m]), "–"))
        out.append(f"| {m} | {o} |" + (f" {b} |" if base else ""))
    if base:
        o, b = cmp["context chars (mean)"]
        out.append(f"| context chars (mean) | {o} | {b} |")
        c = base["config"]
        out += ["", f"Baseline: {c['splitter']}; {c['retriever']}; {c['vector_store']}; embedding "
                f"`{c['embed_model']}`; {c['nodes']} nodes from {c['documents']}. Its hit@3 and hit@5 equal its "
                f"hit@2 since it retrieves 2 passages; its nDCG@5 is over those 2. Its answer is its top passage "
                f"(no reader: what the pipeline shows), which is also its only citation, and it never abstains."]
    out += ["", "Definitions: a retrieved passage is relevant if it contains any gold span (white space, "
            "quotes and case normalised). Retrieval metrics and fact recall are means over answerable "
            "questions; fact recall of an abstention is 0. Citation precision: answered questions whose cited "
            "passages all come from gold articles. Fact support: cited passages (of answered questions) "
            "holding a gold fact the answer states. Marker validity: [n] markers that resolve to a listed "
            "citation (all answers). Abstention: positive class = answered. Answer recall: a gold answer occurs "
            "in the answer after SQuAD normalisation (case, punctuation, a/an/the; white space for Chinese), "
            "0 for an abstention; support: the same in a cited passage (0 for an abstention); support_retrieved: "
            "in any retrieved passage. false_abstention: answerable questions abstained on; "
            "unanswerable_abstention: unanswerable questions abstained on. median_answer_chars: over answered "
            "questions, markers removed. For sets without gold passages (SQuAD, CMRC) a passage is relevant "
            "when it holds a gold answer.", ""]
    heads = {"hit@1": "hit@1", "hit@5": "hit@5", "mrr": "MRR", "ndcg@5": "nDCG@5", "fact_recall": "fact recall",
             "context_fact_recall": "context fact recall", "answer_recall": "answer recall", "support": "support",
             "citation_precision": "citation precision", "abstention_accuracy": "abstention accuracy",
             "false_abstention": "false abstention", "unanswerable_abstention": "unanswerable abstention", "exact_match": "EM", "f1": "F1",
             "median_answer_chars": "median answer chars"}
    out += ["## By category and language", "",
            "| group | n | " + " | ".join(heads[m] for m in GROUP_METRICS) + " |",
            "|---|---:|" + "---:|" * len(GROUP_METRICS)]
    for groups in (result["by_category"], {f"lang: {k}": v for k, v in result["by_language"].items()}):
        for g, v in groups.items():
            out.append(f"| {g} | {v['n']} | " + " | ".join(fmt_metric(m, v.get(m), 2) for m in GROUP_METRICS) + " |")
    if chart_name:
        out += ["", f"![scores by category]({chart_name})"]
    out += ["", "## Latency (ms)", "", "| stage | p50 | p95 | n |", "|---|---:|---:|---:|"]
    for st, v in result["latency_ms"].items():
        out.append(f"| {st} | {fmt(v['p50'], 1)} | {fmt(v['p95'], 1)} | {v['n']} |")
    fails = [r for r in result["questions"] if r["failures"]]
    out += ["", f"## Failed questions ({len(fails)})", ""]
    if not fails:
        out.append("None.")
    for r in fails:
        e = r["expected"]
        out += [f"### {r['id']} ({r['category']}, {r['language']}): {_md_escape(r['question'])}", "",
                "- why: " + "; ".join(r["failures"]),
                f"- expected: {'answerable' if e['answerable'] else 'unanswerable'}"
                + (f"; facts {' / '.join('|'.join(f) for f in e['gold_facts'])}" if e["gold_facts"] else "")
                + (f"; articles {', '.join(e['gold_articles'])}" if e["gold_articles"] else ""),
                ]
        if e["gold_passages"]:
            out.append("- gold spans: " + " · ".join(f"“{_md_escape(p)}”" for p in e["gold_passages"]))
        if r.get("mode"):
            out.append(f"- mode: {r['mode']}" + (f"; warning: {_md_escape(r['warning'])}" if r.get("warning") else ""))
        out.append(f"- got ({'answered' if r['answered'] else 'abstained'}"
                   + (f", reason: {r['reason']}" if r.get("reason") and not r["answered"] else "")
                   + f"): {_md_escape(_short(r['answer'], 700))}")
        out.append("- cited articles: " + (", ".join(f"[{c['n']}] {c['article_id']}" for c in r["citations"]) or "none"))
        ret = ", ".join(f"{i}. {h['id']}{' ✓' if rel else ''}" for i, (h, rel) in
                        enumerate(zip(r["retrieved"], r["relevant"]), 1))
        out.append(f"- retrieved (✓ = holds a gold span; {r['n_relevant']} such passages indexed): {ret or 'nothing'}")
        out.append("")
    return "\n".join(out) + "\n"


def write_report(result: dict[str, Any], out_dir: Path, gate: dict[str, Any] | None = None) -> dict[str, Path]:
    """report.md, scores_by_category.png (when matplotlib is installed; else "chart" is None)
    and results.json in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = write_chart(result, out_dir / "scores_by_category.png")
    md = out_dir / "report.md"
    text = render_markdown(result, chart.name if chart else None, gate)
    if chart is None:
        text = text.replace("\n## Latency (ms)", f"\n_{CHART_MISSING}._\n\n## Latency (ms)", 1)
    md.write_text(text, "utf-8")
    js = out_dir / "results.json"
    js.write_text(json.dumps(to_json(result, gate), ensure_ascii=False, indent=1), "utf-8")
    return {"report": md, "chart": chart, "json": js}


def to_json(result: dict[str, Any], gate: dict[str, Any] | None = None) -> dict[str, Any]:
    """The machine-readable result; the retrieved passages' texts are left out (ids stay)."""
    slim = dict(result)
    slim["questions"] = [{**r, "retrieved": [{k: v for k, v in h.items() if k != "text"} for h in r["retrieved"]]}
                         for r in result["questions"]]
    slim["gate"] = gate
    return slim
