"""The same engine against a Chroma server (`chroma run`) instead of the embedded store."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import Settings
from rag.engine import Engine
from rag.errors import IndexBrokenError

from tests.conftest import ARTICLES, SEVENTH

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start in 60 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_ask_through_a_chroma_server(chroma_url, tmp_path):
    settings = Settings(index_dir=tmp_path / "meta", chroma_url=chroma_url)
    report = Engine(settings).ingest([ARTICLES])
    assert report.articles == 2 and report.embedded > 50
    assert not (tmp_path / "meta" / "chroma").exists()  # vectors live on the server
    data = Engine(settings).ask("Who attended the seventh meeting?").to_json()
    assert data["answered"] and "Yuan Jiajun" in data["answer"]
    assert data["citations"][0]["article_id"] == SEVENTH
    assert Engine(settings).ingest([ARTICLES]).passages_added == 0


def test_a_dead_server_gives_a_clear_message(tmp_path):
    settings = Settings(index_dir=tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IndexBrokenError, match="cannot reach the Chroma server"):
        Engine(settings).ingest([ARTICLES])
