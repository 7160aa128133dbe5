"""The optional generative model: any OpenAI-compatible chat-completions server (Ollama,
vLLM, llama.cpp's server, LM Studio, a hosted API), reached through llama-index's
`OpenAILike`, or a local GGUF file served by llama.cpp on a loopback port (rag.generate.local).

Every call is bounded by one wall-clock deadline: whatever the server does (refuses the
connection, hangs, streams slowly, answers garbage), `stream` either yields the text or
raises LLMError within the timeout, and the caller falls back to the extractive answer.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from typing import Any, Iterator

from rag.config import Settings
from rag.generate.errors import LLMError, LLMSetupError

log = logging.getLogger(__name__)


def _describe(exc: BaseException) -> str:
    name = exc.__class__.__name__
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{name}: {msg[:200]}" if msg else name


class ChatLLM:
    """A chat model behind an OpenAI-compatible `/chat/completions` endpoint."""

    def __init__(self, url: str, model: str | None = None, api_key: str | None = None, timeout: float = 30.0,
                 context_window: int = 4096, max_tokens: int = 400, temperature: float = 0.1,
                 label: str | None = None, server: Any = None):
        from llama_index.llms.openai_like import OpenAILike

        self.url = url.rstrip("/")
        self.model = model or "default"
        self.timeout = float(timeout)
        self.context_window = int(context_window)
        self.max_tokens = int(max_tokens)
        self.label = label or f"{self.model} at {self.url}"
        self._server = server  # a LocalServer this object owns, closed with it
        self._llm = OpenAILike(
            model=self.model, api_base=self.url, api_key=api_key or "not-needed", is_chat_model=True,
            is_function_calling_model=False, context_window=self.context_window, max_tokens=self.max_tokens,
            temperature=temperature, timeout=self.timeout, max_retries=0, reuse_client=True,
        )

    def stream(self, messages: list[dict[str, str]], timeout: float | None = None) -> Iterator[str]:
        """The answer's text in pieces as the server sends them. Raises LLMError when the server
        fails, says nothing, or has not finished within `timeout` seconds (default: the model's)."""
        from llama_index.core.llms import ChatMessage

        limit = self.timeout if timeout is None else float(timeout)
        deadline = time.monotonic() + limit
        chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        pieces: queue.Queue = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            gen = None
            try:
                gen = self._llm.stream_chat(chat)
                for response in gen:
                    if stop.is_set():
                        break
                    delta = response.delta or ""
                    if delta:
                        pieces.put(("text", delta))
                pieces.put(("end", None))
            except BaseException as exc:  # noqa: BLE001 - every failure becomes a fallback
                pieces.put(("error", exc))
            finally:
                if gen is not None and hasattr(gen, "close"):
                    try:
                        gen.close()  # closes the HTTP stream: the server stops generating
                    except Exception:  # noqa: BLE001
                        pass

        # A daemon thread: a server that hangs past the deadline cannot hold up the answer.
        threading.Thread(target=work, daemon=True, name="llm-stream").start()
        got_any = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LLMError(f"the model did not finish within {limit:g} s")
                try:
                    kind, value = pieces.get(timeout=remaining)
                except queue.Empty:
                    raise LLMError(f"the model did not finish within {limit:g} s") from None
                if kind == "text":
                    got_any = True
                    yield value
                elif kind == "error":
                    raise LLMError(f"the model server failed ({_describe(value)})") from value
                else:
                    break
        finally:
            stop.set()
        if not got_any:
            raise LLMError("the model server sent no answer text")

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def make_llm(settings: Settings) -> ChatLLM | None:
    """The model the settings ask for, or None (extractive answers only). A GGUF file starts a
    llama.cpp server on a free loopback port for the life of the process."""
    if settings.llm_gguf:
        from rag.generate.local import LocalServer

        server = LocalServer.start(settings.llm_gguf, context=settings.llm_context, threads=settings.llm_threads)
        return ChatLLM(server.url, model=server.model, timeout=settings.llm_timeout,
                       context_window=settings.llm_context, max_tokens=settings.llm_max_tokens,
                       temperature=settings.llm_temperature, label=f"{server.model} (local GGUF, llama.cpp)",
                       server=server)
    if settings.llm_url:
        if not re.match(r"^https?://", settings.llm_url):
            raise LLMSetupError(f"--llm-url must start with http:// or https:// (got {settings.llm_url!r}), "
                                "e.g. http://127.0.0.1:11434/v1")
        return ChatLLM(settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key,
                       timeout=settings.llm_timeout, context_window=settings.llm_context,
                       max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature,
                       label=f"{settings.llm_model or 'default model'} at {settings.llm_url.rstrip('/')}")
    return None


__all__ = ["ChatLLM", "make_llm"]
