"""Vectors for new passages: reused by content hash when Chroma has them, else embedded, and
written to Chroma as they are computed.

Whatever was embedded is written even when the run is interrupted (Ctrl-C, an embedding
error), so it loses no embedding work; it stays invisible until a manifest names it
(rag.store.manifest), and is reused by the next run.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Callable

from rag.config import Settings
from rag.store import chroma
from rag.store.manifest import SENTENCE_VECTORS, pack_vectors

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode

    from rag.ingest.pipeline import IngestReport

log = logging.getLogger(__name__)

WRITE_BATCH = 256  # passages per Chroma upsert


def embed_and_store(nodes: list[TextNode], collection, embed_model, settings: Settings,
                    report: IngestReport, progress: Callable[[str, int, int], None]) -> None:
    """Give every node its vector and sentence vectors, and upsert them into `collection`.
    `collection` and `embed_model` are callables that return them (made on first use)."""
    if not nodes:
        return
    # Reuse vectors already stored for the same text (content hash). An empty collection
    # (a first ingest) has none: skip the metadata lookups.
    hashes = list({n.metadata["content_hash"] for n in nodes})
    known: dict[str, tuple[list[float], str]] = {}
    for emb, meta in chroma.by_content_hash(collection(), hashes) if chroma.count(collection()) else []:
        if meta.get(SENTENCE_VECTORS):
            known[meta["content_hash"]] = (emb, meta[SENTENCE_VECTORS])
    todo = []
    for n in nodes:
        if n.metadata["content_hash"] in known:
            n.embedding, n.metadata[SENTENCE_VECTORS] = known[n.metadata["content_hash"]]
            report.embeddings_reused += 1
        else:
            todo.append(n)
    reused = [n for n in nodes if n.embedding is not None]
    for i in range(0, len(reused), WRITE_BATCH):
        upsert(collection(), reused[i:i + WRITE_BATCH])
    model = embed_model()
    # An embedding service with several servers wants bigger steps, to keep them all busy.
    batch = max(settings.embed_batch, int(getattr(model, "preferred_batch", 0) or 0))
    pending: list[TextNode] = []
    try:
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            embed_part(model, part)
            pending += part
            report.embedded += len(part)
            # Written WRITE_BATCH at a time: Chroma's cost per call is high (256 per call
            # writes 2.4 times faster than 32 per call).
            if len(pending) >= WRITE_BATCH:
                upsert(collection(), pending)
                pending = []
            progress("embedding", min(i + batch, len(todo)), len(todo))
    finally:
        # Also on Ctrl-C or an embedding error: what was embedded is kept (and reused next time).
        if pending:
            try:
                upsert(collection(), pending)
            except Exception:  # the original error matters more
                log.warning("could not write %d embedded passages", len(pending), exc_info=True)


def embed_part(embed_model, part: list[TextNode]) -> None:
    """Vectors of the passages and of each of their sentences, in one model call (a sentence
    that is a whole passage, or that two overlapping passages share, is embedded once)."""
    spans = [json.loads(n.metadata["sentences"]) or [[0, len(n.text)]] for n in part]
    sentence_texts = [[n.text[a:b].strip() or n.text for a, b in sp] for n, sp in zip(part, spans)]
    texts = list(dict.fromkeys([n.text for n in part] + [t for ts in sentence_texts for t in ts]))
    vectors = dict(zip(texts, embed_model.get_text_embedding_batch(texts)))
    for n, ts in zip(part, sentence_texts):
        n.embedding = vectors[n.text]
        n.metadata[SENTENCE_VECTORS] = pack_vectors([vectors[t] for t in ts])


def upsert(collection, nodes: list[TextNode]) -> None:
    chroma.upsert(collection, [n.node_id for n in nodes], [n.embedding for n in nodes], [n.text for n in nodes],
                  [n.metadata for n in nodes])
