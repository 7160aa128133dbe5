"""The trained reader: which retrieved sentence answers the question, and how likely it is that
the evidence answers it at all.

Why trained: hand-set weights and word lists fitted to two articles did not carry over to
other text (docs/READER.md). Here every candidate sentence is described by features that
mean the same in any language and on any topic (e5 similarity to the question, idf-weighted
coverage of the question's words, whether it holds the kind of value the question asks for,
retrieval ranks, position), and two logistic regressions learnt by `scripts/train_reader.py`
from public reading-comprehension sets and our own questions turn them into

- `p`: the probability that a sentence holds the answer (ranks the sentences), and
- `confidence`: the probability that the best sentence answers the question (decides abstention).

Applying them is a few dot products: no new dependency at answer time.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from rag.store import manifest as store
from rag.answer.questions import (ATTRIBUTION, PARTICIPATION, SLOT_WORDS, SYNONYMS, ZH_PARTICIPATION, Kind, Question,
                           canonical, took_part)
from rag.lang.anchors import anchor_tokens
from rag.retrieve.hybrid import Hit
from rag.lang import CJK
from rag.lang.en import MONTHS
from rag.lang.tokenization import tokenize

MODEL_PATH = Path(__file__).parent / "models" / "reader.json"
MODEL_VERSION = 2

# -- answer types ------------------------------------------------------------------------------
# What a value of each kind looks like, per language (the only language-specific part here).
_MONTHS = "|".join(m.title() for m in MONTHS)
DATES = re.compile(rf"\b({_MONTHS})\b(\s+\d{{1,2}})?|\b(1[5-9]|20)\d\d\b|\b\d{{1,2}}(st|nd|rd|th)\s+centur|"
                   r"\d+\s*[年月日号]|[一二三四五六七八九十〇零]+\s*[年月日]|世纪|\b\d{1,2}:\d\d\b")
FIGURE = re.compile(r"\d+(?:[.,]\d+)*|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|"
                    r"million|billion)\b|[一二三四五六七八九十两百千万亿]+\s*[个项次名位条家座处种年倍公里吨元人%]", re.I)
_EN_NAME = re.compile(r"\b[A-Z][a-z]+(?:['’-][A-Za-z]+)?(?:\s+(?:of\s+|de\s+|von\s+)?[A-Z][a-z]+(?:['’-][A-Za-z]+)?)*")
_ZH_PERSON = re.compile(r"书记|市长|省长|主任|部长|秘书长|主席|总理|总统|国王|皇帝|教授|先生|女士|负责人|代表|创始人|作者|导演|演员")
_ZH_PLACE = re.compile(r"[区市省县镇村州国岛山河湖港]|在.{1,12}(举行|召开)")


_EN_PERSON = re.compile(r"\b([A-Z][a-z]+(?:['’][a-z]+)?) ([A-Z][a-z]+(?:['’][a-z]+)?)\b")
# Capitalised words that start no person's name in English news (roles, bodies, places' kinds).
_NOT_NAME = set("""meeting session conference congress committee party government province city district county
region area mayor governor secretary chairman president premier minister delegation forum summit ceremony plan
project program programme article report municipal provincial people's cpc cppcc deputy general central national
western eastern northern southern new the on in at and of for with by during china chinese january february march
april may june july august september october november december attendees other officials source""".split())


def person_names(text: str, lang: str) -> list[str]:
    """Two-word capitalised names in `text` ("Wang Xiaohui"); none for Chinese, which has no
    capitals to go by (a dictionary-free Chinese name finder would guess)."""
    if lang != "en":
        return []
    return list(dict.fromkeys(m.group(0) for m in _EN_PERSON.finditer(text)
                              if m.group(1).lower() not in _NOT_NAME and m.group(2).lower() not in _NOT_NAME))


def values(kind: Kind, text: str, lang: str) -> list[str]:
    """Values of the kind a question of `kind` asks for, as written in `text`."""
    if kind == Kind.WHEN:
        return [m.group(0) for m in DATES.finditer(text)]
    if kind == Kind.QUANTITY:
        return [m.group(0) for m in FIGURE.finditer(DATES.sub(" ", text))]
    if kind in (Kind.WHO, Kind.WHERE):
        if lang == "zh":
            rx = _ZH_PERSON if kind == Kind.WHO else _ZH_PLACE
            return [m.group(0) for m in rx.finditer(text)]
        # A capitalised run that does not open the sentence: a name of a person or a place.
        return [m.group(0) for m in _EN_NAME.finditer(text) if m.start() > 0]
    return []


def novel_values(kind: Kind, text: str, lang: str, question: str) -> int:
    """How many values of the asked kind `text` holds that the question does not already say."""
    low = question.lower()
    return sum(1 for v in values(kind, text, lang) if v.lower() not in low)


# -- features ------------------------------------------------------------------------------------
KINDS = [k for k in Kind]
SENTENCE_FEATURES = [
    "sim", "sim_gap", "sim_passage", "cov", "cov_gap", "cov_window", "cov_passage", "share", "pairs",
    "cov_topic", "cov_topic_gap", "intro_list", "cov_ctx", "cov_ctx_gap", "part_cue", "legacy", "legacy_gap",
    "typed", "typed_any", "novel", "rank_inv", "top_passage", "fused_rel", "bm25_rel", "pos_in_passage",
    "first_in_doc", "log_len", "short", "same_lang", "sim_x_cov", "n_terms_log",
] + [f"kind_{k.value}" for k in KINDS]
EVIDENCE_FEATURES = [
    "p1", "p2", "p_gap", "logit1", "sim1", "sim_max", "cov1", "cov_max", "cov_passage1", "missing_idf",
    "missing_share", "miss_sent_idf", "miss_sent_share", "miss_window_idf", "unknown_any", "unknown_share",
    "topic1", "legacy1", "legacy_max", "typed1", "dense1", "n_terms_log", "n_candidates_log", "same_lang1",
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


def unknown_terms(q: Question, lexicon: Lexicon) -> tuple[float, float]:
    """(1 if any, idf share) of the question's terms that no passage of the index holds at all."""
    weights = question_weights(q, lexicon)
    total = sum(weights.values())
    unknown = {SYNONYMS.get(t, t) for t in q.terms if not lexicon.idf(t) and not lexicon.idf(SYNONYMS.get(t, t))}
    unknown &= set(weights)
    if not unknown or not total:
        return 0.0, 0.0
    return 1.0, sum(weights[t] for t in unknown) / total


_INTRODUCES_LIST = re.compile(r"[:：]\s*$|\b(the following|as follows)\b[^.]*$|如下[:：]?\s*$", re.I)


def _tokens(text: str) -> set[str]:
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
        passage_tokens = _tokens(hit.meta.get("title", "") + "\n" + hit.text)
        title_tokens = _tokens(hit.meta.get("title", ""))
        body_tokens = _tokens(hit.text)
        sent_tokens = [_tokens(hit.text[a:b]) for a, b in spans]
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
                "intro_list": 1.0 if _INTRODUCES_LIST.search(text) else 0.0,
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


def matrix(rows: Sequence[dict[str, float]], names: Sequence[str]) -> np.ndarray:
    return np.array([[r.get(n, 0.0) for n in names] for r in rows], dtype=np.float64).reshape(len(rows), len(names))


def missing_terms(q: Question, lexicon: Lexicon, texts: Sequence[str]) -> tuple[float, float]:
    """(highest idf share, idf-weighted share) of the question's terms that none of `texts` holds."""
    weights = question_weights(q, lexicon)
    if not weights:
        return 0.0, 0.0
    have: set[str] = set()
    for t in texts:
        have |= _tokens(t)
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
    return f


# -- the models -----------------------------------------------------------------------------------

@dataclass
class LinearModel:
    """A linear model on standardised features, z = ((x - mean) / scale) @ coef + intercept.

    `link` "logistic": p = sigmoid(z) for each row (a logistic regression).
    `link` "softmax": p = softmax(z) over the rows given together, i.e. over one question's
    candidates (a conditional logit: the probability that this sentence, of these, is the one
    that answers). Trained as a ranker, it orders sentences better than a pointwise logistic
    regression (docs/READER.md)."""
    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    link: str = "logistic"

    def predict(self, X: np.ndarray) -> np.ndarray:
        if X.size == 0:
            return np.zeros(len(X))
        z = ((X - self.mean) / self.scale) @ self.coef + self.intercept
        if self.link == "softmax":
            e = np.exp(z - z.max())
            return e / e.sum()
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "link": self.link, "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(float(self.intercept), 6)}

    @classmethod
    def from_json(cls, d: dict) -> "LinearModel":
        return cls(list(d["features"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                   np.asarray(d["coef"], float), float(d["intercept"]), d.get("link", "logistic"))


@dataclass
class ReaderModel:
    sentence: LinearModel
    evidence: LinearModel
    min_confidence: float
    # Below this context coverage (`cov_ctx`) of the question by the most probable sentence, the
    # evidence is not about what the question asks (learnt with the threshold:
    # scripts/train_reader.py).
    coverage_floor: float = 0.0
    coverage_floor_typed: float = 0.0  # the same for when / how-many questions
    meta: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"version": MODEL_VERSION, "sentence": self.sentence.to_json(), "evidence": self.evidence.to_json(),
                "min_confidence": self.min_confidence, "coverage_floor": self.coverage_floor,
                "coverage_floor_typed": self.coverage_floor_typed, "meta": self.meta}

    @classmethod
    def from_json(cls, d: dict) -> "ReaderModel":
        if d.get("version") != MODEL_VERSION:
            raise ValueError(f"reader model version {d.get('version')} is not {MODEL_VERSION}; "
                             "run scripts/train_reader.py")
        s, e = LinearModel.from_json(d["sentence"]), LinearModel.from_json(d["evidence"])
        if s.features != SENTENCE_FEATURES or e.features != EVIDENCE_FEATURES:
            raise ValueError("the reader model's features differ from the code's; run scripts/train_reader.py")
        return cls(s, e, float(d["min_confidence"]), float(d.get("coverage_floor", 0.0)),
                   float(d.get("coverage_floor_typed", 0.0)), d.get("meta", {}))

    def score(self, q: Question, cands: list[Candidate], lexicon: Lexicon) -> float:
        """Set each candidate's `p`; return the confidence that the best one answers `q`."""
        if not cands:
            return 0.0
        probs = self.sentence.predict(matrix([c.features for c in cands], self.sentence.features))
        for c, p in zip(cands, probs):
            c.p = float(p)
        ev = evidence_features(q, cands, lexicon)
        return float(self.evidence.predict(matrix([ev], self.evidence.features))[0])


@functools.lru_cache(maxsize=4)
def load(path: Path = MODEL_PATH) -> ReaderModel:
    return ReaderModel.from_json(json.loads(Path(path).read_text("utf-8")))
