"""Issue 11, case 4: `rag ingest` repairs what it tells users to repair with it. Real `rag`
processes, the real model, a real Chroma, on an index damaged the ways users found:
truncated BM25 files, a deleted, emptied or garbage chroma.sqlite3, a truncated manifest."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.support.serve_process import GLIMMER, HARBOR, Server, rag

pytestmark = pytest.mark.slow

GLIMMER_Q = "Who chaired the Glimmerbrook Water Summit?"
HARBOR_Q = "Who chaired the Harborview Lantern Forum?"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """An index of one article folder plus one upload, with feedback: built once, copied per test."""
    root = tmp_path_factory.mktemp("repair")
    articles = root / "articles"
    articles.mkdir()
    (articles / "glimmer.txt").write_text(GLIMMER, "utf-8")
    index = root / "index"
    (index / "uploads").mkdir(parents=True)
    (index / "uploads" / "harbor.txt").write_text(HARBOR, "utf-8")
    env = {"RAG_LOG_FILE": str(root / "rag.log")}
    for path in (articles, index / "uploads" / "harbor.txt"):
        p = rag("ingest", str(path), "--index-dir", str(index), env=env)
        assert p.returncode == 0, p.stderr
    (index / "feedback.jsonl").write_text('{"vote": "up"}\n', "utf-8")
    return root


def copy_of(pristine: Path, tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(pristine, root)
    m = root / "index" / "manifest.json"
    m.write_text(m.read_text("utf-8").replace(str(pristine), str(root)), "utf-8")  # its own files
    return root


def damage(index: Path, how: str) -> None:
    manifest = json.loads((index / "manifest.json").read_text("utf-8"))
    bm25 = index / manifest["bm25"]
    db = index / "chroma" / "chroma.sqlite3"
    if how in ("data.csc.index.npy", "vocab.index.json", "passage_ids.json"):
        f = bm25 / how
        f.write_bytes(f.read_bytes()[: max(1, f.stat().st_size // 3)])
    elif how == "sqlite-deleted":
        db.unlink()
    elif how == "sqlite-emptied":
        db.write_bytes(b"")
    elif how == "sqlite-garbage":
        db.write_bytes(b"this is not a database " * 4000)
    elif how == "manifest-truncated":
        text = (index / "manifest.json").read_text("utf-8")
        (index / "manifest.json").write_text(text[: len(text) // 2], "utf-8")
    else:
        raise ValueError(how)


CASES = ["data.csc.index.npy", "vocab.index.json", "passage_ids.json", "sqlite-deleted", "sqlite-emptied",
         "sqlite-garbage", "manifest-truncated"]


@pytest.mark.parametrize("how", CASES)
def test_ingest_repairs_the_index(pristine, tmp_path, how):
    root = copy_of(pristine, tmp_path)
    index = root / "index"
    env = {"RAG_LOG_FILE": str(root / "rag.log")}
    damage(index, how)

    before = rag("ask", GLIMMER_Q, "--index-dir", str(index), env=env)
    if before.returncode != 0:  # a damaged index: one line that says what to do, no traceback
        assert before.returncode == 1 and "Traceback" not in before.stderr, before.stderr
        assert len(before.stderr.strip().splitlines()) == 1 and "rag ingest" in before.stderr, before.stderr

    t0 = time.perf_counter()
    fix = rag("ingest", str(root / "articles"), "--index-dir", str(index), env=env)
    took = time.perf_counter() - t0
    print(f"\nrepair of {how}: {took:.1f} s (process)  {fix.stderr.strip()}")
    assert fix.returncode == 0, fix.stderr
    assert "repaired:" in fix.stderr and "Traceback" not in fix.stderr

    for q, name in ((GLIMMER_Q, "Oskarina Velthorpe"), (HARBOR_Q, "Delphine Okonkwo-Raske")):
        p = rag("ask", q, "--json", "--index-dir", str(index), env=env)
        assert p.returncode == 0, p.stderr
        assert name in json.loads(p.stdout)["answer"]
    stats = json.loads(rag("stats", "--json", "--index-dir", str(index), env=env).stdout)
    manifest = json.loads((index / "manifest.json").read_text("utf-8"))
    assert stats["articles"] == 2 == len(manifest["articles"])
    import chromadb

    client = chromadb.PersistentClient(path=str(index / "chroma"))
    assert stats["passages"] == client.get_collection(manifest["collection"]).count()
    # never deleted: the uploads and the feedback
    assert (index / "uploads" / "harbor.txt").read_text("utf-8") == HARBOR
    assert (index / "feedback.jsonl").read_text("utf-8") == '{"vote": "up"}\n'
    # a second ingest finds nothing to repair
    again = rag("ingest", str(root / "articles"), "--index-dir", str(index), env=env)
    assert again.returncode == 0 and "repaired" not in again.stderr, again.stderr


def test_serve_starts_after_a_repair(pristine, tmp_path):
    root = copy_of(pristine, tmp_path)
    index = root / "index"
    damage(index, "data.csc.index.npy")
    env = {"RAG_LOG_FILE": str(root / "rag.log")}
    with pytest.raises(RuntimeError, match="BM25 index"):
        Server(index, env=env)  # refuses, with the one-line reason
    assert rag("ingest", str(root / "articles"), "--index-dir", str(index), env=env).returncode == 0
    server = Server(index, env=env)
    try:
        from gradio_client import Client

        d = Client(server.url, verbose=False).predict(HARBOR_Q, 0, api_name="/ask")
        assert "Delphine Okonkwo-Raske" in d["answer"]
    finally:
        server.stop()
