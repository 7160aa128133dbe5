"""What storing sentence vectors costs at ingest: the shipped articles ingested into a fresh index
with and without them (alternated, twice each), and what they cost at question time if computed
then instead.

    .venv/bin/python -m bench.sentence_vectors

Prints numbers; asserts nothing (these machines are noisy).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from rag.config import DEFAULT_ARTICLES, Settings
from rag.engine import Engine
from rag.ingest import vectors
from rag.store import manifest as store


def _passages_only(embed_model, part) -> None:
    found = embed_model.get_text_embedding_batch([n.text for n in part])
    for n, v in zip(part, found):
        n.embedding = v
        n.metadata[store.SENTENCE_VECTORS] = ""


def run(with_sentences: bool) -> tuple[float, int]:
    original = vectors.embed_part
    if not with_sentences:
        vectors.embed_part = _passages_only
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = Engine(Settings(index_dir=Path(tmp)))
            engine.embed_model.get_query_embedding("load")
            t = time.perf_counter()
            report = engine.ingest([DEFAULT_ARTICLES])
            return time.perf_counter() - t, report.passages_added
    finally:
        vectors.embed_part = original


def main() -> None:
    times: dict[bool, list[float]] = {True: [], False: []}
    passages = 0
    for _ in range(2):
        for flag in (False, True):
            seconds, passages = run(flag)
            times[flag].append(seconds)
    base, full = statistics.median(times[False]), statistics.median(times[True])
    # At question time instead: the sentences of 5 passages embedded per question.
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Settings(index_dir=Path(tmp)))
        engine.ingest([DEFAULT_ARTICLES])
        ev = engine.evidence("Who attended the seventh meeting?")
        sentences = [h.text[a:b] for h in ev.hits for a, b in h.sentences]
        t = time.perf_counter()
        engine.embed_model.get_text_embedding_batch(sentences)
        at_question = (time.perf_counter() - t) * 1000
    print(json.dumps({"passages": passages, "ingest_without_sentence_vectors_s": round(base, 2),
                      "ingest_with_sentence_vectors_s": round(full, 2), "ratio": round(full / base, 2),
                      "sentences_per_question": len(sentences),
                      "embedding_them_at_question_time_ms": round(at_question, 1)}, indent=1))


if __name__ == "__main__":
    main()
