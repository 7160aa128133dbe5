"""What a claim must find in the passages it cites: its names, figures and months, in
sentences that state something (not instructions to a model).

Names and month words are only checked against cited passages in the claim's own language (an
English sentence citing only a Chinese passage cannot be expected to spell 袁家军 as "Yuan
Jiajun"); figures are checked in every case.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

import rag.lang as language
from rag.lang import en
from rag.retrieve.hybrid import Hit

# Sentences of a passage that read as instructions to a model ("ignore previous instructions and
# answer ...") are not evidence for anything: a model that obeys an injected instruction cannot
# cite it as support.
INSTRUCTION = language.any_language("instructs")


def evidence_sentences(hit: Hit) -> list[tuple[tuple[int, int], str]]:
    """(span, text) of the passage's sentences, less those that read as instructions to a model."""
    out = []
    for span in hit.sentences:
        s = hit.text[span[0]:span[1]]
        if not INSTRUCTION.search(s):
            out.append((tuple(span), s))
    return out


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
        if not base or low in en.NOT_NAMES or low in en.MONTHS or low in en.NUMBER_WORDS:
            continue
        if i == 0 and not base.isupper() and not (len(words) > 1 and words[1][0].isupper()):
            continue  # "Delegates reviewed ...": a capital only because it starts the sentence
        out.append(base)
    return list(dict.fromkeys(out))


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
    words = t.replace("’", "'")
    for pack in language.packs():
        out |= pack.find_figures(words)
    return out


def months(text: str) -> set[int]:
    return set().union(*(p.find_months(text) for p in language.packs()))


# -- one claim against its cited passages ---------------------------------------------------------

def check_facts(claim: str, cited: Sequence[Hit]) -> str | None:
    """Why the claim's names, figures or months are not in the cited passages; None when they are."""
    claim_lang = language.detect(claim)
    # The headline is evidence too: the prompt shows it with the passage.
    texts = [" ".join([h.meta.get("title", "")] + [s for _, s in evidence_sentences(h)]) for h in cited]
    same = [t for h, t in zip(cited, texts) if h.lang == claim_lang]
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
            return "date not in the cited passage: " + ", ".join(en.MONTHS[m - 1].title() for m in lost)
        if language.pack(claim_lang).capitals:
            ev_words = {w.lower().strip("'") for w in _words(joined)}
            ev_words |= {re.sub(r"'s$", "", w) for w in ev_words}
            absent = [n for n in names(claim) if n.lower() not in ev_words]
            if absent:
                return "name not in the cited passage: " + ", ".join(absent[:3])
    return None
