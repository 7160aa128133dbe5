"""A generative answer with verified citations, or the extractive answer with a warning.

    for item in generate(llm, question, q.lang, hits, extractive, vectors, settings):
        Draft     -> the model's text so far (not verified: show it as a draft, if at all)
        Generated -> the final answer: verified sentences of the model, or the extractive answer

Only sentences that pass rag.generate.verify reach the final answer; their markers are renumbered in
order of first use, so the citation list holds exactly the passages they cite. When no sentence
passes, when the model says the passages do not answer, or when the model fails (unreachable,
timeout, garbage), the extractive answer is returned, with a warning saying why.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from rag.answer.citations import CitationList, check
from rag.generate import prompt as prompting
from rag.generate.errors import LLMError
from rag.generate.text import strip_thinking
from rag.generate.verify import Check, Vectors, is_abstention, split_claims, verify
from rag.types import Answer, Draft, Hit

log = logging.getLogger(__name__)


@dataclass
class Generated:
    answer: Answer
    mode: str  # "llm" when the answer is the model's verified sentences, else "extractive"
    verified: list[dict[str, Any]] = field(default_factory=list)
    warning: str | None = None
    draft: str = ""  # the model's raw reply
    timings_ms: dict[str, float] = field(default_factory=dict)


QUOTED = {"en": "showing sentences quoted from the articles instead",
          "zh": "以下为文章原句"}


def _fallback(extractive: Answer, why: str | None, lang: str, checks: list[Check] | None = None,
              draft: str = "", timings: dict[str, float] | None = None) -> Generated:
    warning = None
    if why:
        warning = f"{why}; {QUOTED['en']}." if lang != "zh" else f"{why}；{QUOTED['zh']}。"
    return Generated(extractive, "extractive", _report(checks or [], {}), warning, draft, timings or {})


def _report(checks: list[Check], renumbered: dict[int, int]) -> list[dict[str, Any]]:
    return [{"text": c.text, "citations": [renumbered[n] for n in c.valid if n in renumbered] if c.supported else [],
             "cited": c.cited, "supported": c.supported, "why": c.why, "score": c.score} for c in checks]


def compose(checks: list[Check], passages: dict[int, Hit], lang: str) -> tuple[Answer, dict[int, int]]:
    """The answer from the supported sentences, each followed by its renumbered markers."""
    cites = CitationList()
    mapping: dict[int, int] = {}
    parts, sentences = [], []
    for c in checks:
        if not c.supported:
            continue
        ns = []
        # A cited passage with no statement in it (only instructions) is not a source.
        for n in [n for n in c.valid if n in c.evidence] or c.valid:
            new = cites.cite(passages[n], c.evidence.get(n))
            mapping[n] = new
            if new not in ns:
                ns.append(new)
        parts.append(c.text + " " + "".join(f"[{n}]" for n in ns))
        sentences.append({"text": c.text, "citation": ns[0], "passage_id": cites.items()[ns[0] - 1].passage_id})
    text = ("" if lang == "zh" else " ").join(parts)
    answer = Answer(text=text, answered=True, citations=cites.items(), reason="generated", sentences=sentences)
    problems = check(answer.text, answer.citations)
    if problems:  # cannot happen by construction; say so loudly if it does
        log.error("composed answer has marker problems: %s", problems)
    return answer, mapping


_LOOP = re.compile(r"(.{8,200}?)(?:\s*\1){2,}\s*$", re.S)


def looping(text: str) -> str | None:
    """When the end of `text` is one phrase said three times or more (small models loop until the
    token limit), the text up to the first time it was said; else None."""
    tail_start = max(0, len(text) - 1200)
    m = _LOOP.search(text, tail_start)
    if not m:
        return None
    return text[: m.start() + len(m.group(1))]


def generate(llm, question: str, lang: str, hits: list[Hit], extractive: Answer, vectors: Vectors,
             thresholds: tuple[float, float], context_tokens: int = 4096, max_tokens: int = 400,
             history: list[str] | None = None, timeout: float | None = None) -> Iterator[Draft | Generated]:
    timings: dict[str, float] = {}
    if not hits:
        yield _fallback(extractive, None, lang)
        return
    try:
        prompt = prompting.build(question, hits, lang, context_tokens, max_tokens, history)
    except ValueError as exc:
        yield _fallback(extractive, f"the language model was not asked ({exc})", lang)
        return
    t0 = time.perf_counter()
    text = ""
    stream = llm.stream(prompt.messages, timeout)
    try:
        for i, piece in enumerate(stream):
            if not text:
                timings["llm_first_token"] = (time.perf_counter() - t0) * 1000
            text += piece
            yield Draft(text)
            if i % 8 == 7 and looping(text):
                log.info("the model repeats itself; generation stopped after %d characters", len(text))
                text = looping(text) or text
                break
    except LLMError as exc:
        timings["llm"] = (time.perf_counter() - t0) * 1000
        log.warning("LLM failed for %r: %s", question, exc)
        yield _fallback(extractive, f"The language model gave no usable answer ({exc})", lang, draft=text,
                        timings=timings)
        return
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    timings["llm"] = (time.perf_counter() - t0) * 1000
    t1 = time.perf_counter()
    reply = strip_thinking(text)
    claims = split_claims(reply)
    checks = verify(claims, prompt.passages, vectors, thresholds) if claims else []
    for c in checks:
        if c.supported and is_abstention(c.text):
            c.supported, c.why = False, "says the passages do not answer"
    timings["verify"] = (time.perf_counter() - t1) * 1000
    if not any(c.supported for c in checks):
        if not claims:
            why = "The language model's reply had no sentences"
        elif any(is_abstention(c.text) for c in claims):
            why = None if not extractive.answered else "The language model found no answer in the passages"
        else:
            why = "None of the language model's sentences could be verified against the passages it cites"
        yield _fallback(extractive, why, lang, checks, reply, timings)
        return
    answer, mapping = compose(checks, prompt.passages, lang)
    dropped = sum(1 for c in checks if not c.supported)
    warning = None
    if dropped:
        warning = (f"{dropped} of {len(checks)} sentences of the model's answer were left out: "
                   "their citations do not support them")
    yield Generated(answer, "llm", _report(checks, mapping), warning, reply, timings)


__all__ = ["Generated", "generate", "compose"]
