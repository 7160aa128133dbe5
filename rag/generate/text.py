"""Text a model wrote, before it is checked or shown."""

from __future__ import annotations

import re

_THINK = re.compile(r"<think>.*?(</think>|$)", re.S)


def strip_thinking(text: str) -> str:
    """Reasoning models served raw write <think>...</think> before the answer: drop it."""
    return _THINK.sub("", text).strip()
