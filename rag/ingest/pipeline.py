"""Articles -> passages -> vectors in Chroma + BM25, incrementally and crash-safely.

- Unchanged files (same bytes, same chunking, same model) are not even re-read.
- A passage whose text was embedded before (same content hash, any article) reuses the
  stored vector: text is never embedded twice.
- Vectors are written as they are computed (256 per Chroma call), and whatever was embedded
  is written even when the run is interrupted (Ctrl-C, an embedding error), so it loses no
  embedding work; the manifest that makes them live is written last (see rag.store.manifest).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from typing import TYPE_CHECKING

from rag.store import manifest as store
from rag.store.bm25 import BM25Index
from rag.config import Settings
from rag.errors import ArticleError
from rag.ingest.loading import Article, Document, find_article_files, read_article
from rag.ingest.chunking import Passage, chunk_document
from rag.lang.tokenization import tokenize

if TYPE_CHECKING:  # llama-index is imported only when there is something to chunk
    from llama_index.core.schema import TextNode

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
WRITE_BATCH = 256  # passages per Chroma upsert


@dataclass
class IngestReport:
    articles: int = 0  # articles in the index after the run
    files_seen: int = 0
    articles_added: list[str] = field(default_factory=list)
    articles_updated: list[str] = field(default_factory=list)
    articles_removed: list[str] = field(default_factory=list)
    passages_added: int = 0
    passages_unchanged: int = 0
    passages_removed: int = 0
    files_unchanged: int = 0  # files given that are indexed as they are
    embedded: int = 0  # passages actually sent to the model
    embeddings_reused: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    repaired: list[str] = field(default_factory=list)  # what was found broken and rebuilt (rag.ingest.repair)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["skipped"] = [{"file": f, "reason": r} for f, r in self.skipped]
        return d


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
    import json

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


class Lazy:
    """A value made on first use: an ingest with nothing to do opens neither Chroma nor the model."""

    def __init__(self, make: Callable[[], Any]):
        self._make = make
        self._value: Any = None
        self._made = False

    def get(self) -> Any:
        if not self._made:
            self._value, self._made = self._make(), True
        return self._value


class Ingestor:
    """`embed_model` and `collection` are objects or `Lazy` ones; `model_name` (the embedding
    model's name) spares loading the model just to compare it with the manifest's."""

    def __init__(self, settings: Settings, embed_model, collection, progress: Progress | None = None,
                 model_name: str | None = None, repair: bool = False, reopen: Callable[[], Any] | None = None):
        self.settings = settings
        self.repair = repair  # check every passage against Chroma, not only the files (rag.ingest.repair)
        self._reopen = reopen  # a fresh collection after the store was moved aside
        self._embed = embed_model if isinstance(embed_model, Lazy) else Lazy(lambda: embed_model)
        self._collection = collection if isinstance(collection, Lazy) else Lazy(lambda: collection)
        self._model_name = model_name
        self.progress = progress or (lambda stage, done, total: None)

    @property
    def embed_model(self):
        return self._embed.get()

    @property
    def collection(self):
        return self._collection.get()

    def run(self, paths: list[Path], prune: bool = False) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport()
        index_dir = self.settings.index_dir
        with store.ingest_lock(index_dir):
            sig = chunking_signature(self.settings)
            model_name = self._model_name or self.embed_model.model_name
            files, skipped = find_article_files(paths)
            old, bm25_bad, again = self._check(files, model_name, sig, report)
            # Articles whose passages were lost are read again from their files, wherever they are.
            given = {str(f.resolve()) for f in files}
            files += [Path(p) for p in again if p not in given]
            reset = old is None or old.chunking != sig or old.embed_model != model_name
            articles: dict[str, dict[str, Any]] = {} if old is None else dict(old.articles)
            if reset and old is not None:
                log.info("chunking or model changed: every article is re-chunked")

            report.skipped += [(str(p), why) for p, why in skipped]
            report.files_seen = len(files)
            by_path = {a["path"]: aid for aid, a in articles.items()}
            todo: list[tuple[Article, list[TextNode]]] = []
            seen_ids: set[str] = set()
            for n, path in enumerate(files, 1):
                self.progress("reading", n, len(files))
                resolved = str(path.resolve())
                aid = by_path.get(resolved)
                entry = articles.get(aid) if aid else None
                # The size is checked before a byte is read: a 2 GB file must cost a stat, not 2 GB.
                try:
                    size = path.stat().st_size
                    if size > self.settings.max_article_bytes:
                        raise ArticleError(f"{path.name}: {size:,} bytes is over the "
                                           f"{self.settings.max_article_bytes:,}-byte limit for one article")
                    data = path.read_bytes()
                except OSError as exc:
                    report.skipped.append((str(path), f"cannot be read ({exc.strerror or exc}); skipped"))
                    continue
                except ArticleError as exc:
                    log.info("%s", exc)  # reported to the caller in report.skipped
                    report.skipped.append((str(path), str(exc)))
                    continue
                if entry and not reset and entry["file_hash"] == hashlib.sha256(data).hexdigest():
                    report.passages_unchanged += len(entry["passages"])
                    report.files_unchanged += 1
                    seen_ids.add(aid)
                    continue
                try:
                    aid = aid or self._free_article_id(path, articles, seen_ids)
                    article = read_article(path, self.settings.max_article_bytes, article_id=aid)
                except ArticleError as exc:
                    log.info("%s", exc)  # reported to the caller in report.skipped
                    report.skipped.append((str(path), str(exc)))
                    continue
                seen_ids.add(aid)
                todo.append((article, self._nodes(article, model_name)))

            changed = bool(todo or (prune and any(not Path(a["path"]).exists() for a in articles.values()))
                           or old is None or reset or bm25_bad or report.repaired)
            if changed:
                # Chroma is about to be written: until the commit and the clean-up below are
                # done, a crash may leave orphans, which the next ingest must look for.
                store.mark_dirty(index_dir)

            # Embed and write what is new, batch by batch.
            new_nodes = [node for _, nodes in todo for node in nodes]
            self._embed_and_store(new_nodes, report)

            # Commit: the manifest now names the new passages.
            for article, nodes in todo:
                before = articles.get(article.article_id)
                old_ids = set(before["passages"]) if before else set()
                new_ids = [n.node_id for n in nodes]
                report.passages_added += len(set(new_ids) - old_ids)
                report.passages_unchanged += len(set(new_ids) & old_ids)
                report.passages_removed += len(old_ids - set(new_ids))
                (report.articles_updated if before else report.articles_added).append(article.article_id)
                articles[article.article_id] = self._entry(article, new_ids)
            if reset and old is not None:
                for aid in [a for a in articles if a not in seen_ids]:
                    # indexed under the old chunking and not given this time: re-read it from its path
                    log.warning("%s was not re-chunked (its file was not among the paths given)", aid)
            if prune:
                for aid, entry in list(articles.items()):
                    if not Path(entry["path"]).exists():
                        report.passages_removed += len(entry["passages"])
                        report.articles_removed.append(aid)
                        del articles[aid]

            manifest = store.Manifest(articles=articles, bm25=old.bm25 if old else None,
                                      embed_model=model_name, chunking=sig,
                                      collection=store.collection_name(self.settings, model_name))
            if changed:
                self.progress("bm25", 0, 1)
                fresh = {n.node_id: lexical_text(n.metadata["title"], n.text) for _, nodes in todo for n in nodes}
                manifest.bm25 = self._build_bm25(manifest, fresh)
                self.progress("bm25", 1, 1)
                store.save_manifest(index_dir, manifest)
            if store.is_dirty(index_dir):
                self._collect_garbage(manifest)
                store.mark_clean(index_dir)
            report.articles = len(articles)
        report.seconds = time.perf_counter() - t0
        return report

    def _check(self, files: list[Path], model_name: str, sig: dict[str, Any],
               report: IngestReport) -> tuple[store.Manifest | None, bool, list[str]]:
        """Check the index before trusting it, and repair what is derived (rag.ingest.repair).

        Returns the manifest to start from, whether BM25 must be rebuilt, and the files of
        articles whose passages were lost (to be read again). What was repaired is added to
        report.repaired; articles that cannot be repaired (passages lost and file gone) are
        dropped from the manifest and reported in report.skipped."""
        from rag.ingest import repair
        from rag.ingest.uploads import uploads_dir

        index_dir = self.settings.index_dir
        old, why = repair.read_manifest_or_none(index_dir)
        lost_manifest = why is not None
        if why:
            report.repaired.append(why)
        problem = None
        if not self.settings.chroma_url:
            problem = repair.chroma_problem(index_dir, len(old.live_ids()) if old else 0)
        if problem and "passages the index names" in problem:
            problem = None  # the store opens: the deep check below finds what to read again
            deep_needed = True
        else:
            deep_needed = False
        if problem and (old is not None or lost_manifest) and (index_dir / "chroma").exists():
            kept = repair.move_aside(index_dir / "chroma")
            report.repaired.append(f"{problem} (kept as {kept.name}); its vectors were rebuilt from the article files")
            self._collection = Lazy(self._fresh_collection)
        elif problem and old is not None:
            report.repaired.append(f"{problem}; its vectors were rebuilt from the article files")
        extra: list[str] = []
        if lost_manifest:
            uploads = uploads_dir(index_dir)
            in_uploads = find_article_files([uploads])[0] if uploads.is_dir() else []
            # uploads are part of the index: without a manifest, they are read again with the rest
            extra = [str(p.resolve()) for p in in_uploads]
            old = repair.manifest_from_chroma(self._open_or_replace(report), files + in_uploads, uploads,
                                              model_name, sig)
        if old is None:
            return None, False, extra
        bm25_bad = repair.bm25_problem(index_dir, old)
        if not (self.repair or problem or bm25_bad or lost_manifest or deep_needed):
            return old, False, extra
        # The deep check: is every passage that the manifest names in Chroma?
        missing = repair.missing_passages(self._open_or_replace(report), old.live_ids())
        again: list[str] = []
        if missing:
            articles = dict(old.articles)
            for aid, entry in old.articles.items():
                if not missing.intersection(entry["passages"]):
                    continue
                path = Path(entry.get("path") or "")
                if entry.get("path") and path.is_file():
                    articles[aid] = {**entry, "file_hash": ""}  # read again: its hash cannot match
                    again.append(str(path.resolve()))
                else:
                    del articles[aid]
                    report.skipped.append((entry.get("source") or aid,
                                           f"{aid}: its passages were lost and its file "
                                           f"{entry.get('path') or entry.get('source')} is gone; removed from the index"))
            old = store.Manifest(articles=articles, bm25=old.bm25, embed_model=old.embed_model,
                                 chunking=old.chunking, collection=old.collection)
            if not problem:
                report.repaired.append(f"{len(missing)} passages were missing from Chroma; "
                                       f"{len(again)} articles were read again from their files")
        if bm25_bad and not missing and not problem and not lost_manifest:
            report.repaired.append(f"{bm25_bad}; rebuilt from the stored passages")
        return old, bool(bm25_bad or missing or problem or lost_manifest), again + extra

    def _open_or_replace(self, report: IngestReport):
        """The collection; a Chroma store that cannot even be opened is moved aside for a new one."""
        from rag.ingest import repair
        from rag.errors import IndexBrokenError

        try:
            return self.collection
        except IndexBrokenError as exc:
            if self.settings.chroma_url or not (self.settings.index_dir / "chroma").exists():
                raise
            log.info("%s", exc)
            kept = repair.move_aside(self.settings.index_dir / "chroma")
            report.repaired.append(f"its Chroma store could not be opened (kept as {kept.name}); "
                                   "its vectors were rebuilt from the article files")
            self._collection = Lazy(self._fresh_collection)
            return self.collection

    def _fresh_collection(self):
        if self._reopen is not None:
            return self._reopen()
        store.detach_client(self.settings)
        client = store.open_client(self.settings)
        name = store.collection_name(self.settings, self._model_name or self.embed_model.model_name)
        return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"})

    @staticmethod
    def _free_article_id(path: Path, articles: dict, taken: set[str]) -> str:
        from rag.ingest.loading import article_id_for

        aid = article_id_for(path)
        if aid in articles or aid in taken:  # same file name in another folder
            aid = f"{aid}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:6]}"
        return aid

    def _nodes(self, article: Article, model_name: str) -> list[TextNode]:
        from llama_index.core.schema import TextNode

        nodes = []
        for doc in article.documents:
            for p in chunk_document(doc, self.settings.chunk_tokens, self.settings.chunk_overlap_sentences):
                nodes.append(TextNode(id_=passage_id(doc, p), text=p.text,
                                      metadata=passage_metadata(doc, p, model_name)))
        return nodes

    @staticmethod
    def _entry(article: Article, ids: list[str]) -> dict[str, Any]:
        return {
            "path": article.path, "source": article.source, "file_hash": article.file_hash,
            "title": article.documents[0].title, "date": article.documents[0].date,
            "titles": {d.lang: d.title for d in article.documents},
            "langs": [d.lang for d in article.documents],
            "anchors": sorted(anchor_terms_of(article)),
            "passages": ids,
        }

    def _embed_and_store(self, nodes: list[TextNode], report: IngestReport) -> None:
        if not nodes:
            return
        # Reuse vectors already stored for the same text (content hash). An empty collection
        # (a first ingest) has none: skip the metadata lookups.
        hashes = list({n.metadata["content_hash"] for n in nodes})
        known: dict[str, tuple[list[float], str]] = {}
        for i in range(0, len(hashes) if self.collection.count() else 0, 500):
            got = self.collection.get(where={"content_hash": {"$in": hashes[i:i + 500]}},
                                      include=["embeddings", "metadatas"])
            for emb, meta in zip(got["embeddings"], got["metadatas"]):
                if meta.get(store.SENTENCE_VECTORS):
                    known[meta["content_hash"]] = (list(emb), meta[store.SENTENCE_VECTORS])
        todo = []
        for n in nodes:
            if n.metadata["content_hash"] in known:
                n.embedding, n.metadata[store.SENTENCE_VECTORS] = known[n.metadata["content_hash"]]
                report.embeddings_reused += 1
            else:
                todo.append(n)
        reused = [n for n in nodes if n.embedding is not None]
        for i in range(0, len(reused), WRITE_BATCH):
            self._upsert(reused[i:i + WRITE_BATCH])
        # An embedding service with several servers wants bigger steps, to keep them all busy.
        batch = max(self.settings.embed_batch, int(getattr(self.embed_model, "preferred_batch", 0) or 0))
        pending: list[TextNode] = []
        try:
            for i in range(0, len(todo), batch):
                part = todo[i:i + batch]
                self._embed_part(part)
                pending += part
                report.embedded += len(part)
                # Written WRITE_BATCH at a time: Chroma's cost per call is high (256 per call
                # writes 2.4 times faster than 32 per call).
                if len(pending) >= WRITE_BATCH:
                    self._upsert(pending)
                    pending = []
                self.progress("embedding", min(i + batch, len(todo)), len(todo))
        finally:
            # Also on Ctrl-C or an embedding error: what was embedded is kept (and reused next time).
            if pending:
                try:
                    self._upsert(pending)
                except Exception:  # the original error matters more
                    log.warning("could not write %d embedded passages", len(pending), exc_info=True)

    def _embed_part(self, part: list[TextNode]) -> None:
        """Vectors of the passages and of each of their sentences, in one model call (a sentence
        that is a whole passage, or that two overlapping passages share, is embedded once)."""
        import json

        spans = [json.loads(n.metadata["sentences"]) or [[0, len(n.text)]] for n in part]
        sentence_texts = [[n.text[a:b].strip() or n.text for a, b in sp] for n, sp in zip(part, spans)]
        texts = list(dict.fromkeys([n.text for n in part] + [t for ts in sentence_texts for t in ts]))
        vectors = dict(zip(texts, self.embed_model.get_text_embedding_batch(texts)))
        for n, ts in zip(part, sentence_texts):
            n.embedding = vectors[n.text]
            n.metadata[store.SENTENCE_VECTORS] = store.pack_vectors([vectors[t] for t in ts])

    def _upsert(self, nodes: list[TextNode]) -> None:
        self.collection.upsert(ids=[n.node_id for n in nodes], embeddings=[n.embedding for n in nodes],
                               documents=[n.text for n in nodes], metadatas=[n.metadata for n in nodes])

    def _build_bm25(self, manifest: store.Manifest, fresh: dict[str, str] | None = None) -> str | None:
        """A new BM25 generation over the live passages. `fresh` holds the lexical text of the
        passages of this run (already in memory); the others' text is read back from Chroma,
        documents only: their title is the manifest's (half the time of reading metadata too)."""
        ids = manifest.live_ids()
        if not ids:
            return None
        texts: dict[str, str] = {pid: t for pid, t in (fresh or {}).items()}
        need = [pid for pid in ids if pid not in texts]
        for i in range(0, len(need), 1000):
            part = need[i:i + 1000]
            titles = [_title_of(manifest, pid) for pid in part]
            include = ["documents"] if all(t is not None for t in titles) else ["documents", "metadatas"]
            got = self.collection.get(ids=part, include=include)
            title_of = dict(zip(part, titles))
            for j, (pid, doc) in enumerate(zip(got["ids"], got["documents"])):
                title = title_of.get(pid)
                texts[pid] = lexical_text(title if title is not None else got["metadatas"][j]["title"], doc)
        missing = [pid for pid in ids if pid not in texts]
        if missing:
            from rag.errors import IndexBrokenError

            raise IndexBrokenError(f"{len(missing)} passages are missing from Chroma (e.g. {missing[0]}); "
                                   "the manifest was not changed; run `rag ingest --repair`")
        index = BM25Index.build(ids, [tokenize(texts[pid]) for pid in ids])
        folder = store.new_generation_dir(self.settings.index_dir)
        index.save(folder)
        return folder.name

    def _collect_garbage(self, manifest: store.Manifest) -> None:
        live = set(manifest.live_ids())
        # Every live id is in Chroma (the manifest is written only after its vectors), so equal
        # counts mean no orphans: skip listing every id of the collection.
        if self.collection.count() == len(live):
            store.remove_stale_generations(self.settings.index_dir, manifest.bm25)
            return
        all_ids = self.collection.get(include=[])["ids"]
        dead = [pid for pid in all_ids if pid not in live]
        for i in range(0, len(dead), 1000):
            self.collection.delete(ids=dead[i:i + 1000])
        store.remove_stale_generations(self.settings.index_dir, manifest.bm25)


def _title_of(manifest: store.Manifest, pid: str) -> str | None:
    """The title of a passage's document, from the manifest (passage ids are
    "article_id:lang:index:digest"); None when the manifest does not say."""
    parts = pid.rsplit(":", 3)
    if len(parts) != 4:
        return None
    entry = manifest.articles.get(parts[0])
    return (entry or {}).get("titles", {}).get(parts[1])


def anchor_terms_of(article: Article) -> set[str]:
    from rag.lang.anchors import anchors_in_text

    found: set[str] = set()
    for doc in article.documents:
        found |= anchors_in_text(doc.title + "\n" + doc.text)
        if doc.date:
            found.add(f"num:{doc.date[:4]}")
    return found
