"""Tokens for lexical matching (BM25 and answer-sentence scoring), for English and Chinese.

English words are lower-cased, stop words dropped and stemmed (Snowball), so "attended"
matches "attend". Chinese has no spaces: each run of CJK characters gives its characters
and its character bigrams, so 袁家军 matches as 袁家 + 家军 without a dictionary, and a
Chinese query never collapses into one unmatched token.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from rag.lang import CJK, LATIN
from rag.lang.en import STOP_WORDS
from rag.lang.zh import STOP_CHARS

# Bump when tokens change: the BM25 index on disk is then rebuilt by the next ingest.
TOKENIZER_VERSION = 3

_TOKEN_RE = re.compile(rf"[{CJK}]+|[{LATIN}]+(?:['’][A-Za-z]+)?|\d+(?:\.\d+)?")
_CJK_RUN = re.compile(rf"^[{CJK}]+$")


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def tokenize(text: str, bigrams_only: bool = False) -> list[str]:
    """BM25 tokens of `text`. With `bigrams_only`, CJK runs give only bigrams (single
    characters are too ambiguous to count as evidence when scoring answer sentences)."""
    out: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        tok = m.group()
        if _CJK_RUN.match(tok):
            out.extend(cjk_grams(tok, unigrams=not bigrams_only))
        elif tok[0].isdigit():
            out.append(tok)
        else:
            low = _fold(tok.lower().replace("’", "'"))
            if low in STOP_WORDS or len(low) < 2:
                continue
            out.append(stem(low))
    return out


@functools.lru_cache(maxsize=50_000)
def _fold(word: str) -> str:
    """Accents off ("Hervé" -> "herve"): questions are often typed without them."""
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def cjk_grams(run: str, unigrams: bool = True) -> list[str]:
    grams = [run[i: i + 2] for i in range(len(run) - 1)]
    if unigrams or len(run) == 1:
        grams = [c for c in run if c not in STOP_CHARS] + grams
    return grams
