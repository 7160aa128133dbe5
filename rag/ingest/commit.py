"""The last steps of an ingest, after every new vector is in Chroma: a new BM25 generation
over the live passages (named by the manifest written next), and the clean-up of what the
new manifest no longer names (orphaned vectors, old BM25 generations).
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import IndexBrokenError
from rag.ingest.records import lexical_text, title_of
from rag.lang.tokenization import tokenize
from rag.store import chroma
from rag.store import manifest as store
from rag.store.bm25 import BM25Index


def build_bm25(collection, index_dir: Path, manifest: store.Manifest,
               fresh: dict[str, str] | None = None) -> str | None:
    """A new BM25 generation over the live passages; its folder name. `fresh` holds the lexical
    text of the passages of this run (already in memory); the others' text is read back from
    Chroma, documents only: their title is the manifest's (half the time of reading metadata too).
    `collection` is a callable that returns the collection (opened only when needed)."""
    ids = manifest.live_ids()
    if not ids:
        return None
    texts: dict[str, str] = {pid: t for pid, t in (fresh or {}).items()}
    need = [pid for pid in ids if pid not in texts]
    for i in range(0, len(need), 1000):
        part = need[i:i + 1000]
        titles = [title_of(manifest, pid) for pid in part]
        include = ["documents"] if all(t is not None for t in titles) else ["documents", "metadatas"]
        got = chroma.fetch(collection(), part, include)
        title_by_id = dict(zip(part, titles))
        for j, (pid, doc) in enumerate(zip(got["ids"], got["documents"])):
            title = title_by_id.get(pid)
            texts[pid] = lexical_text(title if title is not None else got["metadatas"][j]["title"], doc)
    missing = [pid for pid in ids if pid not in texts]
    if missing:
        raise IndexBrokenError(f"{len(missing)} passages are missing from Chroma (e.g. {missing[0]}); "
                               "the manifest was not changed; run `rag ingest --repair`")
    index = BM25Index.build(ids, [tokenize(texts[pid]) for pid in ids])
    folder = store.new_generation_dir(index_dir)
    index.save(folder)
    return folder.name


def collect_garbage(collection, index_dir: Path, manifest: store.Manifest) -> None:
    """Delete the vectors and BM25 generations that `manifest` (just committed) does not name."""
    live = set(manifest.live_ids())
    # Every live id is in Chroma (the manifest is written only after its vectors), so equal
    # counts mean no orphans: skip listing every id of the collection.
    if chroma.count(collection) == len(live):
        store.remove_stale_generations(index_dir, manifest.bm25)
        return
    dead = [pid for pid in chroma.fetch_all(collection)["ids"] if pid not in live]
    chroma.delete(collection, dead)
    store.remove_stale_generations(index_dir, manifest.bm25)
