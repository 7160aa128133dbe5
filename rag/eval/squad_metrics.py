"""Answer metrics the way SQuAD's and CMRC's official scripts compare answers: pure functions.

Public sets carry short answers ("Denmark, Iceland and Norway", "1994年") written by other
people; our answers are whole sentences. So a gold answer counts when it occurs inside the
answer (answer recall, support), compared as those scripts compare answers: case, punctuation
and English articles do not matter, and for Chinese neither does white space. The short answer
itself is scored by their exact match and F1 (character F1 for Chinese, as CMRC).

Conventions as in rag.eval.metrics: texts and labels in, numbers out; None when undefined.
Pinned to hand-computed values by tests/unit/test_metrics.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Sequence

from rag.answer.citations import MARKER_RE
from rag.lang import CJK

# -- matching a gold answer inside a text -----------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Scored character by character, as CMRC's script does: Chinese (rag.lang.CJK), and kana and
# hangul too, which the packs do not cover but a public set may hold.
_CJK_SCRIPTS = f"{CJK}\u3040-\u30ff\uac00-\ud7af"
_CJK = re.compile(f"[{_CJK_SCRIPTS}]")
_MARKER_GAP = re.compile(r"\s*" + MARKER_RE.pattern)
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

_CJK_CHAR_OR_WORD = re.compile(f"[{CJK}]|[^\\s{CJK}]+")


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
