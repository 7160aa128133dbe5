"""A list is often longer than a passage: the items that follow a sentence, read on into the
next passages of the same document (the reader quotes them with the sentence that opens the list).
"""

from __future__ import annotations

import re
from typing import Callable

from rag.types import Hit

LIST_ITEM = re.compile(r"^\s*([-•*·–—]|\d{1,2}[.)、]|[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、)")


def list_items(hit: Hit, span: tuple[int, int], next_passage: Callable[[Hit], Hit | None],
               limit: int = 12) -> list[tuple[Hit, tuple[int, int]]]:
    """The list items that follow the sentence at `span` of `hit`, up to `limit`, over at most
    four passages. `next_passage`: the passage after a passage in its document, or None."""
    items: list[tuple[Hit, tuple[int, int]]] = []
    doc_end = int(hit.meta.get("start", 0)) + span[1]  # document offset reached so far
    current, start_at = hit, span[1]
    for _ in range(4):
        for s in current.sentences:
            if s[0] < start_at or int(current.meta.get("start", 0)) + s[0] < doc_end:
                continue
            if not LIST_ITEM.match(current.text[s[0]:s[1]]):
                return items
            items.append((current, s))
            doc_end = int(current.meta.get("start", 0)) + s[1]
            if len(items) >= limit:
                return items
        nxt = next_passage(current)
        if nxt is None:
            return items
        current, start_at = nxt, 0
    return items
