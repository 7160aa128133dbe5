"""The one way to Chroma: the only module of `rag` that imports chromadb or llama-index's
Chroma store.

- `open_collection`: the passages' collection of an index (embedded, or on a Chroma server
  when RAG_CHROMA_URL is set), one collection per embedding model.
- `detach_client` / `retire`: see another process's writes (chromadb caches per process).
- `DenseIndex`: the vector query, through llama-index's ChromaVectorStore.
- `fetch`, `fetch_all`, `by_content_hash`, `containing`, `following`, `upsert`, `delete`,
  `count`: reading and writing passages. The other stages hand the collection they were given
  to these, so Chroma's query dialect (`where`, `$in`, `$contains`, `include`) is written here
  only. The checks that read Chroma's files without opening it are in rag.store.checks.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any, Sequence

from rag.config import Settings
from rag.errors import IndexBrokenError, PassagesMissingError
from rag.store.checks import chroma_file_problem
from rag.store.manifest import MANIFEST

log = logging.getLogger(__name__)


def collection_name(settings: Settings, model_name: str) -> str:
    # One collection per embedding model: vectors of two models must never be compared.
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", model_name).strip("-")
    return f"{settings.collection}_{slug}"[:200]


def open_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                         ssl=url.scheme == "https", settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:
            raise IndexBrokenError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({exc.__class__.__name__}); "
                "start it with `chroma run --path DIR --port PORT` or unset RAG_CHROMA_URL") from exc
        return client
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    if (settings.index_dir / MANIFEST).exists() and (settings.index_dir / "chroma").exists():
        # Opening a missing or emptied database would create a new, empty one and answer from
        # nothing: refuse, and say how to repair (the ingest moves the damaged folder aside,
        # and then opens a new one here).
        problem = chroma_file_problem(settings.index_dir)
        if problem:
            raise IndexBrokenError(f"the index at {settings.index_dir} is damaged: {problem}; "
                                   f"run `rag ingest --index-dir {settings.index_dir}` to repair it")
    try:
        return chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise IndexBrokenError(
            f"the index at {settings.index_dir} cannot be opened ({exc.__class__.__name__}); "
            f"run `rag ingest --index-dir {settings.index_dir}` to repair it") from exc


def open_collection(settings: Settings, model_name: str):
    """The collection of the passages embedded by `model_name`, created when there is none."""
    client = open_client(settings)
    name = collection_name(settings, model_name)
    try:
        return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"})
    except Exception as exc:
        raise IndexBrokenError(
            f"the Chroma collection {name!r} cannot be opened ({exc.__class__.__name__}); "
            f"run `rag ingest --index-dir {settings.index_dir}` to repair it") from exc


def detach_client(settings: Settings):
    """Make the next `open_client` of this index read the disk afresh, and return the chromadb
    System it replaces (for `retire`), or None.

    chromadb keeps one System per folder per process, and that System keeps the vector index
    (HNSW) it loaded in memory: after another process (a `rag ingest`) wrote the folder, this
    process's queries would still search the old vectors, and miss the new passages or name
    deleted ones ("Error finding id"). Clients already handed out keep working on the old
    System until it is retired."""
    if settings.chroma_url:
        return None  # a server has one copy of the index: nothing is cached here
    from chromadb.api.shared_system_client import SharedSystemClient

    path = str(settings.index_dir / "chroma")
    system = SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)
    return system


def retire(system) -> None:
    """Stop a System that `detach_client` replaced, once nothing reads through it any more."""
    if system is None:
        return
    try:
        system.stop()
    except Exception:  # it is being dropped anyway; a failure to stop must not fail a question
        log.warning("could not stop a replaced Chroma client", exc_info=True)


def cosine_from_chroma(similarity: float) -> float:
    # llama-index turns Chroma's cosine distance d into exp(-d); undo it.
    return 1.0 + math.log(max(similarity, 1e-12))


class DenseIndex:
    """Nearest passages to a query vector, through llama-index's Chroma store."""

    def __init__(self, collection, embed_model):
        from llama_index.core import VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self._vector_store = ChromaVectorStore(chroma_collection=collection)
        self._index = VectorStoreIndex.from_vector_store(self._vector_store, embed_model=embed_model)

    def search(self, query: str, embedding: list[float], n: int,
               articles: list[str] | None = None) -> list[tuple[str, str, dict[str, Any], float]]:
        """(passage id, text, metadata, cosine similarity) of the `n` nearest passages, best
        first, only from `articles` when given; orphans included (the caller knows the live ids)."""
        from llama_index.core.schema import QueryBundle
        from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

        filters = None
        if articles is not None:
            filters = MetadataFilters(filters=[MetadataFilter(key="article_id", value=list(articles),
                                                              operator=FilterOperator.IN)])
        retriever = self._index.as_retriever(similarity_top_k=n, filters=filters)
        try:
            found = retriever.retrieve(QueryBundle(query_str=query, embedding=embedding))
        except Exception as exc:
            # Chroma fails this way when its vectors and its records disagree ("Error finding
            # id"): another process wrote the folder, or the store lost records.
            log.warning("vector search failed", exc_info=True)
            raise PassagesMissingError(
                f"the vector store of the index does not match its records ({exc.__class__.__name__}); "
                "run `rag ingest` to repair the index") from exc
        return [(r.node.node_id, r.node.get_content(), dict(r.node.metadata), cosine_from_chroma(r.score or 0.0))
                for r in found]


# -- reading and writing passages --------------------------------------------------------------

def count(collection) -> int:
    return collection.count()


def fetch(collection, ids: Sequence[str], include: Sequence[str] = ("documents", "metadatas"),
          batch: int = 1000) -> dict[str, list]:
    """The records of the passages among `ids` that Chroma holds (the others are left out), asked
    `batch` at a time: {"ids": [...], and one list per part of `include`}."""
    out: dict[str, list] = {"ids": [], **{part: [] for part in include}}
    for i in range(0, len(ids), batch):
        got = collection.get(ids=list(ids[i:i + batch]), include=list(include))
        out["ids"] += got["ids"]
        for part in include:
            out[part] += list(got[part])
    return out


def fetch_all(collection, include: Sequence[str] = ()) -> dict[str, list]:
    """Every record of the collection (ids only unless `include` asks for more)."""
    return collection.get(include=list(include))


def by_content_hash(collection, hashes: Sequence[str], batch: int = 500) -> list[tuple[list[float], dict]]:
    """(vector, metadata) of the stored passages whose text has one of `hashes` (rag.ingest.records)."""
    out = []
    for i in range(0, len(hashes), batch):
        got = collection.get(where={"content_hash": {"$in": list(hashes[i:i + batch])}},
                             include=["embeddings", "metadatas"])
        out += [(list(emb), meta) for emb, meta in zip(got["embeddings"], got["metadatas"])]
    return out


def containing(collection, phrase: str) -> list[tuple[str, dict]]:
    """(id, metadata) of the passages whose text holds `phrase` as written (Chroma's full-text index)."""
    got = collection.get(where_document={"$contains": phrase}, include=["metadatas"])
    return list(zip(got["ids"], got["metadatas"]))


def passages_at(collection, doc_id: str, idx: int) -> list[tuple[str, str, dict]]:
    """(id, text, metadata) of the passages at position `idx` of document `doc_id` (orphans too)."""
    got = collection.get(where={"$and": [{"doc_id": doc_id}, {"idx": idx}]}, include=["documents", "metadatas"])
    return list(zip(got["ids"], got["documents"], got["metadatas"]))


def upsert(collection, ids: list[str], embeddings: list, documents: list[str], metadatas: list[dict]) -> None:
    collection.upsert(ids=ids, embeddings=embeddings, documents=documents, metadatas=metadatas)


def delete(collection, ids: Sequence[str], batch: int = 1000) -> None:
    for i in range(0, len(ids), batch):
        collection.delete(ids=list(ids[i:i + batch]))
