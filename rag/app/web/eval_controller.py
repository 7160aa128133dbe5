"""What the Evaluation tab's events and endpoints call: EvalTab.

The work is done elsewhere: rag.eval.jobs runs a set (one at a time, in a low-priority
background thread, cancellable between questions), rag.eval.runner scores it, rag.eval.runs
keeps and compares the runs, rag.eval.drafts turns thumbs-down votes into a draft set.
This module calls them and hands their results to rag.app.web.eval_render; the components
and events are laid out in rag.app.web.eval_layout.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import gradio as gr

from rag.app.web import eval_sets
from rag.app.web.eval_render import (ALL, NO_RUN_HTML, comparison_html, failed_html, groups_html, metrics_html,
                                     progress_html, run_head_html, runs_html, set_summary, status_html)
from rag.app.web.eval_sets import SHIPPED, UPLOAD
from rag.errors import RagError
from rag.eval import drafts as feedback_drafts
from rag.eval import comparison as eval_compare
from rag.eval import runs as eval_runs
from rag.eval.types import Dataset
from rag.eval.jobs import Cancelled, EvalOptions, EvalRunner

log = logging.getLogger(__name__)

POLL = 0.5  # seconds between two progress updates
# The outputs of show_run and runs_view, in order (their components are made in eval_layout.build).
RESULT_OUTPUTS = ("metrics", "chart", "groups", "failed", "download", "f_category", "f_language", "f_kind")
LIST_OUTPUTS = ("runs", "run_pick", "cmp_a", "cmp_b")


class EvalTab:
    """What the tab's events call. Engine and user errors become one line; details go to the log."""

    def __init__(self, engine, settings, initializer=None):
        self.engine = engine
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.runner = EvalRunner(engine, self.index_dir, initializer)
        # Removed when the app exits: every start of the app would otherwise leave one behind.
        self._tmp = tempfile.TemporaryDirectory(prefix="rag-eval-downloads-")
        self._downloads = Path(self._tmp.name)
        self._cache: dict[str, dict[str, Any]] = {}
        self._cache_lock = threading.Lock()

    # question sets: rag.app.web.eval_sets --------------------------------------------------------
    def set_choices(self) -> list[tuple[str, str]]:
        return eval_sets.set_choices(self.index_dir)

    def load_set(self, choice: str | None, file: str | None) -> tuple[Dataset, str]:
        return eval_sets.load_set(choice, file, self.index_dir, self.settings.max_article_bytes)

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
    def _options(self, retrieval, top_k, min_conf, use_llm, baseline, withhold=None) -> EvalOptions:
        return eval_sets.run_options(retrieval, top_k, min_conf, use_llm, baseline, self.settings.top_k, withhold)

    def run_ui(self, choice, file, retrieval, top_k, min_conf, withhold, use_llm, baseline,
               request: gr.Request = None):
        """Generator for the Run button: progress while it runs, then the run's results."""
        n_out = 1 + len(RESULT_OUTPUTS) + len(LIST_OUTPUTS)
        skip = [gr.skip()] * (n_out - 1)
        try:
            ds, source = self.load_set(choice, file)
            options = self._options(retrieval, top_k, min_conf, use_llm, baseline, withhold)
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
        empty = (NO_RUN_HTML, None, "", "",
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
        head = run_head_html(run["id"], run["meta"].get("settings"))
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
                     min_confidence: float = -1, baseline: bool = False, short_withhold: float = -1) -> dict:
        """Run a question set and return the run's summary (run_id, set, metrics, baseline,
        by_category, by_language, latency_ms, failed). question_set: "shipped", the name of a
        saved set, or "" with a file (JSONL, CSV, SQuAD or CMRC JSON)."""
        try:
            choice = (UPLOAD if file else SHIPPED) if not question_set else (
                question_set if question_set in (SHIPPED, UPLOAD) else f"saved:{question_set}")
            ds, source = self.load_set(choice, file)
            options = self._options(retrieval, top_k, min_confidence, True, baseline, short_withhold)
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

