"""Hybrid retrieval: dense vectors from Chroma (through llama-index) plus BM25, fused by
reciprocal rank fusion, with the question's language as a third ranked list so that a
Chinese question finds Chinese passages first and an English one English passages.

A Retriever reads one snapshot of the index (its live passages); it also answers the lookups
a query plan needs (which articles hold a full name) and the reader's (the next passage).
"""

from __future__ import annotations

import logging
import time
from enum import Enum

from rag.errors import PassagesMissingError
from rag.store import chroma
from rag.types import Hit

log = logging.getLogger(__name__)


class Mode(str, Enum):
    VECTOR = "vector"
    BM25 = "bm25"
    HYBRID = "hybrid"

    @classmethod
    def parse(cls, value: "str | Mode") -> "Mode":
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown retrieval mode {value!r}; valid: {', '.join(m.value for m in cls)}") from None


def rrf(rankings: dict[str, list[str]], k: int = 60, weights: dict[str, float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: score(d) = sum over lists of w / (k + rank), ranks from 1.
    Items tied in a list (same rank) are given as a list of ids sharing that rank: see `language_ranking`."""
    scores: dict[str, float] = {}
    for name, ids in rankings.items():
        w = (weights or {}).get(name, 1.0)
        for rank, pid in enumerate(ids, start=1):
            scores[pid] = scores.get(pid, 0.0) + w / (k + rank)
    return scores


def fuse(dense: list[str], lexical: list[str], same_language: set[str], k: int = 60) -> dict[str, float]:
    """RRF of the dense and BM25 rankings, plus a bonus of one first place for every
    passage in the question's language (all tie at rank 1 of a 'language' list)."""
    scores = rrf({"dense": dense, "bm25": lexical}, k=k)
    for pid in scores:
        if pid in same_language:
            scores[pid] += 1.0 / (k + 1)
    return scores


class Retriever:
    def __init__(self, collection, bm25_index, embed_model, live_ids: set[str], settings):
        from rag.store.chroma import DenseIndex

        self.collection = collection
        self.bm25 = bm25_index
        self.embed_model = embed_model
        self.live = live_ids
        self.settings = settings
        self._dense = DenseIndex(collection, embed_model)
        self._articles_with: dict[str, set[str]] = {}  # phrase -> live articles holding it
        self._passages_at: dict[tuple[str, int], Hit | None] = {}  # (document, position) -> live passage

    def retrieve(self, query: str, lang: str, top_k: int, articles: list[str] | None = None,
                 mode: Mode = Mode.HYBRID, timings: dict[str, float] | None = None,
                 query_vector: list[float] | None = None) -> list[Hit]:
        """The `top_k` best live passages for `query`, optionally only from `articles`.
        `query_vector`: the query's embedding when the caller has it already."""
        timings = timings if timings is not None else {}
        n = max(self.settings.candidates, top_k * 3)
        hits: dict[str, Hit] = {}
        dense_ids: list[str] = []
        lexical_ids: list[str] = []
        if mode in (Mode.VECTOR, Mode.HYBRID):
            t = time.perf_counter()
            emb = query_vector if query_vector is not None else self.embed_model.get_query_embedding(query)
            if query_vector is None:
                timings["embed_query"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            for pid, text, meta, cosine in self._dense.search(query, emb, n, articles):
                if pid not in self.live:
                    continue  # an orphan of an interrupted ingest
                hits[pid] = Hit(pid, text, meta, dense=cosine)
                dense_ids.append(pid)
            timings["dense"] = (time.perf_counter() - t) * 1000
        if mode in (Mode.BM25, Mode.HYBRID) and self.bm25 is not None:
            from rag.lang.tokenization import tokenize

            t = time.perf_counter()
            # The article filter is applied on precomputed row ranges (O(passages of those
            # articles)), not by testing every passage id of the index per question.
            for pid, score in self.bm25.search(tokenize(query), n, articles=articles):
                if pid not in self.live:
                    continue
                lexical_ids.append(pid)
                if pid in hits:
                    hits[pid].bm25 = score
                else:
                    hits[pid] = Hit(pid, "", {}, bm25=score)
            self._fill(hits)
            lexical_ids = [pid for pid in lexical_ids if pid in hits]
            timings["bm25"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        same = {pid for pid, h in hits.items() if h.lang == lang}
        scores = fuse(dense_ids, lexical_ids, same, self.settings.rrf_k)
        for name, ids in (("dense", dense_ids), ("bm25", lexical_ids)):
            for rank, pid in enumerate(ids, 1):
                hits[pid].ranks[name] = rank
        ranked = sorted(hits.values(), key=lambda h: -scores.get(h.id, 0.0))
        for h in ranked:
            h.score = scores.get(h.id, 0.0)
        timings["fusion"] = (time.perf_counter() - t) * 1000
        return ranked[:top_k]

    def _fill(self, hits: dict[str, Hit]) -> None:
        """Text and metadata of BM25-only hits, in one Chroma call."""
        missing = [pid for pid, h in hits.items() if not h.meta]
        if not missing:
            return
        got = chroma.fetch(self.collection, missing)
        for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
            hits[pid].text, hits[pid].meta = doc, dict(meta)
        gone = [pid for pid in missing if not hits[pid].meta]
        for pid in gone:
            del hits[pid]
        if gone:
            raise PassagesMissingError(
                f"{len(gone)} passage(s) of the index are missing from its Chroma store (e.g. {gone[0]}); "
                "run `rag ingest` to repair the index")

    def articles_with(self, phrase: str) -> set[str]:
        """The live articles with a passage that holds `phrase` as written (or title-cased), from
        Chroma's full-text index. Its cost grows with the corpus (about 0.7 ms at 83 passages,
        3-5 ms at 8,000), so the answer is remembered for the life of this retriever (one index
        snapshot: the corpus does not change under it), and a word that BM25 has never seen
        answers "none" without asking Chroma."""
        if phrase in self._articles_with:
            return self._articles_with[phrase]
        from rag.lang.tokenization import tokenize

        found: set[str] = set()
        if self.bm25 is None or all(self.bm25.idf(t) is not None for t in tokenize(phrase)):
            for variant in dict.fromkeys([phrase, phrase.title()]):
                found |= {m["article_id"] for pid, m in chroma.containing(self.collection, variant) if pid in self.live}
        if len(self._articles_with) < 10_000:
            self._articles_with[phrase] = found
        return found

    def next_passage(self, hit: Hit) -> Hit | None:
        """The live passage that follows `hit` in its document, or None."""
        return self._passage_at(hit, 1)

    def previous_passage(self, hit: Hit) -> Hit | None:
        """The live passage before `hit` in its document, or None."""
        return self._passage_at(hit, -1)

    def _passage_at(self, hit: Hit, step: int) -> Hit | None:
        """The live passage `step` places from `hit` in its document. Remembered for the life
        of this retriever, like `articles_with`: reading who said a quote walks back over the
        same passages for every sentence on the topic, and a list reads on into the same next ones."""
        key = (hit.meta.get("doc_id", ""), int(hit.meta.get("idx", -1)) + step)
        if key[1] < 0:
            return None
        if key not in self._passages_at:
            found = next((Hit(pid, doc, dict(meta)) for pid, doc, meta in chroma.passages_at(self.collection, *key)
                          if pid in self.live), None)
            if len(self._passages_at) >= 10_000:
                self._passages_at.clear()
            self._passages_at[key] = found
        found = self._passages_at[key]
        # A copy: callers may set fields on a hit (scores), and the remembered one must not change.
        return Hit(found.id, found.text, dict(found.meta)) if found is not None else None
