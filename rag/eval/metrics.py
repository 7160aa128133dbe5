"""Evaluation metrics as pure functions of plain values (strings, lists, booleans).

Why pure: every number in the evaluation report must be checkable by hand. These functions
take the texts and labels, never an engine or an index, so tests/unit/test_metrics.py can pin each
one to a hand-computed value, and the same functions score our engine and the llama-index
baseline alike (see rag.eval.runner, which only gathers the inputs).

Conventions, shared by all functions:

- Matching is on `normalise(text)`: white space collapsed to one space, curly quotes folded
  to straight ones, case folded. A gold span "Chen Min'er, Secretary" matches a passage that
  wraps it over a line break or writes Min’er.
- A metric that is undefined for an input (no gold span, no gold fact, no answered
  question, division by zero) returns None, and `mean` skips None. An undefined value is
  never silently a 0 or a 1.
- A retrieved passage is relevant when it contains ANY gold span of the question; several
  retrieved passages may be relevant (overlapping chunks hold the same span), and each counts
  with gain 1 in nDCG.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

_WS = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_MARKER = re.compile(r"\[(\d+)\]")


# -- text matching -------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """White space collapsed, curly quotes straightened, case folded."""
    return _WS.sub(" ", (text or "").translate(_QUOTES)).strip().casefold()


def contains(haystack: str, needle: str) -> bool:
    """`needle` occurs in `haystack` after normalising both; an empty needle never matches."""
    n = normalise(needle)
    return bool(n) and n in normalise(haystack)


def strip_markers(answer: str) -> str:
    """The answer text without its [n] citation markers (so a fact can run across one)."""
    return _MARKER.sub(" ", answer or "")


def markers(answer: str) -> list[int]:
    """The numbers of the [n] markers of `answer`, in order, repeats kept."""
    return [int(m) for m in _MARKER.findall(answer or "")]


# -- retrieval ------------------------------------------------------------------------------------

def relevance(passages: Sequence[str], gold_spans: Sequence[str]) -> list[bool]:
    """For each retrieved passage, in rank order: does it contain any gold span?"""
    spans = [s for s in gold_spans if normalise(s)]
    return [any(contains(p, s) for s in spans) for p in passages]


def hit_at_k(rels: Sequence[bool], k: int) -> float:
    """1.0 when a relevant passage is among the first k, else 0.0."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    return 1.0 if any(rels[:k]) else 0.0


def reciprocal_rank(rels: Sequence[bool]) -> float:
    """1 / rank of the first relevant passage (ranks from 1); 0.0 when none is relevant."""
    for i, r in enumerate(rels, start=1):
        if r:
            return 1.0 / i
    return 0.0


def dcg_at_k(rels: Sequence[bool], k: int) -> float:
    """Binary-gain DCG: sum over relevant positions i <= k of 1 / log2(i + 1)."""
    return sum(1.0 / math.log2(i + 1) for i, r in enumerate(rels[:k], start=1) if r)


def ndcg_at_k(rels: Sequence[bool], k: int, n_relevant: int | None = None) -> float | None:
    """DCG@k over the ideal DCG@k of `n_relevant` relevant passages (each gain 1).

    `n_relevant` is the number of relevant passages in the whole collection (what an ideal
    ranking could put first). When it is not known, the relevant passages in `rels` are used,
    which rewards ranking only. It is never taken below the count in `rels`, so duplicated
    relevant passages cannot lift nDCG over 1. None when nothing is relevant anywhere."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    in_list = sum(1 for r in rels if r)
    total = in_list if n_relevant is None else max(n_relevant, in_list)
    if total == 0:
        return None
    ideal = dcg_at_k([True] * min(k, total), k)
    return dcg_at_k(rels, k) / ideal


# -- answers --------------------------------------------------------------------------------------

def facts_present(text: str, gold_facts: Sequence[Sequence[str]]) -> list[bool]:
    """For each gold fact (a list of acceptable strings): does any of them occur in `text`?"""
    body = strip_markers(text)
    return [any(contains(body, alt) for alt in fact) for fact in gold_facts]


def fact_recall(text: str, gold_facts: Sequence[Sequence[str]], answered: bool = True) -> float | None:
    """Share of gold facts present in `text`. None without gold facts; 0.0 for an abstention
    (its text is a refusal, whatever words it happens to repeat from the question)."""
    if not gold_facts:
        return None
    if not answered:
        return 0.0
    present = facts_present(text, gold_facts)
    return sum(present) / len(present)


def context_fact_recall(passages: Sequence[str], gold_facts: Sequence[Sequence[str]]) -> float | None:
    """Share of gold facts present in the retrieved passages read together: an upper bound on
    what an extractive reader of that context could say. None without gold facts."""
    if not gold_facts:
        return None
    return fact_recall("\n".join(passages), gold_facts, answered=True)


# -- answers, SQuAD-style (public sets) -------------------------------------------------------------
#
# Public sets carry short answers ("Denmark, Iceland and Norway", "1994年") written by other
# people; our answers are whole sentences. So a gold answer counts when it occurs inside the
# answer, compared the way SQuAD's and CMRC's official scripts compare answers: case, punctuation
# and English articles do not matter, and for Chinese neither does white space.

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_MARKER_GAP = re.compile(r"\s*\[\d+\]")
_WORD_CHAR = "0-9a-z\u00c0-\u024f"  # what may not touch a Latin-script answer (text is case-folded)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def squad_normalise(text: str, cjk: bool | None = None) -> str:
    """SQuAD's normalize_answer (lower-case, punctuation out, a/an/the removed, white space
    collapsed), with every Unicode punctuation mark counted as punctuation (so CJK 、，。「」 too).
    Punctuation becomes a space where SQuAD's script deletes it: answers are matched as whole
    words inside a longer text, and "Watt's" must still hold the answer "Watt".
    For Chinese text (`cjk`, default: the text has CJK characters) white space is dropped
    altogether, as CMRC's script does: "1994 年" and "1994年" are the same answer."""
    t = (text or "").casefold()
    t = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in t)
    t = _ARTICLES.sub(" ", t)
    if has_cjk(text) if cjk is None else cjk:
        return "".join(t.split())
    return " ".join(t.split())


def answer_text(answer: str) -> str:
    """The answer without its [n] markers, which would otherwise leave stray digits behind
    (a marker [1] must not make the gold answer "1" occur)."""
    return _MARKER_GAP.sub("", answer or "").strip()


def answer_occurs(text: str, gold: str) -> bool:
    """Does the gold answer occur in `text` after squad_normalise? A Latin-script answer must
    not touch another Latin letter or digit ("us" is not in "because", "1" is not in "1990"),
    but may touch Chinese ("搭配Glade来使用" holds "Glade"); a gold answer with CJK characters
    is matched as a substring with all white space gone on both sides."""
    cjk = has_cjk(gold)
    g = squad_normalise(gold, cjk)
    if not g:
        return False
    t = squad_normalise(text, cjk)
    if cjk:
        return g in t
    return re.search(f"(?<![{_WORD_CHAR}]){re.escape(g)}(?![{_WORD_CHAR}])", t) is not None


# -- short answers, scored as SQuAD and CMRC score readers -------------------------------------

_CJK_CHAR_OR_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\s\u3400-\u9fff\uf900-\ufaff]+")


def answer_tokens(text: str, cjk: bool) -> list[str]:
    """What F1 counts: SQuAD's words for English; for Chinese, as CMRC's script does, each
    Chinese character and each run of other characters ("1994", "iPhone") is one token."""
    norm = squad_normalise(text, cjk)
    if not cjk:
        return norm.split()
    return _CJK_CHAR_OR_WORD.findall(squad_normalise(text, False))


def exact_match(prediction: str, golds: Sequence[str], cjk: bool = False) -> float:
    """1.0 when the prediction equals a gold answer after normalisation. With no gold answer
    (an unanswerable question) only the empty prediction, an abstention, is right."""
    golds = [g for g in golds if g.strip()]
    if not golds:
        return 1.0 if not (prediction or "").strip() else 0.0
    p = squad_normalise(prediction, cjk)
    if any(p == squad_normalise(g, cjk) for g in golds):
        return 1.0
    # A list is right in any order: "Huang Qiang, Hu Henghua" is "Hu Henghua and Huang Qiang".
    items = list_items(prediction, cjk)
    return 1.0 if len(items) > 1 and any(items == list_items(g, cjk) for g in golds) else 0.0


_LIST_SEP = re.compile(r"\s*(?:[,，、;；]|\band\b|和|及)\s*")


def list_items(text: str, cjk: bool = False) -> frozenset[str]:
    """The normalised items of a list answer ("A, B and C" or "甲、乙和丙")."""
    return frozenset(x for x in (squad_normalise(t, cjk) for t in _LIST_SEP.split(text or "")) if x)


def token_f1(prediction: str, golds: Sequence[str], cjk: bool = False) -> float:
    """SQuAD's F1 (tokens in common, as precision and recall), the best over the gold answers;
    character-level for Chinese (CMRC). Empty prediction and no gold answer: 1.0."""
    golds = [g for g in golds if g.strip()]
    if not golds:
        return 1.0 if not (prediction or "").strip() else 0.0
    pred = answer_tokens(prediction, cjk)
    best = 0.0
    for g in golds:
        gold = answer_tokens(g, cjk)
        common = sum((Counter(pred) & Counter(gold)).values())
        if common:
            precision, recall = common / len(pred), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def gold_in_any(texts: Sequence[str], gold_facts: Sequence[Sequence[str]]) -> float | None:
    """Share of gold facts of which some acceptable answer occurs in one of `texts` (each text
    checked on its own: an answer split over two passages is not in either). None without
    gold facts. A public set's question has one fact: its list of acceptable answers."""
    if not gold_facts:
        return None
    found = sum(1 for fact in gold_facts if any(answer_occurs(t, alt) for t in texts for alt in fact))
    return found / len(gold_facts)


def answer_recall(answer: str, gold_facts: Sequence[Sequence[str]], answered: bool = True) -> float | None:
    """Share of gold facts with an acceptable answer in the answer text (markers removed,
    SQuAD-normalised). 0.0 for an abstention; None without gold facts (unanswerable)."""
    if not gold_facts:
        return None
    if not answered:
        return 0.0
    return gold_in_any([answer_text(answer)], gold_facts)


def support(cited_passages: Sequence[str], gold_facts: Sequence[Sequence[str]],
            answered: bool = True) -> float | None:
    """Share of gold facts with an acceptable answer in one of the cited passages: the answer
    points at the evidence, whatever its own wording. 0.0 for an abstention (the closest
    passages it shows are not a claim); None without gold facts."""
    if not gold_facts:
        return None
    if not answered:
        return 0.0
    return gold_in_any(cited_passages, gold_facts)


def share(flags: Iterable[bool]) -> float | None:
    """The share of True among `flags`; None when there are none."""
    vals = list(flags)
    return sum(1 for v in vals if v) / len(vals) if vals else None


def median(values: Iterable[float | None]) -> float | None:
    """The median of the defined values (the mean of the middle two for an even count)."""
    vals = [v for v in values if v is not None]
    return percentile(vals, 50) if vals else None


# -- citations ------------------------------------------------------------------------------------

def citation_precision(cited_articles: Sequence[str], gold_articles: Iterable[str]) -> float | None:
    """1.0 when the answer cites at least one passage and every cited passage is from a gold
    article, else 0.0 (an answer without citations is not supported). None without gold articles."""
    gold = set(gold_articles)
    if not gold:
        return None
    if not cited_articles:
        return 0.0
    return 1.0 if set(cited_articles) <= gold else 0.0


def stated_facts(answer: str, gold_facts: Sequence[Sequence[str]]) -> list[list[str]]:
    """The acceptable strings, per gold fact, that the answer actually contains."""
    body = strip_markers(answer)
    out = []
    for fact in gold_facts:
        said = [alt for alt in fact if contains(body, alt)]
        if said:
            out.append(said)
    return out


def fact_support(answer: str, cited_passages: Sequence[str],
                 gold_facts: Sequence[Sequence[str]]) -> tuple[int, int] | None:
    """(cited passages that contain at least one fact the answer states, cited passages).

    Returned as counts so that the overall value can be the share over all cited passages.
    A fact counts for a passage in any of the forms the answer used. None when the answer
    states no gold fact (nothing to support) or cites nothing."""
    said = stated_facts(answer, gold_facts)
    if not said or not cited_passages:
        return None
    supported = sum(1 for p in cited_passages if any(contains(p, alt) for fact in said for alt in fact))
    return supported, len(cited_passages)


def marker_validity(answer: str, citation_numbers: Iterable[int]) -> tuple[int, int]:
    """(markers [n] in `answer` whose n is a listed citation, all markers)."""
    listed = set(citation_numbers)
    used = markers(answer)
    return sum(1 for n in used if n in listed), len(used)


# -- abstention -----------------------------------------------------------------------------------

def confusion(answered: Sequence[bool], answerable: Sequence[bool]) -> dict[str, int]:
    """Counts with positive class = "answered": tp answered an answerable question, fp answered
    an unanswerable one, fn abstained on an answerable one, tn abstained on an unanswerable one."""
    if len(answered) != len(answerable):
        raise ValueError(f"{len(answered)} predictions for {len(answerable)} labels")
    c = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for pred, gold in zip(answered, answerable):
        c[("tp" if gold else "fp") if pred else ("fn" if gold else "tn")] += 1
    return c


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def abstention_scores(answered: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float | None]:
    """Accuracy of `answered` against `answerable`; precision/recall of answering (positive class
    "answered") and of abstaining (the unanswerable class)."""
    c = confusion(answered, answerable)
    n = sum(c.values())
    return {
        "abstention_accuracy": ratio(c["tp"] + c["tn"], n),
        "answered_precision": ratio(c["tp"], c["tp"] + c["fp"]),
        "answered_recall": ratio(c["tp"], c["tp"] + c["fn"]),
        "abstention_precision": ratio(c["tn"], c["tn"] + c["fn"]),
        "abstention_recall": ratio(c["tn"], c["tn"] + c["fp"]),
    }


# -- aggregation ----------------------------------------------------------------------------------

def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values; None when there are none."""
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def pooled(pairs: Iterable[tuple[int, int] | None]) -> float | None:
    """Sum of numerators over sum of denominators of the defined (num, den) pairs."""
    num = den = 0
    for p in pairs:
        if p is not None:
            num += p[0]
            den += p[1]
    return ratio(num, den)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's
    default); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def below_thresholds(metrics: dict[str, float | None], thresholds: dict[str, float]) -> list[tuple[str, float | None, float]]:
    """(name, value, minimum) for every threshold the metrics do not reach. An undefined value
    fails its threshold; a threshold naming an unknown metric raises KeyError."""
    unknown = sorted(set(thresholds) - set(metrics))
    if unknown:
        raise KeyError(f"thresholds name unknown metrics: {', '.join(unknown)}; known: {', '.join(sorted(metrics))}")
    return [(name, metrics[name], float(minimum)) for name, minimum in thresholds.items()
            if metrics[name] is None or metrics[name] < float(minimum)]
