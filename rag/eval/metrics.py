"""Evaluation metrics as pure functions of plain values (strings, lists, booleans).

Why pure: every number in the evaluation report must be checkable by hand. These functions
take the texts and labels, never an engine or an index, so tests/unit/test_metrics.py can pin each
one to a hand-computed value, and the same functions score our engine and the llama-index
baseline alike (see rag.eval.scoring, which only gathers the inputs). The answer metrics that
compare answers as SQuAD's and CMRC's scripts do are in rag.eval.squad_metrics.

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
from typing import Iterable, Sequence

from rag.answer.citations import MARKER_RE, markers

_WS = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


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
    return MARKER_RE.sub(" ", answer or "")


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
    used = markers(answer or "")
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
