"""The answer stage's data: the news-domain words it looks for (events, bodies, roles, ways of
taking part) and the fixed texts of its replies, read once from rag/answer/vocab/*.json.

Why data: the words are what fits news about meetings and officials, not how the reader works;
another domain, or a third language, is then a new file or a new entry, not new code. Plain
language words (months, stop words, question words) are not here but in rag.lang.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

VOCAB_DIR = Path(__file__).parent / "vocab"


@functools.cache
def _table(name: str) -> dict:
    return json.loads((VOCAB_DIR / f"{name}.json").read_text("utf-8"))


def news(lang: str) -> dict:
    """The news-domain words of `lang` (rag/answer/vocab/news.json)."""
    return _table("news")[lang]


def replies(lang: str) -> dict[str, str]:
    """The reply texts for a question in `lang`; English for a language without its own."""
    table = _table("replies")
    return table.get(lang, table["en"])
