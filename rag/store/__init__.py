"""Stage 2, the index on disk: Chroma (the one module that imports chromadb: `chroma`), the BM25
index, the embedding models, and the manifest that is the commit point of every ingest."""
