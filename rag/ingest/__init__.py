"""Stage 1, articles -> passages -> index: read article files, strip page debris, split them into
sentence-aligned passages and write them (vectors, BM25, manifest) incrementally and crash-safely.
Entry point: `pipeline.Ingestor`."""
