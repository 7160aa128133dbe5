"""Citation markers: numbered [n] in order of first use, every marker resolving to a
listed passage and every listed passage used."""

from __future__ import annotations

import re

from rag.types import Citation

MARKER_RE = re.compile(r"\[(\d+)\]")


class CitationList:
    """Hands out numbers to passages in order of first use."""

    def __init__(self) -> None:
        self._by_id: dict[str, Citation] = {}

    def cite(self, hit, sentence: tuple[int, int] | None = None) -> int:
        c = self._by_id.get(hit.id)
        if c is None:
            m = hit.meta
            c = Citation(n=len(self._by_id) + 1, passage_id=hit.id, article_id=m["article_id"],
                         title=m.get("title", ""), date=m.get("date") or None, lang=m.get("lang", "en"),
                         source=m.get("source", ""), text=hit.text, score=float(hit.dense if hit.dense is not None else hit.score))
            self._by_id[hit.id] = c
        if sentence is not None and tuple(sentence) not in c.highlights:
            c.highlights.append(tuple(sentence))
        return c.n

    def __len__(self) -> int:
        return len(self._by_id)

    def items(self) -> list[Citation]:
        return sorted(self._by_id.values(), key=lambda c: c.n)


def markers(answer: str) -> list[int]:
    return [int(m) for m in MARKER_RE.findall(answer)]


def check(answer: str, citations: list[Citation]) -> list[str]:
    """Problems with the markers of `answer` against `citations`; empty when all is well."""
    used = markers(answer)
    listed = [c.n for c in citations]
    problems = []
    for n in sorted(set(used) - set(listed)):
        problems.append(f"[{n}] has no citation")
    for n in sorted(set(listed) - set(used)):
        problems.append(f"citation {n} is not used")
    first_use = list(dict.fromkeys(used))
    if first_use != sorted(first_use) or (first_use and first_use[0] != 1):
        problems.append(f"markers are not numbered in order of first use: {first_use}")
    return problems


def renumber(answer: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Number markers by first use and drop citations the answer does not use.
    Markers pointing to no citation are removed."""
    by_n = {c.n: c for c in citations}
    order: dict[int, int] = {}
    for n in markers(answer):
        if n in by_n and n not in order:
            order[n] = len(order) + 1

    def sub(m: re.Match) -> str:
        n = int(m.group(1))
        return f"[{order[n]}]" if n in order else ""

    new_answer = MARKER_RE.sub(sub, answer)
    new_citations = []
    for old, new in sorted(order.items(), key=lambda kv: kv[1]):
        c = by_n[old]
        new_citations.append(Citation(**{**c.__dict__, "n": new}))
    return new_answer, new_citations
