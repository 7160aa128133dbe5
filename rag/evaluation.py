"""Run the question set against the engine and a plain llama-index baseline; write the report.

Why this exists: "does the engine answer well" has to be a number that moves when the
answering or retrieval code changes, checked per category and language, gated in CI by
eval/thresholds.json, and compared with what an out-of-the-box llama-index pipeline gets
from the same articles and the same embedding model. This module only gathers inputs (runs
questions, reads passages) and lays out results; every score comes from rag.metrics.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from rag import metrics as M
from rag.config import DEFAULT_ARTICLES, PROJECT_ROOT
from rag.errors import IndexMissingError, RagError

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
DEFAULT_REPORT_DIR = Path("reports")
CATEGORIES = ("who", "where", "when", "what", "list", "cross", "paraphrase", "unanswerable")
LANGUAGES = ("en", "zh")
KS = (1, 2, 3, 5)
STAGES = ("embed_query", "dense", "bm25", "fusion", "retrieve", "answer", "llm_first_token", "llm", "verify", "total")
BASELINE_TOP_K = 2  # llama-index's VectorIndexRetriever default (similarity_top_k=2)

# The overall metrics, in the order of the printed table. Each may be named in thresholds.json.
METRIC_ORDER = (
    "hit@1", "hit@2", "hit@3", "hit@5", "mrr", "ndcg@5",
    "fact_recall", "context_fact_recall",
    "citation_precision", "fact_support", "marker_validity",
    "abstention_accuracy", "answered_precision", "answered_recall",
    "abstention_precision", "abstention_recall",
)


class EvalError(RagError):
    """A question set or thresholds file that cannot be used; the message says what to fix."""


# -- the question set ---------------------------------------------------------------------------

@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    language: str
    category: str
    answerable: bool
    gold_facts: tuple[tuple[str, ...], ...]
    gold_articles: tuple[str, ...]
    gold_passages: tuple[str, ...]


def load_questions(path: Path, limit: int | None = None) -> list[EvalQuestion]:
    """The questions of a JSONL file, checked field by field (line numbers in errors)."""
    if not path.is_file():
        raise EvalError(f"question set {path} not found")
    out: list[EvalQuestion] = []
    seen: set[str] = set()
    for no, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            q = EvalQuestion(
                id=str(d["id"]), question=str(d["question"]), language=str(d["language"]),
                category=str(d["category"]), answerable=bool(d["answerable"]),
                gold_facts=tuple(tuple(str(a) for a in f) for f in d.get("gold_facts", [])),
                gold_articles=tuple(str(a) for a in d.get("gold_articles", [])),
                gold_passages=tuple(str(s) for s in d.get("gold_passages", [])))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise EvalError(f"{path}:{no}: not a valid question ({exc.__class__.__name__}: {exc})") from exc
        if q.id in seen:
            raise EvalError(f"{path}:{no}: duplicate question id {q.id!r}")
        if any(not f for f in q.gold_facts):
            raise EvalError(f"{path}:{no}: {q.id} has a gold fact with no acceptable string")
        if q.answerable and not q.gold_facts:
            raise EvalError(f"{path}:{no}: {q.id} is answerable but has no gold_facts")
        seen.add(q.id)
        out.append(q)
    if not out:
        raise EvalError(f"{path} holds no questions")
    return out[:limit] if limit else out


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
    return {k: float(v) for k, v in data.items()}


# -- scoring one question (pure: texts in, numbers out) ---------------------------------------

def score_retrieval(q: EvalQuestion, passages: Sequence[str], n_relevant: int) -> dict[str, Any]:
    """hit@k, MRR, nDCG@5 and context fact recall of one ranked list of passage texts."""
    row: dict[str, Any] = {"relevant": M.relevance(passages, q.gold_passages), "n_relevant": n_relevant}
    if q.answerable and q.gold_passages:
        rels = row["relevant"]
        for k in KS:
            row[f"hit@{k}"] = M.hit_at_k(rels, k)
        row["mrr"] = M.reciprocal_rank(rels)
        ndcg = M.ndcg_at_k(rels, 5, n_relevant)
        row["ndcg@5"] = 0.0 if ndcg is None else ndcg  # no indexed passage holds a gold span: a miss
    row["context_fact_recall"] = M.context_fact_recall(passages, q.gold_facts) if q.answerable else None
    row["context_chars"] = sum(len(p) for p in passages)
    return row


def score_answer(q: EvalQuestion, answer: str, answered: bool,
                 citations: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Fact recall, citation precision, fact support and marker validity of one answer.
    `citations` are dicts with n, article_id and text."""
    row: dict[str, Any] = {
        "fact_recall": M.fact_recall(answer, q.gold_facts, answered) if q.answerable else None,
        "facts_present": M.facts_present(answer, q.gold_facts) if answered else [False] * len(q.gold_facts),
        "citation_precision": None, "fact_support": None,
        "marker_validity": M.marker_validity(answer, [c["n"] for c in citations]),
    }
    if answered:
        row["citation_precision"] = M.citation_precision([c["article_id"] for c in citations], q.gold_articles)
        row["fact_support"] = M.fact_support(answer, [c["text"] for c in citations], q.gold_facts)
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
    return out


def group_scores(rows: Sequence[dict[str, Any]], key: str, order: Iterable[str]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    ordered = [g for g in order if g in groups] + sorted(set(groups) - set(order))
    out = {}
    for g in ordered:
        agg = aggregate(groups[g])
        out[g] = {"n": len(groups[g]), **{m: agg.get(m) for m in
                  ("hit@1", "hit@5", "mrr", "ndcg@5", "fact_recall", "context_fact_recall",
                   "citation_precision", "abstention_accuracy")}}
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
    from rag import store

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


def count_relevant(corpus_texts: Sequence[str], gold_spans: Sequence[str]) -> int:
    return sum(M.relevance(corpus_texts, gold_spans)) if gold_spans else 0


def run_engine(engine, questions: Sequence[EvalQuestion], mode: str = "hybrid", top_k: int = 5,
               progress: Progress | None = None) -> list[dict[str, Any]]:
    """Ask every question; one scored row per question."""
    corpus = [text for _, text, _ in corpus_passages(engine)]
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
        }
        if "mode" in data:  # a language model is configured
            row["mode"] = data["mode"]
            row["warning"] = data["warning"]
            row["verified"] = data["verified"]
        row.update(score_retrieval(q, [h.text for h in r.retrieved], count_relevant(corpus, q.gold_passages)))
        row.update(score_answer(q, data["answer"], bool(data["answered"]), cites))
        row["failures"] = failure_reasons(q, row)
        row["expected"] = {"answerable": q.answerable, "gold_facts": [list(f) for f in q.gold_facts],
                           "gold_articles": list(q.gold_articles), "gold_passages": list(q.gold_passages)}
        rows.append(row)
        if progress:
            progress(i, len(questions))
    return rows


def baseline_documents(articles: Path = DEFAULT_ARTICLES) -> list:
    """llama-index Documents of the cleaned article texts (rag.loading.read_article), one per
    language version, so the baseline reads exactly the text our passages are cut from. The
    ids ride along as metadata that is kept out of the embedded and the LLM text."""
    from llama_index.core import Document

    from rag.loading import find_article_files, read_article

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
    corpus = [n.get_content() for n in nodes]
    rows = []
    for i, q in enumerate(questions, 1):
        t = time.perf_counter()
        got = retriever.retrieve(q.question)
        ms = (time.perf_counter() - t) * 1000
        texts = [r.node.get_content() for r in got]
        row = {"id": q.id, "language": q.language, "category": q.category, "answerable": q.answerable,
               "retrieved": [{"id": r.node.node_id, "article_id": r.node.metadata.get("article_id")} for r in got],
               "timings_ms": {"retrieve": round(ms, 2)}}
        row.update(score_retrieval(q, texts, count_relevant(corpus, q.gold_passages)))
        rows.append(row)
        if progress:
            progress(i, len(questions))
    agg = aggregate(rows)
    keep = ["hit@1", "hit@2", "mrr", "ndcg@5", "context_fact_recall"]
    return {
        "config": {"documents": "cleaned (rag.loading.read_article), one per language version",
                   "splitter": f"SentenceSplitter() chunk_size={splitter.chunk_size} chunk_overlap={splitter.chunk_overlap}",
                   "retriever": f"index.as_retriever() vector only, similarity_top_k={BASELINE_TOP_K}",
                   "embed_model": getattr(embed_model, "model_name", str(embed_model)),
                   "vector_store": "SimpleVectorStore (in memory)",
                   "nodes": len(nodes), "build_seconds": round(build_s, 2)},
        "metrics": {**{k: agg[k] for k in keep},
                    "context_chars": M.mean(r["context_chars"] for r in rows if r["answerable"])},
        "by_category": group_scores(rows, "category", CATEGORIES),
        "latency_ms": latency(rows),
        "questions": [{k: r.get(k) for k in ("id", "hit@1", "hit@2", "mrr", "ndcg@5", "context_fact_recall",
                                             "n_relevant", "retrieved")} for r in rows],
    }


def evaluate(engine, questions: Sequence[EvalQuestion], mode: str = "hybrid", top_k: int = 5,
             baseline: bool = True, articles: Path = DEFAULT_ARTICLES,
             progress: Progress | None = None, source: str = "") -> dict[str, Any]:
    """Everything the report and --json show: overall metrics, groups, latency, baseline, rows."""
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
        "set": {"file": source, "questions": len(rows), "answerable": sum(r["answerable"] for r in rows),
                "unanswerable": sum(not r["answerable"] for r in rows),
                "retrieval": str(getattr(mode, "value", mode)), "top_k": top_k,
                "index_dir": str(engine.settings.index_dir),
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


def comparison_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, ours, baseline) for the metrics both pipelines have, plus context size."""
    base = (result.get("baseline") or {}).get("metrics")
    rows = []
    for m in ("hit@1", "hit@2", "hit@3", "hit@5", "mrr", "ndcg@5", "context_fact_recall"):
        b = "–" if base is None else (fmt(base[m]) if m in base else f"n/a (top-{BASELINE_TOP_K})")
        rows.append((m, fmt(result["metrics"][m]), b))
    rows.append(("context chars (mean)", fmt(result["context_chars"], 0),
                 "–" if base is None else fmt(base["context_chars"], 0)))
    return rows


def render_table(result: dict[str, Any]) -> str:
    """The compact plain-text summary printed by `rag eval`."""
    s = result["set"]
    lines = [f"{s['questions']} questions ({s['answerable']} answerable) from {s['file']}; "
             f"retrieval={s['retrieval']} top_k={s['top_k']} chunk_tokens={s['chunk_tokens']}; {s['seconds']:.1f} s", ""]
    if s.get("answer_modes"):
        m = s["answer_modes"]
        lines[-1:] = [f"answers: {s['answers']}: {m['llm']} by the model, {m['extractive']} extractive "
                      f"({m['model_failed']} model failures); {m['sentences_supported']} of {m['sentences']} "
                      "generated sentences verified", ""]
    base = result.get("baseline")
    cmp = {m: (o, b) for m, o, b in comparison_rows(result)}
    lines.append(f"{'metric':<22}{'ours':>8}{'baseline' if base else '':>18}")
    for m in METRIC_ORDER:
        o, b = cmp.get(m, (fmt(result["metrics"][m]), ""))
        lines.append(f"{m:<22}{o:>8}{b if base else '':>18}")
    if base:
        lines.append(f"{'context chars (mean)':<22}{cmp['context chars (mean)'][0]:>8}{cmp['context chars (mean)'][1]:>18}")
    lines.append("")
    lines.append(f"{'group':<14}{'n':>4}{'hit@5':>8}{'MRR':>8}{'facts':>8}{'ctx':>8}{'cite':>8}{'abst':>8}")
    for groups in (result["by_category"], result["by_language"]):
        for g, v in groups.items():
            lines.append(f"{g:<14}{v['n']:>4}{fmt(v['hit@5'], 2):>8}{fmt(v['mrr'], 2):>8}{fmt(v['fact_recall'], 2):>8}"
                         f"{fmt(v['context_fact_recall'], 2):>8}{fmt(v['citation_precision'], 2):>8}"
                         f"{fmt(v['abstention_accuracy'], 2):>8}")
    lines.append("")
    lat = result["latency_ms"]
    lines.append("latency ms  " + "  ".join(f"{st} {fmt(v['p50'], 1)}/{fmt(v['p95'], 1)}" for st, v in lat.items())
                 + "  (p50/p95)")
    lines.append(f"failed questions: {len(result['failures'])}" +
                 (f" ({', '.join(result['failures'])})" if result["failures"] else ""))
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
    series = [("hit@5", "hit@5"), ("fact_recall", "fact recall"), ("context_fact_recall", "context fact recall"),
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
        o, b = cmp.get(m, (fmt(result["metrics"][m]), "–"))
        out.append(f"| {m} | {o} |" + (f" {b} |" if base else ""))
    if base:
        o, b = cmp["context chars (mean)"]
        out.append(f"| context chars (mean) | {o} | {b} |")
        c = base["config"]
        out += ["", f"Baseline: {c['splitter']}; {c['retriever']}; {c['vector_store']}; embedding "
                f"`{c['embed_model']}`; {c['nodes']} nodes from {c['documents']}. Its hit@3 and hit@5 equal its "
                f"hit@2 since it retrieves 2 passages; its nDCG@5 is over those 2."]
    out += ["", "Definitions: a retrieved passage is relevant if it contains any gold span (white space, "
            "quotes and case normalised). Retrieval metrics and fact recall are means over answerable "
            "questions; fact recall of an abstention is 0. Citation precision: answered questions whose cited "
            "passages all come from gold articles. Fact support: cited passages (of answered questions) "
            "holding a gold fact the answer states. Marker validity: [n] markers that resolve to a listed "
            "citation (all answers). Abstention: positive class = answered.", ""]
    out += ["## By category and language", "",
            "| group | n | hit@1 | hit@5 | MRR | nDCG@5 | fact recall | context fact recall | citation precision | abstention accuracy |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for groups in (result["by_category"], {f"lang: {k}": v for k, v in result["by_language"].items()}):
        for g, v in groups.items():
            out.append(f"| {g} | {v['n']} | {fmt(v['hit@1'], 2)} | {fmt(v['hit@5'], 2)} | {fmt(v['mrr'], 2)} | "
                       f"{fmt(v['ndcg@5'], 2)} | {fmt(v['fact_recall'], 2)} | {fmt(v['context_fact_recall'], 2)} | "
                       f"{fmt(v['citation_precision'], 2)} | {fmt(v['abstention_accuracy'], 2)} |")
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
