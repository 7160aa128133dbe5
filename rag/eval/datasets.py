"""Question sets in the formats people already have: ours, SQuAD, CMRC 2018, plain CSV/JSONL.

Why: the shipped articles and our 100 questions are not the world. Public reading-comprehension
sets, written by other people over other texts, show whether answering and abstaining carry
over. `load_dataset` turns any of them into the same `EvalQuestion` list, plus, for sets that
carry their own texts (SQuAD, CMRC), the articles to index: one article per title, its
paragraphs joined with blank lines, as a user would paste them.

Formats (detected from the content, not the file name):
- ours: JSONL with id, question, language, category, answerable, gold_facts, ... (eval/questions.jsonl)
- SQuAD v1.1 / v2.0 JSON: {"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}
- CMRC 2018 JSON: [{"context_id", "context_text", "title", "qas": [{"query_id", "query_text", "answers"}]}]
  (also the {"data": [...]} SQuAD-style layout that CMRC's dev/test files use)
- plain CSV or JSONL with `question` and `answer` or `answers`; `answerable`, `id`, `category`,
  `language` optional (the language is detected when missing)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import rag.lang as language
from rag.errors import RagError

MAX_SET_BYTES = 50_000_000


class EvalError(RagError):
    """A question set or thresholds file that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    language: str
    category: str
    answerable: bool
    # Each fact is a tuple of acceptable strings; the answer must hold one of each.
    gold_facts: tuple[tuple[str, ...], ...]
    gold_articles: tuple[str, ...] = ()
    gold_passages: tuple[str, ...] = ()
    # Short gold answers (SQuAD "answers", our `gold_short`): for exact match and F1.
    gold_short: tuple[str, ...] = ()


@dataclass
class Dataset:
    name: str
    format: str  # ours | squad | cmrc | qa
    questions: list[EvalQuestion]
    # (article id, title, text) for sets that carry their own texts; None: the index's articles.
    articles: list[tuple[str, str, str]] | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def corpus_key(self) -> str:
        """A short hash of the articles' texts: one index per distinct corpus."""
        h = hashlib.sha256()
        for aid, title, text in self.articles or []:
            h.update(f"{aid}\0{title}\0{text}\0".encode())
        return h.hexdigest()[:12]


def slug(title: str) -> str:
    """A file-name-safe article id for a title (CJK kept, other punctuation to '-')."""
    s = re.sub(r"[^\w\u4e00-\u9fff]+", "-", title.strip(), flags=re.UNICODE).strip("-_").lower()
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

def _squad(data: dict[str, Any], path: Path) -> Dataset:
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


def _cmrc(entries: list[Any], path: Path) -> Dataset:
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


def _jsonl(text: str, path: Path) -> Dataset:
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


def _csv(text: str, path: Path) -> Dataset:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "question" not in [f.strip().lower() for f in reader.fieldnames]:
        raise EvalError(f"{path}:1: a CSV question set needs a header with a 'question' column "
                        "and 'answer' or 'answers'")
    questions = []
    for no, row in enumerate(reader, 2):
        d = {(k or "").strip().lower(): v for k, v in row.items()}
        questions.append(_plain_row(d, f"{path}:{no}", len(questions) + 1))
    return Dataset(path.stem, "qa", questions, None, str(path))


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
        return _check(_csv(text, path), path)
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
            return _check(_cmrc(data, path), path)
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            first = data["data"][0] if data["data"] else {}
            if isinstance(first, dict) and "context_text" in first:
                return _check(_cmrc(data["data"], path), path)
            return _check(_squad(data, path), path)
        raise EvalError(f"{path}: a JSON question set must be SQuAD ({{'data': [...]}}) or CMRC ([...])")
    return _check(_jsonl(text, path), path)


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


def write_articles(ds: Dataset, folder: Path) -> Path:
    """The set's articles as Markdown files (a `# title` line, then the text) in `folder`,
    rewritten only when different, so that ingest's content hashes skip unchanged ones."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for aid, title, text in ds.articles or []:
        f = folder / f"{aid}.md"
        wanted.add(f.name)
        body = f"# {title}\n\n{text}\n"
        if not f.is_file() or f.read_text("utf-8") != body:
            f.write_text(body, "utf-8")
    for f in folder.glob("*.md"):
        if f.name not in wanted:
            f.unlink()
    return folder
