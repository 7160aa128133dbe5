"""Question sets in the formats people already have: ours, SQuAD, CMRC 2018, plain CSV/JSONL.

Why: the shipped articles and our 100 questions are not the world. Public reading-comprehension
sets, written by other people over other texts, show whether answering and abstaining carry
over. `load_dataset` turns any of them into the same `EvalQuestion` list, plus, for sets that
carry their own texts (SQuAD, CMRC), the articles to index (rag.eval.corpus writes them).
The readers, one per format, are in rag.eval.formats.

Formats (detected from the content, not the file name):
- ours: JSONL with id, question, language, category, answerable, gold_facts, ... (eval/questions.jsonl)
- SQuAD v1.1 / v2.0 JSON: {"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}
- CMRC 2018 JSON: [{"context_id", "context_text", "title", "qas": [{"query_id", "query_text", "answers"}]}]
  (also the {"data": [...]} SQuAD-style layout that CMRC's dev/test files use)
- plain CSV or JSONL with `question` and `answer` or `answers`; `answerable`, `id`, `category`,
  `language` optional (the language is detected when missing)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from rag.eval.formats import read_cmrc, read_csv, read_jsonl, read_squad
from rag.eval.types import Dataset, EvalError, EvalQuestion

MAX_SET_BYTES = 50_000_000


def _check(ds: Dataset, path: Path) -> Dataset:
    seen: set[str] = set()
    for q in ds.questions:
        if q.id in seen:
            raise EvalError(f"{path}: duplicate question id {q.id!r}")
        seen.add(q.id)
    if not ds.questions:
        raise EvalError(f"{path} holds no questions")
    return ds


def load_dataset(path: Path) -> Dataset:
    """The question set in `path`, whatever its format; EvalError (with line numbers where the
    format has lines) when it cannot be used. Nothing is run on a bad file."""
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"question set {path} not found")
    if path.stat().st_size > MAX_SET_BYTES:
        raise EvalError(f"question set {path} is over {MAX_SET_BYTES // 1_000_000} MB")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvalError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    stripped = text.lstrip()
    if path.suffix.lower() == ".csv":
        return _check(read_csv(text, path), path)
    data = None
    if stripped.startswith("[") or stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if not _one_object_per_line(stripped):  # not JSONL either: report the JSON error
                raise EvalError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    if isinstance(data, dict) and "question" in data:
        data = None  # a JSONL file of one question
    if data is not None:
        if isinstance(data, list):
            return _check(read_cmrc(data, path), path)
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            first = data["data"][0] if data["data"] else {}
            if isinstance(first, dict) and "context_text" in first:
                return _check(read_cmrc(data["data"], path), path)
            return _check(read_squad(data, path), path)
        raise EvalError(f"{path}: a JSON question set must be SQuAD ({{'data': [...]}}) or CMRC ([...])")
    return _check(read_jsonl(text, path), path)


def _one_object_per_line(text: str) -> bool:
    """Is this JSONL? True when the first line is a whole JSON object that is not a SQuAD/CMRC
    document (those are often written on one single line, which also parses)."""
    first = text.split("\n", 1)[0].strip()
    try:
        obj = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(obj, dict) and not isinstance(obj.get("data"), list)


def sample(questions: list[EvalQuestion], limit: int | None, seed: int | None) -> list[EvalQuestion]:
    """`limit` questions: the first ones, or a seeded random draw (same seed, same draw)."""
    if not limit or limit >= len(questions):
        return list(questions)
    if seed is None:
        return list(questions[:limit])
    picked = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in picked]


def load_questions(path: Path, limit: int | None = None, seed: int | None = None) -> list[EvalQuestion]:
    """The questions of a question set in any format rag.eval.datasets reads (line numbers in
    errors); `limit` of them, the first ones or a seeded random draw."""
    return sample(load_dataset(path).questions, limit, seed)
