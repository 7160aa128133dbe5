"""Whether the articles report that someone said something about a topic.

"What did X say about Y?" is answered only by something X said. A passage that holds Y is not
enough: Huang Qiang attends a ceremony on a tourism corridor, and says nothing about tourism.
News reports attribute speech once and then quote on ("Wang Xiaohui pointed out that ...",
then paragraphs of what he said), so a sentence on Y is X's when the nearest sentence at or
before it that reports speech ("said", "pointed out", 指出, 表示: the language packs' `speech`)
names X. The look-back runs into the passages before, as far as `LOOK_BACK` of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import rag.lang as language
from rag.answer.sentence_features import Candidate
from rag.lang.tokenization import tokenize
from rag.types import Hit

SPEECH = language.any_language("speech")
LOOK_BACK = 3  # passages before the one that holds the topic

Previous = Callable[[Hit], "Hit | None"]  # the passage before a passage in its document


def _tokens(text: str) -> set[str]:
    return set(tokenize(text, bigrams_only=True))


def said_by(hit: Hit, topic: set[str], who: set[str], previous: Previous | None = None) -> bool:
    """Whether a sentence of `hit` that holds every token of `topic` is reported as said by the
    person whose tokens are `who` (any of them: a second reference gives the surname alone,
    "Chen stressed"). A passage that holds the topic only across its sentences counts when any
    sentence of it reports `who` speaking."""
    texts = [hit.text[a:b] for a, b in hit.sentences]
    on_topic = [i for i, t in enumerate(texts) if topic <= _tokens(t)]
    if not on_topic:
        return any(_reports(t, who) for t in texts)
    return any(said_in(hit, i, who, previous) for i in on_topic)


def said_in(hit: Hit, i: int, who: set[str], previous: Previous | None = None) -> bool:
    """Whether the nearest sentence at or before the `i`-th of `hit` that reports speech names `who`."""
    nearest = next((t for t in _back_from(hit, i, previous) if SPEECH.search(t)), None)
    return nearest is not None and bool(who & _tokens(nearest))


def said_about(cands: list[Candidate], topic: set[str], who: set[str], previous: Previous | None = None
               ) -> list[Candidate]:
    """The candidates that hold the topic and that `who` said, in their order."""
    return [c for c in cands if topic <= _tokens(c.text) and said_in(c.hit, c.index, who, previous)]


def _reports(sentence: str, who: set[str]) -> bool:
    return bool(SPEECH.search(sentence)) and bool(who & _tokens(sentence))


def _back_from(hit: Hit, i: int, previous: Previous | None) -> Iterator[str]:
    """The sentences of `hit` from its `i`-th back to its first, then those of the passages
    before it, last first."""
    current: Hit | None = hit
    for step in range(LOOK_BACK + 1):
        if current is None:
            return
        texts = [current.text[a:b] for a, b in current.sentences]
        yield from reversed(texts[: i + 1] if step == 0 else texts)
        current = previous(current) if previous is not None else None
