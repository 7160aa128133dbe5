"""The app's Evaluation tab: run a question set, see what broke, compare runs.

The work is done elsewhere: rag.eval.jobs runs a set (one at a time, in a low-priority
background thread, cancellable between questions), rag.eval.runner scores it, rag.eval.runs
keeps the runs and rag.eval.comparison compares them, rag.eval.drafts turns thumbs-down votes
into a draft set.
This module lays them out and wires the events. The rendering functions are pure and every
text they show is escaped (webapp.esc): question sets are uploaded by users.

Endpoints for programs (gradio_client):
    /evaluate      question set ("shipped", a saved set's name, or "" with a file), file, retrieval,
                   top_k, min_confidence (-1: the server's), baseline -> the run's summary (run_id, metrics, ...)
    /eval_runs     -> the saved runs, newest first (id, time, settings, headline numbers)
    /eval_result   run id (or "latest") -> that run's results.json
    /eval_compare  run A, run B -> question by question (fixed, broke, same) and metric changes
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any, Sequence

import gradio as gr

from rag.eval import comparison as eval_compare
from rag.eval import runs as eval_runs

from rag.eval import drafts as feedback_drafts
from rag.eval.datasets import load_dataset
from rag.eval.types import Dataset, EvalError
from rag.errors import RagError
from rag.eval.jobs import Cancelled, EvalOptions, EvalRunner, Job
from rag.app.web.chat import esc

log = logging.getLogger(__name__)

MAX_QUESTIONS = 5000  # per run in the app; larger sets: `rag eval`
POLL = 0.5  # seconds between two progress updates
SET_TYPES = [".jsonl", ".json", ".csv"]
SHIPPED = "shipped"
UPLOAD = "upload"
ALL = "all"
ASK_PARAM = "ask"
ANSWER_SHOWN = 400  # characters of an answer shown in the failed list before "more"  # ?ask=<question> opens the chat with that question asked

CSS = """
.rag-eval-table { border-collapse: collapse; font-size: .9em; margin: 4px 0 10px; }
.rag-eval-table th, .rag-eval-table td { border-bottom: 1px solid var(--border-color-primary); padding: 3px 8px;
  text-align: right; vertical-align: top; }
.rag-eval-table th:first-child, .rag-eval-table td:first-child { text-align: left; }
.rag-eval-table td.rag-text { text-align: left; max-width: 420px; }
.rag-better { color: #15803d; font-weight: 600; }
.rag-worse { color: #b91c1c; font-weight: 600; }
.rag-even { opacity: .6; }
.rag-eval-bar { width: 100%; height: 14px; }
.rag-eval-progress { font-size: .95em; }
.rag-eval-ok { color: #15803d; }
.rag-eval-bad { color: #b91c1c; }
.rag-kind { display: inline-block; font-size: .78em; padding: 0 6px; border-radius: 999px; margin: 1px 2px;
  background: #fee2e2; color: #991b1b; border: 1px solid #fca5a5; white-space: nowrap; }
.rag-eval-why { font-size: .8em; opacity: .75; }
.rag-status-fixed { color: #15803d; font-weight: 600; }
.rag-status-broke { color: #b91c1c; font-weight: 600; }
"""


# --- rendering: pure functions, everything escaped --------------------------------------------
def _num(v: Any, metric: str = "") -> str:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return "–"
    return f"{v:.0f}" if metric.endswith("_chars") else f"{v:.3f}"


def change_html(metric: str, old: Any, new: Any) -> str:
    """The change from `old` to `new`: ▲ or ▼ with the difference, green when better, red when
    worse (up is better except for false abstention; answer length and confidence are neither)."""
    d = eval_compare.delta(metric, old, new)
    if d["change"] is None:
        return '<span class="rag-even">–</span>'
    if d["verdict"] == "same":
        return '<span class="rag-even">=</span>'
    arrow = "▲" if d["change"] > 0 else "▼"
    cls = {"better": "rag-better", "worse": "rag-worse"}.get(d["verdict"] or "", "rag-even")
    num = f"{d['change']:+.0f}" if metric.endswith("_chars") else f"{d['change']:+.3f}"
    return f'<span class="{cls}" data-verdict="{esc(d["verdict"] or "none")}">{arrow} {esc(num)}</span>'


def metrics_html(metrics: dict[str, Any], baseline: dict[str, Any] | None = None,
                 previous: dict[str, Any] | None = None, previous_id: str | None = None) -> str:
    """This run's metrics next to the baseline's and the previous run's, with the changes."""
    head = ["metric", "this run", "llama-index baseline", "vs baseline",
            f"previous run ({esc(previous_id)})" if previous_id else "previous run", "vs previous"]
    out = ['<table class="rag-eval-table" id="rag-eval-metrics-table"><thead><tr>',
           "".join(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    for m, v in metrics.items():
        b = (baseline or {}).get(m)
        p = (previous or {}).get(m)
        out.append(f'<tr data-metric="{esc(m)}"><td>{esc(m)}</td><td>{_num(v, m)}</td>'
                   f'<td>{_num(b, m)}</td><td>{change_html(m, b, v) if baseline else "–"}</td>'
                   f'<td>{_num(p, m)}</td><td>{change_html(m, p, v) if previous else "–"}</td></tr>')
    out.append("</tbody></table>")
    if not baseline:
        out.append('<div class="rag-eval-why">No baseline in this run.</div>')
    if not previous:
        out.append('<div class="rag-eval-why">No earlier run of this question set to compare with.</div>')
    return "".join(out)


GROUP_COLUMNS = [("hit@5", "hit@5"), ("fact_recall", "fact recall"), ("answer_recall", "answer recall"),
                 ("citation_precision", "citation precision"), ("abstention_accuracy", "abstention accuracy"),
                 ("false_abstention", "false abstention"), ("unanswerable_abstention", "unanswerable abstention")]


def groups_html(by_category: dict[str, Any], by_language: dict[str, Any]) -> str:
    out = []
    for title, groups in (("By category", by_category), ("By language", by_language)):
        out.append(f"<h4>{title}</h4><table class=\"rag-eval-table\"><thead><tr><th>group</th><th>n</th>"
                   + "".join(f"<th>{h}</th>" for _, h in GROUP_COLUMNS) + "</tr></thead><tbody>")
        for g, v in (groups or {}).items():
            out.append(f"<tr><td>{esc(g)}</td><td>{int(v.get('n', 0))}</td>"
                       + "".join(f"<td>{_num(v.get(k), k)}</td>" for k, _ in GROUP_COLUMNS) + "</tr>")
        out.append("</tbody></table>")
    return "".join(out)


def expected_text(row: dict[str, Any]) -> str:
    e = row.get("expected") or {}
    if not e.get("answerable", row.get("answerable")):
        return "no answer in the articles (should abstain)"
    facts = e.get("gold_facts") or []
    return "; ".join(" | ".join(str(a) for a in f) for f in facts) or "–"


def ask_link(question: str) -> str:
    """A link that opens the chat, in a new browser tab, with `question` asked."""
    href = "?" + urllib.parse.urlencode({ASK_PARAM: question})
    return (f'<a class="rag-eval-ask" href="{esc(href)}" target="_blank" rel="noopener" '
            f'title="Ask this question in the chat">Ask in chat ↗</a>')


def failed_rows(questions: Sequence[dict[str, Any]], category: str = ALL, language: str = ALL,
                kind: str = ALL) -> list[dict[str, Any]]:
    out = []
    for r in questions:
        kinds = eval_compare.failure_kinds(r)
        if not kinds:
            continue
        if category not in (ALL, None, "") and r.get("category") != category:
            continue
        if language not in (ALL, None, "") and r.get("language") != language:
            continue
        if kind not in (ALL, None, "") and kind not in kinds:
            continue
        out.append(r)
    return out


def failed_html(questions: Sequence[dict[str, Any]], category: str = ALL, language: str = ALL,
                kind: str = ALL) -> str:
    """The failed questions that pass the filters: question (with a link to ask it in the chat),
    expected answer, our answer with its citations, and why it failed."""
    all_failed = sum(1 for r in questions if r.get("failures"))
    rows = failed_rows(questions, category, language, kind)
    out = [f'<div class="rag-eval-count">{len(rows)} of {all_failed} failed questions shown</div>',
           '<table class="rag-eval-table" id="rag-eval-failed-table"><thead><tr><th>id</th><th>question</th>'
           "<th>expected</th><th>our answer</th><th>why it failed</th></tr></thead><tbody>"]
    for r in rows:
        cites = ", ".join(f"[{int(c.get('n', 0))}] {esc(c.get('article_id'))}" for c in r.get("citations") or [])
        kinds = "".join(f'<span class="rag-kind">{esc(k)}</span>' for k in eval_compare.failure_kinds(r))
        text = str(r.get("answer") or "")
        answer = ("" if r.get("answered") else "<em>(abstained)</em> ") + esc(text[:ANSWER_SHOWN])
        if len(text) > ANSWER_SHOWN:
            answer += f"<details><summary>… {len(text) - ANSWER_SHOWN} more characters</summary>{esc(text[ANSWER_SHOWN:])}</details>"
        out.append(
            f'<tr class="rag-eval-failed" data-id="{esc(r.get("id"))}" data-kinds="{esc(" ".join(eval_compare.failure_kinds(r)))}">'
            f'<td>{esc(r.get("id"))}<div class="rag-eval-why">{esc(r.get("category"))} · {esc(r.get("language"))}</div></td>'
            f'<td class="rag-text"><div class="rag-eval-question">{esc(r.get("question"))}</div>{ask_link(str(r.get("question") or ""))}</td>'
            f'<td class="rag-text">{esc(expected_text(r))}</td>'
            f'<td class="rag-text"><div class="rag-eval-answer">{answer}</div>'
            f'<div class="rag-eval-why">cited: {cites or "nothing"}</div></td>'
            f'<td class="rag-text">{kinds}<div class="rag-eval-why">{esc("; ".join(r.get("failures") or []))}</div></td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def runs_html(runs: Sequence[dict[str, Any]]) -> str:
    """The saved runs, newest first: date, settings, headline numbers."""
    if not runs:
        return '<div class="rag-eval-why">No saved runs yet.</div>'
    cols = [("answer_recall", "answer recall"), ("fact_recall", "fact recall"),
            ("abstention_accuracy", "abstention accuracy"), ("citation_precision", "citation precision")]
    out = ['<table class="rag-eval-table" id="rag-eval-runs-table"><thead><tr><th>run</th><th>date (UTC)</th>'
           "<th>settings</th>" + "".join(f"<th>{h}</th>" for _, h in cols) + "<th>failed</th><th>commit</th></tr>"
           "</thead><tbody>"]
    for r in runs:
        h = r.get("headline") or {}
        commit = (r.get("git_commit") or "")[:10]
        out.append(f'<tr data-run="{esc(r.get("id"))}"><td>{esc(r.get("id"))}</td>'
                   f'<td>{esc((r.get("time") or "").replace("T", " ").rstrip("Z"))}</td>'
                   f'<td class="rag-text">{esc(eval_compare.describe_settings(r.get("settings")))}</td>'
                   + "".join(f"<td>{_num(h.get(k), k)}</td>" for k, _ in cols)
                   + f'<td>{int(r.get("failed") or 0)} of {int(r.get("questions") or 0)}</td>'
                   f'<td><code>{esc(commit) or "–"}</code></td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def comparison_html(cmp: dict[str, Any]) -> str:
    """Two runs side by side: counts, metric changes, and each question that changed."""
    c = cmp["counts"]
    a, b = cmp.get("a", {}), cmp.get("b", {})
    out = [f'<div class="rag-eval-cmp-head">A: <b>{esc(a.get("id"))}</b> ({esc(eval_compare.describe_settings(a.get("settings")))})'
           f'<br>B: <b>{esc(b.get("id"))}</b> ({esc(eval_compare.describe_settings(b.get("settings")))})</div>',
           f'<div class="rag-eval-cmp-counts"><span class="rag-status-fixed">{c["fixed"]} fixed</span> · '
           f'<span class="rag-status-broke">{c["broke"]} broke</span> · {c["same"]} same '
           f'({cmp["still_failing"]} failing in both)</div>']
    if cmp["only_a"] or cmp["only_b"]:
        out.append(f'<div class="rag-eval-why">{len(cmp["only_a"])} questions only in A, '
                   f'{len(cmp["only_b"])} only in B (questions are matched by id)</div>')
    out.append('<table class="rag-eval-table"><thead><tr><th>metric</th><th>A</th><th>B</th><th>change</th></tr>'
               "</thead><tbody>")
    for m in cmp["metrics"]:
        out.append(f'<tr><td>{esc(m["metric"])}</td><td>{_num(m["a"], m["metric"])}</td>'
                   f'<td>{_num(m["b"], m["metric"])}</td><td>{change_html(m["metric"], m["a"], m["b"])}</td></tr>')
    out.append("</tbody></table>")
    out.append('<table class="rag-eval-table" id="rag-eval-cmp-table"><thead><tr><th>id</th><th>status</th>'
               "<th>question</th><th>answer in A</th><th>answer in B</th></tr></thead><tbody>")
    for q in cmp["questions"]:
        if q["status"] == "same" and not q["failed_b"]:
            continue  # passing in both: nothing to look at
        label = q["status"] if q["status"] != "same" else "same (failing)"
        out.append(f'<tr data-status="{esc(q["status"])}"><td>{esc(q["id"])}</td>'
                   f'<td class="rag-status-{esc(q["status"])}">{esc(label)}</td>'
                   f'<td class="rag-text">{esc(q["question"])}</td>'
                   f'<td class="rag-text">{esc(q["answer_a"])}</td><td class="rag-text">{esc(q["answer_b"])}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def progress_html(job: Job) -> str:
    """Questions done of the total, the running scores and the time left."""
    s = job.scores()
    left = job.seconds_left()
    words = {"queued": "Waiting for the evaluation before this one to finish…",
             "indexing": "Indexing the set's own articles (once per set)…",
             "baseline": "Questions done; running the llama-index baseline…",
             "saving": "Saving the run…"}
    parts = [f'<div class="rag-eval-progress" data-state="{esc(job.state)}" data-done="{job.done}" '
             f'data-total="{job.total}">',
             f'<progress class="rag-eval-bar" value="{job.done}" max="{max(1, job.total)}"></progress>',
             f"<div><b>{job.done} of {job.total}</b> questions"]
    if s["answer_recall"] is not None:
        parts.append(f" · answer recall so far {s['answer_recall']:.3f}")
    if s["abstention_accuracy"] is not None:
        parts.append(f" · abstention accuracy so far {s['abstention_accuracy']:.3f}")
    if left is not None:
        parts.append(f" · about {_duration(left)} left")
    parts.append("</div>")
    if job.state in words:
        parts.append(f'<div class="rag-eval-why">{esc(words[job.state])}</div>')
    parts.append("</div>")
    return "".join(parts)


def _duration(seconds: float) -> str:
    s = max(0, int(round(seconds)))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def status_html(text: str, ok: bool = True) -> str:
    return f'<div class="{"rag-eval-ok" if ok else "rag-eval-bad"}">{"✓" if ok else "✗"} {esc(text)}</div>'


def set_summary(ds: Dataset, shown_name: str) -> str:
    unans = sum(not q.answerable for q in ds.questions)
    langs = sorted({q.language for q in ds.questions})
    kind = {"ours": "our JSONL", "qa": "plain question/answer", "squad": "SQuAD", "cmrc": "CMRC 2018"}.get(
        ds.format, ds.format)
    own = f", {len(ds.articles)} articles of its own" if ds.articles is not None else ""
    return (f"{shown_name}: {len(ds.questions)} questions ({unans} unanswerable; {', '.join(langs)}), "
            f"{kind}{own}")


# --- the controller ------------------------------------------------------------------------------
class EvalTab:
    """What the tab's events call. Engine and user errors become one line; details go to the log."""

    def __init__(self, engine, settings, initializer=None):
        self.engine = engine
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.runner = EvalRunner(engine, self.index_dir, initializer)
        self._downloads = Path(tempfile.mkdtemp(prefix="rag-eval-downloads-"))
        self._cache: dict[str, dict[str, Any]] = {}
        self._cache_lock = threading.Lock()

    # question sets ----------------------------------------------------------------------------
    def set_choices(self) -> list[tuple[str, str]]:
        from rag.eval.runner import DEFAULT_QUESTIONS

        choices = [(f"{DEFAULT_QUESTIONS.parent.name}/{DEFAULT_QUESTIONS.name} (shipped)", SHIPPED)]
        choices += [(f"{p.name} (saved draft)", f"saved:{p.stem}") for p in feedback_drafts.saved_sets(self.index_dir)]
        choices.append(("the uploaded file", UPLOAD))
        return choices

    def load_set(self, choice: str | None, file: str | None) -> tuple[Dataset, str]:
        """The chosen question set and its path; EvalError with the file's name (not the server's
        path) and the line when it cannot be used."""
        from rag.eval.runner import DEFAULT_QUESTIONS

        choice = choice or (UPLOAD if file else SHIPPED)
        if choice == UPLOAD:
            if not file:
                raise EvalError("choose a question set file to upload first (.jsonl, .json or .csv)")
            path = Path(file)
            name = path.name
            if path.suffix.lower() not in SET_TYPES:
                raise EvalError(f"{name}: a question set is a .jsonl, .json or .csv file")
            size = path.stat().st_size
            if size > self.settings.max_article_bytes:
                raise EvalError(f"{name} is {size / 1e6:.1f} MB; the limit is "
                                f"{self.settings.max_article_bytes / 1e6:.0f} MB")
        elif str(choice).startswith("saved:"):
            name = feedback_drafts.safe_name(str(choice)[6:]) + ".jsonl"
            path = self.index_dir / feedback_drafts.SETS_DIR / name
        elif choice == SHIPPED:
            path, name = DEFAULT_QUESTIONS, f"{DEFAULT_QUESTIONS.parent.name}/{DEFAULT_QUESTIONS.name}"
        else:
            raise EvalError(f"unknown question set {str(choice)[:60]!r}; use {SHIPPED!r}, a saved set or a file")
        try:
            ds = load_dataset(path)
        except EvalError as exc:
            raise EvalError(str(exc).replace(str(path), name)) from None
        if len(ds.questions) > MAX_QUESTIONS:
            raise EvalError(f"{name} has {len(ds.questions):,} questions; the app runs at most {MAX_QUESTIONS:,} "
                            "(use `rag eval FILE --limit N` for larger sets)")
        ds.name = Path(name).stem
        return ds, str(path if choice != UPLOAD else name)

    def check_upload(self, file: str | None):
        """Checked as soon as it is chosen: what it holds, or its error with the line."""
        if not file:
            return "", gr.update()
        try:
            ds, _ = self.load_set(UPLOAD, file)
        except RagError as exc:
            return status_html(str(exc), ok=False), gr.update(value=UPLOAD)
        return status_html(set_summary(ds, Path(file).name)), gr.update(value=UPLOAD)

    # running ------------------------------------------------------------------------------------
    def _options(self, retrieval, top_k, min_conf, use_llm, baseline) -> EvalOptions:
        from rag.app import inputs

        mode = str(retrieval or "hybrid")
        if mode not in ("hybrid", "vector", "bm25"):
            raise EvalError(f"retrieval must be hybrid, vector or bm25, not {mode[:30]!r}")
        k = inputs.top_k(top_k, 20) or min(20, self.settings.top_k)
        try:
            mc = None if min_conf is None or min_conf == "" or float(min_conf) < 0 else float(min_conf)
        except (TypeError, ValueError):
            raise EvalError(f"min_confidence must be a number from 0 to 1, not {str(min_conf)[:30]!r}") from None
        if mc is not None and mc > 1:
            raise EvalError(f"min_confidence must be a number from 0 to 1, not {min_conf!r}")
        return EvalOptions(retrieval=mode, top_k=int(k), min_confidence=mc, use_llm=bool(use_llm),
                           baseline=bool(baseline))

    def run_ui(self, choice, file, retrieval, top_k, min_conf, use_llm, baseline, request: gr.Request = None):
        """Generator for the Run button: progress while it runs, then the run's results."""
        n_out = 1 + len(RESULT_OUTPUTS) + len(LIST_OUTPUTS)
        skip = [gr.skip()] * (n_out - 1)
        try:
            ds, source = self.load_set(choice, file)
            options = self._options(retrieval, top_k, min_conf, use_llm, baseline)
        except RagError as exc:
            yield status_html(str(exc), ok=False), *skip
            return
        owner = getattr(request, "session_hash", None)
        job, future = self.runner.start(ds, options, owner=owner, source=source)
        try:
            while not future.done():
                yield progress_html(job), *skip
                try:
                    future.result(timeout=POLL)
                except Exception:
                    pass
        finally:
            if not future.done():  # the event was cancelled, or the page went away
                job.cancel_event.set()
        try:
            result = future.result()
        except Cancelled:
            yield (status_html(f"Cancelled after {job.done} of {job.total} questions; nothing was saved.", ok=False),
                   *skip)
            return
        except RagError as exc:
            yield status_html(f"The evaluation failed: {exc}", ok=False), *skip
            return
        run_id = result["run_id"]
        took = (job.finished or time.monotonic()) - (job.started or time.monotonic())
        done = status_html(f"Run {run_id} saved: {job.total} questions in {took:.0f} s, "
                           f"{len(result['failed'])} failed.")
        yield (done, *self.show_run(run_id), *self.runs_view(select=run_id))

    def cancel_ui(self, request: gr.Request = None):
        stopped = self.runner.cancel(owner=getattr(request, "session_hash", None))
        if not stopped:
            return status_html("No evaluation of yours is running.", ok=False)
        j = stopped[0]
        return status_html(f"Cancelled after {j.done} of {j.total} questions; nothing was saved.", ok=False)

    # results ------------------------------------------------------------------------------------
    def _load(self, run_id: str) -> dict[str, Any]:
        with self._cache_lock:
            hit = self._cache.get(run_id)
        if hit is not None:
            return hit
        run = eval_runs.load_run(eval_runs.resolve_run(self.index_dir, run_id))
        with self._cache_lock:
            if len(self._cache) > 8:
                self._cache.pop(next(iter(self._cache)))
            self._cache[run["id"]] = run
        return run

    def show_run(self, run_id: str | None):
        """[metrics, chart, groups, failed, download, category, language, kind filters]."""
        empty = ('<div class="rag-eval-why">Run a question set, or choose a saved run.</div>', None, "", "",
                 None, gr.update(choices=[ALL], value=ALL), gr.update(choices=[ALL], value=ALL),
                 gr.update(value=ALL))
        if not run_id:
            return empty
        try:
            run = self._load(run_id)
        except RagError as exc:
            return (status_html(str(exc), ok=False), *empty[1:])
        res = run["results"]
        prev = eval_runs.previous_run(self.index_dir, run["id"])
        prev_metrics = None
        if prev is not None:
            try:
                prev_metrics = self._load(prev["id"])["results"].get("metrics")
            except RagError:
                prev_metrics = None
        metrics = metrics_html(res.get("metrics", {}), (res.get("baseline") or {}).get("metrics"), prev_metrics,
                               prev["id"] if prev else None)
        head = (f'<div class="rag-eval-run-head" data-run="{esc(run["id"])}">Run <b>{esc(run["id"])}</b>: '
                f'{esc(eval_compare.describe_settings(run["meta"].get("settings")))}</div>')
        chart = self._chart(run)
        questions = res.get("questions", [])
        cats = sorted({str(r.get("category")) for r in questions if r.get("failures")})
        langs = sorted({str(r.get("language")) for r in questions if r.get("failures")})
        return (head + metrics, chart, groups_html(res.get("by_category"), res.get("by_language")),
                failed_html(questions), self._download(run),
                gr.update(choices=[ALL, *cats], value=ALL), gr.update(choices=[ALL, *langs], value=ALL),
                gr.update(value=ALL))

    def filter_failed(self, run_id, category, language, kind) -> str:
        if not run_id:
            return ""
        try:
            return failed_html(self._load(run_id)["results"].get("questions", []), category, language, kind)
        except RagError as exc:
            return status_html(str(exc), ok=False)

    def _chart(self, run: dict[str, Any]):
        name = run["meta"].get("chart") or "scores_by_category.png"
        path = Path(run["dir"]) / name
        if not path.is_file():
            return None
        from PIL import Image

        with Image.open(path) as im:
            im.load()
            return im.copy()

    def _download(self, run: dict[str, Any]) -> str | None:
        """The run as a zip in a temporary folder (the index folder itself is not served)."""
        target = self._downloads / f"eval-run-{run['id']}.zip"
        if not target.exists():
            tmp = target.with_suffix(".part")
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(Path(run["dir"]).iterdir()):
                    if f.is_file():
                        z.write(f, f"eval-run-{run['id']}/{f.name}")
            tmp.replace(target)
        return str(target)

    def runs_view(self, select: str | None = None):
        """[runs table, run shown, compare A, compare B] with the saved runs as choices."""
        runs = eval_runs.list_runs(self.index_dir)
        ids = [r["id"] for r in runs]
        shown = select if select in ids else (ids[0] if ids else None)
        b = shown
        a = next((i for i in ids if i != b), None)
        return (runs_html(runs), gr.update(choices=ids, value=shown), gr.update(choices=ids, value=a),
                gr.update(choices=ids, value=b))

    def refresh(self):
        """When the tab is opened: the runs, the latest run's results, the question sets."""
        table, shown, a, b = self.runs_view()
        run_id = shown["value"] if isinstance(shown, dict) else None
        return (table, shown, a, b, *self.show_run(run_id), gr.update(choices=self.set_choices()))

    def compare_ui(self, a: str | None, b: str | None) -> str:
        if not a or not b:
            return status_html("Choose two runs to compare.", ok=False)
        try:
            cmp = eval_compare.compare_runs(self._load(a), self._load(b))
        except RagError as exc:
            return status_html(str(exc), ok=False)
        return comparison_html(cmp)

    # feedback -> draft --------------------------------------------------------------------------
    def drafts_load(self):
        rows = feedback_drafts.drafts(self.index_dir)
        if not rows:
            return (gr.update(value=[]), status_html("No thumbs-down answers in the feedback log yet.", ok=False),
                    rows)
        return (gr.update(value=feedback_drafts.table(rows)),
                status_html(f"{len(rows)} thumbs-down answers. Fill in the expected answers (facts separated "
                            "by ';', forms of one fact by '|'), or set answerable to false, then save."), rows)

    def drafts_save(self, cells, name, originals):
        values = cells.values.tolist() if hasattr(cells, "values") else (cells or [])
        try:
            rows = feedback_drafts.from_table(values, originals or [])
            path = feedback_drafts.save(rows, self.index_dir / feedback_drafts.SETS_DIR, name or "feedback-draft")
        except RagError as exc:
            return status_html(f"Not saved: {exc}", ok=False), gr.update(), gr.update()
        except OSError as exc:
            log.exception("cannot save the draft")
            return status_html(f"Not saved: {exc.strerror or exc}", ok=False), gr.update(), gr.update()
        copy = self._downloads / path.name
        shutil.copyfile(path, copy)
        return (status_html(f"Saved {len(rows)} questions as {path.name}; choose it under Question set to run it."),
                gr.update(value=str(copy), visible=True),
                gr.update(choices=self.set_choices(), value=f"saved:{path.stem}"))

    # API ----------------------------------------------------------------------------------------
    def evaluate_api(self, question_set: str, file: str | None, retrieval: str = "hybrid", top_k: float = 5,
                     min_confidence: float = -1, baseline: bool = False) -> dict:
        """Run a question set and return the run's summary (run_id, set, metrics, baseline,
        by_category, by_language, latency_ms, failed). question_set: "shipped", the name of a
        saved set, or "" with a file (JSONL, CSV, SQuAD or CMRC JSON)."""
        try:
            choice = (UPLOAD if file else SHIPPED) if not question_set else (
                question_set if question_set in (SHIPPED, UPLOAD) else f"saved:{question_set}")
            ds, source = self.load_set(choice, file)
            options = self._options(retrieval, top_k, min_confidence, True, baseline)
            job, future = self.runner.start(ds, options, source=source)
            try:
                return future.result()
            finally:
                if not future.done():
                    job.cancel_event.set()
        except Cancelled:
            raise gr.Error("the evaluation was cancelled; nothing was saved", print_exception=False) from None
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("the evaluation failed")
            raise gr.Error(f"internal error ({exc.__class__.__name__}); the server log has the details") from None

    def runs_api(self) -> list:
        """The saved evaluation runs, newest first: id, time, settings, git_commit, headline, questions, failed."""
        return [{k: v for k, v in r.items() if k != "dir"} for r in eval_runs.list_runs(self.index_dir)]

    def result_api(self, run_id: str = "latest") -> dict:
        """One saved run's results.json (with its run.json as "run"); run_id may be "latest"."""
        try:
            run = self._load(str(run_id or "latest")) if run_id not in ("latest", "previous") else \
                eval_runs.load_run(eval_runs.resolve_run(self.index_dir, run_id))
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return {**run["results"], "run": {k: v for k, v in run["meta"].items() if k != "dir"}}

    def compare_api(self, run_a: str, run_b: str) -> dict:
        """Two saved runs compared question by question (fixed, broke, same) and metric by metric."""
        try:
            return eval_compare.compare_runs(self._load(str(run_a)), self._load(str(run_b)))
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None


# The outputs of show_run and runs_view, in order (their components are made in build()).
RESULT_OUTPUTS = ("metrics", "chart", "groups", "failed", "download", "f_category", "f_language", "f_kind")
LIST_OUTPUTS = ("runs", "run_pick", "cmp_a", "cmp_b")


def build(app, settings, llm_label: str | None, nice: int = 10) -> EvalTab:
    """The tab's components and events, inside the app's gr.Tabs (call it within `with gr.Tabs()`)."""
    from rag.app.web.chat import _lower_priority

    tab = EvalTab(app.engine, settings, initializer=lambda: _lower_priority(nice))
    max_mb = settings.max_article_bytes / 1e6
    c: dict[str, Any] = {}
    with gr.Tab("Evaluation", id="evaluation") as eval_tab:
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("### Run a question set\nOur JSONL, plain CSV or JSONL with `question` and `answer`, "
                            f"SQuAD or CMRC JSON; up to {max_mb:.0f} MB. A file with an error is refused with "
                            "its line, and nothing is run.")
                question_set = gr.Dropdown(tab.set_choices(), value=SHIPPED, label="Question set",
                                           elem_id="rag-eval-set")
                set_file = gr.File(file_count="single", file_types=SET_TYPES, label="Upload a question set",
                                   elem_id="rag-eval-file")
                set_status = gr.HTML(elem_id="rag-eval-set-status")
            with gr.Column(scale=2):
                retrieval = gr.Radio(["hybrid", "vector", "bm25"], value="hybrid", label="Retrieval", elem_id="rag-eval-retrieval")
                top_k = gr.Slider(1, 20, value=min(20, settings.top_k), step=1, label="Passages retrieved (top-k)",
                                  elem_id="rag-eval-top-k")
                min_conf = gr.Slider(0.0, 1.0, value=round(app.default_min_confidence(), 3), step=0.005,
                                     label="Minimum confidence to answer", elem_id="rag-eval-min-confidence")
                use_llm = gr.Checkbox(True, label=f"Use the language model ({llm_label})" if llm_label else "",
                                      visible=bool(llm_label))
                baseline = gr.Checkbox(True, label="Also run the llama-index baseline (embeds the articles again)",
                                       elem_id="rag-eval-baseline")
                with gr.Row():
                    run = gr.Button("Run the evaluation", variant="primary", elem_id="rag-eval-run")
                    cancel = gr.Button("Cancel", variant="stop", elem_id="rag-eval-cancel")
        status = gr.HTML(elem_id="rag-eval-status")
        gr.Markdown("### Results")
        with gr.Row():
            c["run_pick"] = gr.Dropdown([], label="Run shown", elem_id="rag-eval-run-pick", scale=3)
            c["download"] = gr.DownloadButton("Download the report (zip)", elem_id="rag-eval-download", scale=1)
        c["metrics"] = gr.HTML(elem_id="rag-eval-metrics")
        c["chart"] = gr.Image(label="Scores by category and language", show_label=True, interactive=False,
                              elem_id="rag-eval-chart", format="png", height=420)
        c["groups"] = gr.HTML(elem_id="rag-eval-groups")
        gr.Markdown("### Failed questions\n*Ask in chat* opens the question in the chat, in a new browser tab.")
        with gr.Row():
            c["f_category"] = gr.Dropdown([ALL], value=ALL, label="Category", elem_id="rag-eval-f-category")
            c["f_language"] = gr.Dropdown([ALL], value=ALL, label="Language", elem_id="rag-eval-f-language")
            c["f_kind"] = gr.Dropdown([ALL, *eval_compare.KINDS], value=ALL, label="Reason", elem_id="rag-eval-f-kind")
        c["failed"] = gr.HTML(elem_id="rag-eval-failed")
        gr.Markdown("### Saved runs")
        c["runs"] = gr.HTML(elem_id="rag-eval-runs")
        with gr.Row():
            c["cmp_a"] = gr.Dropdown([], label="Run A", elem_id="rag-eval-cmp-a")
            c["cmp_b"] = gr.Dropdown([], label="Run B", elem_id="rag-eval-cmp-b")
            compare = gr.Button("Compare A → B", elem_id="rag-eval-compare-btn")
        comparison = gr.HTML(elem_id="rag-eval-compare")
        with gr.Accordion("Draft a question set from thumbs-down answers", open=False, elem_id="rag-eval-drafts-acc"):
            gr.Markdown("Each thumbs-down answer in the feedback log becomes a question with the answer that was "
                        "marked wrong. Fill in the expected answer (facts separated by `;`, forms of one fact by "
                        "`|`) or set answerable to false; clear a question to leave it out. Saved sets are "
                        "checked like an upload and can be run from *Question set*.")
            load_drafts = gr.Button("Load the thumbs-down answers", elem_id="rag-eval-drafts-load")
            drafts = gr.Dataframe(headers=feedback_drafts.COLUMNS, datatype=["str"] * len(feedback_drafts.COLUMNS),
                                  interactive=True, wrap=True, elem_id="rag-eval-drafts", value=[])
            drafts_state = gr.State([])
            with gr.Row():
                draft_name = gr.Textbox("feedback-draft", label="Save as", elem_id="rag-eval-draft-name", scale=3)
                save_draft = gr.Button("Save as a question set (JSONL)", elem_id="rag-eval-draft-save", scale=1)
            draft_status = gr.HTML(elem_id="rag-eval-draft-status")
            draft_file = gr.DownloadButton("Download the JSONL", visible=False, elem_id="rag-eval-draft-download")

        # Programs: the same runs through named endpoints (kept out of sight in the page).
        with gr.Column(visible=False):
            api_set = gr.Textbox()
            api_file = gr.File(file_count="single")
            api_retrieval = gr.Textbox()
            api_top_k = gr.Number()
            api_min_conf = gr.Number()
            api_baseline = gr.Checkbox()
            api_out = gr.JSON()
            api_trigger = gr.Button()
            gr.api(tab.runs_api, api_name="eval_runs")
            gr.api(tab.result_api, api_name="eval_result")
            gr.api(tab.compare_api, api_name="eval_compare")

    results = [c[k] for k in RESULT_OUTPUTS]
    listing = [c[k] for k in LIST_OUTPUTS]
    private = dict(api_visibility="private")
    # One evaluation at a time on the server, browser and API together.
    one = dict(concurrency_limit=1, concurrency_id="evaluation")
    set_file.upload(tab.check_upload, [set_file], [set_status, question_set], **private)
    set_file.clear(lambda: "", None, [set_status], **private, queue=False)
    running = run.click(tab.run_ui, [question_set, set_file, retrieval, top_k, min_conf, use_llm, baseline],
                        [status, *results, *listing], **private, **one)
    cancel.click(tab.cancel_ui, None, [status], cancels=[running], **private)
    c["run_pick"].input(tab.show_run, [c["run_pick"]], results, **private)
    for f in ("f_category", "f_language", "f_kind"):
        c[f].input(tab.filter_failed, [c["run_pick"], c["f_category"], c["f_language"], c["f_kind"]],
                   [c["failed"]], **private)
    compare.click(tab.compare_ui, [c["cmp_a"], c["cmp_b"]], [comparison], **private)
    load_drafts.click(tab.drafts_load, None, [drafts, draft_status, drafts_state], **private)
    save_draft.click(tab.drafts_save, [drafts, draft_name, drafts_state], [draft_status, draft_file, question_set],
                     **private)
    eval_tab.select(tab.refresh, None, [*listing, *results, question_set], **private)

    api_trigger.click(tab.evaluate_api, [api_set, api_file, api_retrieval, api_top_k, api_min_conf, api_baseline],
                      [api_out], api_name="evaluate", **one)
    return tab


# Runs in the page on load: with ?ask=QUESTION (a failed question's link), the question is put
# in the chat box and asked, as if typed. Nothing reaches the server on an ordinary load, so a
# user's first question never races with it. The text goes in through the textarea's value
# (never as HTML) and is checked by the server like any question.
ASK_JS = """() => {
  const q = new URLSearchParams(window.location.search).get("%s");
  if (!q) return;
  let tries = 0;
  const go = () => {
    const box = document.querySelector("#rag-question textarea");
    const ask = document.querySelector("#rag-ask");
    if (!box || !ask) { if (tries++ < 50) setTimeout(go, 100); return; }
    box.value = q.slice(0, 4000);
    box.dispatchEvent(new Event("input", {bubbles: true}));
    setTimeout(() => ask.click(), 100);
  };
  go();
}""" % ASK_PARAM


def wire_chat_link(demo) -> None:
    """A page opened with ?ask=QUESTION (a failed question's link) shows the chat with it asked."""
    demo.load(None, None, None, js=ASK_JS, api_visibility="private", queue=False)
