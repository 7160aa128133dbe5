"""Checks on what a user or a program sends (the CLI's arguments and stdin, the app's /ask):
anything malformed becomes a QuestionError with a usage message, never a crash deeper down.
"""

from __future__ import annotations

import re
from typing import Any

from rag.config import MAX_SHORT_WITHHOLD
from rag.errors import QuestionError

# Lone surrogates cannot be encoded (tokenizer, Chroma, the JSON reply all fail on them);
# they arrive from invalid UTF-8 read with surrogateescape, or from a client's JSON "\udcff".
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0/C1 control characters other than tab and newline: invisible, and they break a one-line log.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def question_text(value: Any) -> str:
    """The question as text fit for the engine (its own length and emptiness checks follow)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise QuestionError(f"the question must be text, not {type(value).__name__}")
    if _SURROGATE.search(value):
        raise QuestionError("the question is not valid Unicode text (it holds undecodable bytes); "
                            "send it as UTF-8")
    return _CONTROL.sub(" ", value)


def shown(value: Any, limit: int = 40) -> str:
    """A client's value as an error message quotes it: its repr, cut to `limit` characters."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**9:
        return "a number that large"  # repr of an int over 4300 digits raises
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def top_k(value: Any, maximum: int = 50) -> int | None:
    """A passage count from a client: None (or 0, or "") for the default, else 1..maximum."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool):
        raise QuestionError(f"top_k must be a whole number from 1 to {maximum}, not {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        # Python refuses to convert more than 4300 digits (and it would take long): a number
        # that long is out of range whatever it is.
        digits = value.strip().lstrip("+").lstrip("0") or "0"
        if len(digits) > 9:
            raise QuestionError(f"top_k must be a whole number from 1 to {maximum}, not a number that large")
        value = int(digits)
    if not isinstance(value, int):
        raise QuestionError(f"top_k must be a whole number from 1 to {maximum}, not {shown(value)}")
    if not 1 <= value <= maximum:
        raise QuestionError(f"top_k must be a whole number from 1 to {maximum}, not {shown(value)}")
    return value


def setting(value: Any, what: str, maximum: float) -> float | None:
    """A number setting from the UI or the API (a minimum confidence, a withhold factor): None
    (the server's own) for nothing or a negative number; a usage error for anything that is not
    a number from 0 to `maximum`."""
    if value is None or value == "":
        return None
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        v = float("nan")
    if v != v or v > maximum:
        raise QuestionError(f"{what} must be a number from 0 to {maximum:g}, not {shown(value)}")
    return None if v < 0 else v


def min_confidence(value: Any) -> float | None:
    return setting(value, "min_confidence", 1)


def short_withhold(value: Any) -> float | None:
    return setting(value, "the withhold factor", MAX_SHORT_WITHHOLD)


def decode_line(raw: bytes, number: int) -> str:
    """One line of `rag ask -`'s stdin as text; QuestionError naming the line when it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QuestionError(f"line {number} is not valid UTF-8 text (byte {exc.start + 1}); skipped") from None


def printable(text: str) -> str:
    """`text` safe to print or put in JSON: undecodable bytes shown as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text or "")
