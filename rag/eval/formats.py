"""Readers of the question-set formats people already have, one per format: SQuAD v1.1/v2.0,
CMRC 2018, plain CSV/JSONL, and ours. Each turns a file's content into a Dataset;
rag.eval.datasets.load_dataset detects the format and picks the reader.

Sets that carry their own texts (SQuAD, CMRC) also give the articles to index: one article
per title, its paragraphs joined with blank lines, as a user would paste them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any, Iterable

import rag.lang as language
from rag.eval.types import Dataset, EvalError, EvalQuestion


def slug(title: str) -> str:
    """A file-name-safe article id for a title (CJK kept, other punctuation to '-')."""
    s = re.sub(r"[^\w]+", "-", title.strip(), flags=re.UNICODE).strip("-_").lower()
    return (s or "article")[:80]


def _unique_ids(titles: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for t in titles:
        if t in out:
            continue
        base = slug(t)
        sid, n = base, 2
        while sid in used:
            sid, n = f"{base}-{n}", n + 1
        used.add(sid)
        out[t] = sid
    return out


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


# -- readers, one per format ----------------------------------------------------------------------

def read_squad(data: dict[str, Any], path: Path) -> Dataset:
    articles: list[tuple[str, str, str]] = []
    questions: list[EvalQuestion] = []
    entries = data.get("data")
    if not isinstance(entries, list):
        raise EvalError(f"{path}: a SQuAD file needs a list under 'data'")
    ids = _unique_ids(str(a.get("title") or f"article {i + 1}") for i, a in enumerate(entries))
    texts: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for i, art in enumerate(entries):
        title = str(art.get("title") or f"article {i + 1}")
        aid = ids[title]
        titles[aid] = title.replace("_", " ")
        for p_no, para in enumerate(art.get("paragraphs") or []):
            context = str(para.get("context") or "").strip()
            if context:
                texts.setdefault(aid, []).append(context)
            for qa in para.get("qas") or []:
                try:
                    qtext = str(qa["question"]).strip()
                    impossible = bool(qa.get("is_impossible", False))
                    answers = _dedupe(a["text"] for a in qa.get("answers") or [])
                except (KeyError, TypeError) as exc:
                    raise EvalError(f"{path}: article {title!r} paragraph {p_no + 1}: a question is "
                                    f"malformed ({exc.__class__.__name__}: {exc})") from exc
                if not qtext:
                    continue
                answerable = not impossible and bool(answers)
                questions.append(EvalQuestion(
                    id=str(qa.get("id") or f"{aid}-{len(questions)}"), question=qtext,
                    language=language.detect(qtext), category="answerable" if answerable else "unanswerable",
                    answerable=answerable, gold_facts=(answers,) if answerable else (),
                    gold_articles=(aid,), gold_short=answers if answerable else ()))
    articles = [(aid, titles[aid], "\n\n".join(paras)) for aid, paras in texts.items()]
    return Dataset(path.stem, "squad", questions, articles, str(path))


def read_cmrc(entries: list[Any], path: Path) -> Dataset:
    ids = _unique_ids(str(e.get("title") or e.get("context_id") or i) for i, e in enumerate(entries)
                      if isinstance(e, dict))
    texts: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    questions: list[EvalQuestion] = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "context_text" not in e:
            raise EvalError(f"{path}: entry {i + 1} is not a CMRC paragraph (needs context_text and qas)")
        title = str(e.get("title") or e.get("context_id") or i)
        aid = ids[title]
        titles[aid] = title
        ctx = str(e["context_text"]).strip()
        if ctx and ctx not in texts.get(aid, []):
            texts.setdefault(aid, []).append(ctx)
        for qa in e.get("qas") or []:
            qtext = str(qa.get("query_text") or qa.get("question") or "").strip()
            raw = qa.get("answers") or []
            answers = _dedupe(a if isinstance(a, str) else (a or {}).get("text", "") for a in raw)
            if not qtext:
                continue
            questions.append(EvalQuestion(
                id=str(qa.get("query_id") or qa.get("id") or f"{aid}-{len(questions)}"), question=qtext,
                language=language.detect(qtext), category="answerable" if answers else "unanswerable",
                answerable=bool(answers), gold_facts=(answers,) if answers else (), gold_articles=(aid,),
                gold_short=answers))
    articles = [(aid, titles[aid], "\n\n".join(paras)) for aid, paras in texts.items()]
    return Dataset(path.stem, "cmrc", questions, articles, str(path))


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in {"1", "true", "yes", "y", "t"}:
        return True
    if s in {"0", "false", "no", "n", "f"}:
        return False
    raise EvalError(f"{where}: answerable must be true or false, not {value!r}")


def _answers(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return _dedupe(str(v) for v in value)
    s = str(value)
    if s.strip().startswith("["):
        try:
            return _dedupe(str(v) for v in json.loads(s))
        except (json.JSONDecodeError, TypeError):
            pass
    # A plain CSV cell: several acceptable answers separated by '|'.
    return _dedupe(s.split("|"))


def _plain_row(d: dict[str, Any], where: str, n: int) -> EvalQuestion:
    question = str(d.get("question") or "").strip()
    if not question:
        raise EvalError(f"{where}: no question")
    answers = _answers(d.get("answers", d.get("answer")))
    if "answerable" in d and d["answerable"] not in (None, ""):
        answerable = _bool(d["answerable"], where)
    else:
        answerable = bool(answers)
    if answerable and not answers:
        raise EvalError(f"{where}: answerable but no answer")
    lang = str(d.get("language") or "").strip() or language.detect(question)
    return EvalQuestion(
        id=str(d.get("id") or f"q{n:04d}"), question=question, language=lang,
        category=str(d.get("category") or ("answerable" if answerable else "unanswerable")),
        answerable=answerable, gold_facts=(answers,) if answerable else (),
        gold_articles=tuple(_answers(d.get("gold_articles"))), gold_short=answers if answerable else ())


def _ours_row(d: dict[str, Any]) -> EvalQuestion:
    return EvalQuestion(
        id=str(d["id"]), question=str(d["question"]), language=str(d["language"]),
        category=str(d["category"]), answerable=bool(d["answerable"]),
        gold_facts=tuple(tuple(str(a) for a in f) for f in d.get("gold_facts", [])),
        gold_articles=tuple(str(a) for a in d.get("gold_articles", [])),
        gold_passages=tuple(str(s) for s in d.get("gold_passages", [])),
        gold_short=_answers(d.get("gold_short")))


def read_jsonl(text: str, path: Path) -> Dataset:
    questions: list[EvalQuestion] = []
    ours = None
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{no}"
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(d, dict):
            raise EvalError(f"{where}: each line must be one JSON object")
        if ours is None:
            ours = "gold_facts" in d
        try:
            q = _ours_row(d) if ours else _plain_row(d, where, len(questions) + 1)
        except (KeyError, TypeError, ValueError) as exc:
            raise EvalError(f"{where}: not a valid question ({exc.__class__.__name__}: {exc})") from exc
        if any(not f for f in q.gold_facts):
            raise EvalError(f"{where}: {q.id} has a gold fact with no acceptable string")
        if q.answerable and not q.gold_facts:
            raise EvalError(f"{where}: {q.id} is answerable but has no gold_facts")
        questions.append(q)
    return Dataset(path.stem, "ours" if ours else "qa", questions, None, str(path))


def read_csv(text: str, path: Path) -> Dataset:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "question" not in [f.strip().lower() for f in reader.fieldnames]:
        raise EvalError(f"{path}:1: a CSV question set needs a header with a 'question' column "
                        "and 'answer' or 'answers'")
    questions = []
    for no, row in enumerate(reader, 2):
        d = {(k or "").strip().lower(): v for k, v in row.items()}
        questions.append(_plain_row(d, f"{path}:{no}", len(questions) + 1))
    return Dataset(path.stem, "qa", questions, None, str(path))
