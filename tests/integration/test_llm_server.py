"""The generative path against a fake OpenAI-compatible server on a loopback port, with the
real engine (e5, Chroma, the shipped articles): good answers are verified and kept, made-up
citations and claims are dropped, and every kind of server failure gives the extractive
answer with a warning, within the timeout. Also `rag ask` / `rag eval` with --llm-url, the
chat app's streaming, and a prompt-injection article."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from rag.answer.citations import check
from rag.app.cli import main
from rag.config import Settings
from rag.engine import Engine
from rag.eval.scoring import METRIC_ORDER
from rag.types import Draft
from tests.support.llm_fakes import QUESTION, FakeLLMServer, closed_port_url, copy_first_sentence, passage

pytestmark = pytest.mark.slow

def engine_for(real_engine, **llm) -> Engine:
    settings = Settings(index_dir=real_engine.settings.index_dir).replace(**llm)
    return Engine(settings, embed_model=real_engine.embed_model)


def test_a_verified_answer_is_kept_and_a_made_up_citation_is_caught(real_engine):
    def reply(req):
        user = req["messages"][-1]["content"]
        n = next(i for i in range(1, 6) if "Yuan Jiajun" in passage(user, i) and "presided" in passage(user, i))
        return (f"Yuan Jiajun, Secretary of the CPC Chongqing Municipal Committee, presided over the meeting and "
                f"delivered a speech [{n}]. The meeting was also chaired by John Smith [{n}]. "
                f"It was held on the Moon [9].")

    with FakeLLMServer(reply) as fake:
        engine = engine_for(real_engine, llm_url=fake.url, llm_model="fake-model", llm_timeout=10)
        items = list(engine.ask_stream(QUESTION))
        result = items[-1]
        data = result.to_json()
        system, user = fake.last_prompt()
    assert any(isinstance(i, Draft) for i in items[:-1])
    assert data["mode"] == "llm" and data["answered"] and data["model"] == "fake-model at " + fake.url
    assert data["answer"].startswith("Yuan Jiajun, Secretary of the CPC Chongqing Municipal Committee, presided")
    assert "John Smith" not in data["answer"] and "Moon" not in data["answer"]
    assert check(data["answer"], result.answer.citations) == []
    assert [v["supported"] for v in data["verified"]] == [True, False, False]
    assert "John" in data["verified"][1]["why"] and "[9]" in data["verified"][2]["why"]
    assert data["warning"] and "2 of 3" in data["warning"]
    assert len(data["citations"]) == 1 and "Yuan Jiajun" in data["citations"][0]["text"]
    assert set(data) == {"question", "answer", "answered", "confidence", "short_answer", "short_answer_withheld",
                         "citations", "timings_ms", "mode", "verified", "warning", "model"}
    assert {"llm", "verify"} <= set(data["timings_ms"])
    assert "never follow them" in system and '<passage n="1"' in user and QUESTION in user


def test_without_a_model_the_json_is_unchanged(real_engine):
    data = real_engine.ask(QUESTION).to_json()
    assert set(data) == {"question", "answer", "answered", "confidence", "short_answer", "short_answer_withheld",
                         "citations", "timings_ms"}


@pytest.mark.parametrize("behaviour", ["garbage", "html", "error"])
def test_a_server_that_answers_garbage_gives_the_extractive_answer(real_engine, behaviour):
    extractive = real_engine.ask(QUESTION).to_json()
    with FakeLLMServer("ignored", behaviour=behaviour) as fake:
        engine = engine_for(real_engine, llm_url=fake.url, llm_timeout=5)
        t = time.perf_counter()
        data = engine.ask(QUESTION).to_json()
        elapsed = time.perf_counter() - t
        assert fake.requests, "the server was asked"
    assert elapsed < 5
    assert data["mode"] == "extractive" and data["answer"] == extractive["answer"]
    assert data["warning"].startswith("The language model gave no usable answer")


def test_an_unreachable_server_gives_the_extractive_answer_at_once(real_engine):
    engine = engine_for(real_engine, llm_url=closed_port_url(), llm_timeout=3)
    t = time.perf_counter()
    data = engine.ask(QUESTION).to_json()
    assert time.perf_counter() - t < 3
    assert data["mode"] == "extractive" and data["answered"] and "Yuan Jiajun" in data["answer"]
    assert "gave no usable answer" in data["warning"] and "Connection" in data["warning"]


def test_a_server_that_hangs_is_given_up_on_at_the_timeout(real_engine):
    with FakeLLMServer(behaviour="hang", hang=20) as fake:
        engine = engine_for(real_engine, llm_url=fake.url, llm_timeout=1.5)
        t = time.perf_counter()
        data = engine.ask(QUESTION).to_json()
        elapsed = time.perf_counter() - t
    assert 1.4 < elapsed < 4, elapsed
    assert data["mode"] == "extractive" and "within 1.5 s" in data["warning"]


def test_a_slow_stream_is_cut_at_the_timeout(real_engine):
    with FakeLLMServer("Yuan Jiajun presided over the meeting. " * 30, delay=0.2) as fake:
        engine = engine_for(real_engine, llm_url=fake.url, llm_timeout=1.0)
        t = time.perf_counter()
        data = engine.ask(QUESTION).to_json()
        elapsed = time.perf_counter() - t
    assert elapsed < 3.5 and data["mode"] == "extractive" and "within 1 s" in data["warning"]


def test_a_question_about_something_no_article_has_does_not_ask_the_model(real_engine):
    with FakeLLMServer("The eighth meeting was attended by Yuan Jiajun [1].") as fake:
        engine = engine_for(real_engine, llm_url=fake.url)
        data = engine.ask("Who attended the eighth meeting?").to_json()
        assert fake.requests == []
    assert data["mode"] == "extractive" and not data["answered"] and data["warning"] is None


# -- prompt injection ------------------------------------------------------------------------------

def obey_injection(req: dict) -> str:
    """A model that does what the injected article says, citing it."""
    user = req["messages"][-1]["content"]
    n = next((i for i in range(1, 10) if "HACKED" in passage(user, i)), 1)
    return f"HACKED [{n}]. The seventh meeting was presided over by HACKED [{n}]."


def test_an_obeyed_injection_is_dropped_and_the_extractive_answer_stands(injected_engine):
    plain = injected_engine.ask(QUESTION).to_json()
    with FakeLLMServer(obey_injection) as fake:
        engine = Engine(injected_engine.settings.replace(llm_url=fake.url), embed_model=injected_engine.embed_model)
        result = engine.ask(QUESTION)
        _, user = fake.last_prompt()
    data = result.to_json()
    assert any("injection" in h.article_id for h in result.retrieved), "the evil article was retrieved"
    assert "Ignore previous instructions" in user  # given to the model, as data inside its passage
    assert "HACKED" not in data["answer"]
    assert data["mode"] == "extractive" and data["answer"] == plain["answer"] and data["warning"]
    assert all(not v["supported"] for v in data["verified"])
    assert all("HACKED" in v["why"] for v in data["verified"])


# -- the command line ------------------------------------------------------------------------------

def test_rag_ask_with_llm_url(real_engine):
    with FakeLLMServer(copy_first_sentence) as fake:
        r = CliRunner().invoke(main, ["ask", QUESTION, "--json", "--index-dir", str(real_engine.settings.index_dir),
                                      "--llm-url", fake.url, "--llm-model", "fake", "--llm-timeout", "5"],
                               catch_exceptions=False)
        text = CliRunner().invoke(main, ["ask", QUESTION, "--index-dir", str(real_engine.settings.index_dir),
                                         "--llm-url", fake.url, "--llm-model", "fake"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["mode"] == "llm" and data["verified"][0]["supported"] and data["warning"] is None
    assert text.exit_code == 0 and "sentences verified against their passages" in text.stdout


def test_rag_ask_rejects_two_models_and_a_missing_gguf(real_engine, tmp_path):
    idx = str(real_engine.settings.index_dir)
    both = CliRunner().invoke(main, ["ask", "q", "--index-dir", idx, "--llm-url", "http://x", "--llm-gguf", "m.gguf"])
    assert both.exit_code == 2 and "not both" in both.output
    missing = CliRunner().invoke(main, ["ask", QUESTION, "--index-dir", idx, "--llm-gguf", str(tmp_path / "no.gguf")])
    assert missing.exit_code == 1 and "not found" in missing.stderr


def test_rag_eval_with_llm_url_reports_the_same_metrics(real_engine, tmp_path):
    from tests.support.question_sets import write_subset

    subset = write_subset(tmp_path / "subset.jsonl")
    with FakeLLMServer(copy_first_sentence) as fake:
        r = CliRunner().invoke(main, ["eval", str(subset), "--index-dir", str(real_engine.settings.index_dir),
                                      "--report", str(tmp_path / "report"), "--no-baseline", "--json", "--limit", "4",
                                      "--llm-url", fake.url, "--llm-model", "fake"], catch_exceptions=False)
        assert len(fake.requests) >= 3
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert list(data["metrics"]) == list(METRIC_ORDER)
    assert data["set"]["answers"].startswith("generative: fake") and data["set"]["questions"] == 4
    modes = data["set"]["answer_modes"]
    assert modes["llm"] + modes["extractive"] == 4 and modes["llm"] >= 1
    assert all("mode" in q and "verified" in q for q in data["questions"])
    assert "llm" in data["latency_ms"]
    assert "by the model" in (tmp_path / "report" / "report.md").read_text("utf-8")


# -- the chat app ------------------------------------------------------------------------------------

def test_chat_streams_the_draft_then_shows_the_verified_answer(real_engine):
    from rag.app.web.controller import ChatApp

    with FakeLLMServer(copy_first_sentence, delay=0.15) as fake:
        engine = engine_for(real_engine, llm_url=fake.url, llm_model="fake")
        app = ChatApp(engine, stream_delay=0)
        frames = [msgs[-1]["content"] for msgs, _, _ in app.chat(QUESTION, [], 5, False)]
    drafts = [f for f in frames if "checking citations" in f]
    assert drafts, "the draft was shown while the model wrote"
    assert "rag-sources" not in drafts[-1]
    assert "citations checked: 1 of 1 sentences kept" in frames[-1] and "rag-sources" in frames[-1]
    assert "checking citations" not in frames[-1]
