"""The index on disk: passages and their vectors in Chroma, plus a manifest and a BM25 index.

The manifest (`manifest.json`) is the commit point. It lists the articles and the ids of
their live passages, and names the BM25 generation built from exactly those passages. It is
replaced atomically (write, fsync, rename) only after every vector it names is in Chroma, so
an ingest that dies half-way leaves the previous manifest, and with it the previous index,
whole. Vectors written by the failed run stay in Chroma as orphans: they are invisible to
queries (results are filtered to live ids), their embeddings are reused by content hash on
the next run, and the next successful ingest deletes whatever is left over. A mark file (`.ingest.dirty`),
written before the first write to Chroma and removed after the clean-up, tells the next
ingest whether there can be orphans at all: an ingest of unchanged files opens nothing.

Chroma itself is opened in rag.store.chroma; this module only reads and writes files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from rag.errors import IndexBrokenError, IndexBusyError, IndexMissingError

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
LOCK = ".ingest.lock"
DIRTY = ".ingest.dirty"  # present from the first write to Chroma until the clean-up after the commit
FEEDBACK = "feedback.jsonl"


@contextlib.contextmanager
def no_writer(index_dir: Path, wait: float = 5.0) -> Iterator[bool]:
    """Yields True while no ingest holds the index (a shared lock on the ingest lock file, held
    for the duration), or False when one still does after `wait` seconds: the caller then keeps
    what it has rather than read an index that is being written."""
    path = index_dir / LOCK
    try:
        fh = open(path, "a")
    except OSError:  # no lock file (no index yet) or a read-only folder: nobody writes it
        yield True
        return
    with fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class Manifest:
    articles: dict[str, dict[str, Any]]
    bm25: str | None = None  # folder name of the live BM25 generation
    embed_model: str | None = None
    chunking: dict[str, Any] | None = None
    collection: str | None = None

    def live_ids(self) -> list[str]:
        return [pid for a in self.articles.values() for pid in a["passages"]]

    def to_json(self) -> dict[str, Any]:
        return {"version": MANIFEST_VERSION, "articles": self.articles, "bm25": self.bm25,
                "embed_model": self.embed_model, "chunking": self.chunking, "collection": self.collection}


def load_manifest(index_dir: Path) -> Manifest | None:
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("version") != MANIFEST_VERSION:
            raise ValueError(f"manifest version {data.get('version')} (expected {MANIFEST_VERSION})")
        return Manifest(articles=data["articles"], bm25=data.get("bm25"), embed_model=data.get("embed_model"),
                        chunking=data.get("chunking"), collection=data.get("collection"))
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexBrokenError(
            f"{path} is unreadable ({exc}); run `rag ingest --index-dir {index_dir}` to repair the index "
            "(uploads and feedback are kept)") from exc


def require_manifest(index_dir: Path) -> Manifest:
    manifest = load_manifest(index_dir)
    if manifest is None or not manifest.articles:
        raise IndexMissingError(
            f"no articles are indexed in {index_dir}; run `rag ingest [PATH ...] --index-dir {index_dir}` first")
    return manifest


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_manifest(index_dir: Path, manifest: Manifest) -> None:
    write_json_atomic(index_dir / MANIFEST, manifest.to_json())


@contextlib.contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time: Chroma's embedded store is not safe across processes.

    flock, not the filelock package: readers (`no_writer`) need a shared lock, which its
    FileLock lacks, and its ReadWriteLock (SQLite-based, filelock >= 3.21) is one object per path
    and reentrant in a thread, where a second ingest must be refused (tests/integration/test_ingest.py)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a") as fh:
        # A reader (Engine reloading after another process's ingest) holds the lock shared for
        # a few milliseconds: wait that long rather than report a busy index.
        deadline = time.monotonic() + 2.0
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(f"another ingest is writing {index_dir}; wait for it to finish") from exc
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def mark_dirty(index_dir: Path) -> None:
    (index_dir / DIRTY).touch()


def mark_clean(index_dir: Path) -> None:
    (index_dir / DIRTY).unlink(missing_ok=True)


def is_dirty(index_dir: Path) -> bool:
    return (index_dir / DIRTY).exists()


def new_generation_dir(index_dir: Path) -> Path:
    return index_dir / f"bm25-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"


def remove_stale_generations(index_dir: Path, keep: str | None) -> None:
    for d in index_dir.glob("bm25-*"):
        if d.name != keep and d.is_dir():
            shutil.rmtree(d, ignore_errors=True)


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


# -- sentence vectors --------------------------------------------------------------------------
# Each passage carries the vectors of its sentences in its metadata (float16, base64), so the
# reader can compare a question with every candidate sentence without embedding anything at
# question time, and the vectors live and die with their passage (same commit, same content
# hash, same garbage collection). 384 dimensions cost 1 KB of text per sentence.
SENTENCE_VECTORS = "sentvec"


def pack_vectors(vectors) -> str:
    import base64

    import numpy as np

    arr = np.asarray(vectors, dtype=np.float32)
    return base64.b64encode(arr.astype(np.float16).tobytes()).decode("ascii")


def unpack_vectors(packed: str, rows: int):
    """The (rows, dim) float32 array packed by `pack_vectors`; None when it does not fit."""
    import base64

    import numpy as np

    if not packed or rows <= 0:
        return None
    try:
        flat = np.frombuffer(base64.b64decode(packed), dtype=np.float16).astype(np.float32)
    except (ValueError, TypeError):
        return None
    if flat.size % rows:
        return None
    return flat.reshape(rows, flat.size // rows)
