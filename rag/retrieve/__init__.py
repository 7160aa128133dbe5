"""Stage 3, retrieval: plan the searches a question needs (anchors, names, per-event lookups),
run dense + BM25 retrieval fused by reciprocal rank, over a snapshot that is never half-written.
Entry points: `planning.plan`, `hybrid.Retriever`."""
