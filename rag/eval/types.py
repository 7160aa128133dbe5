"""What the evaluation stage passes around: a question set and its questions, and its error."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

from rag.errors import RagError

# progress(done, total), called after each question.
Progress = Callable[[int, int], None]


class EvalError(RagError):
    """A question set or thresholds file that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    language: str
    category: str
    answerable: bool
    # Each fact is a tuple of acceptable strings; the answer must hold one of each.
    gold_facts: tuple[tuple[str, ...], ...]
    gold_articles: tuple[str, ...] = ()
    gold_passages: tuple[str, ...] = ()
    # Short gold answers (SQuAD "answers", our `gold_short`): for exact match and F1.
    gold_short: tuple[str, ...] = ()


@dataclass
class Dataset:
    name: str
    format: str  # ours | squad | cmrc | qa
    questions: list[EvalQuestion]
    # (article id, title, text) for sets that carry their own texts; None: the index's articles.
    articles: list[tuple[str, str, str]] | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def corpus_key(self) -> str:
        """A short hash of the articles' texts: one index per distinct corpus."""
        h = hashlib.sha256()
        for aid, title, text in self.articles or []:
            h.update(f"{aid}\0{title}\0{text}\0".encode())
        return h.hexdigest()[:12]
