"""Settings are declared once (rag/config.py): the env vars, the CLI's setting flags and the
README's table all come from that declaration, and no import changes the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.app.cli import main, options
from rag.app.cli.options import SettingOption, setting_help
from rag.app.cli.settings_table import BEGIN, END, render
from rag.config import PROJECT_ROOT, Settings, env_var, shown_default
from rag.errors import RagError

# Env vars that the README documented before the declaration: each must keep working as it did.
DOCUMENTED = {
    "RAG_INDEX_DIR": ("index_dir", "/tmp/i", Path("/tmp/i")), "RAG_CHROMA_URL": ("chroma_url", "http://c:1", "http://c:1"),
    "RAG_COLLECTION": ("collection", "c", "c"), "RAG_CHUNK_TOKENS": ("chunk_tokens", "100", 100),
    "RAG_CHUNK_OVERLAP": ("chunk_overlap_sentences", "2", 2), "RAG_TOP_K": ("top_k", "7", 7),
    "RAG_MIN_CONFIDENCE": ("min_confidence", "0.2", 0.2),
    "RAG_SHORT_WITHHOLD": ("short_withhold", "0", 0.0), "RAG_READER_MODEL": ("reader_model", "r.json", Path("r.json")),
    "RAG_EMBED_THREADS": ("embed_threads", "3", 3), "RAG_LLM_URL": ("llm_url", "http://l:1/v1", "http://l:1/v1"),
    "RAG_LLM_MODEL": ("llm_model", "m", "m"), "RAG_LLM_API_KEY": ("llm_api_key", "k", "k"),
    "RAG_LLM_GGUF": ("llm_gguf", "m.gguf", Path("m.gguf")), "RAG_LLM_TIMEOUT": ("llm_timeout", "9.5", 9.5),
    "RAG_LLM_CONTEXT": ("llm_context", "2048", 2048), "RAG_LLM_MAX_TOKENS": ("llm_max_tokens", "160", 160),
    "RAG_LLM_THREADS": ("llm_threads", "2", 2), "RAG_EMBED_URL": ("embed_url", "http://a:1,http://b:2", "http://a:1,http://b:2"),
    "RAG_EMBED_MODEL": ("embed_model", "e5", "e5"), "RAG_EMBED_PREFIXES": ("embed_prefixes", "client", "client"),
    "RAG_FEEDBACK_MAX_BYTES": ("feedback_max_bytes", "1000", 1000), "RAG_VOTES_PER_MINUTE": ("votes_per_minute", "4", 4),
    "RAG_LOGIN_FAILURES": ("login_failures", "2", 2), "RAG_LOGIN_LOCKOUT": ("login_lockout", "3", 3.0),
    "RAG_LOG_FILE": ("log_file", "/tmp/x.log", Path("/tmp/x.log")),
    "RAG_MODEL_CACHE": ("model_cache", "/tmp/models", Path("/tmp/models")),
}
# Flags named like a setting that are not that setting, and why.
NOT_SETTINGS = {("eval", "top_k"): "a run's top_k is part of what it measures: 5 unless given, whatever RAG_TOP_K says"}


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("RAG_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("var", sorted(DOCUMENTED))
def test_every_documented_env_var_still_works(clean_env, var):
    name, raw, expected = DOCUMENTED[var]
    assert env_var(name) == var
    clean_env.setenv(var, raw)
    assert getattr(Settings.from_env(), name) == expected
    assert getattr(Settings(), name) != expected  # Settings(...) never reads the environment


def test_every_setting_has_an_env_var_a_default_and_help(clean_env):
    names = [env_var(n) for n in Settings.model_fields]
    assert len(set(names)) == len(names) and all(n.startswith("RAG_") for n in names)
    for name, field in Settings.model_fields.items():
        assert field.description and shown_default(name), name
    clean_env.setenv("RAG_EMBED_BATCH", "")  # empty is unset, as before
    assert Settings.from_env() == Settings()


def test_defaults_shown_as_a_models_value_are_that_models():
    from rag.answer import reader_model, short_answer
    assert f"({reader_model.load().min_confidence:g})" in shown_default("min_confidence")
    assert f"({short_answer.load().withhold_ratio:g})" in shown_default("short_withhold")


def test_flags_win_over_env_and_none_is_not_given(clean_env):
    clean_env.setenv("RAG_TOP_K", "7")
    s = Settings.from_env(top_k=3, chroma_url=None, index_dir="x")
    assert (s.top_k, s.chroma_url, s.index_dir) == (3, None, Path("x"))
    assert s.replace(llm_gguf="m.gguf").llm_gguf == Path("m.gguf") and s.replace() is s
    with pytest.raises(ValueError):
        s.replace(no_such_setting=1)
    with pytest.raises(ValueError):  # frozen
        s.top_k = 4  # type: ignore[misc]
    assert "secret" not in repr(Settings(llm_api_key="secret"))


def test_a_bad_env_value_is_one_line_naming_the_variable(clean_env, tmp_path):
    clean_env.setenv("RAG_TOP_K", "five")
    with pytest.raises(ValueError) as exc:
        Settings.from_env()
    assert str(exc.value).startswith("environment variable RAG_TOP_K='five' is not valid")
    clean_env.setenv("RAG_LOG_FILE", str(tmp_path / "rag.log"))
    r = CliRunner().invoke(main, ["stats", "--index-dir", str(tmp_path / "i")])
    assert r.exit_code == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("error: environment variable RAG_TOP_K='five' is not valid")
    clean_env.setenv("RAG_CHUNK_OVERLAP", "x")
    with pytest.raises(ValueError, match="RAG_CHUNK_OVERLAP='x'"):
        Settings.from_env()


def test_setting_flags_are_made_from_the_declaration():
    seen = set()
    for command_name, command in main.commands.items():
        for param in command.params:
            if param.name not in Settings.model_fields or (command_name, param.name) in NOT_SETTINGS:
                continue
            assert isinstance(param, SettingOption), (command_name, param.name)
            assert param.opts == ["--" + param.name.replace("_", "-")]
            assert param.help == setting_help(param.name) and param.default is None
            assert env_var(param.name) in param.help and shown_default(param.name) in param.help \
                or shown_default(param.name) == "unset"
            seen.add(param.name)
    assert {"index_dir", "chroma_url", "embed_url", "min_confidence", "llm_url", "top_k", "chunk_tokens"} <= seen


def test_the_readme_table_is_generated_from_the_settings():
    readme = (PROJECT_ROOT / "README.md").read_text("utf-8")
    table = readme[readme.index(BEGIN) + len(BEGIN):readme.index(END)].strip("\n") + "\n"
    assert table == render(main), "run: python scripts/readme.py"
    for name in Settings.model_fields:
        assert f"| `{env_var(name)}` |" in table
    r = subprocess.run([sys.executable, "scripts/readme.py", "--check"], cwd=PROJECT_ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_the_cli_hands_flags_to_settings_not_to_the_environment(clean_env, monkeypatch, tmp_path):
    seen = {}

    def fake_make_engine(**overrides):
        seen.update(overrides)
        raise RagError("stop here")

    monkeypatch.setattr(options, "make_engine", fake_make_engine)
    clean_env.setenv("RAG_LOG_FILE", str(tmp_path / "rag.log"))
    r = CliRunner().invoke(main, ["ingest", "--embed-url", "http://e:1", "--embed-model", "e5", "--chunk-tokens",
                                  "100", "--index-dir", str(tmp_path / "i")])
    assert r.exit_code == 1
    assert seen == {"embed_url": "http://e:1", "embed_model": "e5", "chunk_tokens": 100, "index_dir": tmp_path / "i"}
    assert "RAG_EMBED_URL" not in os.environ and "RAG_EMBED_MODEL" not in os.environ
    assert Settings.from_env(**seen).embed_url == "http://e:1"
    r = CliRunner().invoke(main, ["ask", "q", "--llm-url", "http://l:1", "--llm-gguf", "m.gguf"])
    assert r.exit_code == 2 and "not both" in r.stderr


def test_the_log_file_setting_is_where_the_cli_logs(clean_env, tmp_path):
    from rag.app import logs

    clean_env.setenv("RAG_LOG_FILE", str(tmp_path / "here.log"))
    CliRunner().invoke(main, ["stats", "--json", "--index-dir", str(tmp_path / "i")])
    assert logs.where() == f"details in {tmp_path / 'here.log'}"


ENTRY = r"""
import json, os, sys
before = dict(os.environ)
import importlib, pkgutil, rag
for module in pkgutil.walk_packages(rag.__path__, "rag."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
import tiktoken.load
def no_download(*a, **k):
    raise AssertionError("tiktoken tried to download")
tiktoken.load.read_file = no_download
from rag.ingest.chunking import count_tokens
if sys.argv[1] == "cli":
    from rag.app.cli import main
    try:
        main(["stats", "--json", "--index-dir", sys.argv[2]])
    except SystemExit:
        pass
else:
    from rag.engine import Engine
    from rag.config import Settings
    from tests.support.fake_embeddings import HashEmbedding
    Engine(Settings(index_dir=sys.argv[2]), embed_model=HashEmbedding())
tokens = count_tokens("Who attended the seventh meeting?")
print(json.dumps({"changed": changed, "tiktoken": os.environ.get("TIKTOKEN_CACHE_DIR"), "tokens": tokens,
                  "gradio": os.environ.get("GRADIO_ANALYTICS_ENABLED")}))
"""


@pytest.mark.parametrize("entry", ["cli", "engine"])
def test_no_import_changes_the_environment_and_each_entry_prepares_it(entry, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TIKTOKEN_CACHE_DIR", "GRADIO_ANALYTICS_ENABLED", "ANONYMIZED_TELEMETRY")}
    env.update(RAG_LOG_FILE=str(tmp_path / "rag.log"), PYTHONPATH=str(PROJECT_ROOT))
    r = subprocess.run([sys.executable, "-c", ENTRY, entry, str(tmp_path / "index")], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["changed"] == [], "importing rag changed the environment"
    assert out["tiktoken"] and Path(out["tiktoken"]).is_dir() and out["tokens"] > 3
    assert out["gradio"] == "False"
