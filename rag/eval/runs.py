"""Saved evaluation runs: write, list, load and compare them.

Every run of `rag eval` and of the app's Evaluation tab is kept under
`<index-dir>/eval-runs/<UTC time>/`:
- report.md, results.json, scores_by_category.png: what rag.eval.report.write_report writes;
- run.json: when, with which settings, the git commit of the code (when it is a checkout), the
  headline numbers, and how many questions failed. Listing reads only these small files.

A run is written into a hidden temporary folder next to the others and renamed into place
once complete, so a reader (the app's list, `rag eval --compare`) never sees half a run.
A cancelled evaluation is not saved.

Comparing two runs is rag.eval.comparison's.
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
from rag.eval.report import write_report
from rag.eval.types import EvalError

log = logging.getLogger(__name__)

RUNS_DIR = "eval-runs"
RUN_FILE = "run.json"
RESULTS_FILE = "results.json"
# Shown in the list of runs and as the comparison's headline, when the run has them.
HEADLINE = ("answer_recall", "fact_recall", "exact_match", "f1", "abstention_accuracy", "citation_precision",
            "hit@5", "false_abstention", "unanswerable_abstention")


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
    if "short_withhold" in s:  # None there means never withheld; runs before session 18 lack it
        out["short_withhold"] = s["short_withhold"]
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
    root = runs_dir(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    now = time.time() if now is None else now
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    try:
        paths = write_report(result, tmp, gate)
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


__all__ = ["save_run", "list_runs", "load_run", "resolve_run", "previous_run", "run_settings", "git_commit",
           "HEADLINE"]
