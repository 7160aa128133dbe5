"""What the index stores for a passage and for an article: the passage's id (from its text),
its metadata in Chroma, its node for llama-index, and the article's entry in the manifest.

A passage's id and content hash come from its text, so that unchanged text keeps its id
and its vector across ingests, and the same text is never embedded twice.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.ingest.chunking import Passage, chunk_document
from rag.ingest.loading import Article, Document, article_id_for
from rag.store.manifest import Manifest

if TYPE_CHECKING:  # llama-index is imported only when there is something to chunk
    from llama_index.core.schema import TextNode


def lexical_text(title: str, text: str) -> str:
    # BM25 sees the title with every passage: "the meeting" in paragraph 9 is only findable
    # as "the seventh meeting" because the headline says which meeting it is. The dense
    # vectors do not: a shared title pulls all passages of an article together and cost
    # 7 points of hit@5 (docs/EVALUATION.md).
    return f"{title}\n{text}"


def passage_id(doc: Document, p: Passage) -> str:
    digest = hashlib.sha256(lexical_text(doc.title, p.text).encode()).hexdigest()[:16]
    return f"{doc.doc_id}:{p.index}:{digest}"


def passage_metadata(doc: Document, p: Passage, model_name: str) -> dict[str, Any]:
    return {
        "article_id": doc.article_id, "doc_id": doc.doc_id, "lang": doc.lang, "title": doc.title,
        "date": doc.date or "", "source": doc.source, "outlet": doc.outlet or "", "idx": p.index,
        "start": p.start, "end": p.end, "tokens": p.tokens,
        "sentences": json.dumps(p.sentences),
        # keyed on text and model: the same text under another model is a different vector
        "content_hash": hashlib.sha256(f"{model_name}\n{p.text}".encode()).hexdigest(),
    }


def chunking_signature(settings: Settings) -> dict[str, Any]:
    from rag.lang.tokenization import TOKENIZER_VERSION

    return {"chunk_tokens": settings.chunk_tokens, "overlap": settings.chunk_overlap_sentences, "v": 4,
            "tokenizer": TOKENIZER_VERSION}


def article_nodes(article: Article, settings: Settings, model_name: str) -> list[TextNode]:
    """The passages of every language version of `article`, as nodes ready to embed."""
    from llama_index.core.schema import TextNode

    nodes = []
    for doc in article.documents:
        for p in chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap_sentences):
            nodes.append(TextNode(id_=passage_id(doc, p), text=p.text,
                                  metadata=passage_metadata(doc, p, model_name)))
    return nodes


def free_article_id(path: Path, articles: dict, taken: set[str]) -> str:
    """The id of a new article: from its file name, made unique when another file has that name.
    A file whose namesake in the index is gone from its old path was moved (a folder renamed): it
    keeps the id, so that citations, saved runs and gold answers naming it stay right."""
    aid = article_id_for(path)
    held = articles.get(aid)
    moved = held is not None and not Path(held["path"]).exists()
    if aid in taken or (held is not None and not moved):  # same file name in another folder
        aid = f"{aid}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:6]}"
    return aid


def manifest_entry(article: Article, ids: list[str]) -> dict[str, Any]:
    return {
        "path": article.path, "source": article.source, "file_hash": article.file_hash,
        "title": article.documents[0].title, "date": article.documents[0].date,
        "titles": {d.lang: d.title for d in article.documents},
        "langs": [d.lang for d in article.documents],
        "anchors": sorted(anchor_terms_of(article)),
        "passages": ids,
    }


def anchor_terms_of(article: Article) -> set[str]:
    from rag.lang.anchors import anchors_in_text

    found: set[str] = set()
    for doc in article.documents:
        found |= anchors_in_text(doc.title + "\n" + doc.text)
        if doc.date:
            found.add(f"num:{doc.date[:4]}")
    return found


def title_of(manifest: Manifest, pid: str) -> str | None:
    """The title of a passage's document, from the manifest (passage ids are
    "article_id:lang:index:digest"); None when the manifest does not say."""
    parts = pid.rsplit(":", 3)
    if len(parts) != 4:
        return None
    entry = manifest.articles.get(parts[0])
    return (entry or {}).get("titles", {}).get(parts[1])
