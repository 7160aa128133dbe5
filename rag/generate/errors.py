"""Why a language model gave no answer: below both the client (rag.generate.client) and the
local llama.cpp server (rag.generate.local), which raise them."""

from __future__ import annotations

from rag.errors import RagError


class LLMError(RagError):
    """The model could not give an answer (unreachable, timed out, malformed reply)."""


class LLMSetupError(RagError):
    """The configured model cannot be used at all (missing runtime, missing file): fail at start."""
