"""Score one question's answer and retrieval, and aggregate the rows: texts in, numbers out.

Every score comes from rag.eval.metrics and rag.eval.squad_metrics; this module picks their
inputs out of a question and an answer, so that our engine and the llama-index baseline are
scored by the same code (rag.eval.runner and rag.eval.baseline only gather the inputs).

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

from typing import Any, Callable, Iterable, Sequence

from rag.eval import metrics as M
from rag.eval import squad_metrics as S
from rag.eval.types import EvalQuestion

CATEGORIES = ("who", "where", "when", "what", "list", "cross", "paraphrase", "unanswerable")
LANGUAGES = ("en", "zh")
KS = (1, 2, 3, 5)
STAGES = ("embed_query", "dense", "bm25", "fusion", "retrieve", "answer", "llm_first_token", "llm", "verify", "total")

# The overall metrics, in the order of the printed table. Each may be named in thresholds.json.
METRIC_ORDER = (
    "hit@1", "hit@2", "hit@3", "hit@5", "mrr", "ndcg@5",
    "fact_recall", "context_fact_recall",
    "answer_recall", "support", "support_retrieved",
    "citation_precision", "fact_support", "marker_validity",
    "abstention_accuracy", "answered_precision", "answered_recall",
    "abstention_precision", "abstention_recall",
    "false_abstention", "unanswerable_abstention",
    "exact_match", "f1", "exact_match_answerable", "f1_answerable", "short_answer_rate", "short_withheld_rate",
    "median_short_chars", "median_answer_chars", "mean_confidence_answerable", "mean_confidence_unanswerable",
)
# Reported but not gateable by a minimum: lower is better, or not a score at all.
NOT_GATED = ("false_abstention", "short_withheld_rate", "median_answer_chars", "median_short_chars",
             "mean_confidence_answerable", "mean_confidence_unanswerable")
# The per-group columns (by category, by language).
GROUP_METRICS = ("hit@1", "hit@5", "mrr", "ndcg@5", "fact_recall", "context_fact_recall", "answer_recall",
                 "support", "citation_precision", "abstention_accuracy", "false_abstention",
                 "unanswerable_abstention", "exact_match", "f1", "median_answer_chars")


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
    row["support_retrieved"] = S.gold_in_any(passages, q.gold_facts) if q.answerable else None
    row["context_chars"] = sum(len(p) for p in passages)
    return row


def score_answer(q: EvalQuestion, answer: str, answered: bool,
                 citations: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Fact recall, answer recall, support, citation precision, fact support, marker validity
    and length of one answer. `citations` are dicts with n, article_id and text."""
    row: dict[str, Any] = {
        "fact_recall": M.fact_recall(answer, q.gold_facts, answered) if q.answerable else None,
        "answer_recall": S.answer_recall(answer, q.gold_facts, answered) if q.answerable else None,
        "support": S.support([c["text"] for c in citations], q.gold_facts, answered) if q.answerable else None,
        "answer_chars": len(S.answer_text(answer)) if answered else None,
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
    answer's text when it has none (a why-question); the empty answer when it abstained or
    withheld its short answer (it states no answer, as a SQuAD 2.0 reader that predicts none;
    answer recall and support still score the sentences it shows)."""
    if not result.get("answered") or result.get("short_answer_withheld"):
        return ""
    short = result.get("short_answer")
    return short["text"] if short else S.answer_text(result.get("answer", ""))


def score_short(q: EvalQuestion, result: dict[str, Any]) -> dict[str, Any]:
    """SQuAD's exact match and F1 (character F1 for Chinese, as CMRC) of the short answer, for a
    question with short gold answers or none at all (unanswerable: only an abstention is right)."""
    pred = short_prediction(result)
    row: dict[str, Any] = {"short_answer": (result.get("short_answer") or {}).get("text"),
                           "short_withheld": bool(result.get("short_answer_withheld")),
                           "short_prediction": pred, "exact_match": None, "f1": None}
    if q.gold_short or not q.answerable:
        golds = list(q.gold_short) if q.answerable else []
        cjk = q.language == "zh"
        row["exact_match"] = S.exact_match(pred, golds, cjk)
        row["f1"] = S.token_f1(pred, golds, cjk)
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


def relevant_counter(corpus_texts: Sequence[str]) -> Callable[[Sequence[str]], int]:
    """count(spans): the passages of the corpus that contain any of the spans (M.relevance's
    rule). The corpus is normalised once: a public set has thousands of passages and questions."""
    norm = [M.normalise(t) for t in corpus_texts]

    def count(spans: Sequence[str]) -> int:
        ns = [n for n in (M.normalise(s) for s in spans) if n]
        return sum(1 for t in norm if any(n in t for n in ns)) if ns else 0
    return count


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
    out["short_withheld_rate"] = M.share(bool(r.get("short_withheld")) for r in rows if r.get("answered"))
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
