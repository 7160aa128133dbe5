"""From thumbs-down votes to a draft question set.

The feedback log (<index-dir>/feedback.jsonl and its rotated files, rag.app.feedback) holds
{time, vote, question, answer, answered, citations, top_k} per vote. Each thumbs-down becomes
one question in our JSONL format (docs/EVALUATION.md), with the answer that was marked wrong
kept beside it (`marked_wrong_answer`, `marked_wrong_citations`) and the expected answer left
empty for a person to fill in. Saving checks the set with rag.eval.datasets.load_dataset, so a
saved draft can be run as it is; an error names the line (= the row) to fix.

In the table, an expected answer is written as facts separated by `;`, each with its
acceptable forms separated by `|` ("Yuan Jiajun; Wang Xiaohui|王晓晖" = both facts, the
second in either form). A row whose question is emptied is left out.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from pathlib import Path
from typing import Any, Sequence

import rag.lang as language
from rag.eval.datasets import EvalError, load_dataset
from rag.store.manifest import FEEDBACK

log = logging.getLogger(__name__)

SETS_DIR = "eval-questions"  # saved sets under the index folder, offered by the app
COLUMNS = ["id", "question", "language", "category", "answerable", "expected answer", "marked wrong answer"]
MAX_DRAFTS = 1000


def read_votes(index_dir: Path | str, keep: int = 3) -> list[dict[str, Any]]:
    """Every readable vote, oldest first (rotated files first); bad lines are skipped and logged."""
    base = Path(index_dir) / FEEDBACK
    files = [base.with_name(f"{base.name}.{i}") for i in range(keep, 0, -1)] + [base]
    votes = []
    for f in files:
        try:
            text = f.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot read %s: %s", f, exc)
            continue
        for no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                log.warning("%s:%d: not a JSON vote; skipped", f, no)
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("question"), str):
                log.warning("%s:%d: not a vote record; skipped", f, no)
                continue
            votes.append(entry)
    return votes


def drafts(index_dir: Path | str, limit: int = MAX_DRAFTS) -> list[dict[str, Any]]:
    """The thumbs-down answers as draft questions in our JSONL format, newest vote of each
    question only, oldest first; the expected answer (`gold_facts`) is empty to fill in."""
    latest: dict[str, dict[str, Any]] = {}
    for v in read_votes(index_dir):
        q = " ".join(v["question"].split())
        if not q:
            continue
        latest.pop(q, None)  # re-inserted: ordered by its newest vote
        if v.get("vote") == "down":
            latest[q] = v
    out = []
    for n, (q, v) in enumerate(list(latest.items())[-limit:], 1):
        cites = [c.get("article_id") for c in v.get("citations") or [] if isinstance(c, dict)]
        out.append({
            "id": f"fb{n:03d}", "question": q, "language": language.detect(q), "category": "feedback",
            "answerable": True, "gold_facts": [], "gold_articles": [],
            "marked_wrong_answer": str(v.get("answer") or ""), "marked_wrong_answered": bool(v.get("answered")),
            "marked_wrong_citations": [c for c in dict.fromkeys(cites) if c],
            "feedback_time": v.get("time"),
        })
    return out


def facts_text(gold_facts: Sequence[Sequence[str]]) -> str:
    return "; ".join(" | ".join(f) for f in gold_facts)


def parse_facts(text: str) -> list[list[str]]:
    facts = []
    for fact in re.split(r"[;；]", text or ""):
        alts = [a.strip() for a in fact.split("|") if a.strip()]
        if alts:
            facts.append(alts)
    return facts


def table(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Rows for the editable table (COLUMNS)."""
    return [[r["id"], r["question"], r["language"], r["category"], "true" if r.get("answerable", True) else "false",
             facts_text(r.get("gold_facts") or []), r.get("marked_wrong_answer", "")] for r in rows]


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("true", "yes", "1", "y", "t", ""):
        return True
    if s in ("false", "no", "0", "n", "f"):
        return False
    raise EvalError(f"answerable must be true or false, not {str(value)[:30]!r}")


def from_table(cells: Sequence[Sequence[Any]], originals: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Question rows (our JSONL) from the edited table; a row with an empty question is left
    out. What the table does not show (citations, time) is taken from `originals` by id."""
    by_id = {o["id"]: o for o in originals}
    out = []
    for no, row in enumerate(cells, 1):
        row = list(row) + [""] * (len(COLUMNS) - len(row))
        qid, question, lang, category, answerable, expected, wrong = [("" if c is None else str(c)) for c in row[:7]]
        question = question.strip()
        if not question:
            continue
        try:
            ok = _truth(answerable)
        except EvalError as exc:
            raise EvalError(f"row {no}: {exc}") from None
        base = by_id.get(qid.strip(), {})
        out.append({
            "id": qid.strip() or f"fb{no:03d}", "question": question,
            "language": lang.strip() or language.detect(question), "category": category.strip() or "feedback",
            "answerable": ok, "gold_facts": parse_facts(expected) if ok else [],
            "gold_articles": base.get("gold_articles", []),
            "marked_wrong_answer": wrong,
            **{k: base[k] for k in ("marked_wrong_answered", "marked_wrong_citations", "feedback_time") if k in base},
        })
    if not out:
        raise EvalError("the draft has no questions (every row's question is empty)")
    return out


def to_jsonl(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def safe_name(name: str) -> str:
    s = re.sub(r"[^\w-]+", "-", (name or "").strip()).strip("-_.")[:60]
    return s or "feedback-draft"


def save(rows: Sequence[dict[str, Any]], folder: Path | str, name: str) -> Path:
    """Write `rows` as <folder>/<name>.jsonl once rag.eval.datasets.load_dataset accepts them (its
    error, with the line = the row, otherwise). Atomic: a temporary file renamed into place."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{safe_name(name)}.jsonl"
    tmp = folder / f".tmp-{uuid.uuid4().hex}.jsonl"
    try:
        tmp.write_text(to_jsonl(rows), "utf-8")
        try:
            load_dataset(tmp)
        except EvalError as exc:
            raise EvalError(str(exc).replace(str(tmp), final.name)) from None
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def saved_sets(index_dir: Path | str) -> list[Path]:
    folder = Path(index_dir) / SETS_DIR
    return sorted(p for p in folder.glob("*.jsonl") if not p.name.startswith(".")) if folder.is_dir() else []
