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

# Bump when tokens change: the BM25 index on disk is then rebuilt by the next ingest.
TOKENIZER_VERSION = 3

_TOKEN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z\u00c0-\u024f]+(?:['’][A-Za-z]+)?|\d+(?:\.\d+)?")
_CJK_RUN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")

EN_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not of off on once only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself yourselves
s t don shall may might must us one many much
""".split())

# Function words of Chinese questions; single characters, dropped from unigrams only.
ZH_STOPCHARS = frozenset("的了是在和与及或也都就而吗呢吧啊么什谁哪几多少怎为何这那有个之其被把将对")


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
            if low in EN_STOPWORDS or len(low) < 2:
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
        grams = [c for c in run if c not in ZH_STOPCHARS] + grams
    return grams


def tokenize_many(texts: list[str]) -> list[list[str]]:
    return [tokenize(t) for t in texts]
