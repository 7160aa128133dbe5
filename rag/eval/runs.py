"""Saved evaluation runs: write, list, load and compare them.

Every run of `rag eval` and of the app's Evaluation tab is kept under
`<index-dir>/eval-runs/<UTC time>/`:
- report.md, results.json, scores_by_category.png: what rag.eval.runner.write_report writes;
- run.json: when, with which settings, the git commit of the code (when it is a checkout), the
  headline numbers, and how many questions failed. Listing reads only these small files.

A run is written into a hidden temporary folder next to the others and renamed into place
once complete, so a reader (the app's list, `rag eval --compare`) never sees half a run.
A cancelled evaluation is not saved.

Comparing two runs: per question (by id), `fixed` (failed in A, passes in B), `broke` (passed
in A, fails in B) or `same`; per metric, the change. A question fails when
rag.eval.runner.failure_reasons gives it any reason.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from rag.config import PROJECT_ROOT
from rag.eval.datasets import EvalError

log = logging.getLogger(__name__)

RUNS_DIR = "eval-runs"
RUN_FILE = "run.json"
RESULTS_FILE = "results.json"
REPORT_FILE = "report.md"
NAME_RE = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
# Shown in the list of runs and as the comparison's headline, when the run has them.
HEADLINE = ("answer_recall", "fact_recall", "exact_match", "f1", "abstention_accuracy", "citation_precision",
            "hit@5", "false_abstention", "unanswerable_abstention")
# Lower is better for these; a change in the others of rag.eval.runner.NOT_GATED is neither.
LOWER_IS_BETTER = ("false_abstention",)
NEUTRAL = ("median_answer_chars", "mean_confidence_answerable", "mean_confidence_unanswerable")


def runs_dir(index_dir: Path | str) -> Path:
    return Path(index_dir) / RUNS_DIR


def git_commit(root: Path = PROJECT_ROOT) -> str | None:
    """The commit of the code that ran, when it is a git checkout with git installed; never fails."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def run_settings(result: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What decided the run's numbers, from the result's `set` block plus what the caller adds
    (limit, seed, baseline, where it was started)."""
    s = result.get("set", {})
    keep = ("file", "name", "format", "questions", "answerable", "unanswerable", "retrieval", "top_k",
            "min_confidence", "answers", "chunk_tokens", "index_dir")
    out = {k: s.get(k) for k in keep}
    out["baseline"] = result.get("baseline") is not None
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {m: metrics[m] for m in HEADLINE if m in metrics}


def _new_name(root: Path, now: float) -> str:
    base = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    name, n = base, 2
    while (root / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def save_run(result: dict[str, Any], index_dir: Path | str, settings: dict[str, Any] | None = None,
             gate: dict[str, Any] | None = None, now: float | None = None) -> Path:
    """Write `result` (rag.eval.runner.evaluate's) as a new run under <index_dir>/eval-runs/;
    returns its folder. Atomic: a temporary folder renamed into place."""
    from rag.eval import runner as ev

    root = runs_dir(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    now = time.time() if now is None else now
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    try:
        paths = ev.write_report(result, tmp, gate)
        meta = {
            "id": None, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "status": "complete",
            "settings": settings if settings is not None else run_settings(result),
            "git_commit": git_commit(),
            "headline": headline(result.get("metrics", {})),
            "questions": len(result.get("questions", [])),
            "failed": len(result.get("failures", [])),
            "seconds": result.get("set", {}).get("seconds"),
            "chart": paths["chart"].name if paths.get("chart") else None,
        }
        for attempt in range(20):
            name = _new_name(root, now)
            meta["id"] = name
            (tmp / RUN_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
            try:
                os.rename(tmp, root / name)  # fails when another writer took the name meanwhile
                return root / name
            except OSError:
                if not (root / name).exists() or attempt == 19:
                    raise
        raise OSError(f"cannot name a new run in {root}")  # pragma: no cover
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / RUN_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not (folder / RESULTS_FILE).is_file():
        return None
    meta["id"] = folder.name
    meta["dir"] = str(folder)
    return meta


def list_runs(index_dir: Path | str) -> list[dict[str, Any]]:
    """Every complete run, newest first: the run.json of each (id, time, settings, git_commit,
    headline, questions, failed), plus its folder as `dir`. Unreadable folders are skipped."""
    root = runs_dir(index_dir)
    if not root.is_dir():
        return []
    runs = []
    for d in root.iterdir():
        if d.name.startswith(".") or not d.is_dir():
            continue
        meta = _read_meta(d)
        if meta is None:
            log.info("skipping %s: not a complete run", d)
            continue
        runs.append(meta)
    return sorted(runs, key=lambda m: (m.get("time") or "", m["id"]), reverse=True)


def resolve_run(index_dir: Path | str | None, name: str) -> Path:
    """A run's folder from its name (in <index_dir>/eval-runs/), `latest`, `previous`, or a path
    to a run folder or its results.json. EvalError naming the known runs when there is none."""
    p = Path(name)
    if p.is_file() and p.name == RESULTS_FILE:
        p = p.parent
    if p.is_dir() and (p / RESULTS_FILE).is_file():
        return p
    runs = list_runs(index_dir) if index_dir is not None else []
    if name in ("latest", "previous") and len(runs) > (name == "previous"):
        return Path(runs[name == "previous"]["dir"])
    matches = [r for r in runs if r["id"] == name] or [r for r in runs if r["id"].startswith(name)]
    if len(matches) == 1:
        return Path(matches[0]["dir"])
    where = runs_dir(index_dir) if index_dir is not None else "the index folder"
    known = ", ".join(r["id"] for r in runs[:5]) or "none yet"
    what = "matches several runs" if matches else "is not a saved run"
    raise EvalError(f"{name!r} {what} (in {where}; newest: {known})")


def load_run(folder: Path | str) -> dict[str, Any]:
    """{"id", "dir", "meta", "results"} of one run folder (results.json as written)."""
    folder = Path(folder)
    try:
        results = json.loads((folder / RESULTS_FILE).read_text("utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"{folder} is not a saved run (no {RESULTS_FILE})") from exc
    except ValueError as exc:
        raise EvalError(f"{folder / RESULTS_FILE} is not valid JSON ({exc})") from exc
    meta = _read_meta(folder) or {"id": folder.name, "dir": str(folder), "settings": run_settings(results),
                                  "headline": headline(results.get("metrics", {}))}
    return {"id": meta["id"], "dir": str(folder), "meta": meta, "results": results}


def previous_run(index_dir: Path | str, run_id: str) -> dict[str, Any] | None:
    """The newest run before `run_id` on the same question set (by name and size), if any."""
    runs = list_runs(index_dir)
    ids = [r["id"] for r in runs]
    if run_id not in ids:
        return None
    me = runs[ids.index(run_id)]
    key = lambda r: (r.get("settings", {}).get("name"), r.get("settings", {}).get("questions"))  # noqa: E731
    for r in runs[ids.index(run_id) + 1:]:
        if key(r) == key(me):
            return r
    return None


# -- comparison (pure) ----------------------------------------------------------------------------

def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither."""
    if metric in NEUTRAL:
        return 0
    return -1 if metric in LOWER_IS_BETTER else 1


def delta(metric: str, a: Any, b: Any) -> dict[str, Any]:
    """The change from a to b: value, and whether it is better, worse or equal (None when either
    is undefined or the metric has no better direction)."""
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return {"change": None, "verdict": None}
    change = b - a
    d = direction(metric)
    if abs(change) < 1e-9:
        verdict = "same"
    elif d == 0:
        verdict = None
    else:
        verdict = "better" if change * d > 0 else "worse"
    return {"change": change, "verdict": verdict}


def failed(row: dict[str, Any]) -> bool:
    return bool(row.get("failures"))


# Why a question failed, in the words the app's filter uses (a question may have several).
KINDS = {
    "abstained": "abstained on an answerable question",
    "wrong fact": "answered, but without every expected fact",
    "wrong source": "no gold passage retrieved, or cited passages from other articles",
    "should have abstained": "answered a question the articles do not answer",
}


def failure_kinds(row: dict[str, Any]) -> list[str]:
    """The kinds (KINDS) of a failed row of results.json; [] for a question that passed."""
    if not failed(row):
        return []
    answerable, answered = row.get("answerable"), row.get("answered")
    kinds = []
    if answerable and not answered:
        kinds.append("abstained")
    if not answerable and answered:
        kinds.append("should have abstained")
    if answerable and answered and row.get("fact_recall") is not None and row["fact_recall"] < 1:
        kinds.append("wrong fact")
    cite = row.get("citation_precision")
    if answerable and (row.get("hit@5") == 0.0 or (answered and cite is not None and cite < 1)):
        kinds.append("wrong source")
    return kinds or ["other"]


def compare_results(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Question by question (by id) and metric by metric, from results A to results B."""
    rows_a = {r["id"]: r for r in a.get("questions", [])}
    rows_b = {r["id"]: r for r in b.get("questions", [])}
    questions = []
    counts = {"fixed": 0, "broke": 0, "same": 0}
    for qid, rb in rows_b.items():
        ra = rows_a.get(qid)
        if ra is None:
            continue
        fa, fb = failed(ra), failed(rb)
        status = "fixed" if fa and not fb else "broke" if fb and not fa else "same"
        counts[status] += 1
        questions.append({"id": qid, "status": status, "failed_a": fa, "failed_b": fb,
                          "question": rb.get("question") or ra.get("question") or "",
                          "category": rb.get("category"), "language": rb.get("language"),
                          "answer_a": ra.get("answer"), "answer_b": rb.get("answer"),
                          "answered_a": ra.get("answered"), "answered_b": rb.get("answered"),
                          "failures_a": ra.get("failures") or [], "failures_b": rb.get("failures") or []})
    order = {"broke": 0, "fixed": 1, "same": 2}
    questions.sort(key=lambda q: (order[q["status"]], not q["failed_b"]))
    ma, mb = a.get("metrics", {}), b.get("metrics", {})
    names = list(dict.fromkeys([*ma, *mb]))
    metrics = [{"metric": m, "a": ma.get(m), "b": mb.get(m), **delta(m, ma.get(m), mb.get(m))} for m in names]
    return {"counts": counts, "still_failing": sum(q["failed_b"] for q in questions if q["status"] == "same"),
            "questions": questions, "metrics": metrics,
            "only_a": sorted(set(rows_a) - set(rows_b)), "only_b": sorted(set(rows_b) - set(rows_a)),
            "set_a": (a.get("set") or {}).get("name"), "set_b": (b.get("set") or {}).get("name")}


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """compare_results of two loaded runs (load_run), with their ids and settings."""
    out = compare_results(a["results"], b["results"])
    out["a"] = {"id": a["id"], "settings": a["meta"].get("settings"), "time": a["meta"].get("time")}
    out["b"] = {"id": b["id"], "settings": b["meta"].get("settings"), "time": b["meta"].get("time")}
    return out


def _fmt(v: Any, metric: str = "") -> str:
    if not isinstance(v, (int, float)):
        return "–"
    return f"{v:.0f}" if metric.endswith("_chars") else f"{v:.3f}"


def _fmt_change(d: dict[str, Any], metric: str = "") -> str:
    c = d["change"]
    if c is None:
        return "–"
    if abs(c) < 1e-9:
        return "="
    arrow = "▲" if c > 0 else "▼"
    num = f"{c:+.0f}" if metric.endswith("_chars") else f"{c:+.3f}"
    mark = {"better": " better", "worse": " worse"}.get(d["verdict"] or "", "")
    return f"{arrow} {num}{mark}"


def describe_settings(s: dict[str, Any] | None) -> str:
    s = s or {}
    parts = [f"{s.get('name') or s.get('file') or '?'} ({s.get('questions', '?')} questions)",
             f"retrieval {s.get('retrieval', '?')}", f"top_k {s.get('top_k', '?')}"]
    if s.get("min_confidence") is not None:
        parts.append(f"min confidence {s['min_confidence']:g}")
    if s.get("answers") and s["answers"] != "extractive":
        parts.append(str(s["answers"]))
    return ", ".join(parts)


def render_comparison(cmp: dict[str, Any], markdown: bool = False, limit: int | None = None) -> str:
    """The comparison as terminal text (`rag eval --compare`) or Markdown. `limit`: at most that
    many questions per status (fixed and broke are listed first; `same` ones that pass are not)."""
    a, b = cmp.get("a", {}), cmp.get("b", {})
    c = cmp["counts"]
    lines = []
    if markdown:
        lines += [f"# Comparison: {a.get('id', 'A')} → {b.get('id', 'B')}", ""]
    lines.append(f"A: {a.get('id', '?')}  {describe_settings(a.get('settings'))}")
    lines.append(f"B: {b.get('id', '?')}  {describe_settings(b.get('settings'))}")
    lines.append(f"questions: {c['fixed']} fixed, {c['broke']} broke, {c['same']} same "
                 f"({cmp['still_failing']} of them failing in both)")
    if cmp["only_a"] or cmp["only_b"]:
        lines.append(f"not in both runs: {len(cmp['only_a'])} only in A, {len(cmp['only_b'])} only in B")
    if cmp.get("set_a") != cmp.get("set_b"):
        lines.append(f"note: different question sets ({cmp.get('set_a')} vs {cmp.get('set_b')}); "
                     "questions are matched by id")
    lines.append("")
    if markdown:
        lines += ["| metric | A | B | change |", "|---|---:|---:|---|"]
        for m in cmp["metrics"]:
            lines.append(f"| {m['metric']} | {_fmt(m['a'], m['metric'])} | {_fmt(m['b'], m['metric'])} | "
                         f"{_fmt_change(m, m['metric'])} |")
    else:
        lines.append(f"{'metric':<30}{'A':>9}{'B':>9}  change")
        for m in cmp["metrics"]:
            lines.append(f"{m['metric']:<30}{_fmt(m['a'], m['metric']):>9}{_fmt(m['b'], m['metric']):>9}  "
                         f"{_fmt_change(m, m['metric'])}")
    lines.append("")
    for status in ("broke", "fixed"):
        qs = [q for q in cmp["questions"] if q["status"] == status]
        if not qs:
            continue
        lines.append(("## " if markdown else "") + f"{status} ({len(qs)})")
        for q in qs[:limit]:
            why = q["failures_b"] if status == "broke" else q["failures_a"]
            text = " ".join(str(q["question"]).split())
            text = text if len(text) <= 100 else text[:99] + "…"
            lines.append(f"{'- ' if markdown else '  '}{q['id']}: {text}" + (f" ({'; '.join(why)})" if why else ""))
        if limit is not None and len(qs) > limit:
            lines.append(f"  … {len(qs) - limit} more")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["save_run", "list_runs", "load_run", "resolve_run", "previous_run", "compare_runs", "compare_results",
           "render_comparison", "run_settings", "git_commit", "delta", "direction", "describe_settings",
           "failure_kinds", "HEADLINE"]
