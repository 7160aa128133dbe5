"""What the evidence as a whole says about whether it answers the question: the features of
the reader's answerability model (rag/answer/reader_model.py), from the ranked sentences.

The order of EVIDENCE_FEATURES is the order of the trained model's weights: never reorder.
"""

from __future__ import annotations

import math
from typing import Sequence

from rag.answer.expected_types import TYPED
from rag.answer.questions import SYNONYMS
from rag.answer.sentence_features import KINDS, MISSING_IDF, Candidate, Lexicon, question_weights, tokens_of
from rag.types import Question

EVIDENCE_FEATURES = [
    "p1", "p2", "p_gap", "logit1", "sim1", "sim_max", "cov1", "cov_max", "cov_passage1", "missing_idf",
    "missing_share", "miss_sent_idf", "miss_sent_share", "miss_window_idf", "unknown_any", "unknown_share",
    "topic1", "legacy1", "legacy_max", "typed1", "dense1", "n_terms_log", "n_candidates_log", "same_lang1",
] + [f"kind_{k.value}" for k in KINDS] + [
    # A date or figure answers only when its sentence is about what the question asks the
    # date or figure of: for when / how-many questions, what the sentence and the index lack
    # weigh on their own ("What is the population of X?" against a sentence about X's tours).
    "value_q_topic1", "value_q_miss_sent_share", "value_q_unknown_share", "value_q_missing_share"]


def unknown_terms(q: Question, lexicon: Lexicon) -> tuple[float, float]:
    """(1 if any, idf share) of the question's terms that no passage of the index holds at all."""
    weights = question_weights(q, lexicon)
    total = sum(weights.values())
    unknown = {SYNONYMS.get(t, t) for t in q.terms if not lexicon.idf(t) and not lexicon.idf(SYNONYMS.get(t, t))}
    unknown &= set(weights)
    if not unknown or not total:
        return 0.0, 0.0
    return 1.0, sum(weights[t] for t in unknown) / total


def missing_terms(q: Question, lexicon: Lexicon, texts: Sequence[str]) -> tuple[float, float]:
    """(highest idf share, idf-weighted share) of the question's terms that none of `texts` holds."""
    weights = question_weights(q, lexicon)
    if not weights:
        return 0.0, 0.0
    have: set[str] = set()
    for t in texts:
        have |= tokens_of(t)
    missing = {t: w for t, w in weights.items() if t not in have}
    total = sum(weights.values())
    return (max(missing.values(), default=0.0) / MISSING_IDF, sum(missing.values()) / total)


def evidence_features(q: Question, cands: Sequence[Candidate], lexicon: Lexicon) -> dict[str, float]:
    """What the evidence as a whole says about whether the question is answered by it."""
    ranked = sorted(cands, key=lambda c: -c.p)
    top = ranked[0] if ranked else None
    p1 = top.p if top else 0.0
    p2 = ranked[1].p if len(ranked) > 1 else 0.0
    texts = []
    if top is not None:
        texts = [top.hit.meta.get("title", ""), top.hit.text]
    miss_max, miss_share = missing_terms(q, lexicon, texts) if top else (1.0, 1.0)
    # A question made unanswerable by one changed word ("in 1850" for "in 1805", another
    # name) still matches the passage: what the best sentence itself lacks tells.
    sent_max, sent_share = missing_terms(q, lexicon, [top.text]) if top else (1.0, 1.0)
    win = [top.hit.text[max(0, top.span[0] - 200):top.span[1] + 200]] if top else []
    win_max, _ = missing_terms(q, lexicon, win) if top else (1.0, 1.0)
    unknown = unknown_terms(q, lexicon)
    f = {
        "p1": p1, "p2": p2, "p_gap": p1 - p2,
        "logit1": math.log(max(p1, 1e-6) / max(1 - p1, 1e-6)) / 10,
        "sim1": top.features["sim"] if top else 0.0,
        "sim_max": max((c.features["sim"] for c in cands), default=0.0),
        "cov1": top.features["cov"] if top else 0.0,
        "cov_max": max((c.features["cov"] for c in cands), default=0.0),
        "cov_passage1": top.features["cov_passage"] if top else 0.0,
        "missing_idf": miss_max, "missing_share": miss_share,
        "miss_sent_idf": sent_max, "miss_sent_share": sent_share, "miss_window_idf": win_max,
        "unknown_any": unknown[0], "unknown_share": unknown[1],
        "topic1": top.features["cov_topic"] if top else 0.0,
        "legacy1": top.features["legacy"] if top else 0.0,
        "legacy_max": max((c.features["legacy"] for c in cands), default=0.0),
        "typed1": top.features["typed"] if top else 0.0,
        "dense1": top.features["sim_passage"] if top else 0.0,
        "n_terms_log": math.log1p(len(question_weights(q, lexicon))) / 3,
        "n_candidates_log": math.log1p(len(cands)) / 5,
        "same_lang1": top.features["same_lang"] if top else 0.0,
    }
    for k in KINDS:
        f[f"kind_{k.value}"] = 1.0 if q.kind == k else 0.0
    value = 1.0 if q.kind in TYPED else 0.0
    f["value_q_topic1"] = value * f["topic1"]
    f["value_q_miss_sent_share"] = value * sent_share
    f["value_q_unknown_share"] = value * unknown[1]
    f["value_q_missing_share"] = value * miss_share
    return f

