"""A plain llama-index pipeline over the same articles, scored like the engine.

Why: the engine's numbers mean more next to what an out-of-the-box llama-index pipeline gets
from the same articles and the same embedding model: SentenceSplitter() defaults, an in-memory
VectorStoreIndex (SimpleVectorStore: no Chroma), `index.as_retriever()` defaults (vector only,
top 2). It has no reader, so its "answer" is its top passage.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Sequence

from rag.config import DEFAULT_ARTICLES
from rag.eval import metrics as M
from rag.eval import squad_metrics as S
from rag.eval.scoring import (CATEGORIES, LANGUAGES, aggregate, gold_spans, group_scores, latency, relevant_counter,
                              score_retrieval)
from rag.eval.types import EvalError, EvalQuestion, Progress

BASELINE_TOP_K = 2  # llama-index's VectorIndexRetriever default (similarity_top_k=2)
# What the baseline, which has no reader, is given: its "answer" is its top passage.
BASELINE_METRICS = ("hit@1", "hit@2", "mrr", "ndcg@5", "context_fact_recall", "answer_recall", "support",
                    "support_retrieved", "false_abstention", "unanswerable_abstention", "median_answer_chars")


def baseline_documents(articles: Path = DEFAULT_ARTICLES) -> list:
    """llama-index Documents of the cleaned article texts (rag.ingest.loading.read_article), one per
    language version, so the baseline reads exactly the text our passages are cut from. The
    ids ride along as metadata that is kept out of the embedded and the LLM text."""
    from llama_index.core import Document

    from rag.ingest.loading import find_article_files, read_article

    files, _ = find_article_files([articles])
    if not files:
        raise EvalError(f"no article files under {articles}")
    docs = []
    for path in files:
        for d in read_article(path).documents:
            keys = ["article_id", "lang"]
            docs.append(Document(text=d.text, id_=d.doc_id, metadata={"article_id": d.article_id, "lang": d.lang},
                                 excluded_embed_metadata_keys=keys, excluded_llm_metadata_keys=keys))
    return docs


def run_baseline(questions: Sequence[EvalQuestion], embed_model, articles: Path = DEFAULT_ARTICLES,
                 progress: Progress | None = None) -> dict[str, Any]:
    """A plain llama-index pipeline: SentenceSplitter() defaults, an in-memory VectorStoreIndex,
    `index.as_retriever()` defaults (vector only, top 2), the same embedding model."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms.mock import MockLLM
    from llama_index.core.node_parser import SentenceSplitter

    # What `Settings.llm = None` does, minus its print on stdout (which would break --json).
    # Nothing here calls an LLM; this only keeps llama-index from resolving OpenAI.
    LlamaSettings.llm = MockLLM()
    t0 = time.perf_counter()
    splitter = SentenceSplitter()
    docs = baseline_documents(articles)
    nodes = splitter.get_nodes_from_documents(docs)
    index = VectorStoreIndex(nodes, embed_model=embed_model)
    build_s = time.perf_counter() - t0
    retriever = index.as_retriever()
    n_relevant = relevant_counter([n.get_content() for n in nodes])
    rows = []
    for i, q in enumerate(questions, 1):
        t = time.perf_counter()
        got = retriever.retrieve(q.question)
        ms = (time.perf_counter() - t) * 1000
        texts = [r.node.get_content() for r in got]
        # Without a reader, what a user of this pipeline reads as the answer is its top passage,
        # which is also the only evidence it shows for it; it never abstains.
        top = texts[0] if texts else ""
        answered = bool(texts)
        row = {"id": q.id, "language": q.language, "category": q.category, "answerable": q.answerable,
               "answered": answered, "answer_chars": len(top) if answered else None,
               "retrieved": [{"id": r.node.node_id, "article_id": r.node.metadata.get("article_id")} for r in got],
               "timings_ms": {"retrieve": round(ms, 2)}}
        row.update(score_retrieval(q, texts, n_relevant(gold_spans(q))))
        if q.answerable:
            row["answer_recall"] = S.answer_recall(top, q.gold_facts, answered)
            row["support"] = S.support([top], q.gold_facts, answered)
        rows.append(row)
        if progress:
            progress(i, len(questions))
    agg = aggregate(rows)
    return {
        "config": {"documents": "cleaned (rag.ingest.loading.read_article), one per language version",
                   "splitter": f"SentenceSplitter() chunk_size={splitter.chunk_size} chunk_overlap={splitter.chunk_overlap}",
                   "retriever": f"index.as_retriever() vector only, similarity_top_k={BASELINE_TOP_K}",
                   "embed_model": getattr(embed_model, "model_name", str(embed_model)),
                   "vector_store": "SimpleVectorStore (in memory)",
                   "nodes": len(nodes), "build_seconds": round(build_s, 2)},
        "metrics": {**{k: agg[k] for k in BASELINE_METRICS},
                    "context_chars": M.mean(r["context_chars"] for r in rows if r["answerable"])},
        "by_category": group_scores(rows, "category", CATEGORIES),
        "by_language": group_scores(rows, "language", LANGUAGES),
        "latency_ms": latency(rows),
        "questions": [{k: r.get(k) for k in ("id", "hit@1", "hit@2", "mrr", "ndcg@5", "context_fact_recall",
                                             "answer_recall", "support", "support_retrieved", "answer_chars",
                                             "n_relevant", "retrieved")} for r in rows],
    }


def baseline_key(questions: list[EvalQuestion], articles: Path) -> str:
    """What the baseline's result depends on: the questions and the article files' state (the
    app keeps a few results by this key: the baseline re-embeds the whole corpus)."""
    h = hashlib.sha256()
    for q in questions:
        h.update(repr((q.id, q.question, q.answerable, q.gold_facts, q.gold_passages, q.gold_short)).encode())
    for f in sorted(Path(articles).rglob("*")):
        if f.is_file():
            st = f.stat()
            h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def one_at_a_time(embed_model):
    """The embedding model embedding one text per call: the baseline embeds its whole corpus in
    1024-token chunks, and a question's embedding waits for the model call in progress
    (rag.store.embedding's gate), so one call of 32 chunks would hold the chat up for seconds."""
    try:
        return embed_model.model_copy(update={"embed_batch_size": 1})
    except Exception:  # not a pydantic llama-index embedding: use it as it is
        return embed_model
