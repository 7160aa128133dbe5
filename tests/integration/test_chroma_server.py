"""The same engine against a Chroma server (`chroma run`) instead of the embedded store."""


import pytest

from rag.config import Settings
from rag.engine import Engine
from rag.errors import IndexBrokenError
from tests.support.app import free_port
from tests.support.corpus import ARTICLES, SEVENTH

pytestmark = pytest.mark.slow


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
