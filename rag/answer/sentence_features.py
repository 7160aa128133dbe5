"""The reader's description of each candidate sentence: features that mean the same in any
language and on any topic (e5 similarity to the question, idf-weighted coverage of the
question's words, whether it holds the kind of value the question asks for, retrieval ranks,
position). rag/answer/reader_model.py turns them into probabilities; docs/READER.md says why.

The order of SENTENCE_FEATURES is the order of the trained model's weights: never reorder.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from rag.store import manifest as store
from rag.answer.expected_types import novel_values, values
from rag.lang import CJK
from rag.lang.anchors import anchor_tokens
from rag.answer.questions import ATTRIBUTION, PARTICIPATION, SLOT_WORDS, SYNONYMS, ZH_PARTICIPATION, canonical, took_part
from rag.types import Hit, Kind, Question
from rag.answer.vocabulary import news
from rag.lang.tokenization import tokenize

KINDS = [k for k in Kind]
SENTENCE_FEATURES = [
    "sim", "sim_gap", "sim_passage", "cov", "cov_gap", "cov_window", "cov_passage", "share", "pairs",
    "cov_topic", "cov_topic_gap", "intro_list", "cov_ctx", "cov_ctx_gap", "part_cue", "legacy", "legacy_gap",
    "typed", "typed_any", "novel", "rank_inv", "top_passage", "fused_rel", "bm25_rel", "pos_in_passage",
    "first_in_doc", "log_len", "short", "same_lang", "sim_x_cov", "n_terms_log",
] + [f"kind_{k.value}" for k in KINDS]


class Lexicon(Protocol):
    def idf(self, token: str) -> float | None: ...


@dataclass
class Candidate:
    hit: Hit
    rank: int
    span: tuple[int, int]  # in hit.text
    text: str
    index: int  # sentence number in the passage
    p: float = 0.0
    vector: np.ndarray | None = None
    features: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return self.p

    @property
    def key(self) -> tuple[str, int]:
        # The same sentence appears in two passages where they overlap: one key for both.
        return (self.hit.meta.get("doc_id", self.hit.id), int(self.hit.meta.get("start", 0)) + self.span[0])


def question_weights(q: Question, lexicon: Lexicon) -> dict[str, float]:
    """idf of each of the question's content terms (synonyms folded). Anchors are matched
    against whole articles before, and slot words ("date", "place") name what is asked, not
    what the answer sentence says: neither counts."""
    spelled = anchor_tokens(q.text)
    slots = SLOT_WORDS if q.kind in (Kind.WHEN, Kind.WHERE, Kind.WHO) else set()
    weights: dict[str, float] = {}
    for t in dict.fromkeys(q.terms):
        if t in spelled or t in slots:
            continue
        c = SYNONYMS.get(t, t)
        w = lexicon.idf(t) or lexicon.idf(c)
        if not w and _CJK_PAIR.match(t):
            continue  # a character pair no article has is nearly always across two words: noise
        # A word no article has is the most specific word of the question: weigh it highest.
        weights[c] = max(weights.get(c, 0.0), w if w else MISSING_IDF)
    return weights


MISSING_IDF = 8.0
_CJK_PAIR = re.compile(rf"^[{CJK}]{{2}}$")


def topic_weights(q: Question, weights: dict[str, float]) -> dict[str, float]:
    """The question's terms without the names in it: in "What did Wang Xiaohui say about the
    housing market?" the name says whose words, "housing market" what they are about."""
    named = set(canonical(tokenize(" ".join(q.names), bigrams_only=True))) if q.names else set()
    return {t: w for t, w in weights.items() if t not in named} or weights


# A sentence that introduces a list: the list's items follow it ("Attending were:", "如下：").
INTRODUCES_LIST = re.compile(rf"[:：]\s*$|\b({'|'.join(news('en')['list_intros'])})\b[^.]*$|"
                             rf"(?:{'|'.join(news('zh')['list_intros'])})[:：]?\s*$", re.I)


def tokens_of(text: str) -> set[str]:
    raw = tokenize(text, bigrams_only=True)
    return set(canonical(raw)) | set(raw)


def coverage(weights: dict[str, float], tokens: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in tokens) / total if total else 0.0


def hit_sentence_vectors(hit: Hit) -> np.ndarray | None:
    vecs = store.unpack_vectors(hit.meta.get(store.SENTENCE_VECTORS, ""), len(hit.sentences))
    return vecs


Vectors = Callable[[list[str]], np.ndarray]  # texts -> L2-normalised passage-side vectors


def candidates(q: Question, hits: Sequence[Hit], lexicon: Lexicon, qvec: np.ndarray | None,
               vectors: Vectors | None = None) -> list[Candidate]:
    """Every sentence of `hits` (once, however many passages hold it), with its features."""
    weights = question_weights(q, lexicon)
    topic = topic_weights(q, weights)
    # Context-aware coverage (the hand-set scorer this reader replaced, kept as one feature):
    # a name in "what did X say" counts half, the headline's words count half for each of its
    # sentences and the passage's a third, a participation word answers "who attended".
    ctx_w = dict(weights)
    if ATTRIBUTION.search(q.text):
        for t in set(canonical(tokenize(" ".join(q.names), bigrams_only=True))) & set(ctx_w):
            ctx_w[t] *= 0.5
    ctx_total = sum(ctx_w.values())
    part_terms = {t for t in ctx_w if t in PARTICIPATION or t in ZH_PARTICIPATION}
    pairs = {(a, b) for a, b in zip(q.terms, q.terms[1:])}
    n_terms = len(weights)
    out: dict[tuple[str, int], Candidate] = {}
    top_fused = max((h.score for h in hits), default=0.0) or 1.0
    top_bm25 = max((h.bm25 or 0.0 for h in hits), default=0.0) or 1.0
    dense_floor = min((h.dense for h in hits if h.dense is not None), default=0.0)  # no vectors at all
    for rank, hit in enumerate(hits):
        spans = hit.sentences
        vecs = hit_sentence_vectors(hit)
        if vecs is None and vectors is not None and qvec is not None:
            vecs = vectors([hit.text[a:b].strip() or hit.text for a, b in spans])
        passage_tokens = tokens_of(hit.meta.get("title", "") + "\n" + hit.text)
        title_tokens = tokens_of(hit.meta.get("title", ""))
        body_tokens = tokens_of(hit.text)
        sent_tokens = [tokens_of(hit.text[a:b]) for a, b in spans]
        for i, (a, b) in enumerate(spans):
            text = hit.text[a:b].strip()
            if not text:
                continue
            c = Candidate(hit, rank, (a, b), hit.text[a:b], i)
            if c.key in out:
                continue
            toks = sent_tokens[i]
            window = toks | (sent_tokens[i - 1] if i else set()) | (sent_tokens[i + 1] if i + 1 < len(spans) else set())
            raw = tokenize(text, bigrams_only=True)
            sim = float(vecs[i] @ qvec) if vecs is not None and qvec is not None and i < len(vecs) else 0.0
            c.vector = vecs[i] if vecs is not None and i < len(vecs) else None
            doc_pos = int(hit.meta.get("start", 0)) + a
            if hit.dense is None and vecs is not None and qvec is not None:
                # A passage found by BM25 alone has no dense score: its best sentence stands in.
                hit.dense = float((vecs @ qvec).max())
            f = {
                "sim": sim,
                "sim_passage": hit.dense if hit.dense is not None else dense_floor,
                "cov": coverage(weights, toks),
                "cov_window": coverage(weights, window),
                "cov_passage": coverage(weights, passage_tokens),
                "share": (len(set(weights) & toks) / n_terms) if n_terms else 0.0,
                "pairs": min(3, len(pairs & set(zip(raw, raw[1:])))) / 3,
                "cov_topic": coverage(topic, window),
                "intro_list": 1.0 if INTRODUCES_LIST.search(text) else 0.0,
                "typed": min(2, novel_values(q.kind, text, hit.lang, q.text)) / 2,
                "typed_any": 1.0 if values(q.kind, text, hit.lang) else 0.0,
                "novel": (len(set(raw) - set(q.terms)) / len(set(raw))) if raw else 0.0,
                "rank_inv": 1.0 / (rank + 1),
                "top_passage": 1.0 if rank == 0 else 0.0,
                "fused_rel": hit.score / top_fused,
                "bm25_rel": (hit.bm25 or 0.0) / top_bm25,
                "pos_in_passage": i / max(1, len(spans) - 1),
                "first_in_doc": 1.0 if doc_pos < 5 else 0.0,
                "log_len": math.log1p(len(text)) / 6,
                "short": 1.0 if len(text) < 25 else 0.0,
                "same_lang": 1.0 if hit.lang == q.lang else 0.0,
                "n_terms_log": math.log1p(n_terms) / 3,
            }
            f["sim_x_cov"] = f["sim"] * f["cov"]
            got = sum(w for t, w in ctx_w.items() if t in toks)
            got += 0.5 * sum(w for t, w in ctx_w.items() if t not in toks and t in title_tokens)
            got += 0.35 * sum(w for t, w in ctx_w.items() if t not in toks and t not in title_tokens and t in body_tokens)
            part = took_part(text)
            if q.participation and part_terms and not (toks & part_terms) and part:
                got += sum(ctx_w[t] for t in part_terms)
            f["cov_ctx"] = got / ctx_total if ctx_total else 0.0
            f["part_cue"] = 1.0 if (q.participation and part) else 0.0
            cue = f["typed_any"] > 0 or q.kind not in (Kind.WHEN, Kind.WHERE, Kind.QUANTITY, Kind.WHO)
            if q.participation:
                cue = cue and part
            f["legacy"] = (f["cov_ctx"] + 0.1 * min(2, len(pairs & set(zip(raw, raw[1:]))))) * (1.0 if cue else 0.5)
            for k in KINDS:
                f[f"kind_{k.value}"] = 1.0 if q.kind == k else 0.0
            c.features = f
            out[c.key] = c
    cands = list(out.values())
    if cands:
        best_sim = max(c.features["sim"] for c in cands)
        best_cov = max(c.features["cov"] for c in cands)
        best_topic = max(c.features["cov_topic"] for c in cands)
        best_ctx = max(c.features["cov_ctx"] for c in cands)
        best_legacy = max(c.features["legacy"] for c in cands)
        for c in cands:
            c.features["sim_gap"] = c.features["sim"] - best_sim
            c.features["cov_gap"] = c.features["cov"] - best_cov
            c.features["cov_topic_gap"] = c.features["cov_topic"] - best_topic
            c.features["cov_ctx_gap"] = c.features["cov_ctx"] - best_ctx
            c.features["legacy_gap"] = c.features["legacy"] - best_legacy
    return cands

