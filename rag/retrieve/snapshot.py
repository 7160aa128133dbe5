"""What a question reads: a snapshot of the committed index (the manifest, the BM25 index, the
retriever over the live passages, the articles of each anchor), which never changes; and the
live index that hands out the current snapshot and the Chroma collection, reopened when another
process wrote the index folder.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any, Callable, Iterator

from rag.config import Settings
from rag.errors import IndexBrokenError
from rag.retrieve.hybrid import Retriever
from rag.store import chroma
from rag.store import manifest as store
from rag.store.bm25 import BM25Index

log = logging.getLogger(__name__)


class Snapshot:
    def __init__(self, manifest: store.Manifest, mtime: float, bm25: BM25Index | None, retriever: Retriever):
        self.manifest = manifest
        self.mtime = mtime
        self.bm25 = bm25
        self.retriever = retriever
        # anchor -> articles holding it: built once per snapshot, so a question's anchor lookup
        # costs O(articles with that anchor), not a pass over every article.
        self.anchors: dict[str, set[str]] = {}
        for aid, art in manifest.articles.items():
            for a in art.get("anchors", []):
                self.anchors.setdefault(a, set()).add(aid)


def open_snapshot(settings: Settings, mtime: float, embed_model: Callable[[], Any],
                  collection: Callable[[], Any]) -> Snapshot:
    """The snapshot of the committed index. `embed_model` and `collection` are asked for only
    once the manifest is known to exist (a missing index loads no model and opens no Chroma)."""
    manifest = store.require_manifest(settings.index_dir)
    if manifest.embed_model and manifest.embed_model != embed_model().model_name:
        raise IndexBrokenError(
            f"the index was built with {manifest.embed_model}, not {embed_model().model_name}; "
            "run `rag ingest` again to re-embed")
    bm25 = None
    if manifest.bm25:
        try:
            bm25 = BM25Index.load(settings.index_dir / manifest.bm25)
        except Exception as exc:
            raise IndexBrokenError(
                f"the BM25 index {manifest.bm25} is unreadable ({exc}); run `rag ingest` to rebuild it") from exc
    retriever = Retriever(collection(), bm25, embed_model(), set(manifest.live_ids()), settings)
    return Snapshot(manifest, mtime, bm25, retriever)


class LiveIndex:
    """One index folder as this process sees it: the Chroma collection questions and ingests go
    through, and the snapshot questions read. `embed_model` gives the embedding model when first
    needed; `lock` is the engine's (one lock for the engine's lazily made parts)."""

    def __init__(self, settings: Settings, embed_model: Callable[[], Any], lock: threading.RLock):
        self.settings = settings
        self._embed_model = embed_model
        self._lock = lock
        self._collection = None
        self.snapshot: Snapshot | None = None
        # The manifest's mtime when this process's Chroma client last read the disk; when the
        # manifest on disk differs, another process wrote the index and the client is reopened.
        self._store_mtime: float | None = None
        self._retired = None  # the chromadb System replaced at the last reopen (stopped at the next)
        self._ingesting = 0  # ingests running in this process (they write through our own client)

    @property
    def collection(self):
        with self._lock:
            if self._collection is None:
                self._store_mtime = self.manifest_mtime()
                self._collection = chroma.open_collection(self.settings, self._embed_model().model_name)
            return self._collection

    def manifest_mtime(self) -> float:
        try:
            return (self.settings.index_dir / store.MANIFEST).stat().st_mtime
        except FileNotFoundError:
            return -1.0

    def manifest(self) -> store.Manifest | None:
        """The committed manifest: the current snapshot's when it is up to date (no re-read)."""
        snap = self.snapshot
        if snap is not None:
            try:
                if (self.settings.index_dir / store.MANIFEST).stat().st_mtime == snap.mtime:
                    return snap.manifest
            except FileNotFoundError:
                pass
        return store.load_manifest(self.settings.index_dir)

    def _reopen_if_written_elsewhere(self, mtime: float, writer: bool = False) -> None:
        """Reopen Chroma when another process changed the index since our client read it (see
        chroma.detach_client). Called with self._lock held. While this process ingests, only
        the ingest itself (`writer`, under the ingest lock) may reopen: a question must not
        swap the client under the writer's feet."""
        if self._collection is None or (self._ingesting and not writer) or mtime == self._store_mtime:
            return
        log.info("the index was changed by another process: reopening it")
        old = chroma.detach_client(self.settings)
        chroma.retire(self._retired)  # replaced one reload ago: no question still reads it
        self._retired = old
        self._collection = None

    # -- the writer's side -----------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around an ingest in this process: questions keep their snapshot meanwhile, and read a
        new one after it."""
        with self._lock:
            self._ingesting += 1
        try:
            yield
        finally:
            with self._lock:
                self._ingesting -= 1
                self.snapshot = None
                if self._collection is not None:
                    self._store_mtime = self.manifest_mtime()  # what we wrote, our client has seen

    def new_store(self):
        """A collection in a new Chroma store, after an ingest moved a damaged one aside."""
        with self._lock:
            self._store_mtime = None
            self._reopen_if_written_elsewhere(self.manifest_mtime(), writer=True)
            chroma.detach_client(self.settings)  # also when this engine had not opened it yet
            self._collection = None
            return self.collection

    def writable_collection(self):
        """The collection an ingest writes, called under the ingest lock: up to date with what
        other processes wrote, so that our writes do not go through a stale vector index."""
        with self._lock:
            self._reopen_if_written_elsewhere(self.manifest_mtime(), writer=True)
            return self.collection

    # -- the readers' side -----------------------------------------------------------------------
    def current(self) -> Snapshot:
        """The snapshot for the manifest on disk; reloaded when another process re-ingested.

        A question never reads a half-written index: the manifest changes only after every
        vector it names is in Chroma, and the reload waits (a few seconds at most) until the
        writer has also finished removing what the new manifest no longer names; while it
        has not, questions keep the previous snapshot, which is whole."""
        with self._lock:
            mtime = self.manifest_mtime()
            if self.snapshot is not None and self.snapshot.mtime == mtime:
                return self.snapshot
            if self.snapshot is not None and not self._ingesting and mtime != self._store_mtime:
                return self.reload()
            return self._load(mtime)

    def reload(self, force: bool = False) -> Snapshot:
        """Reopen Chroma and rebuild the snapshot once no ingest is writing (see `current`).
        `force`: even when the manifest did not change (Chroma changed under a question)."""
        with self._lock, store.no_writer(self.settings.index_dir) as free:
            if not free and self.snapshot is not None:
                return self.snapshot
            mtime = self.manifest_mtime()
            if force and not self._ingesting:
                self._store_mtime = None  # whatever the manifest says, our client's view is stale
            self._reopen_if_written_elsewhere(mtime)
            return self._load(mtime)

    def _load(self, mtime: float) -> Snapshot:
        with self._lock:
            self.snapshot = open_snapshot(self.settings, mtime, self._embed_model, lambda: self.collection)
            return self.snapshot
