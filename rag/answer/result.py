"""What the answer stage returns: the extractive answer, and its short answer (the exact
phrase, or the people of a who-list), each part cited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answer.citations import Citation


@dataclass
class ShortItem:
    text: str
    citation: int
    start: int  # offsets in the cited passage's text
    end: int

    def to_json(self) -> dict:
        return {"text": self.text, "citation": self.citation, "start": self.start, "end": self.end}


@dataclass
class ShortAnswer:
    items: list[ShortItem]
    confidence: float  # the span model's probability of the best span (1.0 for a list of names)
    kind: str = "span"  # "span" or "list"

    @property
    def text(self) -> str:
        sep = "、" if any(re.search(r"[\u4e00-\u9fff]", i.text) for i in self.items) else ", "
        return sep.join(i.text for i in self.items)

    def to_json(self) -> dict:
        return {"text": self.text, "kind": self.kind, "confidence": round(self.confidence, 4),
                "items": [i.to_json() for i in self.items]}


@dataclass
class Answer:
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    reason: str = ""  # why it abstained, for the eval and logs
    sentences: list[dict] = field(default_factory=list)  # [{"text", "citation"}]
    confidence: float | None = None  # probability that the evidence answers the question
    short: ShortAnswer | None = None  # the exact phrase that answers (rag/answer/short_answer.py)


def cited_sentences(answer: Answer) -> list[tuple[int, dict, str, str]]:
    """(index, sentence record, sentence text, language) of each sentence of `answer` whose
    offsets in its cited passage are known."""
    passages = {c.n: (c.text, c.lang) for c in answer.citations}
    out = []
    for k, s in enumerate(answer.sentences):
        passage, lang = passages.get(s["citation"], ("", "en"))
        if s.get("start") is not None and passage:
            out.append((k, s, passage[s["start"]:s["end"]], lang))
    return out

