"""Articles -> passages -> vectors in Chroma + BM25, incrementally and crash-safely.

- Unchanged files (same bytes, same chunking, same model) are not even re-read.
- A passage whose text was embedded before (same content hash, any article) reuses the
  stored vector: text is never embedded twice.
- Vectors are written as they are computed (256 per Chroma call), and whatever was embedded
  is written even when the run is interrupted (Ctrl-C, an embedding error), so it loses no
  embedding work; the manifest that makes them live is written last (see rag.store.manifest).

`Ingestor.run` plans what changed and commits; the steps live beside it: rag.ingest.records
(ids, metadata, manifest entries), rag.ingest.vectors (reuse or embed, and write),
rag.ingest.commit (BM25 generation, clean-up), rag.ingest.repair (checks before trusting).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rag.config import Settings
from rag.errors import ArticleError
from rag.ingest.commit import build_bm25, collect_garbage
from rag.ingest.loading import Article, find_article_files, read_article
from rag.ingest.records import article_nodes, chunking_signature, free_article_id, lexical_text, manifest_entry
from rag.ingest.vectors import embed_and_store
from rag.store import chroma
from rag.store import manifest as store
from rag.store.checks import chroma_problem

if TYPE_CHECKING:  # llama-index is imported only when there is something to chunk
    from llama_index.core.schema import TextNode

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


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
                    aid = aid or free_article_id(path, articles, seen_ids)
                    article = read_article(path, self.settings.max_article_bytes, article_id=aid)
                except ArticleError as exc:
                    log.info("%s", exc)  # reported to the caller in report.skipped
                    report.skipped.append((str(path), str(exc)))
                    continue
                seen_ids.add(aid)
                todo.append((article, article_nodes(article, self.settings, model_name)))

            changed = bool(todo or (prune and any(not Path(a["path"]).exists() for a in articles.values()))
                           or old is None or reset or bm25_bad or report.repaired)
            if changed:
                # Chroma is about to be written: until the commit and the clean-up below are
                # done, a crash may leave orphans, which the next ingest must look for.
                store.mark_dirty(index_dir)

            # Embed and write what is new, batch by batch.
            new_nodes = [node for _, nodes in todo for node in nodes]
            embed_and_store(new_nodes, lambda: self.collection, lambda: self.embed_model, self.settings, report,
                            self.progress)

            # Commit: the manifest now names the new passages.
            for article, nodes in todo:
                before = articles.get(article.article_id)
                old_ids = set(before["passages"]) if before else set()
                new_ids = [n.node_id for n in nodes]
                report.passages_added += len(set(new_ids) - old_ids)
                report.passages_unchanged += len(set(new_ids) & old_ids)
                report.passages_removed += len(old_ids - set(new_ids))
                (report.articles_updated if before else report.articles_added).append(article.article_id)
                articles[article.article_id] = manifest_entry(article, new_ids)
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
                                      collection=chroma.collection_name(self.settings, model_name))
            if changed:
                self.progress("bm25", 0, 1)
                fresh = {n.node_id: lexical_text(n.metadata["title"], n.text) for _, nodes in todo for n in nodes}
                manifest.bm25 = build_bm25(lambda: self.collection, index_dir, manifest, fresh)
                self.progress("bm25", 1, 1)
                store.save_manifest(index_dir, manifest)
            if store.is_dirty(index_dir):
                collect_garbage(self.collection, index_dir, manifest)
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
            problem = chroma_problem(index_dir, len(old.live_ids()) if old else 0)
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
            old, again, gone = repair.without_lost_passages(old, missing)
            report.skipped += gone
            if not problem:
                report.repaired.append(f"{len(missing)} passages were missing from Chroma; "
                                       f"{len(again)} articles were read again from their files")
        if bm25_bad and not missing and not problem and not lost_manifest:
            report.repaired.append(f"{bm25_bad}; rebuilt from the stored passages")
        return old, bool(bm25_bad or missing or problem or lost_manifest), again + extra

    def _open_or_replace(self, report: IngestReport):
        """The collection; a Chroma store that cannot even be opened is moved aside for a new one."""
        from rag.errors import IndexBrokenError
        from rag.ingest import repair

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
        chroma.detach_client(self.settings)
        return chroma.open_collection(self.settings, self._model_name or self.embed_model.model_name)
